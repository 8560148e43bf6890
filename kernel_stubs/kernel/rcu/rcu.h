// kernel/rcu for the other subsystems.
#pragma once

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// synchronize_rcu(): a grace period ends now; the callbacks queued before it run.
void rcu_synchronize(Kernel& k);

}  // namespace kmodemu
