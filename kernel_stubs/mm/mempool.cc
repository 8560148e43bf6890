// mm/mempool.c: memory pools. A pool keeps min_nr elements, preallocated by its alloc_fn when it
// is made, for the allocations that the allocator fails; here no allocation fails, so
// mempool_alloc() hands out what alloc_fn gives and the reserve is used only as the kernel
// refills and drains it (mempool_free() refills it first, mempool_exit() frees it).
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

int32_t read_i32(Kernel& k, uint64_t addr) {
    return static_cast<int32_t>(k.emu().read_u32(addr));
}

void write_i32(Kernel& k, uint64_t addr, int32_t v) {
    k.emu().write(addr, &v, 4);
}

// mempool_exit(pool): frees the reserved elements with free_fn, then the array.
void mempool_exit(Kernel& k, uint64_t pool) {
    const KernelStructs::Mempool& m = k.structs().mempool;
    Emulator& emu = k.emu();
    uint64_t elements = emu.read_word(pool + m.elements);
    for (int32_t n = read_i32(k, pool + m.curr_nr); n > 0; n = read_i32(k, pool + m.curr_nr)) {
        write_i32(k, pool + m.curr_nr, n - 1);
        uint64_t element = emu.read_word(elements + uint64_t(n - 1) * k.word());
        k.call_guest(emu.read_word(pool + m.free), {element, emu.read_word(pool + m.pool_data)});
    }
    if (elements && elements != zero_size_ptr) k.slab().free(elements);
    emu.write_word(pool + m.elements, 0);
}

// mempool_init_node(pool, min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id): the fields,
// the wait queue, the array of min_nr element pointers, and min_nr elements from alloc_fn
// (-ENOMEM, the pool emptied again, when one fails).
int mempool_init(Kernel& k, uint64_t pool, int32_t min_nr, uint64_t alloc_fn, uint64_t free_fn,
                 uint64_t pool_data, uint64_t gfp) {
    const KernelStructs& s = k.structs();
    const KernelStructs::Mempool& m = s.mempool;
    Emulator& emu = k.emu();
    uint32_t unlocked = 0;
    emu.write(pool + m.lock, &unlocked, 4);  // spin_lock_init()
    write_i32(k, pool + m.min_nr, min_nr);
    emu.write_word(pool + m.pool_data, pool_data);
    emu.write_word(pool + m.alloc, alloc_fn);
    emu.write_word(pool + m.free, free_fn);
    uint64_t wq = pool + m.wait;  // init_waitqueue_head()
    emu.write(wq + s.wait_queue_head.lock, &unlocked, 4);
    emu.write_word(wq + s.wait_queue_head.head, wq + s.wait_queue_head.head);
    emu.write_word(wq + s.wait_queue_head.head + k.word(), wq + s.wait_queue_head.head);
    // kmalloc_array_node(min_nr, sizeof(void *)): a negative min_nr overflows it (NULL).
    uint64_t elements =
        min_nr < 0 ? 0 : k.slab_alloc(uint64_t(uint32_t(min_nr)) * k.word(), gfp & ~gfp_zero);
    emu.write_word(pool + m.elements, elements);
    if (!elements) return -ENOMEM;
    while (read_i32(k, pool + m.curr_nr) < min_nr) {
        uint64_t element = k.call_guest(alloc_fn, {gfp, pool_data});
        if (k.word() == 4) element &= 0xffffffffu;
        if (!element) {
            mempool_exit(k, pool);
            return -ENOMEM;
        }
        int32_t n = read_i32(k, pool + m.curr_nr);  // add_element()
        emu.write_word(elements + uint64_t(n) * k.word(), element);
        write_i32(k, pool + m.curr_nr, n + 1);
    }
    return 0;
}

// mempool_create_node(min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id): a zeroed
// mempool_t, initialized; NULL when that fails.
uint64_t mempool_create(Kernel& k, int32_t min_nr, uint64_t alloc_fn, uint64_t free_fn,
                        uint64_t pool_data, uint64_t gfp) {
    uint64_t pool = k.slab_alloc(k.structs().mempool.size, gfp | gfp_zero);
    if (!pool) return 0;
    if (mempool_init(k, pool, min_nr, alloc_fn, free_fn, pool_data, gfp)) {
        k.slab().free(pool);
        return 0;
    }
    return pool;
}

constexpr uint64_t gfp_kernel = 0xcc0;  // GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)

}  // namespace

void register_mempool(Kernel& k) {
    const char* sub = "mm/mempool";
    // mempool_create(min_nr, alloc_fn, free_fn, pool_data): GFP_KERNEL, any node.
    k.add_function("mempool_create", sub, [](StubCall& c) -> uint64_t {
        return mempool_create(c.kernel, c.iarg(0), c.arg(1), c.arg(2), c.arg(3), gfp_kernel);
    });
    // mempool_create_node(min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id); 6.12's
    // mempool_create_node_noprof (mempool_create() is a macro of it there).
    k.add_functions({"mempool_create_node", "mempool_create_node_noprof"}, sub,
                    [](StubCall& c) -> uint64_t {
                        return mempool_create(c.kernel, c.iarg(0), c.arg(1), c.arg(2), c.arg(3),
                                              uint32_t(c.arg(4)));
                    });
    // mempool_init(pool, min_nr, alloc_fn, free_fn, pool_data) (6.12: mempool_init_noprof) and
    // mempool_init_node(..., gfp_mask, node_id): 0 or -ENOMEM.
    k.add_functions({"mempool_init", "mempool_init_noprof"}, sub, [](StubCall& c) -> uint64_t {
        return ret(
            mempool_init(c.kernel, c.arg(0), c.iarg(1), c.arg(2), c.arg(3), c.arg(4), gfp_kernel));
    });
    k.add_function("mempool_init_node", sub, [](StubCall& c) -> uint64_t {
        return ret(mempool_init(c.kernel, c.arg(0), c.iarg(1), c.arg(2), c.arg(3), c.arg(4),
                                uint32_t(c.arg(5))));
    });
    k.add_function("mempool_exit", sub, [](StubCall& c) -> uint64_t {
        mempool_exit(c.kernel, c.arg(0));
        return 0;
    });
    // mempool_destroy(pool): nothing for NULL.
    k.add_function("mempool_destroy", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0)) return 0;
        mempool_exit(c.kernel, c.arg(0));
        c.kernel.slab().free(c.arg(0));
        return 0;
    });
    // mempool_alloc(pool, gfp_mask) (6.12: mempool_alloc_noprof): alloc_fn first, which never
    // fails here (the kernel's fallback to the reserve and its waiting are not reached).
    k.add_functions({"mempool_alloc", "mempool_alloc_noprof"}, sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Mempool& m = c.kernel.structs().mempool;
        uint64_t pool = c.arg(0);
        uint64_t element =
            c.kernel.call_guest(c.emu.read_word(pool + m.alloc),
                                {uint32_t(c.arg(1)), c.emu.read_word(pool + m.pool_data)});
        if (c.kernel.word() == 4) element &= 0xffffffffu;
        if (!element) c.unimplemented("mempool_alloc (alloc_fn failed: the reserve)");
        return element;
    });
    // mempool_free(element, pool): back into the reserve while it holds fewer than min_nr,
    // else free_fn.
    k.add_function("mempool_free", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Mempool& m = k.structs().mempool;
        uint64_t element = c.arg(0), pool = c.arg(1);
        if (!element) return 0;
        int32_t n = read_i32(k, pool + m.curr_nr);
        if (n < read_i32(k, pool + m.min_nr)) {
            c.emu.write_word(c.emu.read_word(pool + m.elements) + uint64_t(n) * k.word(), element);
            write_i32(k, pool + m.curr_nr, n + 1);
            return 0;
        }
        k.call_guest(c.emu.read_word(pool + m.free),
                     {element, c.emu.read_word(pool + m.pool_data)});
        return 0;
    });
    // The allocators of the common pools: mempool_alloc_slab(gfp, cache) is
    // kmem_cache_alloc(cache, gfp); mempool_kmalloc(gfp, size) is kmalloc(size, gfp); their
    // frees.
    auto call_export = [](StubCall& c, const char* name, std::initializer_list<uint64_t> args) {
        const Export* e = c.kernel.find_export(name);
        return c.kernel.call_guest(e->address, args);
    };
    k.add_function("mempool_alloc_slab", sub, [call_export](StubCall& c) -> uint64_t {
        return call_export(c, "kmem_cache_alloc", {c.arg(1), uint32_t(c.arg(0))});
    });
    k.add_function("mempool_free_slab", sub, [call_export](StubCall& c) -> uint64_t {
        call_export(c, "kmem_cache_free", {c.arg(1), c.arg(0)});
        return 0;
    });
    k.add_function("mempool_kmalloc", sub, [](StubCall& c) -> uint64_t {
        return c.kernel.slab_alloc(c.arg(1), uint32_t(c.arg(0)));
    });
    k.add_function("mempool_kfree", sub, [call_export](StubCall& c) -> uint64_t {
        call_export(c, "kfree", {c.arg(0)});
        return 0;
    });
}

}  // namespace kmodemu
