// drivers/pci/search.c: looking PCI devices up. The machine's PCI devices are not modelled (the
// oracle's QEMU virt board, run with -nic none and no drives, has one: the host bridge
// 1b36:0008, which no module's lookup asks for), and no module adds one: the PCI bus has no
// device, so every lookup ends as the kernel's does when nothing matches, with NULL, after
// dropping the reference to `from` (pci_dev_put(from)).
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// pci_get_dev_by_id(id, from) and the other bus walks: bus_find_device(&pci_bus_type, from, ...)
// on a bus without devices finds nothing.
uint64_t pci_lookup(StubCall& c, const char* fn, uint64_t from) {
    drivers::DriverModel& dm = c.kernel.state<drivers::DriverModel>();
    uint64_t bus = drivers::kernel_bus(c.kernel, "pci_bus_type", "pci");
    auto it = dm.bus_devices.find(bus);
    if (it != dm.bus_devices.end() && !it->second.empty())
        c.unimplemented(std::string(fn) + " (a PCI bus with devices)");
    // from: a struct pci_dev that cannot exist here (pci_dev_put(from) would put it).
    if (from) c.unimplemented(std::string(fn) + " (from a device)");
    return 0;
}

}  // namespace

void register_pci_search(Kernel& k) {
    const char* sub = "drivers/pci/search";
    // pci_get_device(vendor, device, from), pci_get_subsys(vendor, device, ss_vendor, ss_device,
    // from), pci_get_class(class, from), pci_get_base_class(class, from) (6.4+).
    k.add_function("pci_get_device", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_get_device", c.arg(2)); });
    k.add_function("pci_get_subsys", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_get_subsys", c.arg(4)); });
    k.add_function("pci_get_class", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_get_class", c.arg(1)); });
    k.add_function("pci_get_base_class", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_get_base_class", c.arg(1)); });
    // pci_get_domain_bus_and_slot(domain, bus, devfn): the same walk over the bus.
    k.add_function("pci_get_domain_bus_and_slot", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_get_domain_bus_and_slot", 0); });
    // pci_dev_present(ids): whether any device matches: none.
    k.add_function("pci_dev_present", sub,
                   [](StubCall& c) { return pci_lookup(c, "pci_dev_present", 0); });
    // pci_dev_put(dev) (drivers/pci/probe.c): put_device(&dev->dev) when dev is not NULL; no
    // struct pci_dev exists here to be put.
    k.add_function("pci_dev_put", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0)) c.unimplemented("pci_dev_put (a device)");
        return 0;
    });
}

}  // namespace kmodemu
