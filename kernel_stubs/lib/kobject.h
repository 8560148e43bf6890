// lib/kobject.c for the other subsystems.
#pragma once

#include <cstdint>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// kobject_get_path(): "/parent/.../name", from the kobjects' name and parent fields.
std::string kobject_path(Kernel& k, uint64_t kobj);

}  // namespace kmodemu
