// net/core/rtnetlink.c, for the other net subsystems: the RTNL lock.
#pragma once

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// rtnl_lock(): `what` stops the run when the RTNL is held (the task would deadlock).
void rtnl_take(StubCall& c, const char* what);
void rtnl_release(Kernel& k);
// rtnl_is_locked()
bool rtnl_held(Kernel& k);

}  // namespace kmodemu
