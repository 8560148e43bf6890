// The driver model's state (drivers/base/base.h): the buses and classes registered, each bus's
// drivers and the devices modules add to it, and which driver each is bound to. The machine's
// own devices are not modelled: a driver finds only the devices modules made.
#pragma once

#include <cstdint>
#include <functional>
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
    std::map<uint64_t, std::vector<uint64_t>> bus_devices;     // bus -> devices, in add order
    std::map<uint64_t, std::vector<uint64_t>> bound;           // driver -> its devices
    std::set<uint64_t> deferred;  // devices whose probe was deferred (deferred_probe_pending_list)
    // The kernel's own buses whose match/probe/remove kmodemu implements (bus_type's functions
    // of the kernel: platform_match(), platform_probe(), platform_remove()).
    struct KernelBusOps {
        std::function<int(StubCall&, uint64_t dev, uint64_t drv)> match;
        std::function<int(StubCall&, uint64_t dev)> probe;
        std::function<void(StubCall&, uint64_t dev)> remove;
    };
    std::map<uint64_t, KernelBusOps> kernel_bus_ops;
    std::map<uint64_t, std::vector<uint64_t>> class_interfaces;  // class -> class_interface
    std::map<uint64_t, std::string> last_driver;  // device -> the last driver that bound it
};

// of_platform_device_create() of a device the machine declares (drivers/of/platform.c): a
// platform device named `name` with the node np (or none), the resources res[num] (kcalloc'ed,
// the device's from then on), on the platform bus under the "platform" device, added
// (of_device_add()). Its struct platform_device.
uint64_t declare_platform_device(StubCall& c, const std::string& name, uint64_t np, uint64_t res,
                                 unsigned num);
// devm_ioremap_resource(dev, res) (lib/devres.c, kernel_stubs/lib/devres.cc): the mapping or
// an ERR_PTR, with the kernel's messages.
uint64_t devm_ioremap_resource(StubCall& c, uint64_t dev, uint64_t res);
// platform_get_resource(pdev, type, num)
uint64_t platform_get_resource(Kernel& k, uint64_t pdev, uint64_t type, unsigned num);

// The kernel's own bus of that export (platform_bus_type, ...): a struct bus_type in kernel data
// whose name field points at `name`, registered at boot.
uint64_t kernel_bus(Kernel& k, const std::string& export_name, const std::string& name);

// A struct bus_type that the kernel itself registered: one of its data exports.
bool kernel_owned(Kernel& k, uint64_t addr);

// driver_register() (drivers/base/driver.c): 0 or -errno, with the kernel's messages; the bus's
// devices are matched and probed (driver_attach()).
int driver_register(StubCall& c, uint64_t drv);
// driver_unregister(): its devices released first (driver_detach()).
void driver_unregister(StubCall& c, uint64_t drv);

// class_register() (drivers/base/class.c): 0 or -EEXIST with the kernel's message.
int class_register(Kernel& k, uint64_t cls);
void class_unregister(Kernel& k, uint64_t cls);

// drivers/base/dd.c and bus.c (kernel_stubs/drivers/base/dd.cc).
// bus_add_device() and bus_probe_device() of device_add(): 0 or -errno.
int bus_add_device(StubCall& c, uint64_t dev);
void bus_probe_device(StubCall& c, uint64_t dev);
// bus_remove_device() of device_del(): the driver released (its remove), the device off the bus.
void bus_remove_device(StubCall& c, uint64_t dev);
// driver_attach() of bus_add_driver(): 0 or the bus's match error.
int driver_attach(StubCall& c, uint64_t drv);
// driver_detach() of bus_remove_driver().
void driver_detach(StubCall& c, uint64_t drv);

// devres_release_all() (drivers/base/devres.c): the device's managed resources released, last
// added first.
void devres_release_all(StubCall& c, uint64_t dev);
// devres_alloc(release, size) (zeroed), devres_add(dev, data), devres_free(data) for the
// emulated kernel's own managed resources (`release`: a function of the kernel, called
// release(dev, data)).
uint64_t devres_alloc_node(Kernel& k, uint64_t release, uint64_t size);
void devres_add_node(Kernel& k, uint64_t dev, uint64_t data);
void devres_free_node(Kernel& k, uint64_t data);
// devres_destroy(dev, release, match): the last resource of dev with that release whose data
// match() accepts, off the list and freed (not released); false for none.
bool devres_destroy_node(Kernel& k, uint64_t dev, uint64_t release,
                         const std::function<bool(uint64_t data)>& match);
// devm_kstrdup(dev, s, GFP_KERNEL)
uint64_t devm_kstrdup_node(Kernel& k, uint64_t dev, const std::string& s);
// Whether the device has managed resources.
bool devres_present(Kernel& k, uint64_t dev);

// drivers/base/core.c (kernel_stubs/drivers/base/device.cc).
void device_initialize(Kernel& k, uint64_t dev);
void dev_set_name(Kernel& k, uint64_t dev, const std::string& name);
std::string dev_name(Kernel& k, uint64_t dev);
int device_add(StubCall& c, uint64_t dev);
void device_del(StubCall& c, uint64_t dev);
void put_device(StubCall& c, uint64_t dev);
// The registered devices of a class, in add order (class_dev_iter).
std::vector<uint64_t> class_devices(Kernel& k, uint64_t cls);
// dev_printk() at a level: "<driver> <device>: <msg>".
void dev_printk(Kernel& k, int level, uint64_t dev, const std::string& msg);

// -EPROBE_DEFER (include/linux/errno.h): kernel-internal, not in the host's <cerrno>.
constexpr int eprobe_defer = 517;

// Whether dev is a struct device that device_add() added (and not yet deleted).
bool device_is_added(Kernel& k, uint64_t dev);

// dev_printk()'s "<driver> <device>: " ("(NULL device *): " for no device).
std::string dev_printk_prefix(Kernel& k, uint64_t dev);

}  // namespace kmodemu::drivers
