// kernel/time/hrtimer.c: the clock resolution modules read (hrtimer_resolution). With
// CONFIG_HIGH_RES_TIMERS, the boot switches to high resolution (the emulated board's arch timer
// is a one-shot clock event device, as QEMU's): HIGH_RES_NSEC (1); else LOW_RES_NSEC, a tick.
#include <cstdint>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

void register_hrtimer(Kernel& k) {
    const auto& p = k.config().profile;
    bool high_res = p && p->config.find("CONFIG_HIGH_RES_TIMERS") == "y";
    uint32_t resolution = high_res ? 1 : static_cast<uint32_t>(VirtualClock::nsec_per_sec /
                                                                k.state<VirtualClock>().hz);
    k.add_data("hrtimer_resolution", "kernel/time/hrtimer", sizeof resolution, &resolution, true);
}

}  // namespace kmodemu
