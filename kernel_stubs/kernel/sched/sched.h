// kernel/sched: the emulated kernel's tasks and its scheduler. insmod's task is the first; kernel
// threads (kernel/kthread.c) are the others. Each task has its own guest stack and task_struct,
// and its own host stack: a task that blocks inside a kernel function (a trap handler, which runs
// outside uc_emu_start, emulator.h) saves its CPU context and switches, host stack and all, to
// another. One CPU, one run queue, FIFO: the order is deterministic.
//
// The host side is POSIX ucontext (makecontext/swapcontext), not a thread per task: everything
// stays on the one host thread that opened the Unicorn engine, and a switch is a plain function
// call that needs no locking. Only insmod's task schedules: it runs the kernel threads when it
// waits (wait_until() of kernel_stubs/kernel/time/clock.h, which runs the work and timers that
// fall due as well); a kernel thread that blocks switches back to it. When every task waits, the
// clock jumps to the first timer or timeout. Work items and timer functions run nested on the
// host stack of insmod's task, as before.
#pragma once

#include <ucontext.h>

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// include/linux/sched.h: the task states (the same in every kernel kmodemu emulates).
constexpr uint32_t task_running = 0x0;
constexpr uint32_t task_interruptible = 0x1;
constexpr uint32_t task_uninterruptible = 0x2;
constexpr uint32_t task_normal = task_interruptible | task_uninterruptible;
constexpr uint32_t task_dead = 0x80;

struct Task {
    uint64_t ts = 0;  // its struct task_struct in guest memory
    int pid = 0;
    std::string comm;
    bool insmod = false;
    uint64_t stack = 0, stack_size = 0;  // its guest stack (a guard page below), kthreads'

    // Host side: its context and stack while off the CPU.
    ucontext_t uc{};
    void* host_stack = nullptr;
    size_t host_stack_size = 0;
    std::optional<Emulator::Context> cpu;
    Emulator::RunState run;

    bool started = false, exited = false;
    // Off the CPU in a kernel function: until wake() holds or the clock reaches deadline.
    bool blocked = false;
    std::function<bool()> wake;
    uint64_t deadline = UINT64_MAX;
    uint32_t wait_state = task_running;  // TASK_(UN)INTERRUPTIBLE while blocked
    std::string waiting_in;              // the kernel function it blocks in
    uint64_t blocked_from = 0;           // the return address into its caller

    // A kernel thread (struct kthread): its function, and the flags others set.
    uint64_t threadfn = 0, data = 0;
    bool should_stop = false;
    int cpu_bound = -1;        // kthread_bind()
    int nice = 0;              // set_user_nice()
    int32_t result = 0;        // threadfn's return value, or do_exit()'s code
    std::exception_ptr error;  // how its run ended when it did not return (a fault, ...)
};

struct Scheduler : Kernel::SubsystemState {
    ~Scheduler() override;
    std::vector<std::unique_ptr<Task>> tasks;  // insmod's first, then by creation
    Task* current = nullptr;
    std::deque<Task*> order;  // the kernel threads, the next to run first
    ucontext_t insmod_uc{};   // where insmod's task is while a kernel thread runs
    int next_pid = 0;
    uint64_t next_stack = 0;
    // The run ended in a deadlock (what insmod's task waited in): no instruction budget ran out.
    std::string deadlock;
};

// The scheduler, with insmod's task registered.
Scheduler& scheduler(Kernel& k);
// The task whose task_struct is ts; nullptr when it is not one of the scheduler's.
Task* task_of(Kernel& k, uint64_t ts);
uint32_t task_state(Kernel& k, uint64_t ts);  // task->__state
void set_task_state(Kernel& k, uint64_t ts, uint32_t state);

// A new task (kernel/fork.c's copy_process() for kernel_thread()): its task_struct, pid, comm,
// guest stack; it runs fn(data) when first scheduled.
Task& create_task(Kernel& k, const std::string& comm, uint64_t fn, uint64_t data);

// try_to_wake_up(p, state, 0): whether p was in one of `state` and is now TASK_RUNNING.
bool wake_up_state(Kernel& k, uint64_t ts, uint32_t state);

// The current task waits in kernel function `what`, in `state`, until done() holds (none: only
// the clock) or the clock reaches until_ns (UINT64_MAX: no timeout). insmod's task lets what is
// due run meanwhile (wait_until()); a kernel thread switches to insmod's. Whether done() holds
// (without a condition: true). insmod's task waiting forever for what nothing left can bring is
// a deadlock: the hung-task detector's report, and the run ends as a hang (GuestFault).
bool sched_wait(StubCall& c, uint64_t until_ns, const std::function<bool()>& done, uint32_t state,
                const char* what);

// schedule_timeout(timeout) (kernel/time/timer.c) of the current task, in the state it set
// itself: it sleeps until a wake-up makes it TASK_RUNNING or the timeout's timer does
// (process_timeout()); the jiffies left (a long of the guest). A task still TASK_RUNNING only
// lets the others run; MAX_SCHEDULE_TIMEOUT is schedule()'s sleep without a timer.
uint64_t schedule_timeout(StubCall& c, int64_t timeout, const char* what);

// The kernel threads still alive, for the report at the end of a run.
std::vector<const Task*> live_kthreads(Kernel& k);

// do_exit() of the current kernel thread: thrown to its entry, which ends the task.
struct TaskExit {
    int32_t code;
};

}  // namespace kmodemu
