// kernel/resource.c's region requests, for the emulated kernel's own callers (lib/devres.c's
// __devm_request_region()).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// __request_region(parent, start, n, name, flags): the new busy resource, or 0 when busy.
uint64_t request_region(StubCall& c, uint64_t parent, uint64_t start, uint64_t n, uint64_t name,
                        uint64_t flags);
// __release_region(parent, start, n)
void release_region(StubCall& c, uint64_t parent, uint64_t start, uint64_t n);

}  // namespace kmodemu
