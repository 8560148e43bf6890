// kernel/workqueue.c for the emulated kernel's own work (request_firmware_nowait(), ...).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// schedule_work(work): queues a work_struct the emulated kernel made (its func set) on
// system_wq; false when it was already pending.
bool schedule_kernel_work(Kernel& k, uint64_t work);
// INIT_WORK(work, func) of a work_struct the emulated kernel holds inside an object of its own.
void init_kernel_work(Kernel& k, uint64_t work, uint64_t func);
// A zeroed work_struct in the heap whose function is `func` (INIT_WORK()); 0 when out of
// memory. Freed by the caller (slab().free) once it has run.
uint64_t new_kernel_work(Kernel& k, uint64_t func);

}  // namespace kmodemu
