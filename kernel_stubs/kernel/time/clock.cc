#include "kernel_stubs/kernel/time/clock.h"

#include <algorithm>

namespace kmodemu {

namespace {

uint64_t mul_div(uint64_t a, uint64_t b, uint64_t d) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b / d);
}

}  // namespace

void VirtualClock::set_hz(uint64_t h) {
    hz = h;
    initial = static_cast<uint32_t>(-300 * int64_t(h));
}

uint64_t VirtualClock::jiffies() const {
    return initial + mul_div(ns, hz, nsec_per_sec);
}

uint64_t VirtualClock::time_of(uint64_t j) const {
    unsigned __int128 t = static_cast<unsigned __int128>(j - initial) * nsec_per_sec;
    return static_cast<uint64_t>((t + hz - 1) / hz);
}

void VirtualClock::publish(Emulator& emu) const {
    uint64_t j = jiffies();
    emu.write(addr, &j, 8);
}

void VirtualClock::pass(Emulator& emu, uint64_t d) {
    ns += d;
    publish(emu);
}

bool run_until(Kernel& k, uint64_t until_ns, uint64_t limit) {
    return wait_until(k, until_ns, {}, limit);
}

bool wait_until(Kernel& k, uint64_t until_ns, const std::function<bool()>& done, uint64_t limit) {
    VirtualClock& clock = k.state<VirtualClock>();
    Deferred& d = k.state<Deferred>();
    for (uint64_t n = 0;; ++n) {
        if (done && done()) return true;
        if (n == limit) return false;
        if (d.run_work && d.run_work(k)) {
            ++d.ran_work;
            continue;
        }
        if (d.run_rcu && d.run_rcu(k)) continue;
        if (d.run_task && d.run_task(k)) continue;
        uint64_t expires = 0, wakeup = 0, event_at = 0;
        bool timer = d.next_timer && d.next_timer(k, expires);
        bool task = d.next_wakeup && d.next_wakeup(k, wakeup);
        bool event = d.next_event && d.next_event(k, event_at);
        if (!timer && !task && !event) break;
        // A timer fires at the first tick at which jiffies >= expires (time_after_eq()):
        // compared as the kernel compares jiffies, by the signed difference.
        uint64_t at = clock.ns;
        bool due = false;
        if (timer) {
            int64_t ahead = static_cast<int64_t>(expires - clock.jiffies());
            if (k.word() == 4) ahead = static_cast<int32_t>(ahead);
            if (ahead > 0)
                at = clock.time_of(clock.jiffies() + uint64_t(ahead));
            else
                due = true;
        }
        // An event of the machine (an interrupt) due no later than the timer and the threads'
        // wake-ups comes first.
        if (event && (!timer || event_at <= at) && (!task || event_at <= wakeup)) {
            if (event_at > until_ns) break;
            if (event_at > clock.ns) {
                clock.ns = event_at;
                clock.publish(k.emu());
            }
            d.fire_event(k);
            continue;
        }
        if (task && !due && (!timer || wakeup < at)) {
            // A sleeping kernel thread's timeout comes first: it becomes runnable then.
            if (wakeup > until_ns) break;
            if (wakeup > clock.ns) {
                clock.ns = wakeup;
                clock.publish(k.emu());
            }
            continue;
        }
        if (!timer) break;
        if (!due && at > until_ns) break;
        if (at > clock.ns) {
            clock.ns = at;
            clock.publish(k.emu());
        }
        d.fire_timer(k);
        ++d.fired_timers;
    }
    if (clock.ns < until_ns && until_ns != UINT64_MAX) {
        clock.ns = until_ns;
        clock.publish(k.emu());
    }
    return done ? done() : true;
}

bool settle(Kernel& k, uint64_t ms) {
    VirtualClock& clock = k.state<VirtualClock>();
    return run_until(k, clock.ns + ms * 1000000);
}

}  // namespace kmodemu
