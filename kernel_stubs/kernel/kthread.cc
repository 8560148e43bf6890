// kernel/kthread.c: kernel threads, tasks of the scheduler (kernel_stubs/kernel/sched/sched.h).
// kthread_create_on_node() makes one that sleeps until woken; once woken it runs its function
// when insmod's task lets others run (while it waits or sleeps, and in the settle phase after
// init); kthread_stop() wakes it and waits for its exit.
//
// Not modelled: parking (kthread_park() and a thread that should park), CPU affinity (one run
// queue: kthread_bind() changes no order), kthread workers.
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/sched/sched.h"
#include "kernel_stubs/printk.h"

namespace kmodemu {

namespace {

Task& current_kthread(StubCall& c, const char* what) {
    Task* t = scheduler(c.kernel).current;
    // to_kthread(current) of a task that is no kernel thread: the kernel WARNs and reads
    // whatever is there.
    if (!t || t->insmod) c.unimplemented(std::string(what) + " (from a task that is no kthread)");
    return *t;
}

Task& kthread_of(StubCall& c, uint64_t ts, const char* what) {
    Task* t = task_of(c.kernel, ts);
    if (!t || t->insmod) c.unimplemented(std::string(what) + " (of a task that is no kthread)");
    return *t;
}

}  // namespace

void register_kthread(Kernel& k) {
    const char* sub = "kernel/kthread";
    // kthread_create_on_node(threadfn, data, node, namefmt, ...): the new thread's task_struct,
    // named by vsnprintf() of namefmt (its comm keeps TASK_COMM_LEN - 1 characters), asleep in
    // TASK_UNINTERRUPTIBLE until wake_up_process(). The same in 6.1 and 6.12.
    k.add_function("kthread_create_on_node", sub, [](StubCall& c) -> uint64_t {
        std::string name = format_guest_args(c, c.arg(3), 4);
        Task& t = create_task(c.kernel, name, c.arg(0), c.arg(1));
        return t.ts;
    });
    // kthread_should_stop(): whether kthread_stop() was called for the current thread.
    k.add_function("kthread_should_stop", sub, [](StubCall& c) -> uint64_t {
        return current_kthread(c, "kthread_should_stop").should_stop;
    });
    // kthread_should_park(): nobody parks threads here (kthread_park() is not emulated).
    k.add_function("kthread_should_park", sub, [](StubCall& c) -> uint64_t {
        current_kthread(c, "kthread_should_park");
        return 0;
    });
    // kthread_parkme(): returns at once unless the thread should park, which it never does.
    k.add_function("kthread_parkme", sub, [](StubCall& c) -> uint64_t {
        current_kthread(c, "kthread_parkme");
        return 0;
    });
    // kthread_unpark(k): nothing to do for a thread that was not parked (!KTHREAD_SHOULD_PARK).
    k.add_function("kthread_unpark", sub, [](StubCall& c) -> uint64_t {
        kthread_of(c, c.arg(0), "kthread_unpark");
        return 0;
    });
    k.add_function("kthread_park", sub,
                   [](StubCall& c) -> uint64_t { c.unimplemented("kthread_park"); });
    // kthread_bind(p, cpu): a thread not yet woken runs on that CPU only. One run queue here:
    // it changes no order; the CPU is recorded.
    k.add_function("kthread_bind", sub, [](StubCall& c) -> uint64_t {
        Task& t = kthread_of(c, c.arg(0), "kthread_bind");
        if (t.started) c.unimplemented("kthread_bind (of a thread that ran)");
        t.cpu_bound = c.iarg(1);
        return 0;
    });
    // kthread_stop(k): sets KTHREAD_SHOULD_STOP, wakes it, waits for its exit (uninterruptible)
    // and returns its result: threadfn's return value, do_exit()'s code, or -EINTR when it was
    // stopped before it ever ran.
    k.add_function("kthread_stop", sub, [](StubCall& c) -> uint64_t {
        Task& t = kthread_of(c, c.arg(0), "kthread_stop");
        t.should_stop = true;
        wake_up_state(c.kernel, t.ts, task_normal);
        Task* tp = &t;
        sched_wait(
            c, UINT64_MAX, [tp] { return tp->exited; }, task_uninterruptible, "kthread_stop");
        return static_cast<uint64_t>(static_cast<int64_t>(t.result)) & c.emu.info().word_mask();
    });
    // kthread_exit(result) (6.1's do_exit() of a kthread) and do_exit(code): the current thread
    // ends there.
    k.add_functions({"kthread_exit", "do_exit"}, sub, [](StubCall& c) -> uint64_t {
        current_kthread(c, "do_exit");
        throw TaskExit{c.iarg(0)};
    });
}

}  // namespace kmodemu
