// kernel/rcu/srcutree.c: sleepable RCU. The srcu_struct's fields (its per-CPU counters, its
// grace-period state) are read and written by the SRCU functions only; kmodemu keeps them here,
// per srcu_struct: whether it is initialized and the readers inside each index's critical
// section. One task runs, so a grace period has no reader to wait for unless the caller itself
// is inside a critical section (a deadlock in the kernel, not emulated).
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Srcu : Kernel::SubsystemState {
    struct State {
        int64_t readers[2] = {0, 0};
        unsigned idx = 0;  // srcu_idx: the index new readers take
    };
    std::map<uint64_t, State> structs;
};

Srcu::State& get(StubCall& c, const char* what) {
    auto& m = c.kernel.state<Srcu>().structs;
    auto it = m.find(c.arg(0));
    if (it == m.end()) c.unimplemented(std::string(what) + " (of a srcu_struct not initialized)");
    return it->second;
}

}  // namespace

void register_srcu(Kernel& k) {
    const char* sub = "kernel/rcu/srcutree";
    // init_srcu_struct(ssp) (CONFIG_DEBUG_LOCK_ALLOC off: no name, no key): 0.
    k.add_function(
        "init_srcu_struct", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Srcu>().structs[c.arg(0)] = {};
            return 0;
        },
        true);
    // cleanup_srcu_struct(ssp): a struct with readers inside WARN()s ("Active srcu_struct").
    k.add_function(
        "cleanup_srcu_struct", sub,
        [](StubCall& c) -> uint64_t {
            auto& m = c.kernel.state<Srcu>().structs;
            auto it = m.find(c.arg(0));
            if (it == m.end()) return 0;
            if (it->second.readers[0] || it->second.readers[1])
                c.unimplemented("cleanup_srcu_struct (with active readers: WARN)");
            m.erase(it);
            return 0;
        },
        true);
    // __srcu_read_lock(ssp): the index of the critical section; __srcu_read_unlock(ssp, idx).
    k.add_function(
        "__srcu_read_lock", sub,
        [](StubCall& c) -> uint64_t {
            Srcu::State& s = get(c, "__srcu_read_lock");
            ++s.readers[s.idx];
            return s.idx;
        },
        true);
    k.add_function(
        "__srcu_read_unlock", sub,
        [](StubCall& c) -> uint64_t {
            Srcu::State& s = get(c, "__srcu_read_unlock");
            --s.readers[c.arg(1) & 1];
            return 0;
        },
        true);
    // synchronize_srcu(ssp): the grace period flips the index; with no reader, it ends at once.
    k.add_functions(
        {"synchronize_srcu", "synchronize_srcu_expedited"}, sub,
        [](StubCall& c) -> uint64_t {
            Srcu::State& s = get(c, "synchronize_srcu");
            if (s.readers[0] || s.readers[1])
                c.unimplemented("synchronize_srcu (inside a read-side critical section)");
            s.idx ^= 1;
            return 0;
        },
        true);
}

}  // namespace kmodemu
