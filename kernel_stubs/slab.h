// The slab allocator: kmalloc and friends over a heap in guest memory (mm/slab_common.c,
// mm/slub.c semantics: size classes, ZERO_SIZE_PTR, __GFP_ZERO, ksize).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

constexpr uint64_t gfp_zero = 0x100;    // ___GFP_ZERO (6.1)
constexpr uint64_t zero_size_ptr = 16;  // ZERO_SIZE_PTR

struct Kernel::Slab {
    explicit Slab(Kernel& k);
    // The kmalloc size class for `size` (kmalloc_index()/kmalloc_size()), or 0 when the request
    // goes to the page allocator (kmalloc_large()).
    uint64_t size_class(uint64_t size) const;
    uint64_t alloc(uint64_t size, uint64_t flags);  // 0 on failure, zero_size_ptr for size 0
    // Returns false when p was not allocated (or already freed).
    bool free(uint64_t p);
    // kfree() of p as SLUB's slab_free() goes: `freed`; a double free of an object at the head
    // of its cache's freelist (the object of its cache freed last), which
    // set_freepointer()'s BUG_ON(object == fp) catches when `hardened`
    // (CONFIG_SLAB_FREELIST_HARDENED): `caught`, nothing changed; any other double free is
    // linked into the freelist again, as the kernel does, which will hand the object out twice:
    // `missed`; `unknown`: no object of the allocator starts at p.
    enum class FreeResult { freed, caught, missed, unknown };
    FreeResult free_object(uint64_t p, bool hardened);
    uint64_t ksize(uint64_t p) const;  // 0 when unknown
    uint64_t krealloc(uint64_t p, uint64_t size, uint64_t flags);
    size_t live_objects() const { return live_.size(); }
    uint64_t live_bytes() const;
    // The kmalloc object, allocated or freed, whose slot holds p: {start, object size}, as
    // kmem_obj_info() finds it in its slab; nullopt outside kmalloc slots (page allocations).
    std::optional<std::pair<uint64_t, uint64_t>> object_at(uint64_t p) const;

    Kernel& k;
    uint64_t min_size;                        // KMALLOC_MIN_SIZE (ARCH_DMA_MINALIGN)
    unsigned shift_high;                      // KMALLOC_SHIFT_HIGH
    unsigned nr_types;                        // NR_KMALLOC_TYPES
    uint64_t caches_addr = 0;                 // kmalloc_caches
    std::map<uint64_t, uint64_t> cache_size;  // fake struct kmem_cache* -> object size

  private:
    struct Block {
        uint64_t requested, slot;
    };
    std::map<uint64_t, Block> live_;
    std::map<uint64_t, std::vector<uint64_t>> free_;  // by slot size, LIFO like SLUB freelists
    uint64_t next_ = 0, mapped_end_ = 0;
    uint64_t carve(uint64_t slot);
};

// kmem_cache_create(name, size, align, flags, NULL) (mm/slab_common.c): the cache, or 0 when
// refused (with the kernel's message).
uint64_t kmem_cache_create(StubCall& c, uint64_t name_ptr, uint64_t size, uint64_t align,
                           uint64_t flags);

}  // namespace kmodemu
