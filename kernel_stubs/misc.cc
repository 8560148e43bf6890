// Small exports every module needs: the stack protector, fortify, arm64 alternatives callbacks,
// taints, jiffies, delays and sleeps.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel_stubs/bug.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/sched/sched.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

namespace {

constexpr uint64_t nsec_per_sec = 1000000000;

uint64_t mul_div(uint64_t a, uint64_t b, uint64_t d) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b / d);
}

uint64_t mul_shift(uint64_t a, uint64_t b, unsigned shift) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> shift);
}

}  // namespace

void register_misc(Kernel& k) {
    const char* sub = "misc";
    // __stack_chk_fail(): panic("stack-protector: Kernel stack is corrupted in: %pB").
    k.add_function("__stack_chk_fail", sub, [](StubCall& c) -> uint64_t {
        std::string where = c.kernel.symbolize(c.ret_addr(), true).value_or(hex(c.ret_addr()));
        std::string msg = "stack-protector: Kernel stack is corrupted in: " + where;
        c.kernel.log(0, "Kernel panic - not syncing: " + msg);
        throw KernelPanic{msg};
    });
    uint64_t guard = k.config().stack_canary;
    k.add_data("__stack_chk_guard", sub, k.word(), &guard);
    // fortify_panic(name) (lib/string_helpers.c, 6.1): pr_emerg("detected buffer overflow in
    // %s\n", name); BUG(). The return register and the flags are what _printk() returned
    // with (the length of the text), as at the kernel's BUG().
    auto fortify = [](StubCall& c) -> uint64_t {
        std::string msg = "detected buffer overflow in " + c.read_cstr(c.arg(0));
        c.kernel.log(0, msg);
        c.emu.set_return(msg.size());
        set_printk_flags(c.emu);
        kernel_function_bug(c, "lib/string_helpers.c", 1027);
    };
    k.add_function("fortify_panic", sub, fortify);
    // __fortify_panic(reason, avail, size) (lib/string_helpers.c, 6.9+; 6.1 has fortify_panic()):
    // __fortify_report(reason, avail, size), whose WARN(1, "%s: detected buffer overflow: %zu
    // byte %s of buffer size %zu\n", name, size, str_read_write(!write), avail) names the
    // function by FORTIFY_REASON_FUNC(reason) (reason >> 1; past the list, UNKNOWN) and the
    // access by FORTIFY_REASON_DIR(reason) (reason & 1, a write); then BUG().
    k.add_function("__fortify_panic", sub, [](StubCall& c) -> uint64_t {
        // enum fortify_func of 6.12's include/linux/fortify-string.h (EACH_FORTIFY_FUNC), for a
        // kit without its headers.
        static const std::vector<std::string> funcs_6_12 = {
            "strncpy", "strnlen",    "strlen",  "strscpy", "strlcat", "strcat",
            "strncat", "memset",     "memcpy",  "memmove", "memscan", "memcmp",
            "memchr",  "memchr_inv", "kmemdup", "strcpy",  "UNKNOWN"};
        const std::vector<std::string>& kit = c.kernel.real().fortify_funcs();
        const std::vector<std::string>& funcs = kit.empty() ? funcs_6_12 : kit;
        const uint64_t mask = c.kernel.word() == 8 ? ~0ull : 0xffffffffull;
        const unsigned reason = static_cast<unsigned>(c.arg(0) & 0xff);
        const uint64_t avail = c.arg(1) & mask, size = c.arg(2) & mask;
        const std::string& name = funcs[std::min<size_t>(reason >> 1, funcs.size() - 1)];
        char msg[160];
        std::snprintf(msg, sizeof msg,
                      "%s: detected buffer overflow: %llu byte %s of buffer size %llu",
                      name.c_str(), static_cast<unsigned long long>(size),
                      reason & 1 ? "write" : "read", static_cast<unsigned long long>(avail));
        std::optional<uint64_t> lr =
            kernel_callee_warn(c, "lib/string_helpers.c", 1032, "__fortify_report", msg);
        kernel_function_bug(c, "lib/string_helpers.c", 1040, -1, lr);
    });
    // alt_cb_patch_nops is applied at load time by the loader (module_finalize()); called at
    // run time it would be a bug in the module, and does nothing.
    k.add_function("alt_cb_patch_nops", sub, [](StubCall&) { return uint64_t(0); });

    // --- taints (kernel/panic.c) ---
    k.add_function("test_taint", sub, [](StubCall& c) -> uint64_t {
        unsigned flag = static_cast<unsigned>(c.arg(0));
        return flag < 32 ? (c.kernel.taints() >> flag) & 1 : 0;
    });
    // add_taint(flag, lockdep_ok): LOCKDEP_NOW_UNRELIABLE (1) turns lock debugging off, with a
    // message the first time.
    k.add_function("add_taint", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(1) == 1 && c.kernel.debug_locks) {
            c.kernel.debug_locks = false;
            c.kernel.log(4, "Disabling lock debugging due to kernel taint");
        }
        c.kernel.add_taint_bit(static_cast<unsigned>(c.arg(0)));
        return 0;
    });

    // --- jiffies (kernel/time/jiffies.c, include/linux/jiffies.h) ---
    uint64_t hz = k.config().profile && k.config().profile->hz > 0 ? k.config().profile->hz : 250;
    VirtualClock* clock = &k.state<VirtualClock>();
    clock->set_hz(hz);
    uint64_t j = clock->jiffies();
    const Export& j64 = k.add_data("jiffies_64", sub, 8, &j);
    clock->addr = j64.address;
    k.emu().set_ticker(VirtualClock::tick, [clock, &k] {
        clock->pass(k.emu(), VirtualClock::tick * VirtualClock::ns_per_instruction);
    });
    k.add_alias("jiffies", sub, j64);
    k.objects["jiffies"] = clock->addr;
    const unsigned w = k.word();
    auto ulong = [w](uint64_t v) { return w == 8 ? v : v & 0xffffffffu; };
    // get_jiffies_64() (a function where a long has 32 bits): the u64 in r0:r1 (AAPCS).
    if (w == 4)
        k.add_function("get_jiffies_64", sub, [clock](StubCall& c) -> uint64_t {
            uint64_t v = clock->jiffies();
            c.emu.set_arg(1, v >> 32);
            return v & 0xffffffffu;
        });
    k.add_function("jiffies_to_msecs", sub, [clock](StubCall& c) -> uint64_t {
        return static_cast<uint32_t>(c.arg(0) * 1000 / clock->hz);
    });
    k.add_function("jiffies_to_usecs", sub, [clock](StubCall& c) -> uint64_t {
        return static_cast<uint32_t>(c.arg(0) * 1000000 / clock->hz);
    });
    k.add_function("__msecs_to_jiffies", sub, [clock, ulong](StubCall& c) -> uint64_t {
        return ulong(clock->ms_to_jiffies(c.arg(0) & 0xffffffffu));
    });
    k.add_function("__usecs_to_jiffies", sub, [clock, ulong](StubCall& c) -> uint64_t {
        return ulong(((c.arg(0) & 0xffffffffu) * clock->hz + 999999) / 1000000);
    });

    // --- sleeping (kernel/time/timer.c): the task sleeps, the clock moves on, and the work and
    // timers that fall due meanwhile run (kernel_stubs/kernel/time/clock.h) ---
    // msleep(): schedule_timeout_uninterruptible(msecs_to_jiffies(msecs) + 1), again until the
    // whole timeout passed (a wake-up does not shorten it); msleep_interruptible() likewise, no
    // signal ever comes: no time remains.
    auto msleep = [clock](StubCall& c) -> uint64_t {
        uint64_t timeout = clock->ms_to_jiffies(c.arg(0) & 0xffffffffu) + 1;
        bool interruptible = c.kernel.find_export("msleep_interruptible")->address == c.slot;
        sched_wait(c, clock->time_of(clock->jiffies() + timeout), {},
                   interruptible ? task_interruptible : task_uninterruptible,
                   interruptible ? "msleep_interruptible" : "msleep");
        return 0;
    };
    k.add_function("msleep", sub, msleep);
    k.add_function("msleep_interruptible", sub, msleep);
    // schedule_timeout(timeout): the task sleeps in the state it set (the variants set
    // TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_UNINTERRUPTIBLE, TASK_IDLE first) until a wake-up
    // makes it TASK_RUNNING or the timeout's timer does (process_timeout()); the jiffies left.
    // A task still TASK_RUNNING only lets the others run. MAX_SCHEDULE_TIMEOUT: schedule().
    struct Variant {
        const char* name;
        uint32_t state;  // 0: the task's own
    };
    static constexpr Variant variants[] = {
        {"schedule_timeout", 0},
        {"schedule_timeout_interruptible", task_interruptible},
        {"schedule_timeout_killable", 0x100 | task_uninterruptible},  // TASK_KILLABLE
        {"schedule_timeout_uninterruptible", task_uninterruptible},
        {"schedule_timeout_idle", 0x400 | task_uninterruptible},  // TASK_IDLE
    };
    for (const Variant& v : variants) {
        k.add_function(v.name, sub, [v](StubCall& c) -> uint64_t {
            if (v.state) set_task_state(c.kernel, c.kernel.current_task(), v.state);
            return schedule_timeout(c, c.sarg(0), v.name);
        });
    }
    // usleep_range_state(min, max, state): an hrtimer sleep in `state` whose hard expiry is
    // max, again until it expired (a wake-up does not shorten it).
    k.add_function("usleep_range_state", sub, [clock](StubCall& c) -> uint64_t {
        sched_wait(c, clock->ns + c.arg(1) * 1000, {}, static_cast<uint32_t>(c.arg(2)),
                   "usleep_range_state");
        return 0;
    });

    // --- busy-waiting delays: the time they spin passes ---
    if (k.arch() == Arch::arm64) {
        // arch/arm64/lib/delay.c: xloops are 2^32 / 10^6 per microsecond (udelay's 0x10c7).
        k.add_function("__const_udelay", sub, [clock](StubCall& c) -> uint64_t {
            clock->pass(c.emu, mul_shift(c.arg(0), nsec_per_sec, 32));
            return 0;
        });
        k.add_function("__udelay", sub, [clock](StubCall& c) -> uint64_t {
            clock->pass(c.emu, c.arg(0) * 1000);
            return 0;
        });
        k.add_function("__ndelay", sub, [clock](StubCall& c) -> uint64_t {
            clock->pass(c.emu, c.arg(0));
            return 0;
        });
    } else {
        // arch/arm/lib/delay.c: udelay() and friends call through arm_delay_ops { delay(ticks),
        // const_udelay(xloops), udelay(usecs), ticks_per_jiffy }, the timer-based delay loop of
        // an armmp kernel. The timer runs at 62.5 MHz (the generic timer of QEMU's virt machine,
        // where the oracle runs). xloops are 2^30 * HZ / 10^6 per microsecond (UDELAY_MULT).
        const uint64_t timer_hz = 62500000;
        auto ticks = [timer_hz](uint64_t t) { return mul_div(t, nsec_per_sec, timer_hz); };
        uint32_t ops[4];  // delay, const_udelay, udelay, ticks_per_jiffy
        ops[0] = static_cast<uint32_t>(
            k.add_function("__timer_delay", sub, [clock, ticks](StubCall& c) -> uint64_t {
                 clock->pass(c.emu, ticks(c.arg(0) & 0xffffffffu));
                 return 0;
             }).address);
        uint32_t tpj = static_cast<uint32_t>(timer_hz / hz);
        ops[1] = static_cast<uint32_t>(
            k.add_function("__timer_const_udelay", sub,
                           [clock, ticks, tpj](StubCall& c) -> uint64_t {
                               clock->pass(c.emu,
                                           ticks(mul_shift(c.arg(0) & 0xffffffffu, tpj, 30)));
                               return 0;
                           })
                .address);
        ops[2] = static_cast<uint32_t>(
            k.add_function("__timer_udelay", sub, [clock](StubCall& c) -> uint64_t {
                 clock->pass(c.emu, (c.arg(0) & 0xffffffffu) * 1000);
                 return 0;
             }).address);
        ops[3] = tpj;
        // Where the kernel's struct arm_delay_ops has them.
        const KernelStructs::ArmDelayOps& l = k.structs().arm_delay_ops;
        const uint64_t at[] = {l.delay, l.const_udelay, l.udelay, l.ticks_per_jiffy};
        std::vector<uint8_t> bytes(l.size);
        for (size_t i = 0; i < 4; ++i)
            std::memcpy(bytes.data() + at[i], &ops[i], sizeof ops[i]);
        k.add_data("arm_delay_ops", sub, bytes.size(), bytes.data());
    }
}

}  // namespace kmodemu
