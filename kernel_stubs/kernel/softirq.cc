// kernel/softirq.c: bottom halves. local_bh_disable() is inline in modules (it adds
// SOFTIRQ_DISABLE_OFFSET to the current task's preempt count); local_bh_enable() calls
// __local_bh_enable_ip(), which takes it off again. No softirq is ever pending here, so none
// runs at that point.
//
// Tasklets: set up (tasklet_setup(), tasklet_init()) and killed (tasklet_kill()) as the kernel
// does; scheduling one (__tasklet_schedule()) is not emulated: TASKLET_SOFTIRQ never runs here,
// so it stays lazily bound and a call ends the run, saying so.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t tasklet_state_sched = 1, tasklet_state_run = 2;  // 1 << TASKLET_STATE_*

// tasklet_setup() / tasklet_init(): next NULL, state 0, count 0, the function and its kind.
void tasklet_set(StubCall& c, uint64_t t, uint64_t fn, bool use_callback, uint64_t data) {
    const auto& l = c.kernel.structs().tasklet;
    c.emu.write_word(t + l.next, 0);
    c.emu.write_word(t + l.state, 0);
    c.emu.write_u32(t + l.count, 0);
    uint8_t cb = use_callback;
    c.emu.write(t + l.use_callback, &cb, 1);
    c.emu.write_word(t + l.func, fn);
    c.emu.write_word(t + l.data, data);
}

}  // namespace

void register_softirq(Kernel& k) {
    // __local_bh_enable_ip(ip, cnt): preempt_count -= cnt.
    k.add_function("__local_bh_enable_ip", "kernel/softirq", [](StubCall& c) -> uint64_t {
        uint64_t at = c.kernel.current_task() + c.kernel.structs().task.preempt_count;
        uint32_t count = 0;
        c.emu.read(at, &count, 4);
        count -= static_cast<uint32_t>(c.arg(1));
        c.emu.write(at, &count, 4);
        return 0;
    });
    k.add_function("tasklet_setup", "kernel/softirq", [](StubCall& c) -> uint64_t {
        tasklet_set(c, c.arg(0), c.arg(1), true, 0);
        return 0;
    });
    k.add_function("tasklet_init", "kernel/softirq", [](StubCall& c) -> uint64_t {
        tasklet_set(c, c.arg(0), c.arg(1), false, c.arg(2));
        return 0;
    });
    // tasklet_kill(t): waits while it is scheduled (it would run it: none is here, as
    // __tasklet_schedule() is not emulated) or running, then clears TASKLET_STATE_SCHED.
    k.add_function("tasklet_kill", "kernel/softirq", [](StubCall& c) -> uint64_t {
        const auto& l = c.kernel.structs().tasklet;
        uint64_t state = c.emu.read_word(c.arg(0) + l.state);
        if (state & (tasklet_state_sched | tasklet_state_run))
            c.unimplemented("tasklet_kill (of a tasklet scheduled or running)");
        return 0;
    });
    // tasklet_unlock_wait(t): returns at once, no tasklet running.
    k.add_function("tasklet_unlock_wait", "kernel/softirq", [](StubCall& c) -> uint64_t {
        const auto& l = c.kernel.structs().tasklet;
        if (c.emu.read_word(c.arg(0) + l.state) & tasklet_state_run)
            c.unimplemented("tasklet_unlock_wait (of a running tasklet)");
        return 0;
    }, true);
}

}  // namespace kmodemu
