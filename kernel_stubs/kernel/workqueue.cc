// kernel/workqueue.c: workqueues and work items on the virtual clock (kernel_stubs/kernel/
// time/clock.h). Queued work runs when the insmod task lets time pass (a sleep, the settle phase
// after init) or waits for it (flush_work(), flush_workqueue(), drain/destroy_workqueue()), in
// the order it was queued, one item at a time: one worker for every workqueue, on CPU 0. A
// delayed work item is a timer whose function, delayed_work_timer_fn(), queues it.
//
// Not modelled: the worker task (work runs with insmod's `current`), concurrency between work
// items, WQ_* flags (ordering is FIFO for every queue), rescuers, work running while another
// task waits (nothing else runs).
#include <algorithm>
#include <cerrno>
#include <deque>
#include <set>

#include "kernel_stubs/kernel/workqueue.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/kernel/time/timer.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// struct workqueue_struct is private to kernel/workqueue.c: modules only hold the pointer.
constexpr uint64_t workqueue_object_size = 256;
constexpr uint64_t work_struct_pending = 1;  // 1 << WORK_STRUCT_PENDING_BIT
constexpr uint64_t work_busy_pending = 1;    // WORK_BUSY_PENDING

struct Workqueues : Kernel::SubsystemState {
    std::set<uint64_t> live;  // alloc_workqueue()'s
    struct Queued {
        uint64_t work, wq;
    };
    std::deque<Queued> queue;
    uint64_t running = 0;  // the work item whose function runs, if any
};

const KernelStructs::Work& layout(Kernel& k) {
    return k.structs().work;
}

uint64_t work_data(Kernel& k, uint64_t work) {
    return k.emu().read_word(work + layout(k).data);
}

void set_work_data(Kernel& k, uint64_t work, uint64_t v) {
    k.emu().write_word(work + layout(k).data, v);
}

// test_and_set_bit(WORK_STRUCT_PENDING_BIT, work_data_bits(work)): whether it was clear.
bool grab_pending_bit(Kernel& k, uint64_t work) {
    uint64_t d = work_data(k, work);
    if (d & work_struct_pending) return false;
    set_work_data(k, work, d | work_struct_pending);
    return true;
}

// __queue_work(): to the end of the queue (the pending bit is the caller's).
void enqueue(Kernel& k, uint64_t wq, uint64_t work) {
    k.state<Workqueues>().queue.push_back({work, wq});
}

// Runs the queued item at `it`: process_one_work() clears the pending bit, then calls the
// function.
void run_item(Kernel& k, std::deque<Workqueues::Queued>::iterator it) {
    Workqueues& w = k.state<Workqueues>();
    uint64_t work = it->work;
    w.queue.erase(it);
    set_work_data(k, work, work_data(k, work) & ~work_struct_pending);
    uint64_t fn = k.emu().read_word(work + layout(k).func);
    uint64_t outer = w.running;
    w.running = work;
    k.call_guest(fn, {work});
    w.running = outer;
}

bool run_first(Kernel& k) {
    Workqueues& w = k.state<Workqueues>();
    if (w.queue.empty()) return false;
    run_item(k, w.queue.begin());
    return true;
}

std::deque<Workqueues::Queued>::iterator find_queued(Workqueues& w, uint64_t work) {
    return std::find_if(w.queue.begin(), w.queue.end(),
                        [work](const Workqueues::Queued& q) { return q.work == work; });
}

// flush_work(): runs the item now if it is queued; whether there was something to wait for.
bool flush_one(Kernel& k, uint64_t work) {
    Workqueues& w = k.state<Workqueues>();
    auto it = find_queued(w, work);
    if (it == w.queue.end()) return false;
    run_item(k, it);
    return true;
}

// __flush_workqueue(): runs the items queued on wq before the call; drain_workqueue(): and
// those they queue there, until none is left.
void flush_queue(Kernel& k, uint64_t wq, bool drain) {
    Workqueues& w = k.state<Workqueues>();
    std::vector<uint64_t> before;
    for (const Workqueues::Queued& q : w.queue)
        if (q.wq == wq) before.push_back(q.work);
    for (uint64_t work : before)
        flush_one(k, work);
    while (drain) {
        auto it = std::find_if(w.queue.begin(), w.queue.end(),
                               [wq](const Workqueues::Queued& q) { return q.wq == wq; });
        if (it == w.queue.end()) break;
        run_item(k, it);
    }
}

uint64_t dwork_of_timer(Kernel& k, uint64_t timer) {
    return timer - layout(k).dwork_timer;
}

uint64_t timer_of(Kernel& k, uint64_t dwork) {
    return dwork + layout(k).dwork_timer;
}

// try_to_grab_pending(): takes a pending item (of a delayed item `dwork`, when not 0) off its
// timer or its queue, keeping the pending bit for the caller; whether it was pending (else the
// bit is now set, as the caller's).
bool grab_pending(Kernel& k, uint64_t work, uint64_t dwork) {
    if (dwork && timer_detach(k, timer_of(k, dwork))) return true;
    if (grab_pending_bit(k, work)) return false;
    Workqueues& w = k.state<Workqueues>();
    auto it = find_queued(w, work);
    if (it != w.queue.end()) w.queue.erase(it);
    return true;
}

// __cancel_work(): whether it was pending; the item is neither queued nor armed after it.
bool cancel(Kernel& k, uint64_t work, uint64_t dwork) {
    bool was = grab_pending(k, work, dwork);
    set_work_data(k, work, work_data(k, work) & ~work_struct_pending);
    return was;
}

// __queue_delayed_work(): now when delay is 0, else on the item's timer.
void queue_delayed(StubCall& c, uint64_t cpu, uint64_t wq, uint64_t dwork, uint64_t delay) {
    Kernel& k = c.kernel;
    const KernelStructs::Work& l = layout(k);
    uint64_t timer = timer_of(k, dwork);
    uint64_t fn = k.emu().read_word(timer + k.structs().timer_list.function);
    const Export* timer_fn = k.find_export("delayed_work_timer_fn");
    if (!timer_fn || fn != timer_fn->address)
        c.unimplemented(
            "queue_delayed_work_on (a delayed_work whose timer is not "
            "delayed_work_timer_fn's: the kernel's WARN_ON_ONCE)");
    if (!delay) {
        enqueue(k, wq, dwork + l.dwork_work);
        return;
    }
    k.emu().write_word(dwork + l.dwork_wq, wq);
    uint32_t cpu32 = static_cast<uint32_t>(cpu);
    k.emu().write(dwork + l.dwork_cpu, &cpu32, 4);
    timer_arm(k, timer, k.state<VirtualClock>().jiffies() + delay);
}

uint64_t new_workqueue(Kernel& k) {
    uint64_t wq = k.slab_alloc(workqueue_object_size, gfp_zero);
    if (wq) k.state<Workqueues>().live.insert(wq);
    return wq;
}

}  // namespace

bool schedule_kernel_work(Kernel& k, uint64_t work) {
    if (!grab_pending_bit(k, work)) return false;
    const Export* wq = k.find_export("system_wq");
    enqueue(k, wq ? k.emu().read_word(wq->address) : 0, work);
    return true;
}

uint64_t new_kernel_work(Kernel& k, uint64_t func) {
    const KernelStructs::Work& l = layout(k);
    uint64_t size = std::max({l.data, l.entry + 2 * k.word(), l.func}) + k.word();
    uint64_t work = k.slab_alloc(size, gfp_zero);
    if (!work) return 0;
    init_kernel_work(k, work, func);
    return work;
}

void init_kernel_work(Kernel& k, uint64_t work, uint64_t func) {
    const KernelStructs::Work& l = layout(k);
    k.emu().write_word(work + l.data, 0);
    k.emu().write_word(work + l.entry, work + l.entry);  // INIT_LIST_HEAD()
    k.emu().write_word(work + l.entry + k.word(), work + l.entry);
    k.emu().write_word(work + l.func, func);
}

void register_workqueue(Kernel& k) {
    const char* sub = "kernel/workqueue";
    k.state<Deferred>().run_work = run_first;
    // The system workqueues (workqueue_init_early()), each a pointer in kernel data.
    for (const char* name :
         {"system_wq", "system_highpri_wq", "system_long_wq", "system_unbound_wq",
          "system_freezable_wq", "system_power_efficient_wq", "system_freezable_power_efficient_wq",
          "system_bh_wq", "system_bh_highpri_wq", "system_percpu_wq", "system_dfl_wq"}) {
        uint64_t wq = new_workqueue(k);
        std::vector<uint8_t> ptr(k.word());
        std::copy_n(reinterpret_cast<const uint8_t*>(&wq), k.word(), ptr.data());
        k.add_data(name, sub, ptr.size(), ptr.data());
    }
    // alloc_workqueue(fmt, flags, max_active, ...): a workqueue, or NULL when out of memory.
    k.add_function("alloc_workqueue", sub,
                   [](StubCall& c) -> uint64_t { return new_workqueue(c.kernel); });
    // destroy_workqueue(): drain_workqueue(), then free it.
    k.add_function("destroy_workqueue", sub, [](StubCall& c) -> uint64_t {
        flush_queue(c.kernel, c.arg(0), true);
        if (c.kernel.state<Workqueues>().live.erase(c.arg(0))) c.kernel.slab().free(c.arg(0));
        return 0;
    });
    k.add_function("drain_workqueue", sub, [](StubCall& c) -> uint64_t {
        flush_queue(c.kernel, c.arg(0), true);
        return 0;
    });
    k.add_function("__flush_workqueue", sub, [](StubCall& c) -> uint64_t {
        flush_queue(c.kernel, c.arg(0), false);
        return 0;
    });
    // queue_work_on(cpu, wq, work): false when the item was already pending.
    k.add_function("queue_work_on", sub, [](StubCall& c) -> uint64_t {
        if (!grab_pending_bit(c.kernel, c.arg(2))) return 0;
        enqueue(c.kernel, c.arg(1), c.arg(2));
        return 1;
    });
    // queue_delayed_work_on(cpu, wq, dwork, delay): false when already pending.
    k.add_function("queue_delayed_work_on", sub, [](StubCall& c) -> uint64_t {
        uint64_t dwork = c.arg(2);
        if (!grab_pending_bit(c.kernel, dwork + layout(c.kernel).dwork_work)) return 0;
        queue_delayed(c, c.arg(0), c.arg(1), dwork, c.arg(3));
        return 1;
    });
    // mod_delayed_work_on(cpu, wq, dwork, delay): whether it was pending (then it moves).
    k.add_function("mod_delayed_work_on", sub, [](StubCall& c) -> uint64_t {
        uint64_t dwork = c.arg(2);
        bool was = grab_pending(c.kernel, dwork + layout(c.kernel).dwork_work, dwork);
        queue_delayed(c, c.arg(0), c.arg(1), dwork, c.arg(3));
        return was;
    });
    // delayed_work_timer_fn(timer): the delayed item's timer expired; queue it.
    k.add_function("delayed_work_timer_fn", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t dwork = dwork_of_timer(k, c.arg(0));
        enqueue(k, k.emu().read_word(dwork + layout(k).dwork_wq), dwork + layout(k).dwork_work);
        return 0;
    });
    k.add_function("flush_work", sub,
                   [](StubCall& c) -> uint64_t { return flush_one(c.kernel, c.arg(0)); });
    // flush_delayed_work(): an armed item is queued now, then flushed.
    k.add_function("flush_delayed_work", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t dwork = c.arg(0);
        if (timer_detach(k, timer_of(k, dwork)))
            enqueue(k, k.emu().read_word(dwork + layout(k).dwork_wq), dwork + layout(k).dwork_work);
        return flush_one(k, dwork + layout(k).dwork_work);
    });
    k.add_functions({"cancel_work_sync", "cancel_work"}, sub,
                    [](StubCall& c) -> uint64_t { return cancel(c.kernel, c.arg(0), 0); });
    k.add_functions({"cancel_delayed_work_sync", "cancel_delayed_work"}, sub,
                    [](StubCall& c) -> uint64_t {
                        return cancel(c.kernel, c.arg(0) + layout(c.kernel).dwork_work, c.arg(0));
                    });
    // work_busy(): WORK_BUSY_PENDING, or WORK_BUSY_RUNNING for the item that runs.
    k.add_function("work_busy", sub, [](StubCall& c) -> uint64_t {
        uint64_t work = c.arg(0);
        unsigned ret = (work_data(c.kernel, work) & work_struct_pending) ? work_busy_pending : 0;
        if (c.kernel.state<Workqueues>().running == work) ret |= 2;  // WORK_BUSY_RUNNING
        return ret;
    });
}

}  // namespace kmodemu
