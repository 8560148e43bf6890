// mm/page_alloc.c (and mm/mempolicy.c's alloc_pages()/folio_alloc()): the page allocator. Pages
// come from the emulated kernel's heap, which lies in the linear map (kernel.cc's layout), and on
// arm64 each has its struct page in the vmemmap where modules' inline page_address(),
// virt_to_page() and page_to_pfn() find it (arch/arm64/include/asm/memory.h: the page of linear
// address a is VMEMMAP_START + (a - PAGE_OFFSET) / PAGE_SIZE; page_to_pfn() subtracts vmemmap,
// VMEMMAP_START - (memstart_addr >> PAGE_SHIFT)). memstart_addr is the oracle's machine's: QEMU
// virt's RAM starts at 0x40000000, which the linear map of the 48-bit CPU (a Cortex-A57, no LVA)
// has at 0xffff000000000000 (a 52-bit kernel moves memstart_addr down by the difference,
// arm64_memblock_init()). A page handed out has _refcount 1 (set_page_refcounted()) and no
// flags. Compound pages (__GFP_COMP with an order) are not emulated. ARM (FLATMEM's mem_map and
// the patched __pv_phys_pfn_offset) is not emulated: there only the address-returning
// __get_free_pages() family is.
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

struct PageAlloc : Kernel::SubsystemState {
    std::map<uint64_t, unsigned> blocks;  // linear address -> order, of the pages handed out
};

const KernelStructs::Page& pg(Kernel& k) { return k.structs().page; }

uint64_t page_of(Kernel& k, uint64_t addr) {
    const KernelStructs::Page& p = pg(k);
    return p.vmemmap_start + ((addr - p.page_offset) >> page_shift) * p.size;
}

uint64_t addr_of(Kernel& k, uint64_t page) {
    const KernelStructs::Page& p = pg(k);
    return p.page_offset + (((page - p.vmemmap_start) / p.size) << page_shift);
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
    if (c.kernel.arch() == Arch::arm64) {
        uint64_t first = page_of(c.kernel, addr);
        c.emu.fill(first, 0, (uint64_t(1) << order) * p.size);
        set_refcount(c, first, 1);  // set_page_refcounted()
    }
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
        if (c.kernel.arch() == Arch::arm64)
            free_pages_at(c, page_of(c.kernel, addr), static_cast<unsigned>(c.arg(1)),
                          "free_pages");
        else
            free_block(c, addr, "free_pages");
        return 0;
    });
    if (k.arch() != Arch::arm64) return;

    // memstart_addr: PHYS_OFFSET, the physical address of the linear map's start.
    const KernelStructs::Page& p = k.structs().page;
    uint64_t memstart = qemu_virt_ram - (linear_map_48 - p.page_offset);
    k.add_data("memstart_addr", sub, 8, &memstart);
    // The heap's struct pages.
    const KernelLayout& l = k.layout();
    uint64_t first = page_of(k, l.heap) & ~uint64_t(0xfff);
    uint64_t last = page_of(k, l.heap + l.heap_size);
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
}

}  // namespace kmodemu
