// kernel/rcu/tree.c: grace periods and callbacks. One task runs and no read-side section is
// open in another, so a grace period ends whenever the kernel waits for one (synchronize_rcu(),
// rcu_barrier()) or time passes (kernel_stubs/kernel/time/clock.h); then the callbacks queued
// by call_rcu() and kfree_rcu() run, in the order they were queued.
#include <deque>

#include "kernel_stubs/kernel/rcu/rcu.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

struct Rcu : Kernel::SubsystemState {
    struct Callback {
        uint64_t head;  // struct rcu_head * (0 for kvfree_rcu() of an object without one)
        uint64_t func;  // the callback, or 0: kvfree() of `object`
        uint64_t object;
    };
    std::deque<Callback> pending;
};

// rcu_do_batch(): every callback queued so far (those they queue wait for the next period).
bool run_callbacks(Kernel& k) {
    Rcu& r = k.state<Rcu>();
    if (r.pending.empty()) return false;
    std::deque<Rcu::Callback> batch = std::move(r.pending);
    r.pending.clear();
    for (const Rcu::Callback& cb : batch) {
        if (cb.func)
            k.call_guest(cb.func, {cb.head});
        else if (cb.object)
            k.slab().free(cb.object);
    }
    return true;
}

}  // namespace

void rcu_synchronize(Kernel& k) {
    run_callbacks(k);
}

void register_rcu(Kernel& k) {
    const char* sub = "kernel/rcu/tree";
    k.state<Deferred>().run_rcu = run_callbacks;
    // synchronize_rcu() and rcu_barrier(): a grace period ends now, and the callbacks queued
    // before it have run when they return.
    k.add_functions({"synchronize_rcu", "synchronize_rcu_expedited", "rcu_barrier"}, sub,
                    [](StubCall& c) -> uint64_t {
                        run_callbacks(c.kernel);
                        return 0;
                    });
    // call_rcu(head, func)
    k.add_function(
        "call_rcu", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Rcu>().pending.push_back({c.arg(0), c.arg(1), 0});
            return 0;
        },
        true);
    // kvfree_call_rcu(): kfree_rcu()/kvfree_rcu() of an object. 6.1: (head, func), where func
    // is the offset of the rcu_head in the object, or, with a NULL head, the object itself;
    // 6.3+: (head, ptr), the object.
    k.add_function(
        "kvfree_call_rcu", sub,
        [](StubCall& c) -> uint64_t {
            uint64_t head = c.arg(0), second = c.arg(1);
            uint64_t object = second;
            if (!kernel_since(c.kernel.config().profile.get(), 6, 3) && head)
                object = head - second;
            c.kernel.state<Rcu>().pending.push_back({head, 0, object});
            return 0;
        },
        true);
}

}  // namespace kmodemu
