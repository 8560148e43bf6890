// kernel/sched/completion.c: completions. complete() counts; a waiter whose completion is not
// done yet sleeps (kernel_stubs/kernel/sched/sched.h): the work, timers and kernel threads that
// can run do, one of which may complete it. A wait without a timeout that nothing left to run
// can end is a task blocked forever: the hung-task detector's report, and the run ends as a
// hang.
#include <climits>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/sched/sched.h"
#include "kernel_stubs/kernel/time/clock.h"

namespace kmodemu {

namespace {

// struct completion { unsigned int done; struct swait_queue_head wait; }
uint32_t done_of(Kernel& k, uint64_t x) {
    uint32_t d = 0;
    k.emu().read(x, &d, 4);
    return d;
}

void set_done(Kernel& k, uint64_t x, uint32_t d) {
    k.emu().write(x, &d, 4);
}

// complete_acquire(): a waiter takes one (complete_all()'s UINT_MAX stays).
void take(Kernel& k, uint64_t x) {
    uint32_t d = done_of(k, x);
    if (d != UINT_MAX) set_done(k, x, d - 1);
}

// do_wait_for_common(): the jiffies left (at least 1) once done, 0 when the timeout passed. The
// task sleeps in `state` meanwhile (kernel_stubs/kernel/sched/sched.h: insmod's task lets what is
// due run, a kernel thread gives the CPU back).
uint64_t wait(StubCall& c, uint64_t x, int64_t timeout_jiffies, uint32_t state, const char* name) {
    Kernel& k = c.kernel;
    VirtualClock& clock = k.state<VirtualClock>();
    const int64_t max = static_cast<int64_t>(c.emu.info().word_mask() >> 1);  // LONG_MAX
    bool forever = timeout_jiffies >= max;
    uint64_t start = clock.jiffies();
    uint64_t until = forever ? UINT64_MAX : clock.time_of(start + uint64_t(timeout_jiffies));
    bool done = sched_wait(
        c, until, [&k, x] { return done_of(k, x) != 0; }, state, name);
    if (!done) return 0;
    take(k, x);
    if (forever) return static_cast<uint64_t>(max);
    int64_t left = timeout_jiffies - static_cast<int64_t>(clock.jiffies() - start);
    return static_cast<uint64_t>(left > 0 ? left : 1);
}

}  // namespace

void register_completion(Kernel& k) {
    const char* sub = "kernel/sched/completion";
    k.add_function("complete", sub, [](StubCall& c) -> uint64_t {
        uint32_t d = done_of(c.kernel, c.arg(0));
        if (d != UINT_MAX) set_done(c.kernel, c.arg(0), d + 1);
        return 0;
    });
    k.add_function("complete_all", sub, [](StubCall& c) -> uint64_t {
        set_done(c.kernel, c.arg(0), UINT_MAX);
        return 0;
    });
    k.add_function("completion_done", sub,
                   [](StubCall& c) -> uint64_t { return done_of(c.kernel, c.arg(0)) != 0; });
    k.add_function("try_wait_for_completion", sub, [](StubCall& c) -> uint64_t {
        if (!done_of(c.kernel, c.arg(0))) return 0;
        take(c.kernel, c.arg(0));
        return 1;
    });
    // No signal ever comes: the interruptible and killable waits end as the others do (0 for
    // the int-returning ones once done).
    const int64_t forever = INT64_MAX;
    const uint32_t killable = 0x100 | task_uninterruptible;  // TASK_KILLABLE
    k.add_functions({"wait_for_completion", "wait_for_completion_io"}, sub,
                    [forever](StubCall& c) -> uint64_t {
                        wait(c, c.arg(0), forever, task_uninterruptible, "wait_for_completion");
                        return 0;
                    });
    k.add_function("wait_for_completion_interruptible", sub, [forever](StubCall& c) -> uint64_t {
        wait(c, c.arg(0), forever, task_interruptible, "wait_for_completion_interruptible");
        return 0;
    });
    k.add_function("wait_for_completion_killable", sub, [=](StubCall& c) -> uint64_t {
        wait(c, c.arg(0), forever, killable, "wait_for_completion_killable");
        return 0;
    });
    k.add_function("wait_for_completion_state", sub, [forever](StubCall& c) -> uint64_t {
        wait(c, c.arg(0), forever, static_cast<uint32_t>(c.arg(1)), "wait_for_completion_state");
        return 0;
    });
    struct Timed {
        const char* name;
        uint32_t state;
    };
    static constexpr Timed timed[] = {
        {"wait_for_completion_timeout", task_uninterruptible},
        {"wait_for_completion_io_timeout", task_uninterruptible},
        {"wait_for_completion_interruptible_timeout", task_interruptible},
        {"wait_for_completion_killable_timeout", 0x100 | task_uninterruptible},
    };
    for (const Timed& t : timed)
        k.add_function(t.name, sub, [t](StubCall& c) -> uint64_t {
            return wait(c, c.arg(0), c.sarg(1), t.state, t.name) & c.emu.info().word_mask();
        });
}

}  // namespace kmodemu
