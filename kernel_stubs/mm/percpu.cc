// mm/percpu.c: dynamic per-CPU memory. The emulated kernel's per-CPU offsets (__per_cpu_offset[],
// the CPU's TPIDR) are zero, so a per-CPU pointer is the address of the memory itself: an
// allocation is zeroed memory of the size asked (a kmalloc object, aligned at least as the
// kernel's minimum allocation unit).
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t pcpu_min_unit_size = 32 << 10;  // PCPU_MIN_UNIT_SIZE
constexpr uint64_t pcpu_min_alloc_size = 4;        // PCPU_MIN_ALLOC_SIZE

// pcpu_alloc(size, align, reserved, gfp): NULL, with the kernel's warning, for a size of 0 or
// beyond a unit, or an alignment above a page or not a power of two.
uint64_t pcpu_alloc(StubCall& c, uint64_t size, uint64_t align, uint64_t gfp) {
    if (align < pcpu_min_alloc_size) align = pcpu_min_alloc_size;
    size = (size + pcpu_min_alloc_size - 1) & ~(pcpu_min_alloc_size - 1);
    if (!size || size > pcpu_min_unit_size || align > c.kernel.structs().crypto.page_size ||
        (align & (align - 1)))
        c.unimplemented("pcpu_alloc (an illegal size or align: WARN)");
    uint64_t slot = size < align ? align : size;
    return c.kernel.slab_alloc(slot, (gfp & 0xffffffffu) | gfp_zero);
}

constexpr uint64_t gfp_kernel = 0xcc0;

}  // namespace

void register_percpu(Kernel& k) {
    const char* sub = "mm/percpu";
    // __alloc_percpu(size, align); __alloc_percpu_gfp(size, align, gfp); 6.12's
    // pcpu_alloc_noprof(size, align, reserved, gfp) (the others are macros of it there).
    k.add_function(
        "__alloc_percpu", sub,
        [](StubCall& c) -> uint64_t { return pcpu_alloc(c, c.arg(0), c.arg(1), gfp_kernel); },
        true);
    k.add_function(
        "__alloc_percpu_gfp", sub,
        [](StubCall& c) -> uint64_t { return pcpu_alloc(c, c.arg(0), c.arg(1), c.arg(2)); }, true);
    k.add_function(
        "pcpu_alloc_noprof", sub,
        [](StubCall& c) -> uint64_t { return pcpu_alloc(c, c.arg(0), c.arg(1), c.arg(3)); }, true);
    // free_percpu(ptr): nothing for NULL.
    k.add_function("free_percpu", sub, [](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(0);
        if (p && !c.kernel.slab().free(p))
            c.kernel.diag("free_percpu of an address that is not allocated: " + hex(p));
        return 0;
    });
}

}  // namespace kmodemu
