// Shrinkers (6.1: mm/vmscan.c; 6.7+: mm/shrinker.c). The emulated machine is never short of
// memory, so no shrinker is ever asked to count or scan: registering keeps it, unregistering
// forgets it.
#include <set>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Shrinkers : Kernel::SubsystemState {
    std::set<uint64_t> registered, allocated;
};

}  // namespace

void register_shrinkers(Kernel& k) {
    const char* sub = "mm/shrinker";
    // register_shrinker(shrinker, fmt, ...) (6.0-6.6): 0.
    k.add_function("register_shrinker", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Shrinkers>().registered.insert(c.arg(0));
        return 0;
    });
    k.add_function("unregister_shrinker", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Shrinkers>().registered.erase(c.arg(0));
        return 0;
    });
    k.add_function("synchronize_shrinkers", sub, [](StubCall&) -> uint64_t { return 0; });
    // shrinker_alloc(flags, fmt, ...) (6.7+): a zeroed struct shrinker, or NULL.
    k.add_function(
        "shrinker_alloc", sub,
        [](StubCall& c) -> uint64_t {
            uint64_t s = c.kernel.slab_alloc(c.kernel.structs().kobject.shrinker_size, gfp_zero);
            if (s) c.kernel.state<Shrinkers>().allocated.insert(s);
            return s;
        },
        true);
    k.add_function(
        "shrinker_register", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Shrinkers>().registered.insert(c.arg(0));
            return 0;
        },
        true);
    // shrinker_free(): unregisters it, then frees it (NULL is allowed).
    k.add_function(
        "shrinker_free", sub,
        [](StubCall& c) -> uint64_t {
            Shrinkers& s = c.kernel.state<Shrinkers>();
            s.registered.erase(c.arg(0));
            if (s.allocated.erase(c.arg(0))) c.kernel.slab().free(c.arg(0));
            return 0;
        },
        true);
}

}  // namespace kmodemu
