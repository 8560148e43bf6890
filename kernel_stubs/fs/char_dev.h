// fs/char_dev.c's device number regions, for the subsystems that take theirs (tty drivers).
#pragma once

#include <cstdint>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// register_chrdev_region(from, count, name): 0 or -errno (with the kernel's messages).
int register_chrdev_region(Kernel& k, uint32_t from, uint32_t count, const std::string& name);
// alloc_chrdev_region(&dev, baseminor, count, name): 0 and the first number, or -errno.
int alloc_chrdev_region(Kernel& k, uint32_t& dev, unsigned baseminor, unsigned count,
                        const std::string& name);
void unregister_chrdev_region(Kernel& k, uint32_t from, uint32_t count);

}  // namespace kmodemu
