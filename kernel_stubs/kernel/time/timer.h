// kernel/time/timer.c's timers, for the subsystems that arm them (delayed work).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

bool timer_is_pending(Kernel& k, uint64_t timer);  // timer_pending()
bool timer_detach(Kernel& k, uint64_t timer);      // del_timer(): whether it was pending
// __mod_timer(): arms the timer at `expires` (jiffies); whether it was pending.
bool timer_arm(Kernel& k, uint64_t timer, uint64_t expires);

}  // namespace kmodemu
