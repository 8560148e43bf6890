// The page allocator (mm/page_alloc.c), the I/O resource trees (kernel/resource.c) and inb()/
// outb() (lib/logic_pio.c), PCI lookups (drivers/pci/search.c), kernel-mode NEON
// (arch/arm64/kernel/fpsimd.c), static keys (kernel/jump_label.c) and zpool drivers
// (mm/zpool.c): Debian's modules that use them get the real kernel's verdict, and the
// registries refuse what the kernel refuses.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"
#include "tests/fixture_util.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitMmhw, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // alloc_pages (tls's page in 6.1, libcxgbi's)
        "kernel/drivers/scsi/cxgbi/libcxgbi.ko",
        // __request_region/__release_region on ioport_resource, then inb()/outb() in the PCI
        // I/O window: no chip answers, ENODEV
        "kernel/drivers/hwmon/f71882fg.ko",
        "kernel/drivers/hwmon/vt1211.ko",
        "kernel/drivers/hwmon/w83627ehf.ko",
        "kernel/drivers/hwmon/dme1737.ko",
        "kernel/drivers/hwmon/sch5627.ko",
        "kernel/drivers/input/touchscreen/mk712.ko",  // "mk712: device not present"
        // pci_get_device: no such device
        "kernel/drivers/hwmon/i5k_amb.ko",
        "kernel/drivers/media/pci/bt8xx/bttv.ko",
        "kernel/drivers/media/pci/bt8xx/bt878.ko",
        // kernel_neon_begin/kernel_neon_end (xor's calibration, through the dependency)
        "kernel/crypto/async_tx/async_xor.ko",
        // static_key_enable, static_key_disable, static_key_slow_inc/dec: the branches patched
        // and checked by the test modules themselves
        "kernel/arch/arm64/crypto/chacha-neon.ko",
        "kernel/arch/arm64/crypto/poly1305-neon.ko",
        "kernel/lib/test_static_key_base.ko",
        "kernel/lib/test_static_keys.ko",
        // zpool_register_driver
        "kernel/mm/z3fold.ko",
        "kernel/mm/zsmalloc.ko",
    });
}

// A page from alloc_pages() lies in the linear map and has its struct page where the modules'
// inline virt_to_page()/page_address() find it, with one reference; __free_pages() gives it
// back, and the next allocation of the order reuses it.
TEST(KitMmhw, PagesHaveTheirStructPage) {
    for (const std::string& kit : fx::kits()) {
        if (kit.find("arm64") == std::string::npos) continue;
        fx::KitKernel t(kit.c_str());
        const KernelStructs::Page& p = t.s.page;
        const char* alloc = t.k.find_export("alloc_pages") ? "alloc_pages" : "alloc_pages_noprof";
        uint64_t page = t.call(alloc, {0xcc0, 0});
        ASSERT_NE(page, 0u) << kit;
        // page_to_virt(): PAGE_OFFSET + (page - VMEMMAP_START) / sizeof(struct page) * PAGE_SIZE
        uint64_t addr = p.page_offset + ((page - p.vmemmap_start) / p.size) * 4096;
        EXPECT_GE(addr, t.k.layout().heap);
        EXPECT_LT(addr, t.k.layout().heap + t.k.layout().heap_size);
        int32_t ref = 0;
        t.emu.read(page + p.refcount, &ref, 4);
        EXPECT_EQ(ref, 1);
        t.emu.write_u32(addr + 4092, 0x12345678);  // the page is mapped
        // memstart_addr: the linear map's start is QEMU virt's RAM, 0x40000000.
        uint64_t memstart = t.emu.read_word(t.k.find_export("memstart_addr")->address);
        EXPECT_EQ(addr - p.page_offset + memstart, addr - 0xffff000000000000ull + 0x40000000);
        t.call("__free_pages", {page, 0});
        EXPECT_EQ(t.call(alloc, {0xcc0, 0}), page);
        // __get_free_pages() is the same allocator: its address's page has the reference.
        uint64_t a = t.call("__get_free_pages", {0xcc0, 1});
        uint64_t pa = p.vmemmap_start + ((a - p.page_offset) >> 12) * p.size;
        t.emu.read(pa + p.refcount, &ref, 4);
        EXPECT_EQ(ref, 1);
        t.call("free_pages", {a, 1});
        t.emu.read(pa + p.refcount, &ref, 4);
        EXPECT_EQ(ref, 0);
    }
}

// __request_region(): a busy range can't be requested twice; inside a non-busy one it nests;
// __release_region() unlinks it, after which it can be requested again.
TEST(KitMmhw, RequestRegionRefusesBusyRanges) {
    fx::KitKernel t;
    const KernelStructs::Resource& r = t.s.resource;
    uint64_t ioport = t.k.find_export("ioport_resource")->address;
    EXPECT_EQ(t.emu.read_word(ioport + r.end), 0xffffffu);  // IO_SPACE_LIMIT
    uint64_t name = t.str("superio");
    uint64_t muxed = r.muxed & 0xffffffffu;
    uint64_t a = t.call("__request_region", {ioport, 0x2e, 2, name, muxed});
    ASSERT_NE(a, 0u);
    EXPECT_EQ(t.emu.read_word(ioport + r.child), a);
    EXPECT_EQ(t.emu.read_word(a + r.parent), ioport);
    EXPECT_EQ(t.emu.read_word(a + r.start), 0x2eu);
    EXPECT_EQ(t.emu.read_word(a + r.end), 0x2fu);
    EXPECT_EQ(t.emu.read_word(a + r.flags), r.io | (r.busy & 0xffffffffu) | muxed);
    EXPECT_EQ(t.call("__request_region", {ioport, 0x2f, 1, name, 0}), 0u);  // overlaps: busy
    uint64_t b = t.call("__request_region", {ioport, 0x30, 8, name, 0});
    ASSERT_NE(b, 0u);
    EXPECT_EQ(t.emu.read_word(a + r.sibling), b);  // in order of start
    t.call("__release_region", {ioport, 0x2e, 2});
    EXPECT_EQ(t.emu.read_word(ioport + r.child), b);
    EXPECT_NE(t.call("__request_region", {ioport, 0x2e, 2, name, 0}), 0u);
    // Beyond IO_SPACE_LIMIT: refused.
    EXPECT_EQ(t.call("__request_region", {ioport, 0xffffff, 2, name, 0}), 0u);
}

// inb() of a port in the PCI host bridge's window: nothing answers, all ones.
TEST(KitMmhw, PortsReadAllOnes) {
    fx::KitKernel t;
    EXPECT_EQ(t.call("logic_inb", {0x2f}), 0xffu);
    EXPECT_EQ(t.call("logic_inw", {0x2e}), 0xffffu);
    EXPECT_EQ(t.call("logic_outb", {0x87, 0x2e}), 0u);
    EXPECT_EQ(t.call("logic_inb", {0x2e}), 0xffu);  // the write went nowhere
}

// zpool_unregister_driver(): -EBUSY while a pool uses the driver.
TEST(KitMmhw, ZpoolDriverInUseStays) {
    fx::KitKernel t;
    uint64_t drv = t.zeroed(128);
    uint64_t ref = drv + t.s.zpool_driver_refcount;
    t.emu.write_u32(ref, 7);
    t.call("zpool_register_driver", {drv});
    uint32_t n = 1;
    t.emu.read(ref, &n, 4);
    EXPECT_EQ(n, 0u);  // atomic_set(&driver->refcount, 0)
    t.emu.write_u32(ref, 1);
    EXPECT_EQ(t.call("zpool_unregister_driver", {drv}), uint64_t(-EBUSY));
    t.emu.write_u32(ref, 0);
    EXPECT_EQ(t.call("zpool_unregister_driver", {drv}), 0u);
}

// kernel_neon_begin() disables bottom halves until kernel_neon_end().
TEST(KitMmhw, KernelNeonDisablesBottomHalves) {
    fx::KitKernel t;
    uint64_t pc = t.k.current_task() + t.s.task.preempt_count;
    uint32_t before = 0, during = 0, after = 0;
    t.emu.read(pc, &before, 4);
    t.call("kernel_neon_begin", {});
    t.emu.read(pc, &during, 4);
    t.call("kernel_neon_end", {});
    t.emu.read(pc, &after, 4);
    EXPECT_EQ(during, before + 0x200);  // SOFTIRQ_DISABLE_OFFSET
    EXPECT_EQ(after, before);
}

// No PCI device: every lookup finds nothing.
TEST(KitMmhw, PciLookupsFindNothing) {
    fx::KitKernel t;
    EXPECT_EQ(t.call("pci_get_device", {0x8086, 0x25f0, 0}), 0u);
    EXPECT_EQ(t.call("pci_get_subsys", {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0}), 0u);
    EXPECT_EQ(t.call("pci_dev_put", {0}), 0u);
}

}  // namespace
