// Formatting guest varargs for other subsystems (WARN messages, ...).
#pragma once

#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// vsnprintf() of the guest format at fmt_addr with the call's varargs from argument `first`.
std::string format_guest_args(StubCall& c, uint64_t fmt_addr, unsigned first);

// "%p" of a kernel pointer, hashed as the emulated kernel's vsnprintf() hashes the guest's.
std::string hashed_pointer(const Kernel& k, uint64_t ptr);

}  // namespace kmodemu
