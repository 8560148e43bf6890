// kernel/time/timer.c: timer_list on the virtual clock (kernel_stubs/kernel/time/clock.h). An
// armed timer is pending (its entry.pprev is not NULL, as timer_pending() reads it inline) until
// the clock reaches its expiry, where its function runs with the timer as argument, or until it
// is removed. Timers fire in expiry order, those of one expiry in the order they were armed.
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/kernel/time/timer.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Timers : Kernel::SubsystemState {
    struct Armed {
        uint64_t expires = 0;
        uint64_t seq = 0;
    };
    std::map<uint64_t, Armed> armed;  // struct timer_list * -> when
    uint64_t seq = 0;
    uint64_t bucket = 0;  // the hlist head armed timers' entry.pprev points at
};

const KernelStructs::TimerList& layout(Kernel& k) {
    return k.structs().timer_list;
}

// The signed distance from now to j, as time_after() compares unsigned longs.
int64_t ahead_of_now(Kernel& k, uint64_t j) {
    int64_t d = static_cast<int64_t>(j - k.state<VirtualClock>().jiffies());
    return k.word() == 4 ? static_cast<int32_t>(d) : d;
}

}  // namespace

bool timer_is_pending(Kernel& k, uint64_t timer) {
    return k.emu().read_word(timer + layout(k).pprev) != 0;
}

// detach_if_pending(): whether the timer was pending.
bool timer_detach(Kernel& k, uint64_t timer) {
    Timers& t = k.state<Timers>();
    bool pending = timer_is_pending(k, timer);
    t.armed.erase(timer);
    if (pending) k.emu().write_word(timer + layout(k).pprev, 0);
    return pending;
}

// __mod_timer(): (re)arms the timer at `expires`; whether it was pending.
bool timer_arm(Kernel& k, uint64_t timer, uint64_t expires) {
    Timers& t = k.state<Timers>();
    if (!t.bucket) t.bucket = k.alloc_data(k.word());
    bool was = timer_detach(k, timer);
    const uint64_t mask = k.word() == 8 ? ~0ull : 0xffffffffull;
    k.emu().write_word(timer + layout(k).expires, expires & mask);
    k.emu().write_word(timer + layout(k).pprev, t.bucket);
    t.armed[timer] = {expires & mask, t.seq++};
    return was;
}

namespace {

bool next_timer(Kernel& k, uint64_t& expires) {
    Timers& t = k.state<Timers>();
    const Timers::Armed* best = nullptr;
    for (const auto& [timer, a] : t.armed)
        if (!best || ahead_of_now(k, a.expires) < ahead_of_now(k, best->expires) ||
            (a.expires == best->expires && a.seq < best->seq))
            best = &a;
    if (best) expires = best->expires;
    return best != nullptr;
}

// expire_timers(): detach_timer(), then call_timer_fn(timer, fn).
void fire_timer(Kernel& k) {
    Timers& t = k.state<Timers>();
    uint64_t expires = 0;
    if (!next_timer(k, expires)) return;
    uint64_t timer = 0, seq = ~0ull;
    for (const auto& [tm, a] : t.armed)
        if (a.expires == expires && a.seq < seq) timer = tm, seq = a.seq;
    timer_detach(k, timer);
    uint64_t fn = k.emu().read_word(timer + layout(k).function);
    k.call_guest(fn, {timer});
}

// round_jiffies_common(j, cpu 0, force_up).
uint64_t round_common(Kernel& k, uint64_t j, bool force_up) {
    const uint64_t hz = k.state<VirtualClock>().hz, original = j;
    const uint64_t mask = k.word() == 8 ? ~0ull : 0xffffffffull;
    uint64_t rem = (j & mask) % hz;
    j = (rem < hz / 4 && !force_up) ? j - rem : j - rem + hz;
    return ahead_of_now(k, j & mask) > 0 ? j & mask : original & mask;
}

}  // namespace

void register_timers(Kernel& k) {
    const char* sub = "kernel/time/timer";
    Deferred& d = k.state<Deferred>();
    d.next_timer = next_timer;
    d.fire_timer = fire_timer;
    // init_timer_key(timer, func, flags, name, key): do_init_timer(); the CPU (0) is in the
    // flags' low bits.
    k.add_function("init_timer_key", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TimerList& t = layout(c.kernel);
        uint64_t timer = c.arg(0);
        timer_detach(c.kernel, timer);
        c.emu.write_word(timer + t.function, c.arg(1));
        uint32_t flags = uint32_t(c.arg(2));
        c.write(timer + t.flags, &flags, 4);
        return 0;
    });
    // mod_timer(timer, expires): whether it was pending. A timer whose function is NULL was
    // shut down (timer_shutdown(), 6.2+) and is not armed again.
    k.add_function("mod_timer", sub, [](StubCall& c) -> uint64_t {
        if (!c.emu.read_word(c.arg(0) + layout(c.kernel).function)) return 0;
        return timer_arm(c.kernel, c.arg(0), c.arg(1));
    });
    // mod_timer_pending(): only a pending timer is modified.
    k.add_function("mod_timer_pending", sub, [](StubCall& c) -> uint64_t {
        if (!timer_is_pending(c.kernel, c.arg(0))) return 0;
        return timer_arm(c.kernel, c.arg(0), c.arg(1));
    });
    // timer_reduce(): a pending timer is only moved earlier.
    k.add_function("timer_reduce", sub, [](StubCall& c) -> uint64_t {
        uint64_t timer = c.arg(0), expires = c.arg(1);
        if (timer_is_pending(c.kernel, timer)) {
            uint64_t now = c.kernel.state<Timers>().armed[timer].expires;
            if (ahead_of_now(c.kernel, now) <= ahead_of_now(c.kernel, expires)) return 1;
        }
        return timer_arm(c.kernel, timer, expires);
    });
    // add_timer(timer), add_timer_on(timer, cpu): arm at timer->expires; the timer must not be
    // pending (6.1: BUG_ON(); 6.12: WARN_ON_ONCE()).
    k.add_functions({"add_timer", "add_timer_on"}, sub, [](StubCall& c) -> uint64_t {
        uint64_t timer = c.arg(0);
        if (timer_is_pending(c.kernel, timer))
            c.unimplemented("add_timer (of a pending timer: the kernel's BUG/WARN)");
        timer_arm(c.kernel, timer, c.emu.read_word(timer + layout(c.kernel).expires));
        return 0;
    });
    // timer_delete() (6.1's del_timer()), timer_delete_sync(), try_to_del_timer_sync(),
    // timer_shutdown_sync(), timer_shutdown(): whether the timer was pending (no timer function
    // runs concurrently: there is one CPU and it is here). Shutting down also clears the
    // function, so that the timer cannot be armed again.
    k.add_functions({"timer_delete", "timer_delete_sync", "del_timer", "del_timer_sync",
                     "try_to_del_timer_sync"},
                    sub, [](StubCall& c) -> uint64_t { return timer_detach(c.kernel, c.arg(0)); });
    k.add_functions({"timer_shutdown_sync", "timer_shutdown"}, sub, [](StubCall& c) -> uint64_t {
        bool was = timer_detach(c.kernel, c.arg(0));
        c.emu.write_word(c.arg(0) + layout(c.kernel).function, 0);
        return was;
    });
    // round_jiffies() and friends, on CPU 0.
    k.add_function("round_jiffies", sub,
                   [](StubCall& c) -> uint64_t { return round_common(c.kernel, c.arg(0), false); });
    k.add_function("round_jiffies_up", sub,
                   [](StubCall& c) -> uint64_t { return round_common(c.kernel, c.arg(0), true); });
    auto relative = [](bool up) {
        return [up](StubCall& c) -> uint64_t {
            uint64_t j0 = c.kernel.state<VirtualClock>().jiffies();
            const uint64_t mask = c.kernel.word() == 8 ? ~0ull : 0xffffffffull;
            return (round_common(c.kernel, c.arg(0) + j0, up) - j0) & mask;
        };
    };
    k.add_functions({"round_jiffies_relative", "__round_jiffies_relative"}, sub, relative(false));
    k.add_function("round_jiffies_up_relative", sub, relative(true));
}

}  // namespace kmodemu
