// net/core/net_namespace.c, for the other net subsystems: pernet operations on init_net.
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// register_pernet_subsys(): 0 or the init's error (after which nothing stays registered).
int register_pernet_ops(StubCall& c, uint64_t ops);
// unregister_pernet_subsys(): runs the exit and frees the net_generic data.
void unregister_pernet_ops(StubCall& c, uint64_t ops);

}  // namespace kmodemu
