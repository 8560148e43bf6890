// kernel/sched/wait.c: wait queues, in guest memory as the kernel lays them out: a head (a lock,
// a list) and entries (flags, the task, a wake function, a list node). A waiter adds its entry,
// sets its state and calls schedule() (the wait_event*() macros, inline in the module); a
// wake-up walks the entries and calls their functions, which wake the tasks
// (kernel_stubs/kernel/sched/sched.h).
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/sched/sched.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// include/linux/wait.h (6.1 and 6.12).
constexpr uint32_t wq_flag_exclusive = 0x01;
constexpr uint32_t wq_flag_woken = 0x02;
constexpr uint32_t wq_flag_bookmark = 0x04;
constexpr uint32_t wq_flag_priority = 0x20;
constexpr unsigned wf_sync = 0x10;  // WF_SYNC (kernel/sched/sched.h)

struct Wq {
    Kernel& k;
    Emulator& e;
    const KernelStructs::WaitQueueEntry& we;
    const KernelStructs::ListHead& lh;
    explicit Wq(Kernel& k)
        : k(k), e(k.emu()), we(k.structs().wait_queue_entry), lh(k.structs().list_head) {}

    uint64_t head(uint64_t wq_head) const { return wq_head + k.structs().wait_queue_head.head; }
    uint64_t node(uint64_t entry) const { return entry + we.entry; }
    uint64_t entry_of(uint64_t node) const { return node - we.entry; }
    uint64_t next(uint64_t n) const { return e.read_word(n + lh.next); }
    uint64_t prev(uint64_t n) const { return e.read_word(n + lh.prev); }
    void set_next(uint64_t n, uint64_t v) const { e.write_word(n + lh.next, v); }
    void set_prev(uint64_t n, uint64_t v) const { e.write_word(n + lh.prev, v); }
    uint32_t flags(uint64_t entry) const { return e.read_u32(entry + we.flags); }
    void set_flags(uint64_t entry, uint32_t f) const { e.write_u32(entry + we.flags, f); }
    bool empty(uint64_t n) const { return next(n) == n; }
    void init(uint64_t n) const {
        set_next(n, n);
        set_prev(n, n);
    }
    // __list_add(new, prev, next)
    void add_between(uint64_t nw, uint64_t p, uint64_t nx) const {
        set_prev(nx, nw);
        set_next(nw, nx);
        set_prev(nw, p);
        set_next(p, nw);
    }
    void del_init(uint64_t n) const {
        uint64_t p = prev(n), nx = next(n);
        set_prev(nx, p);
        set_next(p, nx);
        init(n);
    }
    // __add_wait_queue(): after the WQ_FLAG_PRIORITY entries, before the others.
    void add(uint64_t wq_head, uint64_t entry) const {
        uint64_t h = head(wq_head), at = h;
        for (uint64_t n = next(h); n != h; n = next(n)) {
            if (!(flags(entry_of(n)) & wq_flag_priority)) break;
            at = n;
        }
        add_between(node(entry), at, next(at));
    }
    // __add_wait_queue_entry_tail()
    void add_tail(uint64_t wq_head, uint64_t entry) const {
        uint64_t h = head(wq_head);
        add_between(node(entry), prev(h), h);
    }
};

// default_wake_function(): try_to_wake_up(curr->private, mode, wake_flags).
int default_wake(StubCall& c, uint64_t entry, uint32_t mode) {
    Kernel& k = c.kernel;
    Wq w(k);
    uint64_t task = w.e.read_word(entry + w.we.private_);
    if (!task_of(k, task)) c.unimplemented("default_wake_function (of an unknown task)");
    return wake_up_state(k, task, mode) ? 1 : 0;
}

// curr->func(curr, mode, wake_flags, key): the kernel's own wake functions here, a module's in
// the guest.
int call_wake_function(StubCall& c, uint64_t entry, uint32_t mode, unsigned wake_flags,
                       uint64_t key) {
    Kernel& k = c.kernel;
    Wq w(k);
    uint64_t fn = w.e.read_word(entry + w.we.func);
    const Export* x = k.export_at(fn);
    if (x && x->is_function && x->address == fn) {
        if (x->name == "default_wake_function") return default_wake(c, entry, mode);
        if (x->name == "autoremove_wake_function") {
            int ret = default_wake(c, entry, mode);
            if (ret) w.del_init(w.node(entry));
            return ret;
        }
        if (x->name == "woken_wake_function") {
            w.set_flags(entry, w.flags(entry) | wq_flag_woken);
            return default_wake(c, entry, mode);
        }
        c.unimplemented("__wake_up (an entry whose function is " + x->name + ")");
    }
    return static_cast<int32_t>(k.call_guest(fn, {entry, mode, wake_flags, key}));
}

// __wake_up_common(): each entry's function in turn, up to nr_exclusive exclusive waiters
// woken (0: all); the exclusive waiters left to wake.
int wake_up_common(StubCall& c, uint64_t wq_head, uint32_t mode, int nr_exclusive,
                   unsigned wake_flags, uint64_t key) {
    Wq w(c.kernel);
    uint64_t h = w.head(wq_head);
    for (uint64_t n = w.next(h), nx; n != h; n = nx) {
        nx = w.next(n);
        uint64_t entry = w.entry_of(n);
        uint32_t flags = w.flags(entry);
        if (flags & wq_flag_bookmark) continue;
        int ret = call_wake_function(c, entry, mode, wake_flags, key);
        if (ret < 0) break;
        if (ret && (flags & wq_flag_exclusive) && !--nr_exclusive) break;
    }
    return nr_exclusive;
}

// __wake_up_common_lock(): the exclusive waiters woken (6.12's __wake_up() returns it).
uint64_t wake_up(StubCall& c, uint64_t wq_head, uint32_t mode, int nr_exclusive,
                 unsigned wake_flags, uint64_t key) {
    int left = wake_up_common(c, wq_head, mode, nr_exclusive, wake_flags, key);
    return static_cast<uint32_t>(nr_exclusive - left);
}

}  // namespace

void register_wait(Kernel& k) {
    const char* sub = "kernel/sched/wait";
    // __init_waitqueue_head(wq_head, name, key): spin_lock_init(), INIT_LIST_HEAD().
    k.add_function("__init_waitqueue_head", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::WaitQueueHead& w = c.kernel.structs().wait_queue_head;
        uint64_t head = c.arg(0) + w.head;
        uint32_t unlocked = 0;
        c.write(c.arg(0) + w.lock, &unlocked, 4);
        c.emu.write_word(head, head);
        c.emu.write_word(head + c.kernel.word(), head);
        return 0;
    });
    // __wake_up(wq_head, mode, nr_exclusive, key) and its variants.
    k.add_function("__wake_up", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), c.iarg(2), 0, c.arg(3));
    });
    k.add_function("__wake_up_locked", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), c.iarg(2), 0, 0);
    });
    k.add_function("__wake_up_locked_key", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), 0, 0, c.arg(2));
    });
    k.add_function("__wake_up_sync_key", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), 1, wf_sync, c.arg(2));
    });
    k.add_function("__wake_up_locked_sync_key", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), 1, wf_sync, c.arg(2));
    });
    k.add_function("__wake_up_sync", sub, [](StubCall& c) -> uint64_t {
        return wake_up(c, c.arg(0), c.iarg(1), 1, wf_sync, 0);
    });
    // init_wait_entry(wq_entry, flags): the current task, autoremove_wake_function.
    k.add_function("init_wait_entry", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        uint64_t entry = c.arg(0);
        c.check_write(entry, w.we.entry + 2 * c.kernel.word());
        w.set_flags(entry, static_cast<uint32_t>(c.arg(1)));
        w.e.write_word(entry + w.we.private_, c.kernel.current_task());
        w.e.write_word(entry + w.we.func,
                       c.kernel.find_export("autoremove_wake_function")->address);
        w.init(w.node(entry));
        return 0;
    });
    // prepare_to_wait_event(wq_head, wq_entry, state): queued once (exclusive ones at the tail),
    // the task's state set; no signal is ever pending: 0.
    k.add_function("prepare_to_wait_event", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        uint64_t head = c.arg(0), entry = c.arg(1);
        if (w.empty(w.node(entry))) {
            if (w.flags(entry) & wq_flag_exclusive)
                w.add_tail(head, entry);
            else
                w.add(head, entry);
        }
        set_task_state(c.kernel, c.kernel.current_task(), static_cast<uint32_t>(c.arg(2)));
        return 0;
    });
    // prepare_to_wait(wq_head, wq_entry, state): non-exclusive.
    k.add_function("prepare_to_wait", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        uint64_t head = c.arg(0), entry = c.arg(1);
        w.set_flags(entry, w.flags(entry) & ~wq_flag_exclusive);
        if (w.empty(w.node(entry))) w.add(head, entry);
        set_task_state(c.kernel, c.kernel.current_task(), static_cast<uint32_t>(c.arg(2)));
        return 0;
    });
    // prepare_to_wait_exclusive(wq_head, wq_entry, state): at the tail; whether the queue was
    // empty.
    k.add_function("prepare_to_wait_exclusive", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        uint64_t head = c.arg(0), entry = c.arg(1);
        w.set_flags(entry, w.flags(entry) | wq_flag_exclusive);
        bool was_empty = w.empty(w.head(head));
        if (w.empty(w.node(entry))) w.add_tail(head, entry);
        set_task_state(c.kernel, c.kernel.current_task(), static_cast<uint32_t>(c.arg(2)));
        return was_empty;
    });
    // finish_wait(wq_head, wq_entry): TASK_RUNNING, off the queue.
    k.add_function("finish_wait", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        set_task_state(c.kernel, c.kernel.current_task(), task_running);
        uint64_t n = w.node(c.arg(1));
        if (!w.empty(n)) w.del_init(n);
        return 0;
    });
    // add_wait_queue(wq_head, wq_entry), add_wait_queue_exclusive(), remove_wait_queue().
    k.add_function("add_wait_queue", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        w.set_flags(c.arg(1), w.flags(c.arg(1)) & ~wq_flag_exclusive);
        w.add(c.arg(0), c.arg(1));
        return 0;
    });
    k.add_function("add_wait_queue_exclusive", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        w.set_flags(c.arg(1), w.flags(c.arg(1)) | wq_flag_exclusive);
        w.add_tail(c.arg(0), c.arg(1));
        return 0;
    });
    k.add_function("remove_wait_queue", sub, [](StubCall& c) -> uint64_t {
        // __remove_wait_queue(): list_del(), which poisons the node.
        Wq w(c.kernel);
        uint64_t n = w.node(c.arg(1));
        uint64_t p = w.prev(n), nx = w.next(n);
        w.set_prev(nx, p);
        w.set_next(p, nx);
        w.set_next(n, w.lh.poison1);
        w.set_prev(n, w.lh.poison2);
        return 0;
    });
    // wait_woken(wq_entry, mode, timeout): sleeps in `mode` unless woken_wake_function() came
    // first (WQ_FLAG_WOKEN) or the current kthread should stop; clears WQ_FLAG_WOKEN.
    k.add_function("wait_woken", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        uint64_t entry = c.arg(0), ts = c.kernel.current_task();
        int64_t timeout = c.sarg(2);
        set_task_state(c.kernel, ts, static_cast<uint32_t>(c.arg(1)));
        Task* t = task_of(c.kernel, ts);
        bool stop = t && !t->insmod && t->should_stop;
        uint64_t left = static_cast<uint64_t>(timeout) & c.emu.info().word_mask();
        if (!(w.flags(entry) & wq_flag_woken) && !stop)
            left = schedule_timeout(c, timeout, "wait_woken");
        set_task_state(c.kernel, ts, task_running);
        w.set_flags(entry, w.flags(entry) & ~wq_flag_woken);
        return left;
    });
    // The wake functions, called directly (a module's own wake function may chain to them).
    k.add_function("default_wake_function", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(default_wake(c, c.arg(0), c.iarg(1)));
    });
    k.add_function("autoremove_wake_function", sub, [](StubCall& c) -> uint64_t {
        int ret = default_wake(c, c.arg(0), c.iarg(1));
        Wq w(c.kernel);
        if (ret) w.del_init(w.node(c.arg(0)));
        return static_cast<uint64_t>(ret);
    });
    k.add_function("woken_wake_function", sub, [](StubCall& c) -> uint64_t {
        Wq w(c.kernel);
        w.set_flags(c.arg(0), w.flags(c.arg(0)) | wq_flag_woken);
        return static_cast<uint64_t>(default_wake(c, c.arg(0), c.iarg(1)));
    });
}

}  // namespace kmodemu
