// kernel/sched/core.c: what a task that never has to give way sees of the scheduler.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_sched_core(Kernel& k) {
    // __cond_resched(): whether it rescheduled. No other task is runnable here (the work and
    // timers run when the insmod task sleeps or waits, kernel_stubs/kernel/time/clock.h), so
    // should_resched() is false: 0.
    k.add_function("__cond_resched", "kernel/sched/core", [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
