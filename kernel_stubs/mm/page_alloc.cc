// mm/page_alloc.c (and mm/mempolicy.c's alloc_pages()/folio_alloc()): the page allocator. Pages
// come from the emulated kernel's heap, which lies in the linear map (kernel.cc's layout), and
// each has its struct page where modules' inline page_address(), virt_to_page() and
// page_to_pfn() find it:
// - arm64, SPARSEMEM_VMEMMAP (arch/arm64/include/asm/memory.h): the page of linear address a is
//   VMEMMAP_START + (a - PAGE_OFFSET) / PAGE_SIZE; page_to_pfn() subtracts vmemmap,
//   VMEMMAP_START - (memstart_addr >> PAGE_SHIFT). memstart_addr is the oracle's machine's: QEMU
//   virt's RAM starts at 0x40000000, which the linear map of the 48-bit CPU (a Cortex-A57, no
//   LVA) has at 0xffff000000000000 (a 52-bit kernel moves memstart_addr down by the difference,
//   arm64_memblock_init()).
// - ARM, FLATMEM (include/asm-generic/memory_model.h, arch/arm/include/asm/memory.h): the page of
//   pfn is mem_map + (pfn - ARCH_PFN_OFFSET), ARCH_PFN_OFFSET being PHYS_PFN_OFFSET, the
//   __pv_phys_pfn_offset the kernel stored at boot (CONFIG_ARM_PATCH_PHYS_VIRT), and the pfn of
//   linear address a is (a - PAGE_OFFSET) / PAGE_SIZE + PHYS_PFN_OFFSET (virt_to_pfn()); __va()
//   and __pa() are instructions patched with __pv_offset, PHYS_OFFSET - PAGE_OFFSET (the
//   loader's fixup of .pv_table). The same QEMU virt RAM at 0x40000000 is PHYS_OFFSET. mem_map
//   lies in lowmem after the heap, as the memblock allocation of alloc_node_mem_map() would.
//   Lowmem is all ZONE_DMA there (no machine dma_zone_size: arm_dma_limit is 4 GiB), zone 0 of
//   the page flags, so the heap's pages are not PageHighMem().
// A page handed out has _refcount 1 (set_page_refcounted()) and no flags. Compound pages
// (__GFP_COMP with an order) are not emulated.
#include <cstring>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t page_shift = 12;
constexpr unsigned max_page_order = 10;        // MAX_PAGE_ORDER (6.1: MAX_ORDER - 1)
constexpr uint64_t qemu_virt_ram = 0x40000000;  // the start of the oracle machine's RAM
constexpr uint64_t linear_map_48 = 0xffff000000000000ull;  // _PAGE_OFFSET(48)

constexpr uint64_t arm_phys_offset = qemu_virt_ram;  // PHYS_OFFSET on the oracle machine

struct PageAlloc : Kernel::SubsystemState {
    std::map<uint64_t, unsigned> blocks;  // linear address -> order, of the pages handed out
    uint64_t memmap = 0;                  // the page of PAGE_OFFSET (vmemmap's or mem_map's)
    uint64_t memmap_end = 0;              // the end of the struct pages that exist
};

const KernelStructs::Page& pg(Kernel& k) { return k.structs().page; }

uint64_t page_of(Kernel& k, uint64_t addr) {
    const KernelStructs::Page& p = pg(k);
    return k.state<PageAlloc>().memmap + ((addr - p.page_offset) >> page_shift) * p.size;
}

uint64_t addr_of(Kernel& k, uint64_t page) {
    const KernelStructs::Page& p = pg(k);
    return p.page_offset + (((page - k.state<PageAlloc>().memmap) / p.size) << page_shift);
}

int32_t refcount(StubCall& c, uint64_t page) {
    int32_t n = 0;
    auto b = c.read(page + pg(c.kernel).refcount, 4);
    std::memcpy(&n, b.data(), 4);
    return n;
}

void set_refcount(StubCall& c, uint64_t page, int32_t n) {
    c.write(page + pg(c.kernel).refcount, &n, 4);
}

// __alloc_pages(gfp, order, ...): the linear address of 2^order fresh pages, 0 on failure.
uint64_t alloc_block(StubCall& c, uint64_t gfp, unsigned order, const char* fn) {
    const KernelStructs::Page& p = pg(c.kernel);
    if (order > max_page_order) {
        // WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp)
        if (!(gfp & p.gfp_nowarn)) c.unimplemented(std::string(fn) + " (an order too large: WARN)");
        return 0;
    }
    if (order && (gfp & p.gfp_comp)) c.unimplemented(std::string(fn) + " (a compound page)");
    uint64_t addr = c.kernel.slab().alloc(uint64_t(1) << (page_shift + order), gfp);
    if (!addr) return 0;
    c.kernel.state<PageAlloc>().blocks[addr] = order;
    uint64_t first = page_of(c.kernel, addr);
    c.emu.fill(first, 0, (uint64_t(1) << order) * p.size);
    set_refcount(c, first, 1);  // set_page_refcounted()
    return addr;
}

// The pages at addr go back to the heap (__free_pages_ok()).
void free_block(StubCall& c, uint64_t addr, const char* fn) {
    PageAlloc& st = c.kernel.state<PageAlloc>();
    if (!st.blocks.erase(addr))
        c.unimplemented(std::string(fn) + " (pages the page allocator did not hand out)");
    c.kernel.slab().free(addr);
}

// __free_pages(page, order): put_page_testzero(); freed at 0. A high-order block that someone
// still references gives back its tail pages only (not emulated).
void free_pages_at(StubCall& c, uint64_t page, unsigned order, const char* fn) {
    int32_t n = refcount(c, page) - 1;
    set_refcount(c, page, n);
    if (n == 0) {
        free_block(c, addr_of(c.kernel, page), fn);
    } else if (n < 0) {
        c.unimplemented(std::string(fn) + " (a page without references: VM_BUG_ON)");
    } else if (order) {
        c.unimplemented(std::string(fn) + " (a referenced high-order block: its tail freed)");
    }
}

}  // namespace

void register_page_alloc(Kernel& k) {
    const char* sub = "mm/page_alloc";
    // __get_free_pages(gfp, order): page_address(alloc_pages(gfp & ~__GFP_HIGHMEM, order)).
    k.add_functions({"__get_free_pages", "get_free_pages_noprof"}, sub, [](StubCall& c) {
        return alloc_block(c, c.arg(0), static_cast<unsigned>(c.arg(1)), "__get_free_pages");
    });
    k.add_functions({"get_zeroed_page", "get_zeroed_page_noprof"}, sub, [](StubCall& c) {
        return alloc_block(c, c.arg(0) | gfp_zero, 0, "get_zeroed_page");
    });
    // free_pages(addr, order): __free_pages(virt_to_page(addr), order) when addr is not 0.
    k.add_function("free_pages", sub, [](StubCall& c) -> uint64_t {
        uint64_t addr = c.arg(0);
        if (!addr) return 0;
        free_pages_at(c, page_of(c.kernel, addr), static_cast<unsigned>(c.arg(1)), "free_pages");
        return 0;
    });

    const KernelStructs::Page& p = k.structs().page;
    const KernelLayout& l = k.layout();
    PageAlloc& st = k.state<PageAlloc>();
    if (k.arch() == Arch::arm64) {
        // memstart_addr: PHYS_OFFSET, the physical address of the linear map's start.
        uint64_t memstart = qemu_virt_ram - (linear_map_48 - p.page_offset);
        k.add_data("memstart_addr", sub, 8, &memstart);
        st.memmap = p.vmemmap_start;
    } else {
        // __pv_phys_pfn_offset and __pv_offset as __fixup_pv_table() stores them at boot
        // (arch/arm/kernel/phys2virt.S): PHYS_OFFSET's pfn, and PHYS_OFFSET - PAGE_OFFSET with
        // its high word all ones when negative.
        uint32_t pfn_offset = static_cast<uint32_t>(arm_phys_offset >> page_shift);
        k.add_data("__pv_phys_pfn_offset", sub, 4, &pfn_offset);
        uint64_t pv_offset = static_cast<uint64_t>(int64_t(int32_t(
            static_cast<uint32_t>(arm_phys_offset) - static_cast<uint32_t>(p.page_offset))));
        if (arm_phys_offset >= p.page_offset) pv_offset &= 0xffffffffu;
        k.add_data("__pv_offset", sub, 8, &pv_offset);
        // mem_map: the struct pages of lowmem from PHYS_OFFSET, placed after the heap.
        st.memmap = (l.heap + l.heap_size + 0xfffff) & ~uint64_t(0xfffff);
        uint32_t mem_map = static_cast<uint32_t>(st.memmap);
        k.add_data("mem_map", sub, 4, &mem_map);
    }
    // The heap's struct pages (on ARM all of lowmem's up to the heap's end: the kernel's stack
    // and data are lowmem too).
    uint64_t first = (k.arch() == Arch::arm ? st.memmap : page_of(k, l.heap)) & ~uint64_t(0xfff);
    uint64_t last = page_of(k, l.heap + l.heap_size);
    st.memmap_end = last;
    k.emu().map(first, ((last - first) + 0xfff) & ~uint64_t(0xfff), prot_rw);

    // alloc_pages(gfp, order), __alloc_pages(gfp, order, nid, nodemask): the struct page.
    auto pages = [](StubCall& c) -> uint64_t {
        uint64_t a = alloc_block(c, c.arg(0), static_cast<unsigned>(c.arg(1)), "alloc_pages");
        return a ? page_of(c.kernel, a) : 0;
    };
    k.add_functions({"alloc_pages", "alloc_pages_noprof", "__alloc_pages", "__alloc_pages_noprof"},
                    sub, pages);
    // folio_alloc(gfp, order): alloc_pages(gfp | __GFP_COMP, order) as a folio (of one page).
    auto folio = [](StubCall& c) -> uint64_t {
        uint64_t gfp = c.arg(0) | pg(c.kernel).gfp_comp;
        uint64_t a = alloc_block(c, gfp, static_cast<unsigned>(c.arg(1)), "folio_alloc");
        return a ? page_of(c.kernel, a) : 0;
    };
    k.add_functions({"folio_alloc", "folio_alloc_noprof", "__folio_alloc", "__folio_alloc_noprof"},
                    sub, folio);
    // __free_pages(page, order)
    k.add_function("__free_pages", sub, [](StubCall& c) -> uint64_t {
        free_pages_at(c, c.arg(0), static_cast<unsigned>(c.arg(1)), "__free_pages");
        return 0;
    });
    // __folio_put(folio) (mm/swap.c): folio_put() found its last reference gone: freed.
    k.add_function("__folio_put", sub, [](StubCall& c) -> uint64_t {
        free_block(c, addr_of(c.kernel, c.arg(0)), "__folio_put");
        return 0;
    });
    if (k.arch() != Arch::arm) return;

    // empty_zero_page (arch/arm/mm/mmu.c): ARM's ZERO_PAGE() is a struct page pointer,
    // virt_to_page() of the zeroed page paging_init() allocated.
    uint64_t zero = k.slab().alloc(uint64_t(1) << page_shift, gfp_zero);
    uint32_t zero_page = static_cast<uint32_t>(page_of(k, zero));
    k.emu().fill(zero_page, 0, p.size);
    int32_t one = 1;
    k.emu().write(zero_page + p.refcount, &one, 4);
    k.add_data("empty_zero_page", sub, 4, &zero_page);

    // ARM's CONFIG_HIGHMEM half (mm/highmem.c), kept with the struct pages it reads. The
    // oracle's machine has 512 MiB of RAM, all lowmem (below the 3G split's vmalloc area): no
    // page is PageHighMem().
    // __totalhigh_pages() (6.12; 6.1's totalhigh_pages() reads _totalhigh_pages inline): the
    // managed pages of the highmem zones, none.
    k.add_function("__totalhigh_pages", sub, [](StubCall&) -> uint64_t { return 0; });
    // __kmap_local_page_prot(page, prot): a lowmem page's kmap_local_page()/kmap_atomic() is
    // page_address(page) (without CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP).
    k.add_function("__kmap_local_page_prot", sub, [](StubCall& c) -> uint64_t {
        uint64_t page = c.arg(0);
        PageAlloc& st = c.kernel.state<PageAlloc>();
        if (page < st.memmap || page >= st.memmap_end)
            c.unimplemented("__kmap_local_page_prot (a page outside mem_map: " + hex(page) + ")");
        return addr_of(c.kernel, page);
    });
    // kunmap_local_indexed(vaddr): an address outside the fixmap's kmap slots is a lowmem page's
    // (nothing to undo) or, below PAGE_OFFSET, the kernel's WARN_ON_ONCE (not emulated).
    k.add_function("kunmap_local_indexed", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0) < pg(c.kernel).page_offset)
            c.unimplemented("kunmap_local_indexed (an address below PAGE_OFFSET: WARN_ON_ONCE)");
        return 0;
    });
    // page_address(page) (mm/highmem.c, CONFIG_HIGHMEM): a page not PageHighMem() is
    // lowmem_page_address(), __va(PFN_PHYS(page_to_pfn(page))). The emulated kernel has no
    // highmem; a struct page outside mem_map is not one the emulation knows.
    k.add_function("page_address", sub, [](StubCall& c) -> uint64_t {
        uint64_t page = c.arg(0);
        PageAlloc& st = c.kernel.state<PageAlloc>();
        if (page < st.memmap || page >= st.memmap_end)
            c.unimplemented("page_address (a page outside mem_map: " + hex(page) + ")");
        return addr_of(c.kernel, page);
    });
}

}  // namespace kmodemu
