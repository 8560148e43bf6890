// drivers/gpio/gpiolib.c's consumer lookup, shared with gpiolib-devres.c.
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu::gpio {

// gpiod_get_index(dev, con_id, idx, flags): the descriptor, or ERR_PTR(-ENOENT) when nothing
// describes it (the machine's GPIO lookups: see gpiolib.cc).
uint64_t gpiod_get_index(StubCall& c, uint64_t dev, uint64_t con_id, uint64_t idx);

// IS_ERR() of a pointer of the kernel's word.
bool is_err(Kernel& k, uint64_t p);

// -ENOENT as the kernel's ERR_PTR of the word.
uint64_t err_ptr(Kernel& k, int err);

}  // namespace kmodemu::gpio
