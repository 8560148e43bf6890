// 32-bit ARM's out-of-line locking and its memory model: the reader-writer spinlocks
// (kernel/locking/spinlock.c over arch/arm's arch_rwlock_t), the page allocator's struct pages in
// FLATMEM's mem_map, and the loader's patching of .pv_table (__pa()/__va() stubs) with the
// kernel's __pv_offset. Debian's armmp modules that take rwlocks or pages in init get the real
// kernel's verdict, and the lock state is the kernel's.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <string>

#include "kernel_stubs/kernel.h"
#include "loader/decompress.h"
#include "loader/loader.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitArmhf, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // _raw_write_lock_bh / _raw_write_unlock_bh
        "kernel/net/ax25/ax25.ko",
        "kernel/net/appletalk/appletalk.ko",
        "kernel/drivers/net/ppp/pppoe.ko",
        "kernel/drivers/net/hamradio/yam.ko",
        "kernel/drivers/net/hamradio/baycom_epp.ko",
        // _raw_write_lock (bt_sock_register, nfc_proto_register, register_ife_op)
        "kernel/drivers/bluetooth/hci_uart.ko",
        "kernel/drivers/bluetooth/btrtl.ko",
        "kernel/net/bluetooth/bluetooth_6lowpan.ko",
        "kernel/drivers/nfc/pn533/pn533.ko",
        "kernel/net/sched/act_meta_skbtcindex.ko",
        // _raw_write_lock_irq / _raw_write_unlock_irqrestore (snd_seq_create_port)
        "kernel/sound/core/seq/snd-seq.ko",
        "kernel/sound/core/seq/snd-seq-midi-emul.ko",
        // __alloc_pages / __folio_alloc over mem_map (libcxgbi, ocfs2's o2net)
        "kernel/drivers/scsi/cxgbi/cxgb3i/cxgb3i.ko",
        "kernel/fs/ocfs2/cluster/ocfs2_nodemanager.ko",
        "kernel/fs/ocfs2/ocfs2_stack_o2cb.ko",
        // elf_hwcap: NEON
        "kernel/arch/arm/crypto/aes-arm-bs.ko",
        "kernel/arch/arm/crypto/blake2b-neon.ko",
        // skb_queue_purge of an empty queue (netrom's exit)
        "kernel/net/netrom/netrom.ko",
        // clean_acked_data_flush (tls's exit), register_dcbevent_notifier
        "kernel/net/tls/tls.ko",
        "kernel/drivers/crypto/chelsio/chcr.ko",
        "kernel/drivers/target/iscsi/cxgbit/cxgbit.ko",
        "kernel/drivers/scsi/fcoe/fcoe.ko",
        // register_inet6addr_validator_notifier
        "kernel/drivers/net/ipvlan/ipvtap.ko",
        // l3mdev_table_lookup_register
        "kernel/drivers/net/vrf.ko",
        // xfrm_if_register_cb / xfrm_if_unregister_cb
        "kernel/net/xfrm/xfrm_interface.ko",
    });
}

struct ArmKernel : fx::KitKernel {
    ArmKernel() : fx::KitKernel(KMODEMU_KIT_ARMHF) {}
    uint32_t word(uint64_t at) { return emu.read_u32(at); }
    uint32_t preempt_count() { return emu.read_u32(k.current_task() + s.task.preempt_count); }
    bool irqs_masked() { return (emu.reg(UC_ARM_REG_CPSR) >> 7) & 1; }
    bool diagnosed(const std::string& part) {
        for (const std::string& d : k.diagnostics())
            if (d.find(part) != std::string::npos) return true;
        return false;
    }
};

// arch_rwlock_t: readers count up, a writer is 0x80000000; a reader waits for the writer and a
// writer for everyone. read_unlock() is inline in ARM's modules (the word decremented).
TEST(KitArmhf, RwlockKeepsArmsEncoding) {
    ArmKernel a;
    uint64_t l = a.zeroed(4);
    a.call("_raw_read_lock", {l});
    a.call("_raw_read_lock_bh", {l});
    EXPECT_EQ(a.word(l), 2u);
    EXPECT_EQ(a.preempt_count(), 0x200u);  // SOFTIRQ_LOCK_OFFSET
    EXPECT_EQ(a.call("_raw_write_trylock", {l}), 0u);
    a.call("_raw_read_unlock_bh", {l});
    EXPECT_EQ(a.preempt_count(), 0u);
    a.emu.write_u32(l, a.word(l) - 1);  // the module's inline read_unlock()
    EXPECT_EQ(a.call("_raw_write_trylock", {l}), 1u);
    EXPECT_EQ(a.word(l), 0x80000000u);
    EXPECT_EQ(a.call("_raw_read_trylock", {l}), 0u);
    a.emu.write_u32(l, 0);  // inline write_unlock()
    EXPECT_EQ(a.call("_raw_read_trylock", {l}), 1u);
    EXPECT_EQ(a.word(l), 1u);
}

// _irqsave returns the CPSR and masks interrupts; _irqrestore puts the mask back. (Called as
// the module's code calls them, within its run: a guest call from the test restores the CPU's
// registers when it returns.)
TEST(KitArmhf, RwlockIrqsaveMasksAndRestores) {
    ArmKernel a;
    auto stub = [&](const char* name, std::initializer_list<uint64_t> args) {
        const Export* e = a.k.find_export(name);
        EXPECT_TRUE(e) << name;
        unsigned i = 0;
        for (uint64_t v : args)
            a.emu.set_arg(i++, v);
        StubCall c(a.k, a.emu);
        return e ? e->fn(c) : 0;
    };
    uint64_t l = a.zeroed(4);
    ASSERT_FALSE(a.irqs_masked());
    uint64_t flags = stub("_raw_write_lock_irqsave", {l});
    EXPECT_FALSE((flags >> 7) & 1);
    EXPECT_TRUE(a.irqs_masked());
    EXPECT_EQ(a.word(l), 0x80000000u);
    stub("_raw_write_unlock_irqrestore", {l, flags});
    EXPECT_FALSE(a.irqs_masked());
    EXPECT_EQ(a.word(l), 0u);
    stub("_raw_read_lock_irq", {l});
    EXPECT_TRUE(a.irqs_masked());
    EXPECT_EQ(a.word(l), 1u);
}

// A writer holds the lock and the only task reads it: the real kernel spins for ever in
// arch_read_lock(); kmodemu ends the run as a hang that names the lock.
TEST(KitArmhf, ReadLockUnderWriterIsADeadlock) {
    ArmKernel a;
    uint64_t l = a.zeroed(4);
    a.call("_raw_write_lock_bh", {l});
    EXPECT_THROW(a.call("_raw_read_lock", {l}), GuestFault);
    EXPECT_TRUE(a.diagnosed("read_lock: deadlock: the lock"));
    EXPECT_TRUE(a.diagnosed("is already held by the only task"));
    ArmKernel b;
    uint64_t m = b.zeroed(4);
    b.call("_raw_read_lock", {m});
    EXPECT_THROW(b.call("_raw_write_lock", {m}), GuestFault);
    EXPECT_TRUE(b.diagnosed("write_lock: deadlock: the lock"));
}

// FLATMEM: the page of a linear address is mem_map + its pfn - PHYS_PFN_OFFSET (the inline
// virt_to_page() of ARM's modules); page_address() maps it back; the zero page is one of them.
TEST(KitArmhf, PagesLiveInMemMap) {
    ArmKernel a;
    auto data = [&](const char* name) {
        const Export* e = a.k.find_export(name);
        EXPECT_TRUE(e && !e->is_function) << name;
        return e ? e->address : 0;
    };
    uint32_t pfn_offset = a.word(data("__pv_phys_pfn_offset"));
    EXPECT_EQ(pfn_offset, 0x40000u);  // QEMU virt's RAM at 0x40000000
    uint64_t pv_offset = 0;
    a.emu.read(data("__pv_offset"), &pv_offset, 8);
    EXPECT_EQ(pv_offset, 0xffffffff80000000ull);  // 0x40000000 - PAGE_OFFSET, high word ~0
    uint32_t mem_map = a.word(data("mem_map"));
    uint64_t page = a.call("__alloc_pages", {0xcc0, 1, 0, 0});  // GFP_KERNEL, order 1
    ASSERT_NE(page, 0u);
    uint64_t addr = a.call("page_address", {page});
    uint64_t pfn = ((addr - a.s.page.page_offset) >> 12) + pfn_offset;  // virt_to_pfn()
    EXPECT_EQ(page, mem_map + (pfn - pfn_offset) * a.s.page.size);      // pfn_to_page()
    EXPECT_EQ(a.word(page + a.s.page.refcount), 1u);
    a.emu.write_u32(addr + 0x1ffc, 7);  // both pages are the module's
    a.call("__free_pages", {page, 1});
    uint32_t zero_page = a.word(data("empty_zero_page"));
    uint64_t zero = a.call("page_address", {zero_page});
    EXPECT_EQ(a.word(zero), 0u);
    EXPECT_EQ(a.word(zero + 0xffc), 0u);
}

// module_finalize(): fixup_pv_table() gives each __pv_stub() of the module offset bits 31-24
// (rotation 4) or 23-16 (rotation 8): PHYS_OFFSET - PAGE_OFFSET is 0x80000000 on the oracle's
// machine, so "sub r3, r3, #0x81000000; sub r3, r3, #0x810000" becomes "#0x80000000; #0".
TEST(KitArmhf, LoaderPatchesPvTable) {
    auto profile = KernelProfile::from_kit(KMODEMU_KIT_ARMHF);
    ASSERT_FALSE(profile->thumb2_kernel);
    Emulator emu(Arch::arm);
    KernelConfig cfg;
    cfg.profile = profile;
    cfg.thumb2_kernel = false;
    Kernel k(emu, cfg);
    Loader loader(k);
    auto env = read_kit_env(std::string(KMODEMU_KIT_ARMHF) + "/kit.env");
    ASSERT_TRUE(env);
    std::ifstream in(env->at("KIT_MODULES") + "/kernel/drivers/xen/xen-front-pgdir-shbuf.ko",
                     std::ios::binary);
    ASSERT_TRUE(in.good());
    std::vector<uint8_t> ko((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LoadResult r = loader.load(decompress_module(ko).bytes, {});
    ASSERT_EQ(r.err, 0);
    ASSERT_TRUE(r.module);
    uint64_t text = 0;
    for (const ModuleSymbol& s : r.module->symbols)
        if (s.name == "xen_front_pgdir_shbuf_get_dir_start") text = s.address;  // .text + 0
    ASSERT_NE(text, 0u);
    EXPECT_EQ(emu.read_u32(text + 0x3e8), 0xe2433480u);  // sub r3, r3, #0x80000000
    EXPECT_EQ(emu.read_u32(text + 0x3ec), 0xe2433800u);  // sub r3, r3, #0
    EXPECT_EQ(emu.read_u32(text + 0x3f8), 0xe283e480u);  // add lr, r3, #0x80000000
    EXPECT_EQ(emu.read_u32(text + 0x3fc), 0xe28ee800u);  // add lr, lr, #0
}

// l3mdev_table_lookup_register(): one handler per L3 master device type (VRF is the only one);
// a second registration is -EBUSY until the first is unregistered, other types -EINVAL.
TEST(KitArmhf, L3mdevHandlerRegistry) {
    ArmKernel a;
    constexpr uint64_t vrf = 1;
    auto err = [](uint64_t r) { return int32_t(uint32_t(r)); };
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {0, 0x1000})), -EINVAL);
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {2, 0x1000})), -EINVAL);
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {vrf, 0x1000})), 0);
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {vrf, 0x2000})), -EBUSY);
    a.call("l3mdev_table_lookup_unregister", {vrf, 0x2000});  // not the handler: stays
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {vrf, 0x2000})), -EBUSY);
    a.call("l3mdev_table_lookup_unregister", {vrf, 0x1000});
    EXPECT_EQ(err(a.call("l3mdev_table_lookup_register", {vrf, 0x2000})), 0);
}

// The oracle machine's Cortex-A15 as the kernel saw it: NEON and VFPv4, no crypto extensions.
TEST(KitArmhf, HwcapsAreTheCortexA15s) {
    ArmKernel a;
    const Export* hwcap = a.k.find_export("elf_hwcap");
    const Export* hwcap2 = a.k.find_export("elf_hwcap2");
    ASSERT_TRUE(hwcap && hwcap2);
    EXPECT_EQ(a.word(hwcap->address), 0x3fb0d6u);  // half thumb fastmult vfp edsp neon ... evtstrm
    EXPECT_EQ(a.word(hwcap2->address), 0u);
}

}  // namespace
