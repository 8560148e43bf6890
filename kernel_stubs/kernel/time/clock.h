// The emulated kernel's virtual clock, and what runs on it later than its caller: timers as they
// expire (kernel/time/timer.c) and queued work (kernel/workqueue.c). One task runs and no
// interrupt comes, so time passes only where the kernel would wait (delays, sleeps) and where
// the run lets it pass (the settle phase after init): then whatever falls due in that time runs,
// in a deterministic order: queued work first (FIFO), then the earliest timer, jumping the clock
// to it.
#pragma once

#include <cstdint>
#include <functional>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

struct VirtualClock : Kernel::SubsystemState {
    static constexpr uint64_t nsec_per_sec = 1000000000;
    uint64_t hz = 250;
    uint64_t initial = 0;  // INITIAL_JIFFIES: (unsigned long)(unsigned int)(-300 * HZ)
    uint64_t addr = 0;     // jiffies_64 in guest memory
    uint64_t ns = 0;       // since boot
    // The virtual CPU's speed: time passes by this much per instruction the guest executes,
    // counted in steps of `tick` instructions (a module that polls jiffies in a loop sees them
    // move, as on a real CPU; nothing else runs meanwhile: no interrupt comes).
    // 10 M instructions a second: slow, so that calibration loops (raid6's, which run each
    // algorithm for 16 jiffies) stay within the corpus's budget of instructions.
    static constexpr uint64_t ns_per_instruction = 100;
    static constexpr uint64_t tick = 4096;

    void set_hz(uint64_t h);
    uint64_t jiffies() const;
    // The time at which jiffies reaches j (j counted from INITIAL_JIFFIES).
    uint64_t time_of(uint64_t j) const;
    void publish(Emulator& emu) const;  // jiffies_64 in guest memory
    void pass(Emulator& emu, uint64_t d);
    // msecs_to_jiffies(): rounded up.
    uint64_t ms_to_jiffies(uint64_t ms) const { return (ms * hz + 999) / 1000; }
};

// What runs later: each subsystem that defers (work, timers) says what it has due.
struct Deferred : Kernel::SubsystemState {
    // Runs one queued work item; false when none is queued (kernel/workqueue.cc).
    bool (*run_work)(Kernel&) = nullptr;
    // Ends a grace period: runs the RCU callbacks queued; false when none was (kernel/rcu).
    bool (*run_rcu)(Kernel&) = nullptr;
    // The jiffies of the earliest armed timer, if any; fires it (kernel/time/timer.cc).
    bool (*next_timer)(Kernel&, uint64_t& expires) = nullptr;
    void (*fire_timer)(Kernel&) = nullptr;
    // Runs a runnable kernel thread until it blocks or exits; false when none is runnable or
    // the caller is not insmod's task (kernel/sched/core.cc).
    bool (*run_task)(Kernel&) = nullptr;
    // The earliest timeout of a blocked kernel thread, if any (the clock time it wakes at).
    bool (*next_wakeup)(Kernel&, uint64_t& at) = nullptr;
    // The time (ns) of the earliest event of the machine (an interrupt --irq raises), if any;
    // fires it (kernel_stubs/drivers/base/machine.cc).
    bool (*next_event)(Kernel&, uint64_t& at_ns) = nullptr;
    void (*fire_event)(Kernel&) = nullptr;
    uint64_t ran_work = 0, fired_timers = 0;
};

// Lets time pass until the clock reads `until_ns` (or later), running the work queued, the
// kernel threads that can run and the timers that expire meanwhile. At most `limit` items run (a
// work item that queues itself forever would never let the clock move); false when the limit cut it
// short. A guest fault or an unimplemented call in what runs propagates (GuestFault, KernelPanic).
bool run_until(Kernel& k, uint64_t until_ns, uint64_t limit = 10000);

// A task waiting for `done` with a timeout of `until_ns` (UINT64_MAX: none): what is due runs
// until done() holds, the clock then reading the time it came true at; else until the timeout
// (the clock reads it) or, without one, until nothing is left to run. Whether done() holds.
bool wait_until(Kernel& k, uint64_t until_ns, const std::function<bool()>& done,
                uint64_t limit = 10000);

// The settle phase: `ms` of virtual time after init (run_until from now).
bool settle(Kernel& k, uint64_t ms);

}  // namespace kmodemu
