// The driver model's state (drivers/base/base.h): the buses and classes registered, and each
// bus's drivers. The emulated machine has no devices, so no driver is ever bound: a driver
// registers and waits, as on a board without its hardware.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu::drivers {

struct DriverModel : Kernel::SubsystemState {
    std::map<uint64_t, std::string> buses;    // struct bus_type * -> name (bus_register())
    std::map<uint64_t, std::string> classes;  // struct class * -> name
    std::map<uint64_t, std::map<std::string, uint64_t>> drivers;  // bus -> name -> driver
    std::set<uint64_t> created_classes;                            // by class_create()
    std::map<uint64_t, std::set<uint64_t>> bus_notifiers;          // bus -> notifier blocks
    std::vector<uint64_t> order;  // every registered driver, in registration order
};

// The kernel's own bus of that export (platform_bus_type, ...): a struct bus_type in kernel data
// whose name field points at `name`, registered at boot.
uint64_t kernel_bus(Kernel& k, const std::string& export_name, const std::string& name);

// driver_register() (drivers/base/driver.c): 0 or -errno, with the kernel's messages.
int driver_register(Kernel& k, uint64_t drv);
// driver_unregister()
void driver_unregister(Kernel& k, uint64_t drv);

// dev_printk()'s "<driver> <device>: " ("(NULL device *): " for no device).
std::string dev_printk_prefix(Kernel& k, uint64_t dev);

}  // namespace kmodemu::drivers
