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

}  // namespace

bool kernel_owned(Kernel& k, uint64_t addr) {
    const Export* e = k.export_at(addr);
    return e && !e->is_function;
}

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

int driver_register(StubCall& c, uint64_t drv) {
    Kernel& k = c.kernel;
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
    // bus_add_driver(): on the bus's list, then driver_attach() (drivers_autoprobe): the bus's
    // devices are matched and probed; a match error takes the driver off the bus again.
    on_bus[name] = drv;
    dm.order.push_back(drv);
    if (int err = driver_attach(c, drv)) {
        dm.drivers[bus].erase(name);
        std::erase(dm.order, drv);
        return err;
    }
    return 0;
}

// class_register() (6.4+; 6.1's __class_register(cls, key)): kset_register() of the class's
// name.
int class_register(Kernel& k, uint64_t cls) {
    std::string name = read_name(k, cls, k.structs().class_.name);
    DriverModel& dm = k.state<DriverModel>();
    for (const auto& [c, n] : dm.classes)
        if (n == name) return duplicate_name(k, name);
    dm.classes[cls] = name;
    return 0;
}

void class_unregister(Kernel& k, uint64_t cls) {
    DriverModel& dm = k.state<DriverModel>();
    dm.classes.erase(cls);
    if (dm.created_classes.erase(cls)) k.slab().free(cls);  // class_create_release()
}

void driver_unregister(StubCall& c, uint64_t drv) {
    Kernel& k = c.kernel;
    DriverModel& dm = k.state<DriverModel>();
    for (auto& [bus, on_bus] : dm.drivers)
        for (auto it = on_bus.begin(); it != on_bus.end(); ++it)
            if (it->second == drv) {
                // bus_remove_driver(): driver_detach() releases its devices first.
                driver_detach(c, drv);
                dm.drivers[bus].erase(read_name(k, drv, k.structs().device_driver.name));
                std::erase(dm.order, drv);
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
        return static_cast<uint64_t>(int64_t(driver_register(c, c.arg(0))));
    }, true);
    k.add_function("driver_unregister", sub, [](StubCall& c) -> uint64_t {
        driver_unregister(c, c.arg(0));
        return 0;
    }, true);

    // Classes.
    k.add_functions({"__class_register", "class_register"}, sub,
                    [](StubCall& c) -> uint64_t {
                        return static_cast<uint64_t>(int64_t(class_register(c.kernel, c.arg(0))));
                    }, true);
    k.add_function("class_unregister", sub, [](StubCall& c) -> uint64_t {
        class_unregister(c.kernel, c.arg(0));
        return 0;
    }, true);
    // class_create(): a zeroed struct class named `name`, registered; ERR_PTR on failure.
    // 6.1: __class_create(owner, name, key); 6.4+: class_create(name).
    auto class_create = [](Kernel& k, uint64_t name) -> uint64_t {
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
    k.add_function("class_destroy", sub, [](StubCall& c) -> uint64_t {
        uint64_t cls = c.arg(0);
        uint64_t err_min = c.kernel.word() == 8 ? uint64_t(-4095) : 0xfffff001u;
        if (cls && cls < err_min) class_unregister(c.kernel, cls);
        return 0;
    }, true);

    // class_interface_register(intf): -ENODEV without a class; on the class's list of
    // interfaces, its add_dev called for each device of the class. class_interface_unregister():
    // remove_dev for each, off the list.
    k.add_function("class_interface_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::ClassInterface& ci = k.structs().class_interface;
        uint64_t intf = c.arg(0);
        uint64_t cls = intf ? c.emu.read_word(intf + ci.class_) : 0;
        if (!cls) return static_cast<uint64_t>(int64_t(-ENODEV));
        DriverModel& dm = k.state<DriverModel>();
        if (!dm.classes.count(cls))
            c.unimplemented("class_interface_register (a class kmodemu has not registered)");
        dm.class_interfaces[cls].push_back(intf);
        if (uint64_t add_dev = c.emu.read_word(intf + ci.add_dev))
            for (uint64_t dev : class_devices(k, cls))
                k.call_guest(add_dev, {dev, intf});
        return 0;
    }, true);
    k.add_function("class_interface_unregister", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::ClassInterface& ci = k.structs().class_interface;
        uint64_t intf = c.arg(0);
        uint64_t cls = intf ? c.emu.read_word(intf + ci.class_) : 0;
        if (!cls) return 0;
        DriverModel& dm = k.state<DriverModel>();
        std::erase(dm.class_interfaces[cls], intf);
        if (uint64_t remove_dev = c.emu.read_word(intf + ci.remove_dev))
            for (uint64_t dev : class_devices(k, cls))
                k.call_guest(remove_dev, {dev, intf});
        return 0;
    }, true);

    // driver_attach(drv) (drivers/base/dd.c): the bus's devices matched and probed.
    k.add_function("driver_attach", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(driver_attach(c, c.arg(0))));
    }, true);
    // driver_find(name, bus): the bus's driver of that name, or NULL. The kernel's own buses
    // also have the kernel's built-in drivers, which kmodemu does not know.
    k.add_function("driver_find", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        std::string name = c.read_cstr(c.arg(0), 256);
        uint64_t bus = c.arg(1);
        DriverModel& dm = k.state<DriverModel>();
        auto& on_bus = dm.drivers[bus];
        if (auto it = on_bus.find(name); it != on_bus.end()) return it->second;
        if (kernel_owned(k, bus))
            c.unimplemented("driver_find (the kernel's built-in drivers of its bus)");
        return 0;
    }, true);
    // driver_for_each_device(drv, start, data, fn): the driver's devices, in bind order, after
    // start, until fn returns non-zero; -EINVAL for no driver.
    k.add_function("driver_for_each_device", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t drv = c.arg(0);
        if (!drv) return static_cast<uint64_t>(int64_t(-EINVAL));
        std::vector<uint64_t> devs = k.state<DriverModel>().bound[drv];
        uint64_t start = c.arg(1), data = c.arg(2), fn = c.arg(3);
        bool started = !start;
        for (uint64_t d : devs) {
            if (!started) {
                started = d == start;
                continue;
            }
            int err = static_cast<int32_t>(k.call_guest(fn, {d, data}));
            if (err) return static_cast<uint64_t>(int64_t(err));
        }
        return 0;
    }, true);

    // bus_register_notifier(bus, nb) / bus_unregister_notifier(): the bus's blocking chain
    // (a device added or removed on a bus with notifiers stops the run: the chain's calls are
    // not emulated).
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
    kernel_bus(k, "spi_bus_type", "spi");

    // bus_for_each_drv(bus, start, data, fn): the drivers of a bus registered by a module, in
    // registration order, until fn returns non-zero; the kernel's own buses have built-in
    // drivers kmodemu does not know.
    k.add_function("bus_for_each_drv", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        DriverModel& dm = k.state<DriverModel>();
        uint64_t bus = c.arg(0);
        if (!bus) return static_cast<uint64_t>(int64_t(-EINVAL));
        if (!dm.buses.count(bus) || kernel_owned(k, bus))
            c.unimplemented("bus_for_each_drv (the drivers of the kernel's own bus)");
        std::vector<uint64_t> drvs;
        for (uint64_t d : dm.order)
            for (const auto& [n, p] : dm.drivers[bus])
                if (p == d) drvs.push_back(d);
        uint64_t start = c.arg(1), data = c.arg(2), fn = c.arg(3);
        bool started = !start;
        for (uint64_t d : drvs) {
            if (!started) {
                started = d == start;
                continue;
            }
            int err = static_cast<int32_t>(k.call_guest(fn, {d, data}));
            if (err) return static_cast<uint64_t>(int64_t(err));
        }
        return 0;
    }, true);

    // drivers/spi/spi.c: __spi_register_driver(owner, sdrv), with its warning for each
    // compatible of the OF match table that no spi_device_id (or the driver's name) matches.
    k.add_function("__spi_register_driver", "drivers/spi", [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t sdrv = c.arg(1);
        uint64_t drv = sdrv + s.spi.driver;
        c.emu.write_word(drv + s.device_driver.owner, c.arg(0));
        c.emu.write_word(drv + s.device_driver.bus, kernel_bus(k, "spi_bus_type", "spi"));
        uint64_t of_id = c.emu.read_word(drv + s.of_match.table);
        uint64_t id_table = c.emu.read_word(sdrv + s.spi.id_table);
        std::string drv_name = read_name(k, drv, s.device_driver.name);
        for (; of_id; of_id += s.of_match.size) {
            std::string compatible = c.read_cstr(of_id + s.of_match.compatible,
                                                 s.of_match.compatible_len);
            if (compatible.empty()) break;
            size_t comma = compatible.find(',');
            std::string of_name = comma == std::string::npos ? compatible : compatible.substr(comma + 1);
            bool matched = false;
            if (id_table) {
                for (uint64_t id = id_table;; id += s.spi.id_size) {  // spi_match_id()
                    std::string n = c.read_cstr(id + s.spi.id_name, s.spi.id_name_len);
                    if (n.empty()) break;
                    if (n == of_name) {
                        matched = true;
                        break;
                    }
                }
            } else {
                matched = drv_name == of_name;
            }
            if (!matched)
                k.log(4, "SPI driver " + drv_name + " has no spi_device_id for " + compatible);
        }
        return static_cast<uint64_t>(int64_t(driver_register(c, drv)));
    }, true);

    // drivers/i2c/i2c-core-base.c: i2c_register_driver(owner, driver). No adapter is there to
    // walk.
    k.add_function("i2c_register_driver", "drivers/i2c", [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = c.arg(1) + s.bus_drivers.i2c_driver;
        c.emu.write_word(drv + s.device_driver.owner, c.arg(0));
        c.emu.write_word(drv + s.device_driver.bus, kernel_bus(k, "i2c_bus_type", "i2c"));
        return static_cast<uint64_t>(int64_t(driver_register(c, drv)));
    });
    k.add_function("i2c_del_driver", "drivers/i2c", [](StubCall& c) -> uint64_t {
        driver_unregister(c, c.arg(0) + c.kernel.structs().bus_drivers.i2c_driver);
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
        return static_cast<uint64_t>(int64_t(driver_register(c, drv)));
    });
    k.add_function("pci_unregister_driver", "drivers/pci", [](StubCall& c) -> uint64_t {
        driver_unregister(c, c.arg(0) + c.kernel.structs().bus_drivers.pci_driver);
        return 0;
    });
}

}  // namespace kmodemu
