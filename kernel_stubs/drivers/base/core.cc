// drivers/base/bus.c, driver.c and class.c: buses, drivers and classes of the driver model.
#include <cerrno>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu::drivers {

namespace {

std::string read_name(Kernel& k, uint64_t obj, uint64_t field) {
    uint64_t p = k.emu().read_word(obj + field);
    std::string out = "(null)";
    if (p) k.emu().read_cstring(p, 256, out);
    return out;
}

// kset_register() of a name already there: kobject_add_internal() says so, dump_stack()s
// (kmodemu: the message only) and fails with -EEXIST.
int duplicate_name(Kernel& k, const std::string& name) {
    k.log(3, "kobject_add_internal failed for " + name +
                 " with -EEXIST, don't try to register things with the same name in the same "
                 "directory.");
    return -EEXIST;
}

// A struct bus_type that the kernel itself registered: one of its data exports.
bool kernel_owned(Kernel& k, uint64_t addr) {
    const Export* e = k.export_at(addr);
    return e && !e->is_function;
}

}  // namespace

uint64_t kernel_bus(Kernel& k, const std::string& export_name, const std::string& name) {
    if (const Export* e = k.find_export(export_name)) return e->address;
    const KernelStructs& s = k.structs();
    // The struct, then its name (the pointer at bus_type.name points past the struct).
    std::vector<uint8_t> init(s.bus_type.size + name.size() + 1, 0);
    Export& e = k.add_data(export_name, "drivers/base", init.size(), init.data());
    uint64_t str = e.address + s.bus_type.size;
    k.emu().write(str, name.c_str(), name.size() + 1);
    k.emu().write_word(e.address + s.bus_type.name, str);
    k.state<DriverModel>().buses[e.address] = name;
    return e.address;
}

int driver_register(Kernel& k, uint64_t drv) {
    const KernelStructs& s = k.structs();
    DriverModel& dm = k.state<DriverModel>();
    uint64_t bus = k.emu().read_word(drv + s.device_driver.bus);
    std::string name = read_name(k, drv, s.device_driver.name);
    bool registered = dm.buses.count(bus) || (bus && kernel_owned(k, bus));
    if (!registered) {
        std::string bus_name = bus ? read_name(k, bus, s.bus_type.name) : "(null)";
        k.log(3, "Driver '" + name + "' was unable to register with bus_type '" + bus_name +
                     "' because the bus was not initialized.");
        return -EINVAL;
    }
    auto& on_bus = dm.drivers[bus];
    if (on_bus.count(name)) {
        k.log(3, "Error: Driver '" + name + "' is already registered, aborting...");
        return -EBUSY;
    }
    // bus_add_driver(): driver_attach() finds no device on the bus to probe.
    on_bus[name] = drv;
    return 0;
}

void driver_unregister(Kernel& k, uint64_t drv) {
    DriverModel& dm = k.state<DriverModel>();
    for (auto& [bus, on_bus] : dm.drivers)
        for (auto it = on_bus.begin(); it != on_bus.end(); ++it)
            if (it->second == drv) {
                on_bus.erase(it);
                return;
            }
    // WARN(1, "Unexpected driver unregister!\n") (kmodemu: said without the WARN's report)
    k.log(4, "Unexpected driver unregister!");
}

}  // namespace kmodemu::drivers

namespace kmodemu {

using namespace drivers;

void register_driver_core(Kernel& k) {
    const char* sub = "drivers/base";
    // bus_register(): a bus of that name is there already (kset_register()): -EEXIST.
    k.add_function("bus_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t bus = c.arg(0);
        std::string name = read_name(k, bus, k.structs().bus_type.name);
        DriverModel& dm = k.state<DriverModel>();
        for (const auto& [b, n] : dm.buses)
            if (n == name) return static_cast<uint64_t>(int64_t(duplicate_name(k, name)));
        dm.buses[bus] = name;
        return 0;
    }, true);
    k.add_function("bus_unregister", sub, [](StubCall& c) -> uint64_t {
        DriverModel& dm = c.kernel.state<DriverModel>();
        dm.buses.erase(c.arg(0));
        dm.drivers.erase(c.arg(0));
        return 0;
    }, true);
    k.add_function("driver_register", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(driver_register(c.kernel, c.arg(0))));
    }, true);
    k.add_function("driver_unregister", sub, [](StubCall& c) -> uint64_t {
        driver_unregister(c.kernel, c.arg(0));
        return 0;
    }, true);

    // Classes. class_register() (6.4+; 6.1's __class_register(cls, key)): kset_register() of
    // the class's name.
    auto class_register = [](Kernel& k, uint64_t cls) -> int {
        std::string name = read_name(k, cls, k.structs().class_.name);
        DriverModel& dm = k.state<DriverModel>();
        for (const auto& [c, n] : dm.classes)
            if (n == name) return duplicate_name(k, name);
        dm.classes[cls] = name;
        return 0;
    };
    k.add_functions({"__class_register", "class_register"}, sub,
                    [class_register](StubCall& c) -> uint64_t {
                        return static_cast<uint64_t>(int64_t(class_register(c.kernel, c.arg(0))));
                    }, true);
    auto class_unregister = [](Kernel& k, uint64_t cls) {
        DriverModel& dm = k.state<DriverModel>();
        dm.classes.erase(cls);
        if (dm.created_classes.erase(cls)) k.slab().free(cls);  // class_create_release()
    };
    k.add_function("class_unregister", sub, [class_unregister](StubCall& c) -> uint64_t {
        class_unregister(c.kernel, c.arg(0));
        return 0;
    }, true);
    // class_create(): a zeroed struct class named `name`, registered; ERR_PTR on failure.
    // 6.1: __class_create(owner, name, key); 6.4+: class_create(name).
    auto class_create = [class_register](Kernel& k, uint64_t name) -> uint64_t {
        const KernelStructs& s = k.structs();
        uint64_t cls = k.slab_alloc(s.class_.size, gfp_zero);
        if (!cls) return static_cast<uint64_t>(int64_t(-ENOMEM));
        k.emu().write_word(cls + s.class_.name, name);
        if (int err = class_register(k, cls)) {
            k.slab().free(cls);
            return static_cast<uint64_t>(int64_t(err));
        }
        k.state<DriverModel>().created_classes.insert(cls);
        return cls;
    };
    k.add_function("__class_create", sub, [class_create](StubCall& c) -> uint64_t {
        return class_create(c.kernel, c.arg(1));
    }, true);
    k.add_function("class_create", sub, [class_create](StubCall& c) -> uint64_t {
        return class_create(c.kernel, c.arg(0));
    }, true);
    // class_destroy(): nothing for NULL or an ERR_PTR.
    k.add_function("class_destroy", sub, [class_unregister](StubCall& c) -> uint64_t {
        uint64_t cls = c.arg(0);
        uint64_t err_min = c.kernel.word() == 8 ? uint64_t(-4095) : 0xfffff001u;
        if (cls && cls < err_min) class_unregister(c.kernel, cls);
        return 0;
    }, true);

    // bus_register_notifier(bus, nb) / bus_unregister_notifier(): the bus's blocking chain; no
    // device comes or goes here to call it.
    k.add_function("bus_register_notifier", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<DriverModel>().bus_notifiers[c.arg(0)].insert(c.arg(1));
        return 0;
    }, true);
    k.add_function("bus_unregister_notifier", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<DriverModel>().bus_notifiers[c.arg(0)].erase(c.arg(1));
        return 0;
    }, true);
    // bus_for_each_dev(bus, start, data, fn): a bus registered by a module has no device here;
    // the kernel's own buses have the machine's devices, which kmodemu does not model.
    k.add_function("bus_for_each_dev", sub, [](StubCall& c) -> uint64_t {
        DriverModel& dm = c.kernel.state<DriverModel>();
        uint64_t bus = c.arg(0);
        if (!bus) return static_cast<uint64_t>(int64_t(-EINVAL));
        if (dm.buses.count(bus) && !kernel_owned(c.kernel, bus)) return 0;
        c.unimplemented("bus_for_each_dev (the devices of the kernel's own bus)");
    }, true);
    // Attribute files in sysfs: made, and read by no one here.
    k.add_functions({"driver_create_file", "class_create_file_ns"}, sub,
                    [](StubCall& c) -> uint64_t {
                        return c.arg(0) ? 0 : static_cast<uint64_t>(int64_t(-EINVAL));
                    },
                    true);
    k.add_functions({"driver_remove_file", "class_remove_file_ns"}, sub,
                    [](StubCall&) -> uint64_t { return 0; }, true);

    // The buses the kernel registered at boot that modules register drivers with.
    kernel_bus(k, "platform_bus_type", "platform");
    kernel_bus(k, "i2c_bus_type", "i2c");
    kernel_bus(k, "pci_bus_type", "pci");

    // drivers/base/platform.c: __platform_driver_register(drv, owner).
    k.add_function("__platform_driver_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = c.arg(0) + s.bus_drivers.platform_driver;
        c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
        c.emu.write_word(drv + s.device_driver.bus,
                         kernel_bus(k, "platform_bus_type", "platform"));
        return static_cast<uint64_t>(int64_t(driver_register(k, drv)));
    }, true);
    k.add_function("platform_driver_unregister", sub, [](StubCall& c) -> uint64_t {
        driver_unregister(c.kernel, c.arg(0) + c.kernel.structs().bus_drivers.platform_driver);
        return 0;
    }, true);
    // drivers/i2c/i2c-core-base.c: i2c_register_driver(owner, driver). No adapter is there to
    // walk.
    k.add_function("i2c_register_driver", "drivers/i2c", [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = c.arg(1) + s.bus_drivers.i2c_driver;
        c.emu.write_word(drv + s.device_driver.owner, c.arg(0));
        c.emu.write_word(drv + s.device_driver.bus, kernel_bus(k, "i2c_bus_type", "i2c"));
        return static_cast<uint64_t>(int64_t(driver_register(k, drv)));
    });
    k.add_function("i2c_del_driver", "drivers/i2c", [](StubCall& c) -> uint64_t {
        driver_unregister(c.kernel, c.arg(0) + c.kernel.structs().bus_drivers.i2c_driver);
        return 0;
    });
    // drivers/pci/pci-driver.c: __pci_register_driver(drv, owner, mod_name).
    k.add_function("__pci_register_driver", "drivers/pci", [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t pdrv = c.arg(0);
        uint64_t drv = pdrv + s.bus_drivers.pci_driver;
        c.emu.write_word(drv + s.device_driver.name,
                         c.emu.read_word(pdrv + s.bus_drivers.pci_driver_name));
        c.emu.write_word(drv + s.device_driver.bus, kernel_bus(k, "pci_bus_type", "pci"));
        c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
        c.emu.write_word(drv + s.device_driver.mod_name, c.arg(2));
        return static_cast<uint64_t>(int64_t(driver_register(k, drv)));
    });
    k.add_function("pci_unregister_driver", "drivers/pci", [](StubCall& c) -> uint64_t {
        driver_unregister(c.kernel, c.arg(0) + c.kernel.structs().bus_drivers.pci_driver);
        return 0;
    });
}

}  // namespace kmodemu
