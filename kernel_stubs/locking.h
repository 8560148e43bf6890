// Lock checks (kernel_stubs/locking.cc): the locks the current task holds, and what lockdep and
// __might_resched() report of them when the kernel is configured for it (--lockdep).
#pragma once

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// lockdep_sys_exit() (kernel/locking/lockdep.c): insmod's system call returns to user space;
// with --lockdep, a lock the task still holds is reported ("WARNING: lock held when returning
// to user space!"). Called by the runner after each insmod and rmmod.
void lockdep_sys_exit(Kernel& k);

// __might_sleep() at file:line (kernel/sched/core.c __might_resched()): with --lockdep, a call of
// a function that may sleep from atomic context (a spinlock held, bottom halves or interrupts
// disabled) is reported ("BUG: sleeping function called from invalid context at ...").
void might_sleep(StubCall& c, const char* file, unsigned line);

}  // namespace kmodemu
