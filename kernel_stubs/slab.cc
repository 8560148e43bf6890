#include "kernel_stubs/slab.h"

#include <cerrno>
#include <cstring>

namespace kmodemu {

namespace {
constexpr uint64_t heap_chunk = 0x10000;  // mapped on demand (mapping cost grows with size)
constexpr uint64_t page = 0x1000;
}  // namespace

Kernel::Slab::Slab(Kernel& k) : k(k) {
    if (k.arch() == Arch::arm64) {
        min_size = 128;   // ARCH_DMA_MINALIGN on arm64 6.1
        shift_high = 13;  // PAGE_SHIFT + 1
        nr_types = 4;     // NORMAL, CGROUP, RECLAIM, DMA
    } else {
        min_size = 64;  // L1_CACHE_BYTES on armmp
        shift_high = 13;
        nr_types = 4;
    }
    next_ = mapped_end_ = k.layout().heap;
}

uint64_t Kernel::Slab::size_class(uint64_t size) const {
    if (size > (1ull << shift_high)) return 0;
    if (size <= min_size) return min_size;
    if (min_size <= 64 && size > 64 && size <= 96) return 96;
    if (min_size <= 128 && size > 128 && size <= 192) return 192;
    uint64_t c = 1;
    while (c < size)
        c <<= 1;
    return c;
}

uint64_t Kernel::Slab::carve(uint64_t slot) {
    uint64_t align = slot >= page ? page : (slot & (slot - 1)) == 0 ? slot : 64;
    uint64_t p = (next_ + align - 1) & ~(align - 1);
    uint64_t end = p + slot;
    if (end > k.layout().heap + k.layout().heap_size) return 0;
    while (mapped_end_ < end) {
        k.emu().map(mapped_end_, heap_chunk, prot_rw);
        mapped_end_ += heap_chunk;
    }
    next_ = end;
    return p;
}

uint64_t Kernel::Slab::alloc(uint64_t size, uint64_t flags) {
    if (size == 0) return zero_size_ptr;
    uint64_t slot = size_class(size);
    if (!slot) slot = (size + page - 1) & ~(page - 1);  // kmalloc_large(): whole pages
    uint64_t p = 0;
    auto& fl = free_[slot];
    if (!fl.empty()) {
        p = fl.back();
        fl.pop_back();
    } else {
        p = carve(slot);
        if (!p) return 0;
    }
    live_[p] = Block{size, slot};
    if (flags & gfp_zero) k.emu().fill(p, 0, slot);
    return p;
}

bool Kernel::Slab::free(uint64_t p) {
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    free_[it->second.slot].push_back(p);
    live_.erase(it);
    return true;
}

uint64_t Kernel::Slab::ksize(uint64_t p) const {
    auto it = live_.find(p);
    return it == live_.end() ? 0 : it->second.slot;
}

uint64_t Kernel::Slab::live_bytes() const {
    uint64_t n = 0;
    for (const auto& [p, b] : live_)
        n += b.requested;
    return n;
}

uint64_t Kernel::Slab::krealloc(uint64_t p, uint64_t size, uint64_t flags) {
    // krealloc(): size 0 frees; a request that fits the current object keeps it.
    if (size == 0) {
        if (p > zero_size_ptr) free(p);
        return zero_size_ptr;
    }
    uint64_t old = p > zero_size_ptr ? ksize(p) : 0;
    if (old && size <= old) {
        live_[p].requested = size;
        return p;
    }
    uint64_t q = alloc(size, flags);
    if (!q) return 0;
    if (old) {
        std::vector<uint8_t> buf(old);
        k.emu().read(p, buf.data(), old);
        k.emu().write(q, buf.data(), std::min(old, size));
        free(p);
    }
    return q;
}

uint64_t Kernel::slab_alloc(uint64_t size, uint64_t gfp_flags) {
    return slab_->alloc(size, gfp_flags);
}

void register_slab(Kernel& k) {
    Kernel::Slab& s = k.slab();
    const char* sub = "slab";
    // kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1]: fake struct kmem_cache objects
    // whose object size follows the index (kmalloc_size()).
    unsigned per_type = s.shift_high + 1;
    std::vector<uint64_t> table(size_t(s.nr_types) * per_type, 0);
    for (unsigned t = 0; t < s.nr_types; ++t) {
        for (unsigned i = 1; i < per_type; ++i) {
            uint64_t size = i == 1 ? 96 : i == 2 ? 192 : (1ull << i);
            if (size < s.min_size) continue;
            uint64_t cache = k.alloc_data(256, 64);
            s.cache_size[cache] = size;
            table[t * per_type + i] = cache;
        }
    }
    std::vector<uint8_t> bytes(table.size() * k.word());
    for (size_t i = 0; i < table.size(); ++i)
        std::memcpy(bytes.data() + i * k.word(), &table[i], k.word());
    s.caches_addr = k.add_data("kmalloc_caches", sub, bytes.size(), bytes.data()).address;

    auto alloc = [](unsigned size_arg, unsigned flags_arg) {
        return
            [=](StubCall& c) { return c.kernel.slab().alloc(c.arg(size_arg), c.arg(flags_arg)); };
    };
    k.add_function("__kmalloc", sub, alloc(0, 1));
    k.add_function("__kmalloc_node", sub, alloc(0, 1));
    k.add_function("kmalloc_large", sub, alloc(0, 1));
    k.add_function("kmalloc_large_node", sub, alloc(0, 1));
    k.add_function("kmalloc_trace", sub, alloc(2, 1));       // (s, gfpflags, size)
    k.add_function("kmalloc_node_trace", sub, alloc(3, 1));  // (s, gfpflags, node, size)
    k.add_function("kvmalloc_node", sub, alloc(0, 1));
    k.add_function("vmalloc", sub, [](StubCall& c) { return c.kernel.slab().alloc(c.arg(0), 0); });
    k.add_function("vzalloc", sub,
                   [](StubCall& c) { return c.kernel.slab().alloc(c.arg(0), gfp_zero); });
    auto cache_alloc = [](StubCall& c) {
        auto& sl = c.kernel.slab();
        auto it = sl.cache_size.find(c.arg(0));
        return sl.alloc(it == sl.cache_size.end() ? 64 : it->second, c.arg(1));
    };
    k.add_function("kmem_cache_alloc", sub, cache_alloc);
    k.add_function("kmem_cache_alloc_lru", sub, cache_alloc);
    auto kfree = [](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(0);
        if (p <= zero_size_ptr) return 0;  // ZERO_OR_NULL_PTR
        if (!c.kernel.slab().free(p))
            c.kernel.diag("kfree of a pointer that is not allocated: " + hex(p));
        return 0;
    };
    k.add_function("kfree", sub, kfree);
    k.add_function("kvfree", sub, kfree);
    k.add_function("vfree", sub, kfree);
    k.add_function("kmem_cache_free", sub, [kfree](StubCall& c) {
        // (s, objp): shift the object into arg 0 for the shared path.
        uint64_t p = c.arg(1);
        if (p > zero_size_ptr && !c.kernel.slab().free(p))
            c.kernel.diag("kmem_cache_free of a pointer that is not allocated: " + hex(p));
        return uint64_t(0);
    });
    k.add_function("kfree_sensitive", sub, [](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(0);
        if (p <= zero_size_ptr) return 0;
        uint64_t n = c.kernel.slab().ksize(p);
        if (n) c.emu.fill(p, 0, n);
        if (!c.kernel.slab().free(p))
            c.kernel.diag("kfree_sensitive of a pointer that is not allocated: " + hex(p));
        return 0;
    });
    k.add_function("krealloc", sub, [](StubCall& c) {
        return c.kernel.slab().krealloc(c.arg(0), c.arg(1), c.arg(2));
    });
    k.add_function("ksize", sub, [](StubCall& c) {
        uint64_t p = c.arg(0);
        return p <= zero_size_ptr ? 0 : c.kernel.slab().ksize(p);
    });
    k.add_function("__ksize", sub, [](StubCall& c) {
        uint64_t p = c.arg(0);
        return p <= zero_size_ptr ? 0 : c.kernel.slab().ksize(p);
    });
}

}  // namespace kmodemu
