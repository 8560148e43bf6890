// net/core/dev.c, for the other net subsystems: init_net's devices and their unregistration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// for_each_netdev(&init_net, dev)
std::vector<uint64_t> init_net_devices(Kernel& k);
// unregister_netdevice_queue(dev, head): onto the list at head, or unregistered now (head 0).
void unregister_netdevice_queue(StubCall& c, uint64_t dev, uint64_t head);
// unregister_netdevice_many(head)
void unregister_netdevice_many(StubCall& c, uint64_t head);
// netdev_run_todo(): what rtnl_unlock() finishes of the unregistrations.
void netdev_run_todo(StubCall& c);
// alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, txqs, rxqs)
uint64_t alloc_netdev(StubCall& c, uint64_t sizeof_priv, const std::string& name, uint8_t type,
                      uint64_t setup, uint32_t txqs, uint32_t rxqs);
// ether_setup(dev) (net/ethernet/eth.c)
void ether_setup_dev(Kernel& k, uint64_t dev);

}  // namespace kmodemu
