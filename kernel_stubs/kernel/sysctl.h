// fs/proc/proc_sysctl.c's tables for the other places that register them (net/sysctl_net.c).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

uint64_t sysctl_register_table(Kernel& k);            // a new table's header, or NULL
void sysctl_unregister_table(Kernel& k, uint64_t header);

}  // namespace kmodemu
