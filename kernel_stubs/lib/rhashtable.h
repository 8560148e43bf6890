// lib/rhashtable.c, for the other subsystems that hold hash tables (fqdir_init()).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// rhashtable_init(ht, params): 0 or -EINVAL (parameters without a key length or hash).
int rhashtable_init(StubCall& c, uint64_t ht, uint64_t params);
// rhashtable_free_and_destroy(ht, free_fn, arg): free_fn (a guest function, or 0) on each entry,
// then the bucket table freed.
void rhashtable_free_and_destroy(StubCall& c, uint64_t ht, uint64_t free_fn, uint64_t arg);

}  // namespace kmodemu
