// drivers/base/dd.c and the device half of drivers/base/bus.c: a device added to a bus is matched
// against the bus's drivers (bus_probe_device() -> __device_attach()), a driver registered on a
// bus against its devices (driver_attach()), and on a match the driver probes the device
// (really_probe()); device_del() and driver_unregister() release the binding (the driver's
// remove). The bus's match/probe/remove are the bus_type's own functions for a bus a module
// registered, and kmodemu's for the kernel's buses it implements (the platform bus); a device on
// another of the kernel's buses stops the run, saying so.
//
// Asynchronous probing (PROBE_PREFER_ASYNCHRONOUS) is done at once: do_init_module() waits for
// it (async_synchronize_full()) before insmod returns. A deferred probe (-EPROBE_DEFER) leaves
// the device on the deferred list; the retry that a later binding triggers runs from a
// workqueue, after insmod, and is not modelled.
#include <algorithm>
#include <cerrno>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/drivers/of/of.h"
#include "kernel_stubs/structs.h"

namespace kmodemu::drivers {

namespace {

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string drv_name(Kernel& k, uint64_t drv) {
    std::string out;
    if (uint64_t p = word(k, drv + k.structs().device_driver.name))
        k.emu().read_cstring(p, 256, out);
    return out;
}

const DriverModel::KernelBusOps* kernel_ops(Kernel& k, uint64_t bus) {
    DriverModel& dm = k.state<DriverModel>();
    auto it = dm.kernel_bus_ops.find(bus);
    return it == dm.kernel_bus_ops.end() ? nullptr : &it->second;
}

// driver_match_device(): drv->bus->match ? drv->bus->match(dev, drv) : 1.
int match_device(StubCall& c, uint64_t drv, uint64_t dev) {
    Kernel& k = c.kernel;
    uint64_t bus = word(k, drv + k.structs().device_driver.bus);
    if (const auto* ops = kernel_ops(k, bus)) return ops->match(c, dev, drv);
    uint64_t match = word(k, bus + k.structs().bus_type.match);
    return match ? static_cast<int32_t>(k.call_guest(match, {dev, drv})) : 1;
}

// call_driver_probe(): the bus's probe, else the driver's, and the kernel's word on a failure.
int call_driver_probe(StubCall& c, uint64_t dev, uint64_t drv) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t bus = word(k, dev + s.device.bus);
    int ret = 0;
    if (const auto* ops = kernel_ops(k, bus))
        ret = ops->probe(c, dev);
    else if (uint64_t probe = word(k, bus + s.bus_type.probe))
        ret = static_cast<int32_t>(k.call_guest(probe, {dev}));
    else if (uint64_t dprobe = word(k, drv + s.device_driver.probe))
        ret = static_cast<int32_t>(k.call_guest(dprobe, {dev}));
    // -EPROBE_DEFER: dev_dbg(); -ENODEV/-ENXIO: pr_debug() "rejects match".
    if (ret && ret != -eprobe_defer && ret != -ENODEV && ret != -ENXIO)
        k.log(4, drv_name(k, drv) + ": probe of " + dev_name(k, dev) + " failed with error " +
                     std::to_string(ret));
    return ret;
}

// device_unbind_cleanup(): devres_release_all(), dev->driver = NULL, dev_set_drvdata(dev, NULL).
void unbind_cleanup(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    devres_release_all(c, dev);
    k.emu().write_word(dev + s.device.driver, 0);
    k.emu().write_word(dev + s.device.driver_data, 0);
}

// really_probe(): dev->driver set, pins (pinctrl_bind_pins(): a device without a node has no
// pin state) and DMA (the bus's dma_configure: nothing for a device without a firmware node),
// the probe; 0 when bound, the probe's error as a positive value.
int really_probe(StubCall& c, uint64_t dev, uint64_t drv) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    // A node of the machine's device tree (declared with --device) has no pinctrl-0 property
    // (pinctrl_bind_pins(): nothing to do) and no dma-ranges (of_dma_configure(): the default
    // masks, already set when the device was made).
    uint64_t np = word(k, dev + s.device.of_node);
    if ((np && !of_machine_node(k, np)) || (!np && word(k, dev + s.device.fwnode)))
        c.unimplemented("really_probe (a device with a firmware node: pins, DMA configuration)");
    if (devres_present(k, dev)) {
        dev_printk(k, 2, dev, "Resources present before probing");  // dev_crit()
        return -EBUSY;
    }
    k.emu().write_word(dev + s.device.driver, drv);
    int ret = call_driver_probe(c, dev, drv);
    if (ret) {
        unbind_cleanup(c, dev);
        return -ret;
    }
    // driver_bound(): on the driver's list of devices.
    k.state<DriverModel>().bound[drv].push_back(dev);
    k.state<DriverModel>().last_driver[dev] = drv_name(k, drv);
    k.state<DriverModel>().deferred.erase(dev);
    return 0;
}

// driver_probe_device() / __driver_probe_device(): -ENODEV for a device no longer registered
// (kmodemu: one not on its bus), -EBUSY when it has a driver; a deferral puts it on the deferred
// list.
int driver_probe_device(StubCall& c, uint64_t drv, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    const auto& on_bus = dm.bus_devices[word(k, dev + s.device.bus)];
    if (std::find(on_bus.begin(), on_bus.end(), dev) == on_bus.end()) return -ENODEV;
    if (word(k, dev + s.device.driver)) return -EBUSY;
    int ret = really_probe(c, dev, drv);
    if (ret == -eprobe_defer || ret == eprobe_defer) dm.deferred.insert(dev);
    return ret;
}

// __device_release_driver(): device_remove() (the bus's remove, else the driver's), then
// device_unbind_cleanup(); off the driver's list.
void release_driver(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t drv = word(k, dev + s.device.driver);
    if (!drv) return;
    uint64_t bus = word(k, dev + s.device.bus);
    if (const auto* ops = kernel_ops(k, bus))
        ops->remove(c, dev);
    else if (uint64_t remove = word(k, bus + s.bus_type.remove))
        k.call_guest(remove, {dev});
    else if (uint64_t dremove = word(k, drv + s.device_driver.remove))
        k.call_guest(dremove, {dev});
    unbind_cleanup(c, dev);
    std::erase(k.state<DriverModel>().bound[drv], dev);
}

}  // namespace

int bus_add_device(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    uint64_t bus = word(k, dev + s.device.bus);
    if (!bus) return 0;
    bool module_bus = dm.buses.count(bus) && !kernel_owned(k, bus);
    if (!module_bus && !kernel_ops(k, bus))
        c.unimplemented("device_add (a device on the kernel's bus " +
                        (dm.buses.count(bus) ? dm.buses[bus] : std::string("?")) + ")");
    if (!dm.bus_notifiers[bus].empty())
        c.unimplemented("device_add (the bus's notifier chain, BUS_NOTIFY_ADD_DEVICE)");
    dm.bus_devices[bus].push_back(dev);
    return 0;
}

// bus_probe_device() -> __device_attach(): each driver of the bus in registration order
// (bus_for_each_drv()) until one binds (__device_attach_driver()); a failed probe lets the next
// driver try, a match that defers or fails stops the walk.
void bus_probe_device(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    uint64_t bus = word(k, dev + s.device.bus);
    if (!bus || word(k, dev + s.device.driver)) return;
    std::vector<uint64_t> drvs;
    for (uint64_t d : dm.order)
        if (word(k, d + s.device_driver.bus) == bus) drvs.push_back(d);
    for (uint64_t drv : drvs) {
        if (std::find(dm.order.begin(), dm.order.end(), drv) == dm.order.end()) continue;
        int m = match_device(c, drv, dev);
        if (m == 0) continue;
        if (m == -eprobe_defer) {  // dev_dbg(dev, "Device match requests probe deferral\n")
            dm.deferred.insert(dev);
            return;
        }
        if (m < 0) return;  // dev_dbg(dev, "Bus failed to match device: %d\n", ret)
        int ret = driver_probe_device(c, drv, dev);
        if (ret < 0 || ret == 0) return;
    }
}

void bus_remove_device(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    uint64_t bus = word(k, dev + s.device.bus);
    if (!bus) return;
    if (!dm.bus_notifiers[bus].empty())
        c.unimplemented("device_del (the bus's notifier chain, BUS_NOTIFY_DEL_DEVICE)");
    release_driver(c, dev);  // device_release_driver()
    std::erase(dm.bus_devices[bus], dev);
    dm.deferred.erase(dev);
}

// driver_attach() -> bus_for_each_dev(__driver_attach): each device of the bus in add order;
// a match error stops the walk and is returned, a probe's result is not.
int driver_attach(StubCall& c, uint64_t drv) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    uint64_t bus = word(k, drv + s.device_driver.bus);
    std::vector<uint64_t> devs = dm.bus_devices[bus];
    for (uint64_t dev : devs) {
        int m = match_device(c, drv, dev);
        if (m == 0) continue;
        if (m == -eprobe_defer) {  // dev_dbg(dev, "Device match requests probe deferral\n")
            dm.deferred.insert(dev);
            continue;
        }
        if (m < 0) return m;  // dev_dbg(dev, "Bus failed to match device: %d\n", ret)
        driver_probe_device(c, drv, dev);
    }
    return 0;
}

// driver_detach(): each device bound to the driver, last bound first, released.
void driver_detach(StubCall& c, uint64_t drv) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    while (!dm.bound[drv].empty()) {
        uint64_t dev = dm.bound[drv].back();
        if (word(k, dev + s.device.driver) != drv) {
            std::erase(dm.bound[drv], dev);
            continue;
        }
        release_driver(c, dev);
    }
    dm.bound.erase(drv);
}

}  // namespace kmodemu::drivers
