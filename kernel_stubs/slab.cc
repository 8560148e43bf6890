#include "kernel_stubs/slab.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "kernel_stubs/bug.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

namespace {
constexpr uint64_t heap_chunk = 0x10000;  // mapped on demand (mapping cost grows with size)
constexpr uint64_t page = 0x1000;
// The line of set_freepointer()'s BUG_ON(object == fp) in mm/slub.c of Debian's 6.1 kernels: which
// trap of the function it is, and the line without the kit's image (which has the line).
constexpr unsigned set_freepointer_bug_line = 419;
}  // namespace

Kernel::Slab::Slab(Kernel& k) : k(k) {
    // The kernel's kmalloc size classes: KMALLOC_MIN_SIZE (ARCH_DMA_MINALIGN on arm64,
    // L1_CACHE_BYTES on armmp), KMALLOC_SHIFT_HIGH and NR_KMALLOC_TYPES.
    const KernelStructs::Kmalloc& km = k.structs().kmalloc;
    min_size = km.min_size;
    shift_high = static_cast<unsigned>(km.shift_high);
    nr_types = static_cast<unsigned>(km.nr_types);
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

Kernel::Slab::FreeResult Kernel::Slab::free_object(uint64_t p, bool hardened) {
    if (free(p)) return FreeResult::freed;
    // A freed object: the free lists model the caches' freelists, the last freed on top (where
    // SLUB's freelist head, c->freelist or slab->freelist, has it).
    for (auto& [slot, list] : free_) {
        if (size_class(slot) != slot) continue;  // kmalloc_large(): pages, not a slab cache
        auto it = std::find(list.rbegin(), list.rend(), p);
        if (it == list.rend()) continue;
        if (hardened && it == list.rbegin()) return FreeResult::caught;
        list.push_back(p);
        return FreeResult::missed;
    }
    return FreeResult::unknown;
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

std::optional<std::pair<uint64_t, uint64_t>> Kernel::Slab::object_at(uint64_t p) const {
    // A slot is a slab object when its size is a kmalloc size class (not kmalloc_large()).
    auto slab_slot = [&](uint64_t start, uint64_t slot) {
        return p >= start && p < start + slot && size_class(slot) == slot;
    };
    auto it = live_.upper_bound(p);
    if (it != live_.begin() && slab_slot(std::prev(it)->first, std::prev(it)->second.slot))
        return std::make_pair(std::prev(it)->first, std::prev(it)->second.slot);
    for (const auto& [slot, list] : free_)
        for (uint64_t start : list)
            if (slab_slot(start, slot)) return std::make_pair(start, slot);
    return std::nullopt;
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

// kmem_cache_create() of a cache without a constructor (for the kernel's own callers too).
uint64_t kmem_cache_create(StubCall& c, uint64_t name_ptr, uint64_t size, uint64_t align,
                           uint64_t flags) {
    Kernel::Slab& sl = c.kernel.slab();
    std::string name = name_ptr ? c.read_cstr(name_ptr) : "";
    size &= 0xffffffffu;
    align &= 0xffffffffu;
    flags &= 0xffffffffu;
    // kmem_cache_create_usercopy(): a nameless cache, or a size below a pointer or above
    // KMALLOC_MAX_SIZE, is refused (-EINVAL, after a WARN_ON() kmodemu does not draw).
    uint64_t kmalloc_max = uint64_t(1) << (sl.shift_high + 10);
    if (!name_ptr || size < c.emu.word_size() || size > kmalloc_max) {
        c.kernel.log(4, "kmem_cache_create(" + name + ") failed with error -22");
        return 0;
    }
    // calculate_alignment(): SLAB_HWCACHE_ALIGN (0x2000) aligns to the cache line while the
    // object is bigger than half of it; never below ARCH_SLAB_MINALIGN (8).
    uint64_t a = 8;
    if (flags & 0x2000) {
        uint64_t ralign = 64;
        while (size <= ralign / 2)
            ralign /= 2;
        a = std::max(a, ralign);
    }
    a = std::max(a, align);
    uint64_t object = (size + a - 1) / a * a;
    uint64_t s = sl.alloc(256, gfp_zero);
    if (!s) return 0;
    sl.cache_size[s] = object;
    return s;
}

namespace {

// Caches of modules (mm/slab_common.c): kmem_cache_create() makes a struct kmem_cache (a zeroed
// heap object standing for it) whose objects are its size aligned as calculate_alignment() and
// kmem_cache_open() do, from the kmalloc heap; the constructor runs on each object handed out
// (SLUB runs it once per object of a new slab and keeps freed objects constructed: kmodemu
// re-runs it, which a constructor that sets up an object cannot tell).
void register_kmem_caches(Kernel& k, const char* sub) {
    auto ctors = std::make_shared<std::map<uint64_t, uint64_t>>();  // cache -> ctor
    // (name, size, align, flags, ctor) of a cache, however the module's kernel passes them.
    auto make_cache = [ctors](StubCall& c, uint64_t name_ptr, uint64_t size, uint64_t align,
                              uint64_t flags, uint64_t ctor) -> uint64_t {
        uint64_t s = kmem_cache_create(c, name_ptr, size, align, flags);
        if (s && ctor) (*ctors)[s] = ctor;
        return s;
    };
    auto create = [make_cache](unsigned ctor_arg) {
        return [make_cache, ctor_arg](StubCall& c) -> uint64_t {
            return make_cache(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(ctor_arg));
        };
    };
    k.add_function("kmem_cache_create", sub, create(4));  // (name, size, align, flags, ctor)
    // (name, size, align, flags, useroffset, usersize, ctor)
    k.add_function("kmem_cache_create_usercopy", sub, create(6));
    // 6.12: __kmem_cache_create_args(name, object_size, struct kmem_cache_args *args, flags),
    // which kmem_cache_create() and its variants become; no args: the defaults (all zero).
    k.add_function("__kmem_cache_create_args", sub, [make_cache](StubCall& c) -> uint64_t {
        const KernelStructs::KmemCacheArgs& a = c.kernel.structs().kmem_cache_args;
        uint64_t args = c.arg(2), align = 0, ctor = 0;
        if (args && a.size) {
            uint32_t al = 0;
            auto raw = c.read(args + a.align, 4);
            std::memcpy(&al, raw.data(), 4);
            align = al;
            ctor = c.emu.read_word(args + a.ctor);
        }
        return make_cache(c, c.arg(0), c.arg(1), align, c.arg(3), ctor);
    });
    k.add_function("kmem_cache_destroy", sub, [ctors](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0);
        Kernel::Slab& sl = c.kernel.slab();
        if (!s) return 0;
        if (!sl.cache_size.erase(s)) {
            c.kernel.diag("kmem_cache_destroy(" + hex(s) +
                          "): not a cache made by kmem_cache_create");
            return 0;
        }
        ctors->erase(s);
        sl.free(s);
        return 0;
    });
    k.add_function("kmem_cache_size", sub, [](StubCall& c) -> uint64_t {
        auto& m = c.kernel.slab().cache_size;
        auto it = m.find(c.arg(0));
        if (it == m.end()) c.fault(c.arg(0), false);
        return it->second;
    });
    k.add_function("kmem_cache_shrink", sub, [](StubCall&) { return uint64_t(0); });
    // kmem_cache_alloc(s, flags), kmem_cache_alloc_lru(s, lru, flags),
    // kmem_cache_alloc_node(s, flags, node). A pointer that is no cache: the kernel reads it
    // as one; unmapped, that oopses; otherwise kmodemu cannot know what it holds, says so and
    // fails the allocation.
    auto cache_alloc = [ctors](unsigned flags_arg) {
        return [ctors, flags_arg](StubCall& c) -> uint64_t {
            Kernel::Slab& sl = c.kernel.slab();
            uint64_t s = c.arg(0);
            auto it = sl.cache_size.find(s);
            if (it == sl.cache_size.end()) {
                if (!c.emu.is_mapped(s)) c.fault(s, false);
                c.kernel.diag("kmem_cache_alloc(" + hex(s) +
                              "): not a cache made by kmem_cache_create; allocation failed");
                return 0;
            }
            uint64_t p = sl.alloc(it->second, c.arg(flags_arg));
            auto ctor = ctors->find(s);
            if (p && ctor != ctors->end()) c.kernel.call_guest(ctor->second, {p});
            return p;
        };
    };
    // 6.10 renamed the allocators for memory allocation profiling (the _noprof names).
    k.add_functions({"kmem_cache_alloc", "kmem_cache_alloc_noprof"}, sub, cache_alloc(1));
    k.add_functions({"kmem_cache_alloc_lru", "kmem_cache_alloc_lru_noprof"}, sub, cache_alloc(2));
    k.add_functions({"kmem_cache_alloc_node", "kmem_cache_alloc_node_noprof"}, sub, cache_alloc(1));

    // The page allocator: kernel_stubs/mm/page_alloc.cc.
}

}  // namespace

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
    // 6.1 name, 6.12 name (the _noprof names of memory allocation profiling, 6.10). With
    // CONFIG_SLAB_BUCKETS the _node allocators take a kmem_buckets pointer after the size
    // (DECL_BUCKET_PARAMS in include/linux/slab.h), which moves the flags one place.
    const KernelProfile* prof = k.config().profile.get();
    unsigned b = prof && prof->config.find("CONFIG_SLAB_BUCKETS") == "y" ? 1 : 0;
    k.add_functions({"__kmalloc", "__kmalloc_noprof"}, sub, alloc(0, 1));
    k.add_function("__kmalloc_node", sub, alloc(0, 1));
    k.add_function("__kmalloc_node_noprof", sub, alloc(0, 1 + b));  // (size, [b,] flags, node)
    k.add_functions({"kmalloc_large", "kmalloc_large_noprof", "__kmalloc_large_noprof"}, sub,
                    alloc(0, 1));
    k.add_functions(
        {"kmalloc_large_node", "kmalloc_large_node_noprof", "__kmalloc_large_node_noprof"}, sub,
        alloc(0, 1));
    // (s, gfpflags, size)
    k.add_functions({"kmalloc_trace", "__kmalloc_cache_noprof"}, sub, alloc(2, 1));
    // (s, gfpflags, node, size)
    k.add_functions({"kmalloc_node_trace", "__kmalloc_cache_node_noprof"}, sub, alloc(3, 1));
    k.add_function("kvmalloc_node", sub, alloc(0, 1));
    k.add_function("__kvmalloc_node_noprof", sub, alloc(0, 1 + b));  // (size, [b,] flags, node)
    k.add_functions({"vmalloc", "vmalloc_noprof"}, sub,
                    [](StubCall& c) { return c.kernel.slab().alloc(c.arg(0), 0); });
    k.add_functions({"vzalloc", "vzalloc_noprof"}, sub,
                    [](StubCall& c) { return c.kernel.slab().alloc(c.arg(0), gfp_zero); });
    register_kmem_caches(k, sub);
    // slab_free() of an object (mm/slub.c). SLUB with CONFIG_SLAB_FREELIST_HARDENED (Debian's
    // kernels; the default profile is configured as they are) BUG()s in set_freepointer() on a
    // double free of its freelist's head. `chain`: the kernel functions down to the one that
    // inlines slab_free() (kernel_bug()).
    bool hardened = !prof || prof->generic ||
                    (prof->config.find("CONFIG_SLUB") == "y" &&
                     prof->config.find("CONFIG_SLAB_FREELIST_HARDENED") == "y");
    auto slab_free = [hardened](StubCall& c, uint64_t p, const std::string& what,
                                const std::vector<uint64_t>& chain) {
        switch (c.kernel.slab().free_object(p, hardened)) {
            case Kernel::Slab::FreeResult::freed:
                return;
            case Kernel::Slab::FreeResult::caught:
                c.kernel.diag("double " + what + " of " + hex(p) +
                              ": the head of its cache's freelist (set_freepointer()'s check)");
                if (chain.size() == 2)  // kfree() -> __kmem_cache_free()
                    kernel_function_bug(c, "mm/slub.c", set_freepointer_bug_line,
                                        "__kmem_cache_free", chain);
                kernel_bug(c, "mm/slub.c", set_freepointer_bug_line, chain);
            case Kernel::Slab::FreeResult::missed:
                c.kernel.diag("double " + what + " of " + hex(p) +
                              ", which the kernel does not catch: the object is now on its "
                              "cache's freelist twice");
                return;
            case Kernel::Slab::FreeResult::unknown:
                c.kernel.diag(what + " of a pointer that is not allocated: " + hex(p));
                return;
        }
    };
    // __kmem_cache_free(s, x, caller): kfree()'s path to slab_free(). No kernel exports it (so
    // no module links to it); it has a slot for the pc of its BUG(). Debian's arm64 build calls
    // it from kfree(), the armmp one tail-calls it, which is what kernel_bug() makes of the chain
    // on each architecture.
    uint64_t kmem_cache_free_inner =
        k.add_function("__kmem_cache_free", sub, [slab_free](StubCall& c) {
             uint64_t p = c.arg(1);
             if (p > zero_size_ptr) slab_free(c, p, "__kmem_cache_free", {});
             return uint64_t(0);
         }).address;
    auto kfree = [slab_free, kmem_cache_free_inner](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(0);
        if (p <= zero_size_ptr) return 0;  // ZERO_OR_NULL_PTR
        slab_free(c, p, "kfree", {c.slot, kmem_cache_free_inner});
        return 0;
    };
    uint64_t kfree_addr = k.add_function("kfree", sub, kfree).address;
    // kfree_const() (mm/util.c): kfree() unless the string is the kernel's .rodata (never, for
    // what kstrdup_const() gives here).
    k.add_function("kfree_const", sub, [slab_free, kfree_addr, kmem_cache_free_inner](StubCall& c) {
        uint64_t p = c.arg(0);
        if (p > zero_size_ptr)
            slab_free(c, p, "kfree_const", {c.slot, kfree_addr, kmem_cache_free_inner});
        return uint64_t(0);
    });
    // kvfree() and kfree_sensitive() call kfree().
    k.add_function("kvfree", sub, [slab_free, kfree_addr, kmem_cache_free_inner](StubCall& c) {
        uint64_t p = c.arg(0);
        if (p > zero_size_ptr)
            slab_free(c, p, "kvfree", {c.slot, kfree_addr, kmem_cache_free_inner});
        return uint64_t(0);
    });
    k.add_function("vfree", sub, [](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(0);
        if (p > zero_size_ptr && !c.kernel.slab().free(p))
            c.kernel.diag("vfree of a pointer that is not allocated: " + hex(p));
        return 0;
    });
    // kmem_cache_free(s, objp) inlines slab_free().
    k.add_function("kmem_cache_free", sub, [slab_free](StubCall& c) {
        uint64_t p = c.arg(1);
        if (p > zero_size_ptr) slab_free(c, p, "kmem_cache_free", {});
        return uint64_t(0);
    });
    k.add_function(
        "kfree_sensitive", sub,
        [slab_free, kfree_addr, kmem_cache_free_inner](StubCall& c) -> uint64_t {
            uint64_t p = c.arg(0);
            if (p <= zero_size_ptr) return 0;
            uint64_t n = c.kernel.slab().ksize(p);
            if (n) c.emu.fill(p, 0, n);
            slab_free(c, p, "kfree_sensitive", {c.slot, kfree_addr, kmem_cache_free_inner});
            return 0;
        });
    k.add_functions({"krealloc", "krealloc_noprof"}, sub, [](StubCall& c) {
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
