// kernel/sched/core.c: the tasks and the scheduler (kernel_stubs/kernel/sched/sched.h), wake-ups,
// schedule(), and kernel/hung_task.c's report of a task blocked for good.
#include "kernel_stubs/kernel/sched/sched.h"

#include <sys/mman.h>

#include <cerrno>

#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// The host stack of a kernel thread: the emulated kernel's C++ frames and the guest calls they
// nest (a kernel thread's work may call back into module code) need more than the guest's
// THREAD_SIZE. Reserved, not committed: only the pages touched are backed.
constexpr size_t host_stack_size = 8 << 20;

// The task starting on its host stack (makecontext() passes int arguments only).
thread_local Kernel* starting_kernel = nullptr;
thread_local Task* starting_task = nullptr;

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

// The first instructions of a kernel thread (kernel/kthread.c kthread()): it was created
// sleeping in TASK_UNINTERRUPTIBLE; once woken, it runs threadfn(data) unless kthread_stop()
// came first (then -EINTR), and exits with its result (kthread_exit()).
void task_entry() {
    Kernel& k = *starting_kernel;
    Task& t = *starting_task;
    Scheduler& s = scheduler(k);
    int32_t ret = -EINTR;
    try {
        if (!t.should_stop) ret = static_cast<int32_t>(k.call_guest(t.threadfn, {t.data}));
    } catch (const TaskExit& x) {
        ret = x.code;
    } catch (...) {
        t.error = std::current_exception();
    }
    t.result = ret;
    t.exited = true;
    set_task_state(k, t.ts, task_dead);
    setcontext(&s.insmod_uc);
}

// insmod's task switches to kernel thread t until it blocks or exits (context_switch()).
void switch_to(Kernel& k, Task& t) {
    Scheduler& s = scheduler(k);
    Emulator& e = k.emu();
    Task& me = *s.current;
    me.cpu.emplace(e.save_context());
    me.run = e.save_run_state();
    s.current = &t;
    t.blocked = false;
    if (!t.started) {
        t.started = true;
        t.host_stack_size = host_stack_size;
        t.host_stack = mmap(nullptr, host_stack_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (t.host_stack == MAP_FAILED) throw EmulatorError("cannot map a task's host stack");
        getcontext(&t.uc);
        t.uc.uc_stack.ss_sp = t.host_stack;
        t.uc.uc_stack.ss_size = host_stack_size;
        t.uc.uc_link = nullptr;
        makecontext(&t.uc, task_entry, 0);
        starting_kernel = &k;
        starting_task = &t;
        e.restore_run_state({});
        e.set_sp(t.stack + t.stack_size - 16 * 4);
        // The first frame of its stack (ret_from_fork's): no frame record above it.
        if (k.arch() == Arch::arm64) {
            e.set_reg(UC_ARM64_REG_X29, 0);
        } else {
            e.set_reg(UC_ARM_REG_R11, 0);
            e.set_reg(UC_ARM_REG_R7, 0);
        }
        k.set_current_task(t.ts);
    } else {
        e.restore_context(*t.cpu);
        e.restore_run_state(t.run);
        k.set_current_task(t.ts);
    }
    swapcontext(&s.insmod_uc, &t.uc);
    s.current = &me;
    if (t.exited && t.host_stack) {
        munmap(t.host_stack, t.host_stack_size);
        t.host_stack = nullptr;
    }
    if (t.error) {
        // The thread oopsed (or called what kmodemu does not implement): the run ends there,
        // with its registers for the report.
        std::exception_ptr err = t.error;
        t.error = nullptr;
        e.restore_run_state(me.run);
        std::rethrow_exception(err);
    }
    e.restore_context(*me.cpu);
    e.restore_run_state(me.run);
    k.set_current_task(me.ts);
}

// A kernel thread gives the CPU back to insmod's task (it is blocked, or yields).
void switch_out(Kernel& k, Task& t) {
    Scheduler& s = scheduler(k);
    Emulator& e = k.emu();
    t.cpu.emplace(e.save_context());
    t.run = e.save_run_state();
    swapcontext(&t.uc, &s.insmod_uc);
    // switch_to() restored this task's context.
}

bool runnable(Kernel& k, const Task& t) {
    if (t.exited) return false;
    if (!t.started) return task_state(k, t.ts) == task_running;
    if (!t.blocked) return true;
    if (t.deadline <= k.state<VirtualClock>().ns) return true;
    return t.wake && t.wake();
}

// Deferred::run_task: runs the first runnable kernel thread, from insmod's task.
bool run_task(Kernel& k) {
    Scheduler& s = scheduler(k);
    if (!s.current || !s.current->insmod) return false;
    for (size_t i = 0; i < s.order.size(); ++i) {
        Task* t = s.order[i];
        if (!runnable(k, *t)) continue;
        s.order.erase(s.order.begin() + static_cast<std::ptrdiff_t>(i));
        s.order.push_back(t);
        switch_to(k, *t);
        return true;
    }
    return false;
}

// Deferred::next_wakeup: the earliest timeout of a blocked kernel thread.
bool next_wakeup(Kernel& k, uint64_t& at) {
    Scheduler& s = scheduler(k);
    if (!s.current || !s.current->insmod) return false;
    bool any = false;
    for (Task* t : s.order)
        if (!t->exited && t->started && t->blocked && t->deadline != UINT64_MAX &&
            (!any || t->deadline < at)) {
            at = t->deadline;
            any = true;
        }
    return any;
}

// kernel/hung_task.c check_hung_task() and sched_show_task(): each task blocked in
// TASK_UNINTERRUPTIBLE (only that state: an interruptible sleeper is not reported), in task-list
// order, after hung_task_timeout_secs (120 in Debian's kernels) of virtual time.
void report_hung_tasks(StubCall& c, uint32_t insmod_state, const char* what) {
    Kernel& k = c.kernel;
    Scheduler& s = scheduler(k);
    VirtualClock& clock = k.state<VirtualClock>();
    const uint64_t timeout = 120;
    clock.pass(k.emu(), timeout * VirtualClock::nsec_per_sec);
    bool since_6_12 = kernel_since(k.config().profile.get(), 6, 12);
    for (const auto& tp : s.tasks) {
        const Task& t = *tp;
        uint32_t state = t.insmod ? insmod_state : (t.blocked ? t.wait_state : task_running);
        if (t.exited || state != task_uninterruptible) continue;
        if (!t.insmod && t.deadline != UINT64_MAX) continue;
        k.log(3, fmt("INFO: task %s:%d blocked for more than %llu seconds.", t.comm.c_str(), t.pid,
                     (unsigned long long)timeout));
        k.log(3,
              "      " + k.print_tainted() + " " + k.config().release + " " + k.real().uts_build());
        k.log(3, "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.");
        // The parent: kthreadd (pid 2) for a kernel thread; insmod's shell is not modelled
        // (init's pid). arm64: switched out, its FP state is not in the CPU (TIF_FOREIGN_FPSTATE).
        int ppid = t.insmod ? 1 : 2;
        unsigned flags = k.arch() == Arch::arm64 ? 0x8 : 0;
        std::string line =
            fmt("task:%-15.15s state:D stack:%-5lu pid:%-5d ", t.comm.c_str(), 0ul, t.pid);
        if (since_6_12) line += fmt("tgid:%-5d ", t.pid);
        line += fmt("ppid:%-6d flags:0x%08x", ppid, flags);
        k.log(6, line);
        k.log(6, "Call trace:");
        uint64_t from = t.insmod ? c.ret_addr() : t.blocked_from;
        std::string in = t.insmod ? what : t.waiting_in;
        if (!in.empty()) k.log(6, " " + in);
        if (std::optional<std::string> w = k.symbolize(from, true)) k.log(6, " " + *w);
    }
}

}  // namespace

Scheduler::~Scheduler() {
    for (const auto& t : tasks)
        if (t->host_stack) munmap(t->host_stack, t->host_stack_size);
}

Scheduler& scheduler(Kernel& k) {
    Scheduler& s = k.state<Scheduler>();
    if (s.tasks.empty()) {
        auto t = std::make_unique<Task>();
        t->ts = k.insmod_task();
        t->pid = k.config().pid;
        t->comm = k.config().comm.substr(0, k.structs().task.comm_len - 1);
        t->insmod = true;
        t->started = true;
        s.current = t.get();
        s.next_pid = k.config().pid + 1;
        s.tasks.push_back(std::move(t));
        Deferred& d = k.state<Deferred>();
        d.run_task = run_task;
        d.next_wakeup = next_wakeup;
    }
    return s;
}

Task* task_of(Kernel& k, uint64_t ts) {
    for (const auto& t : scheduler(k).tasks)
        if (t->ts == ts) return t.get();
    return nullptr;
}

uint32_t task_state(Kernel& k, uint64_t ts) {
    uint32_t v = 0;
    k.emu().read(ts + k.structs().task.state, &v, 4);
    return v;
}

void set_task_state(Kernel& k, uint64_t ts, uint32_t state) {
    k.emu().write(ts + k.structs().task.state, &state, 4);
}

Task& create_task(Kernel& k, const std::string& comm, uint64_t fn, uint64_t data) {
    Scheduler& s = scheduler(k);
    const KernelStructs::Task& tl = k.structs().task;
    auto t = std::make_unique<Task>();
    // dup_task_struct(): from the task_struct cache; a vmalloc'ed THREAD_SIZE stack (arm64's
    // VMAP_STACK) with unmapped guard pages around it.
    t->ts = k.slab_alloc(tl.size, gfp_zero);
    if (!t->ts) throw EmulatorError("cannot allocate a task_struct");
    t->pid = s.next_pid++;
    t->comm = comm.substr(0, tl.comm_len - 1);
    int32_t pid = t->pid;
    k.emu().write(t->ts + tl.pid, &pid, 4);
    k.emu().write(t->ts + tl.tgid, &pid, 4);
    k.emu().write(t->ts + tl.comm, t->comm.c_str(), t->comm.size() + 1);
    set_task_state(k, t->ts, task_uninterruptible);
    // A kernel thread's credentials are kthreadd's: init_cred, as insmod's here.
    const KernelStructs::Cred& cl = k.structs().cred;
    if (cl.size)
        for (uint64_t off : {cl.task_cred, cl.task_real_cred})
            k.emu().write_word(t->ts + off, k.emu().read_word(k.insmod_task() + off));
    const KernelLayout& l = k.layout();
    const uint64_t page = 0x1000;
    t->stack_size = l.stack_size;
    if (!s.next_stack) s.next_stack = (l.data + l.data_size + 0xffffff) & ~uint64_t(0xffffff);
    for (;;) {
        uint64_t at = s.next_stack + page;
        s.next_stack += t->stack_size + 2 * page;
        if (k.emu().is_mapped(at - page) || k.emu().is_mapped(at) ||
            k.emu().is_mapped(at + t->stack_size - 1) || k.emu().is_mapped(at + t->stack_size))
            continue;
        k.emu().map(at, t->stack_size, prot_rw);
        t->stack = at;
        break;
    }
    t->threadfn = fn;
    t->data = data;
    Task& ref = *t;
    s.tasks.push_back(std::move(t));
    s.order.push_back(&ref);
    return ref;
}

bool wake_up_state(Kernel& k, uint64_t ts, uint32_t state) {
    Task* t = task_of(k, ts);
    if (!t || t->exited) return false;
    if (!(task_state(k, ts) & state)) return false;
    set_task_state(k, ts, task_running);
    return true;
}

bool sched_wait(StubCall& c, uint64_t until_ns, const std::function<bool()>& done, uint32_t state,
                const char* what) {
    Kernel& k = c.kernel;
    Scheduler& s = scheduler(k);
    Task& me = *s.current;
    if (me.insmod) {
        bool ok = wait_until(k, until_ns, done);
        if (!ok && until_ns == UINT64_MAX) {
            k.diag(std::string(what) +
                   ": nothing left to run can wake the task: it blocks forever");
            report_hung_tasks(c, state, what);
            s.deadlock = what;
            RunResult r;
            r.reason = RunResult::Reason::budget;
            r.pc = c.slot;
            throw GuestFault{r};
        }
        return ok;
    }
    if (done && done()) return true;
    if (!done && until_ns <= k.state<VirtualClock>().ns) return true;
    me.blocked = true;
    me.wake = done;
    me.deadline = until_ns;
    me.wait_state = state;
    me.waiting_in = what;
    me.blocked_from = c.ret_addr();
    uint32_t before = task_state(k, me.ts);
    if (state != task_running) set_task_state(k, me.ts, state);
    switch_out(k, me);
    me.blocked = false;
    me.wake = nullptr;
    me.deadline = UINT64_MAX;
    if (state != task_running || before != task_running) set_task_state(k, me.ts, task_running);
    return done ? done() : true;
}

uint64_t schedule_timeout(StubCall& c, int64_t t, const char* what) {
    Kernel& k = c.kernel;
    VirtualClock& clock = k.state<VirtualClock>();
    uint64_t ts = k.current_task();
    const int64_t max = static_cast<int64_t>(c.emu.info().word_mask() >> 1);  // LONG_MAX
    const uint64_t mask = c.emu.info().word_mask();
    uint32_t state = task_state(k, ts);
    auto woken = [&k, ts] { return task_state(k, ts) == task_running; };
    if (t == max) {
        if (state != task_running) sched_wait(c, UINT64_MAX, woken, state, what);
        return static_cast<uint64_t>(max);
    }
    if (t < 0) {
        k.log(3, "schedule_timeout: wrong timeout value " +
                     hex(static_cast<uint64_t>(t) & mask).substr(2));
        set_task_state(k, ts, task_running);
        return 0;
    }
    uint64_t expire = clock.jiffies() + static_cast<uint64_t>(t);
    if (state != task_running) sched_wait(c, clock.time_of(expire), woken, state, what);
    set_task_state(k, ts, task_running);
    int64_t left = static_cast<int64_t>(expire - clock.jiffies());
    if (k.word() == 4) left = static_cast<int32_t>(left);
    return static_cast<uint64_t>(left < 0 ? 0 : left) & mask;
}

std::vector<const Task*> live_kthreads(Kernel& k) {
    std::vector<const Task*> out;
    for (const auto& t : k.state<Scheduler>().tasks)
        if (!t->insmod && !t->exited) out.push_back(t.get());
    return out;
}

void register_sched_core(Kernel& k) {
    const char* sub = "kernel/sched/core";
    // __cond_resched(): whether it rescheduled. Only insmod's task is preempted by nothing:
    // the kernel threads run when it waits (kernel_stubs/kernel/sched/sched.h), so
    // should_resched() is false: 0.
    k.add_function("__cond_resched", sub, [](StubCall&) -> uint64_t { return 0; });
    // wake_up_process(p): try_to_wake_up(p, TASK_NORMAL, 0).
    k.add_function("wake_up_process", sub, [](StubCall& c) -> uint64_t {
        if (!task_of(c.kernel, c.arg(0))) c.unimplemented("wake_up_process (of an unknown task)");
        return wake_up_state(c.kernel, c.arg(0), task_normal);
    });
    k.add_function("wake_up_state", sub, [](StubCall& c) -> uint64_t {
        if (!task_of(c.kernel, c.arg(0))) c.unimplemented("wake_up_state (of an unknown task)");
        return wake_up_state(c.kernel, c.arg(0), static_cast<uint32_t>(c.arg(1)));
    });
    // schedule(): a task that set itself TASK_(UN)INTERRUPTIBLE (set_current_state(), inline)
    // sleeps until a wake-up makes it TASK_RUNNING again; a running task only lets the others
    // run.
    k.add_function("schedule", sub, [](StubCall& c) -> uint64_t {
        Kernel& kk = c.kernel;
        Scheduler& s = scheduler(kk);
        uint64_t ts = s.current->ts;
        uint32_t state = task_state(kk, ts);
        if (state == task_running) {
            if (s.current->insmod) {
                run_task(kk);
            } else {
                s.current->blocked = false;  // still runnable: after the others
                switch_out(kk, *s.current);
            }
            return 0;
        }
        sched_wait(
            c, UINT64_MAX, [&kk, ts] { return task_state(kk, ts) == task_running; }, state,
            "schedule");
        return 0;
    });
    // set_user_nice(p, nice): the static priority; one run queue, FIFO: it changes no order.
    k.add_function("set_user_nice", sub, [](StubCall& c) -> uint64_t {
        if (Task* t = task_of(c.kernel, c.arg(0))) t->nice = static_cast<int>(c.sarg(1));
        return 0;
    });
}

}  // namespace kmodemu
