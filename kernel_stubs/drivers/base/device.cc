// drivers/base/core.c: struct device's life (device_initialize(), naming, device_add() and
// device_del(), with the bus's matching and probing of kernel_stubs/drivers/base/dd.cc,
// references and release) and the dev_printk() family.
#include <cerrno>
#include <map>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace drivers {

namespace {

struct Devices : Kernel::SubsystemState {
    struct Dev {
        bool added = false;
        bool created = false;  // by device_create(): its release is device_create_release()
        bool name_ours = false;  // kobj.name allocated here
        uint64_t seq = 0;        // add order
    };
    std::map<uint64_t, Dev> devices;
    uint64_t next_seq = 0;
};

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string cstr(Kernel& k, uint64_t p) {
    std::string s;
    if (p) k.emu().read_cstring(p, 256, s);
    return s;
}

}  // namespace

// kobject_set_name(): the device's name, kmalloc'ed.
void dev_set_name(Kernel& k, uint64_t dev, const std::string& name) {
    const KernelStructs::Device& d = k.structs().device;
    Devices::Dev& rec = k.state<Devices>().devices[dev];
    uint64_t old = word(k, dev + d.kobj_name);
    if (old && rec.name_ours) k.slab().free(old);
    uint64_t p = k.slab_alloc(name.size() + 1, 0);
    if (p) k.emu().write(p, name.c_str(), name.size() + 1);
    k.emu().write_word(dev + d.kobj_name, p);
    rec.name_ours = p != 0;
}

std::string dev_name(Kernel& k, uint64_t dev) {
    return cstr(k, word(k, dev + k.structs().device.kobj_name));
}

void device_initialize(Kernel& k, uint64_t dev) {
    uint32_t one = 1;  // kobject_init(): kref_init()
    k.emu().write(dev + k.structs().device.kobj_kref, &one, 4);
    k.state<Devices>().devices[dev];
}

int device_add(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs::Device& d = k.structs().device;
    if (!dev) return -EINVAL;
    if (uint64_t init_name = word(k, dev + d.init_name)) {
        dev_set_name(k, dev, cstr(k, init_name));
        k.emu().write_word(dev + d.init_name, 0);
    }
    if (!word(k, dev + d.kobj_name)) {
        // "device: '(null)': device_add: name ..." is pr_debug(); the error is -EINVAL.
        return -EINVAL;
    }
    // bus_add_device(), then (after the uevent) bus_probe_device(): the bus's drivers are
    // matched and the first that binds probes it; a failed probe does not fail device_add().
    if (int err = bus_add_device(c, dev)) return err;
    Devices& ds = k.state<Devices>();
    ds.devices[dev].added = true;
    ds.devices[dev].seq = ds.next_seq++;
    bus_probe_device(c, dev);
    // The class's interfaces' add_dev(dev, intf).
    if (uint64_t cls = word(k, dev + d.class_)) {
        std::vector<uint64_t> intfs = k.state<DriverModel>().class_interfaces[cls];
        for (uint64_t intf : intfs)
            if (uint64_t add_dev = word(k, intf + k.structs().class_interface.add_dev))
                k.call_guest(add_dev, {dev, intf});
    }
    return 0;
}

std::vector<uint64_t> class_devices(Kernel& k, uint64_t cls) {
    std::map<uint64_t, uint64_t> by_seq;
    for (const auto& [dev, rec] : k.state<Devices>().devices)
        if (rec.added && word(k, dev + k.structs().device.class_) == cls) by_seq[rec.seq] = dev;
    std::vector<uint64_t> out;
    for (const auto& [seq, dev] : by_seq)
        out.push_back(dev);
    return out;
}

// device_del(): off its bus (its driver's remove runs), no longer registered.
void device_del(StubCall& c, uint64_t dev) {
    Devices::Dev& rec = c.kernel.state<Devices>().devices[dev];
    if (!rec.added) return;
    Kernel& k = c.kernel;
    // The class's interfaces' remove_dev(dev, intf), then off the bus.
    if (uint64_t cls = word(k, dev + k.structs().device.class_)) {
        std::vector<uint64_t> intfs = k.state<DriverModel>().class_interfaces[cls];
        for (uint64_t intf : intfs)
            if (uint64_t remove_dev = word(k, intf + k.structs().class_interface.remove_dev))
                k.call_guest(remove_dev, {dev, intf});
    }
    k.state<Devices>().devices[dev].added = false;
    bus_remove_device(c, dev);
}

// put_device() -> kobject_put(): the last reference releases the device (device_release()).
void put_device(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs::Device& d = k.structs().device;
    if (!dev) return;
    uint32_t ref = k.emu().read_u32(dev + d.kobj_kref);
    if (ref == 0) {
        k.diag("put_device(): the reference count is already 0 (refcount_t underflow)");
        return;
    }
    --ref;
    k.emu().write(dev + d.kobj_kref, &ref, 4);
    if (ref) return;
    Devices& ds = k.state<Devices>();
    Devices::Dev rec = ds.devices[dev];
    ds.devices.erase(dev);
    std::string name = cstr(k, word(k, dev + d.kobj_name));
    uint64_t name_p = word(k, dev + d.kobj_name);
    devres_release_all(c, dev);  // device_release()
    uint64_t release = word(k, dev + d.release);
    uint64_t type = word(k, dev + d.type), cls = word(k, dev + d.class_);
    if (rec.created) {
        k.slab().free(dev);  // device_create_release()
    } else if (release) {
        k.call_guest(release, {dev});
    } else if (type && word(k, type + d.type_release)) {
        k.call_guest(word(k, type + d.type_release), {dev});
    } else if (cls && word(k, cls + d.class_dev_release)) {
        k.call_guest(word(k, cls + d.class_dev_release), {dev});
    } else {
        k.log(3, "Device '" + name +
                     "' does not have a release() function, it is broken and must be fixed. See "
                     "Documentation/core-api/kobject.rst.");
        k.diag("device_release(): the WARN's report is not reproduced");
    }
    if (rec.name_ours) k.slab().free(name_p);  // kobject_cleanup(): kfree_const(name)
}

// dev_driver_string(): the driver's name, else the bus's, else the class's.
std::string driver_string(Kernel& k, uint64_t dev) {
    const KernelStructs& s = k.structs();
    if (uint64_t drv = word(k, dev + s.device.driver)) return cstr(k, word(k, drv + s.device_driver.name));
    if (uint64_t bus = word(k, dev + s.device.bus)) return cstr(k, word(k, bus + s.bus_type.name));
    if (uint64_t cls = word(k, dev + s.device.class_)) return cstr(k, word(k, cls + s.class_.name));
    return "";
}

void dev_printk(Kernel& k, int level, uint64_t dev, const std::string& msg) {
    k.log(level, driver_string(k, dev) + " " + dev_name(k, dev) + ": " + msg);
}

}  // namespace drivers

using namespace drivers;

namespace drivers {

bool device_is_added(Kernel& k, uint64_t dev) {
    auto& d = k.state<Devices>().devices;
    auto it = d.find(dev);
    return it != d.end() && it->second.added;
}

std::string dev_printk_prefix(Kernel& k, uint64_t dev) {
    if (!dev) return "(NULL device *): ";
    return driver_string(k, dev) + " " + cstr(k, word(k, dev + k.structs().device.kobj_name)) +
           ": ";
}

}  // namespace drivers

void register_devices(Kernel& k) {
    const char* sub = "drivers/base/core";
    k.add_function("device_initialize", sub, [](StubCall& c) -> uint64_t {
        device_initialize(c.kernel, c.arg(0));
        return 0;
    }, true);
    // dev_set_name(dev, fmt, ...)
    k.add_function("dev_set_name", sub, [](StubCall& c) -> uint64_t {
        dev_set_name(c.kernel, c.arg(0), format_guest_args(c, c.arg(1), 2));
        return 0;
    });
    k.add_function("device_add", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(device_add(c, c.arg(0))));
    }, true);
    k.add_function("device_register", sub, [](StubCall& c) -> uint64_t {
        device_initialize(c.kernel, c.arg(0));
        return static_cast<uint64_t>(int64_t(device_add(c, c.arg(0))));
    }, true);
    k.add_function("device_del", sub, [](StubCall& c) -> uint64_t {
        device_del(c, c.arg(0));
        return 0;
    }, true);
    k.add_function("device_unregister", sub, [](StubCall& c) -> uint64_t {
        device_del(c, c.arg(0));
        put_device(c, c.arg(0));
        return 0;
    }, true);
    k.add_function("get_device", sub, [](StubCall& c) -> uint64_t {
        uint64_t dev = c.arg(0);
        if (!dev) return 0;
        uint64_t at = dev + c.kernel.structs().device.kobj_kref;
        uint32_t ref = c.emu.read_u32(at) + 1;
        c.write(at, &ref, 4);
        return dev;
    });
    k.add_function("put_device", sub, [](StubCall& c) -> uint64_t {
        put_device(c, c.arg(0));
        return 0;
    });
    // device_create(class, parent, devt, drvdata, fmt, ...): a device of the class, named.
    k.add_function("device_create", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Device& d = k.structs().device;
        uint64_t cls = c.arg(0);
        if (!cls || cls >= (k.word() == 8 ? uint64_t(-4095) : 0xfffff001u))
            return static_cast<uint64_t>(int64_t(-ENODEV));
        uint64_t dev = k.slab_alloc(d.size, gfp_zero);
        if (!dev) return static_cast<uint64_t>(int64_t(-ENOMEM));
        device_initialize(k, dev);
        k.state<Devices>().devices[dev].created = true;
        uint32_t devt = uint32_t(c.arg(2));
        c.write(dev + d.devt, &devt, 4);
        c.emu.write_word(dev + d.class_, cls);
        c.emu.write_word(dev + d.parent, c.arg(1));
        c.emu.write_word(dev + d.driver_data, c.arg(3));
        dev_set_name(k, dev, format_guest_args(c, c.arg(4), 5));
        int err = device_add(c, dev);
        if (err) {
            put_device(c, dev);
            return static_cast<uint64_t>(int64_t(err));
        }
        return dev;
    }, true);
    // device_destroy(class, devt): the class's device of that number, unregistered.
    k.add_function("device_destroy", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Device& d = k.structs().device;
        for (const auto& [dev, rec] : k.state<Devices>().devices) {
            if (!rec.added || word(k, dev + d.class_) != c.arg(0) ||
                k.emu().read_u32(dev + d.devt) != uint32_t(c.arg(1)))
                continue;
            uint64_t found = dev;
            device_del(c, found);
            put_device(c, found);
            break;
        }
        return 0;
    }, true);
    const uint64_t empty = k.alloc_data(1, 1);  // ""
    k.add_function("dev_driver_string", sub, [empty](StubCall& c) -> uint64_t {
        // The string is in kernel memory the caller reads: the driver's, bus's or class's name.
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t dev = c.arg(0);
        if (uint64_t drv = word(k, dev + s.device.driver)) return word(k, drv + s.device_driver.name);
        if (uint64_t bus = word(k, dev + s.device.bus)) return word(k, bus + s.bus_type.name);
        if (uint64_t cls = word(k, dev + s.device.class_)) return word(k, cls + s.class_.name);
        return empty;
    });
    // _dev_emerg() ... _dev_info(dev, fmt, ...): "<driver> <device>: <message>" at the level
    // (dev_printk_emit()); a NULL device prints "(NULL device *): <message>".
    const std::pair<const char*, char> levels[] = {{"_dev_emerg", '0'}, {"_dev_alert", '1'},
                                                   {"_dev_crit", '2'},  {"_dev_err", '3'},
                                                   {"_dev_warn", '4'},  {"_dev_notice", '5'},
                                                   {"_dev_info", '6'}};
    for (auto [name, level] : levels) {
        k.add_function(name, sub, [level](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t dev = c.arg(0);
            std::string msg = format_guest_args(c, c.arg(1), 2);
            k.printk(std::string("\001") + level + drivers::dev_printk_prefix(k, dev) + msg);
            return 0;
        });
    }
}

}  // namespace kmodemu
