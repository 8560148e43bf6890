// Block device majors, mempools, backing_dev_info, CPU hotplug states, cpufreq governors,
// __request_module, xa_destroy, UUIDs, dmaengine references, per-CPU memory and SRCU: Debian's
// modules that need them get the real kernel's exit status and lines; and the registries' error
// cases through the stubs.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitFs2, ModulesGetTheRealKernelsVerdicts) {
    std::vector<std::string> modules;
    for (const char* m : {
             "kernel/drivers/block/mtip32xx/mtip32xx",      // __register_blkdev (dynamic)
             "kernel/drivers/memstick/core/mspro_block",    // __register_blkdev
             "kernel/drivers/scsi/sr_mod",                  // __register_blkdev, percpu
             "kernel/drivers/md/raid1",                     // mempool_create, __request_module
             "kernel/drivers/mtd/mtd",                      // bdi_alloc, bdi_register
             "kernel/drivers/mtd/mtdoops",                  // through mtd; -EINVAL: no mtddev=
             "kernel/fs/romfs/romfs",                       // through mtd
             "kernel/drivers/perf/arm-cmn",                 // __cpuhp_setup_state (dynamic)
             "kernel/drivers/perf/arm_spe_pmu",             // __cpuhp_setup_state, percpu
             "kernel/drivers/net/ethernet/marvell/mvneta",  // __cpuhp_setup_state, percpu
             "kernel/drivers/cpufreq/cpufreq_ondemand",     // cpufreq_register_governor
             "kernel/drivers/cpufreq/cpufreq_powersave",    // cpufreq_register_governor
             "kernel/drivers/pps/clients/pps_parport",      // __request_module: -ENOENT
             "kernel/sound/drivers/snd-mts64",              // __request_module, -ENODEV
             "kernel/drivers/vfio/vfio",                    // xa_destroy
             "kernel/drivers/vfio/pci/vfio-pci",            // uuid_gen, uuid_parse
             "kernel/drivers/nvdimm/libnvdimm",             // guid_parse
             "kernel/crypto/async_tx/async_tx",             // dmaengine_get
             "kernel/drivers/char/ipmi/ipmi_devintf",       // init_srcu_struct
         }) {
        modules.push_back(std::string(m) + ".ko");
        modules.push_back(std::string(m) + ".ko.xz");  // 6.12's
    }
    for (const char* m : {
             "kernel/drivers/nvme/host/nvme-core.ko.xz",  // mempool_create_node_noprof, srcu
             "kernel/net/9p/9pnet.ko.xz",                 // mempool_init_noprof
         })
        modules.push_back(m);
    fx::expect_real_verdicts(modules);
}

int64_t call(Kernel& k, const char* fn, std::initializer_list<uint64_t> args) {
    return static_cast<int32_t>(k.call_guest(k.find_export(fn)->address, args));
}

uint64_t str(Kernel& k, const std::string& s) {
    uint64_t p = k.slab_alloc(s.size() + 1, gfp_zero);
    k.emu().write(p, s.c_str(), s.size() + 1);
    return p;
}

TEST(KitFs2, BlockDeviceMajors) {
    for (Arch arch : {Arch::arm64, Arch::arm}) {
        Emulator emu(arch);
        Kernel k(emu);
        uint64_t md = str(k, "md"), mdp = str(k, "mdp"), other = str(k, "other");
        EXPECT_EQ(call(k, "__register_blkdev", {9, md, 0}), 0);
        EXPECT_EQ(call(k, "__register_blkdev", {9, other, 0}), -EBUSY);
        EXPECT_EQ(call(k, "__register_blkdev", {0, mdp, 0}), 254);  // dynamic: from 254 down
        EXPECT_EQ(call(k, "__register_blkdev", {0, other, 0}), 253);
        EXPECT_EQ(call(k, "__register_blkdev", {259, other, 0}), -EBUSY);  // blkext, at boot
        EXPECT_EQ(call(k, "__register_blkdev", {512, other, 0}), -EINVAL);
        call(k, "unregister_blkdev", {254, mdp});
        EXPECT_EQ(call(k, "__register_blkdev", {0, mdp, 0}), 254);
        bool busy = false, big = false;
        for (const LogLine& l : k.log_lines()) {
            busy |= l.text == "register_blkdev: cannot get major 9 for other";
            big |= l.text ==
                   "__register_blkdev: major requested (512) is greater than the "
                   "maximum (511) for other";
        }
        EXPECT_TRUE(busy);
        EXPECT_TRUE(big);
    }
}

TEST(KitFs2, CpuHotplugStates) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const KernelStructs::Cpuhp& h = k.structs().cpuhp;
    uint64_t name = str(k, "test:online");
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.online, name, 1, 0, 0, 0}), -EINVAL);
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.ap_online_dyn, 0, 1, 0, 0, 0}), -EINVAL);
    int64_t first = call(k, "__cpuhp_setup_state", {h.ap_online_dyn, name, 0, 0, 0, 0});
    EXPECT_EQ(first, int64_t(h.ap_online_dyn));
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.ap_online_dyn, name, 0, 0, 0, 0}), first + 1);
    // A static state is taken once.
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.ap_online_dyn - 1, name, 0, 0, 0, 0}), 0);
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.ap_online_dyn - 1, name, 0, 0, 0, 0}), -EBUSY);
    call(k, "__cpuhp_remove_state", {uint64_t(first), 0});
    EXPECT_EQ(call(k, "__cpuhp_setup_state", {h.ap_online_dyn, name, 0, 0, 0, 0}), first);
}

TEST(KitFs2, MempoolPreallocatesItsElements) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const KernelStructs::Mempool& m = k.structs().mempool;
    uint64_t kmalloc = k.find_export("mempool_kmalloc")->address;
    uint64_t kfree = k.find_export("mempool_kfree")->address;
    size_t live = k.slab().live_objects();
    uint64_t pool = k.call_guest(k.find_export("mempool_create")->address, {4, kmalloc, kfree, 64});
    ASSERT_NE(pool, 0u);
    EXPECT_EQ(emu.read_u32(pool + m.min_nr), 4u);
    EXPECT_EQ(emu.read_u32(pool + m.curr_nr), 4u);
    EXPECT_EQ(k.slab().live_objects(), live + 6);  // the pool, its array, 4 elements
    uint64_t e = k.call_guest(k.find_export("mempool_alloc")->address, {pool, 0xcc0});
    EXPECT_GE(k.slab().ksize(e), 64u);   // a kmalloc object of pool_data bytes
    call(k, "mempool_free", {e, pool});  // the reserve is full: freed
    EXPECT_EQ(emu.read_u32(pool + m.curr_nr), 4u);
    call(k, "mempool_destroy", {pool});
    EXPECT_EQ(k.slab().live_objects(), live);
}

TEST(KitFs2, GuidParse) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    uint64_t s = str(k, "00112233-4455-6677-8899-aabbccddeeff");
    uint64_t out = k.slab_alloc(16, gfp_zero);
    EXPECT_EQ(call(k, "guid_parse", {s, out}), 0);
    std::vector<uint8_t> b(16);
    emu.read(out, b.data(), 16);
    EXPECT_EQ(b, (std::vector<uint8_t>{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99,
                                       0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
    EXPECT_EQ(call(k, "uuid_parse", {str(k, "00112233-4455-6677-8899"), out}), -EINVAL);
}

}  // namespace
