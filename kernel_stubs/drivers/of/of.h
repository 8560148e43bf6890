// The device tree of the machine (drivers/of/): the nodes of the devices declared with --device
// (kernel_stubs/drivers/base/machine.cc), each with its "compatible" property.
#pragma once

#include <cstdint>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// Whether np is a node of the machine's device tree.
bool of_machine_node(Kernel& k, uint64_t np);
// __of_find_property(np, name): the node's struct property of that name, or 0.
uint64_t of_find_property(Kernel& k, uint64_t np, const std::string& name);
// of_match_node(matches, node): the entry of the table that matches the node best, or 0.
uint64_t of_match_node(StubCall& c, uint64_t matches, uint64_t np);
// of_match_device(matches, dev): of_match_node() of dev's node; 0 for none.
uint64_t of_match_device(StubCall& c, uint64_t matches, uint64_t dev);

}  // namespace kmodemu
