// BUG(), WARN() and oopses: lib/bug.c report_bug(), kernel/panic.c __warn(), and the
// architectures' die() with show_regs(), as the kernel prints them.
#pragma once

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// The oops report for a guest fault that ends the call (arm64 die() / ARM die()).
void report_oops(Kernel& k, const RunResult& r);
// show_regs(): the register dump of the current CPU state.
void show_regs(Kernel& k, uint64_t pc);

}  // namespace kmodemu
