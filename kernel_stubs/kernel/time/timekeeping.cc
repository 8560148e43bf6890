// kernel/time/timekeeping.c on the virtual clock (kernel_stubs/kernel/time/clock.h): the
// monotonic clock is the time since boot; the wall clock is a fixed boot time plus it, so that
// runs are reproducible (a real machine's date differs from boot to boot). Each reading lets
// 100 ns pass, as the instructions between two readings take time: a module that polls the
// clock until a deadline gets there.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"

namespace kmodemu {

namespace {

// The emulated machine's boot: 2024-01-01 00:00:00 UTC.
constexpr int64_t boot_wall_seconds = 1704067200;
constexpr uint64_t reading_ns = 100;

int64_t now_ns(Kernel& k) {
    VirtualClock& clock = k.state<VirtualClock>();
    clock.pass(k.emu(), reading_ns);
    return static_cast<int64_t>(clock.ns);
}

// A ktime_t (s64): x0 on arm64, r0:r1 on ARM.
uint64_t ret64(StubCall& c, int64_t v) {
    if (c.kernel.word() == 4) {
        c.emu.set_arg(1, static_cast<uint64_t>(v) >> 32);
        return static_cast<uint64_t>(v) & 0xffffffffu;
    }
    return static_cast<uint64_t>(v);
}

// struct timespec64 { time64_t tv_sec; long tv_nsec; }
void write_ts(StubCall& c, uint64_t at, int64_t ns) {
    int64_t sec = ns / 1000000000;
    uint64_t nsec = static_cast<uint64_t>(ns % 1000000000);
    c.write(at, &sec, 8);
    c.write(at + 8, &nsec, c.kernel.word());
}

}  // namespace

void register_timekeeping(Kernel& k) {
    const char* sub = "kernel/time/timekeeping";
    const int64_t boot_ns = boot_wall_seconds * 1000000000;
    k.add_functions({"ktime_get", "ktime_get_raw", "ktime_get_mono_fast_ns",
                     "ktime_get_raw_fast_ns", "ktime_get_boot_fast_ns"},
                    sub, [](StubCall& c) -> uint64_t { return ret64(c, now_ns(c.kernel)); });
    // ktime_get_with_offset(offs): TK_OFFS_REAL (0) the wall clock, TK_OFFS_BOOT (1) and
    // TK_OFFS_TAI (2): boot time (no suspend) and TAI (the wall clock here, no leap offset).
    k.add_function("ktime_get_with_offset", sub, [boot_ns](StubCall& c) -> uint64_t {
        int64_t t = now_ns(c.kernel);
        return ret64(c, c.arg(0) == 1 ? t : t + boot_ns);
    });
    k.add_functions({"ktime_get_real_fast_ns"}, sub, [boot_ns](StubCall& c) -> uint64_t {
        return ret64(c, now_ns(c.kernel) + boot_ns);
    });
    k.add_functions({"ktime_get_real_ts64", "ktime_get_coarse_real_ts64"}, sub,
                    [boot_ns](StubCall& c) -> uint64_t {
                        write_ts(c, c.arg(0), now_ns(c.kernel) + boot_ns);
                        return 0;
                    });
    k.add_functions({"ktime_get_ts64", "ktime_get_raw_ts64", "ktime_get_coarse_ts64"}, sub,
                    [](StubCall& c) -> uint64_t {
                        write_ts(c, c.arg(0), now_ns(c.kernel));
                        return 0;
                    });
    k.add_function("ktime_get_real_seconds", sub, [](StubCall& c) -> uint64_t {
        return ret64(c, boot_wall_seconds + now_ns(c.kernel) / 1000000000);
    });
    k.add_function("ktime_get_seconds", sub,
                   [](StubCall& c) -> uint64_t { return ret64(c, now_ns(c.kernel) / 1000000000); });
    // getboottime64(ts): the wall clock time of boot.
    k.add_function("getboottime64", sub, [boot_ns](StubCall& c) -> uint64_t {
        write_ts(c, c.arg(0), boot_ns);
        return 0;
    });
}

}  // namespace kmodemu
