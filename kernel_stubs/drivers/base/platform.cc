// drivers/base/platform.c: the platform bus. Platform devices that modules make (allocated,
// given resources and data, added under the "platform" device with their "name.id" names) and
// platform drivers; a device and a driver meet as platform_match() says and the driver's probe
// runs (platform_probe()), its remove when they part (platform_remove()). The machine's own
// platform devices (those of its device tree) are not modelled: a driver registered here finds
// only the devices modules added.
#include <cerrno>
#include <set>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/drivers/base/machine.h"
#include "kernel_stubs/drivers/of/of.h"
#include "kernel_stubs/bug.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "kernel_stubs/vsprintf.h"

namespace kmodemu {

namespace {

using namespace drivers;

struct Platform : Kernel::SubsystemState {
    std::set<int> devids;     // platform_devid_ida
    uint64_t bus = 0;         // platform_bus_type
    uint64_t parent = 0;      // platform_bus, the "platform" device
    uint64_t release = 0;     // platform_device_release()
    uint64_t probe_fail = 0;  // platform_probe_fail()
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

bool is_err_or_null(Kernel& k, uint64_t p) {
    return !p || p >= (k.word() == 8 ? uint64_t(-4095) : 0xfffff001u);
}

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string cstr(StubCall& c, uint64_t p, size_t max = 256) {
    return p ? c.read_cstr(p, max) : std::string();
}

void write_u64(StubCall& c, uint64_t a, uint64_t v) {
    c.write(a, &v, 8);
}

void write_u8(StubCall& c, uint64_t a, uint8_t v) {
    c.write(a, &v, 1);
}

uint8_t read_u8(StubCall& c, uint64_t a) {
    return c.read(a, 1)[0];
}

// kmemdup()
uint64_t kmemdup(StubCall& c, uint64_t src, uint64_t n) {
    uint64_t p = c.kernel.slab_alloc(n, 0);
    if (p && n) {
        std::vector<uint8_t> b = c.read(src, n);
        c.write(p, b.data(), n);
    }
    return p;
}

void kfree(Kernel& k, uint64_t p) {
    if (p) k.slab().free(p);
}

// setup_pdev_dma_masks(): a 32-bit DMA mask unless one is set.
void setup_dma_masks(StubCall& c, uint64_t pdev) {
    const KernelStructs& s = c.kernel.structs();
    uint64_t dev = pdev + s.platform_device.dev;
    uint64_t coherent = 0;
    std::vector<uint8_t> b = c.read(dev + s.device.coherent_dma_mask, 8);
    std::copy(b.begin(), b.end(), reinterpret_cast<uint8_t*>(&coherent));
    if (!coherent) write_u64(c, dev + s.device.coherent_dma_mask, 0xffffffffu);
    if (!word(c.kernel, dev + s.device.dma_mask)) {
        write_u64(c, pdev + s.platform_device.platform_dma_mask, 0xffffffffu);
        c.emu.write_word(dev + s.device.dma_mask, pdev + s.platform_device.platform_dma_mask);
    }
}

// platform_device_alloc(name, id): a struct platform_object (the device and its name), with
// platform_device_release() as its release.
uint64_t device_alloc(StubCall& c, const std::string& name, int id) {
    Kernel& k = c.kernel;
    const KernelStructs::PlatformDevice& pd = k.structs().platform_device;
    uint64_t pa = k.slab_alloc(pd.size + name.size() + 1, gfp_zero);
    if (!pa) return 0;
    c.write(pa + pd.size, name.c_str(), name.size() + 1);
    c.emu.write_word(pa + pd.name, pa + pd.size);
    c.emu.write_u32(pa + pd.id, uint32_t(id));
    device_initialize(k, pa + pd.dev);
    c.emu.write_word(pa + pd.dev + k.structs().device.release, k.state<Platform>().release);
    setup_dma_masks(c, pa);
    return pa;
}

// platform_device_add_resources(pdev, res, num): a copy of the resources, the old freed.
int add_resources(StubCall& c, uint64_t pdev, uint64_t res, unsigned num) {
    const KernelStructs& s = c.kernel.structs();
    uint64_t r = 0;
    if (res) {
        r = kmemdup(c, res, s.resource.size * num);
        if (!r) return -ENOMEM;
    }
    kfree(c.kernel, word(c.kernel, pdev + s.platform_device.resource));
    c.emu.write_word(pdev + s.platform_device.resource, r);
    c.emu.write_u32(pdev + s.platform_device.num_resources, num);
    return 0;
}

// platform_device_add_data(pdev, data, size): a copy of the data as the platform data.
int add_data(StubCall& c, uint64_t pdev, uint64_t data, uint64_t size) {
    const KernelStructs& s = c.kernel.structs();
    uint64_t d = 0;
    if (data) {
        d = kmemdup(c, data, size);
        if (!d) return -ENOMEM;
    }
    uint64_t at = pdev + s.platform_device.dev + s.device.platform_data;
    kfree(c.kernel, word(c.kernel, at));
    c.emu.write_word(at, d);
    return 0;
}

// platform_device_add(pdev): under the "platform" device unless it has a parent, on the
// platform bus, named "name.id", "name" (PLATFORM_DEVID_NONE) or "name.N.auto"
// (PLATFORM_DEVID_AUTO, N from platform_devid_ida); its memory and I/O port resources claimed in
// the resource tree; device_add().
int device_add_platform(StubCall& c, uint64_t pdev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::PlatformDevice& pd = s.platform_device;
    Platform& pf = k.state<Platform>();
    if (!pdev) return -EINVAL;
    uint64_t dev = pdev + pd.dev;
    if (!word(k, dev + s.device.parent)) c.emu.write_word(dev + s.device.parent, pf.parent);
    c.emu.write_word(dev + s.device.bus, pf.bus);
    std::string name = cstr(c, word(k, pdev + pd.name));
    int id = static_cast<int32_t>(c.emu.read_u32(pdev + pd.id));
    if (id == static_cast<int32_t>(pd.devid_none)) {
        dev_set_name(k, dev, name);
    } else if (id == static_cast<int32_t>(pd.devid_auto)) {
        int n = 0;  // ida_alloc(): the lowest free id
        while (pf.devids.count(n))
            ++n;
        pf.devids.insert(n);
        c.emu.write_u32(pdev + pd.id, uint32_t(n));
        write_u8(c, pdev + pd.id_auto, 1);
        dev_set_name(k, dev, name + "." + std::to_string(n) + ".auto");
    } else {
        dev_set_name(k, dev, name + "." + std::to_string(id));
    }
    const KernelStructs::Resource& rs = s.resource;
    uint32_t num = c.emu.read_u32(pdev + pd.num_resources);
    uint64_t res = word(k, pdev + pd.resource);
    for (uint32_t i = 0; i < num; ++i) {
        uint64_t r = res + i * rs.size;
        if (!word(k, r + rs.name)) c.emu.write_word(r + rs.name, word(k, dev + s.device.kobj_name));
        uint64_t type = word(k, r + rs.flags) & rs.type_bits;
        if (word(k, r + rs.parent) || type == rs.mem || type == rs.io)
            c.unimplemented("platform_device_add (claiming a memory or I/O port resource in the "
                            "resource tree)");
    }
    int err = device_add(c, dev);
    if (err && read_u8(c, pdev + pd.id_auto)) {
        pf.devids.erase(static_cast<int32_t>(c.emu.read_u32(pdev + pd.id)));
        c.emu.write_u32(pdev + pd.id, uint32_t(pd.devid_auto));
        write_u8(c, pdev + pd.id_auto, 0);
    }
    return err;
}

// platform_device_del(pdev): device_del(), the auto id given back.
void device_del_platform(StubCall& c, uint64_t pdev) {
    Kernel& k = c.kernel;
    const KernelStructs::PlatformDevice& pd = k.structs().platform_device;
    if (is_err_or_null(k, pdev)) return;
    device_del(c, pdev + pd.dev);
    if (read_u8(c, pdev + pd.id_auto)) {
        k.state<Platform>().devids.erase(static_cast<int32_t>(c.emu.read_u32(pdev + pd.id)));
        c.emu.write_u32(pdev + pd.id, uint32_t(pd.devid_auto));
        write_u8(c, pdev + pd.id_auto, 0);
    }
}

void device_put_platform(StubCall& c, uint64_t pdev) {
    if (!is_err_or_null(c.kernel, pdev))
        put_device(c, pdev + c.kernel.structs().platform_device.dev);
}

uint64_t platform_driver_of(Kernel& k, uint64_t drv) {
    return drv - k.structs().bus_drivers.platform_driver;
}

// platform_match(dev, drv): driver_override alone when set; then the OF and ACPI tables, which
// cannot match a device without a firmware node; then the id_table by name (setting id_entry);
// then the driver's name.
int platform_match(StubCall& c, uint64_t dev, uint64_t drv) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t pdev = dev - s.platform_device.dev;
    uint64_t pdrv = platform_driver_of(k, drv);
    std::string drv_name = cstr(c, word(k, drv + s.device_driver.name));
    if (uint64_t over = word(k, pdev + s.platform_device.driver_override))
        return cstr(c, over) == drv_name;
    // of_driver_match_device(): a node of the machine's tree against the OF table; ACPI
    // (acpi_driver_match_device()) has no companion on this machine.
    if (uint64_t np = word(k, dev + s.device.of_node); np && of_machine_node(k, np)) {
        if (of_match_device(c, word(k, drv + s.of_match.table), dev)) return 1;
    } else if (word(k, dev + s.device.of_node) || word(k, dev + s.device.fwnode)) {
        c.unimplemented("platform_match (OF/ACPI matching of a device with a firmware node)");
    }
    std::string name = cstr(c, word(k, pdev + s.platform_device.name));
    const KernelStructs::PlatformDriver& pdr = s.platform_driver;
    if (uint64_t id = word(k, pdrv + pdr.id_table)) {
        for (;; id += pdr.id_size) {  // platform_match_id()
            std::string n = c.read_cstr(id + pdr.id_name, pdr.id_name_len);
            if (n.empty()) return 0;
            if (n == name) {
                c.emu.write_word(pdev + s.platform_device.id_entry, id);
                return 1;
            }
        }
    }
    return name == drv_name;
}

// platform_probe(dev): -ENXIO for a driver of __platform_driver_probe() (platform_probe_fail);
// no clock defaults or PM domain for a device without a node; drv->probe(pdev); a deferral of a
// driver that may not defer is -ENXIO, with a warning.
int platform_probe(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t pdrv = platform_driver_of(k, word(k, dev + s.device.driver));
    uint64_t probe = word(k, pdrv + s.platform_driver.probe);
    if (probe == k.state<Platform>().probe_fail) return -ENXIO;
    int ret = 0;
    if (probe) ret = static_cast<int32_t>(k.call_guest(probe, {dev - s.platform_device.dev}));
    if (read_u8(c, pdrv + s.platform_driver.prevent_deferred_probe) && ret == -eprobe_defer) {
        dev_printk(k, 4, dev, "probe deferral not supported");
        ret = -ENXIO;
    }
    return ret;
}

// platform_remove(dev): remove_new(pdev), else remove(pdev), whose non-zero return is warned of
// and ignored (6.1); 6.11+ has one void remove (remove_new is the same member).
void platform_remove(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::PlatformDriver& pdr = s.platform_driver;
    uint64_t pdrv = platform_driver_of(k, word(k, dev + s.device.driver));
    uint64_t pdev = dev - s.platform_device.dev;
    uint64_t remove_new = word(k, pdrv + pdr.remove_new);
    uint64_t remove = word(k, pdrv + pdr.remove);
    if (remove_new) {
        k.call_guest(remove_new, {pdev});
    } else if (remove && pdr.remove != pdr.remove_new) {
        if (static_cast<int32_t>(k.call_guest(remove, {pdev})))
            dev_printk(k, 4, dev,
                       "remove callback returned a non-zero value. This will be ignored.");
    }
}

// __platform_driver_register(drv, owner)
int driver_register_platform(StubCall& c, uint64_t pdrv, uint64_t owner) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t drv = pdrv + s.bus_drivers.platform_driver;
    c.emu.write_word(drv + s.device_driver.owner, owner);
    c.emu.write_word(drv + s.device_driver.bus, k.state<Platform>().bus);
    return driver_register(c, drv);
}

// platform_get_irq_optional(pdev, num): the num-th IRQ resource's number (a node of the
// machine's tree has no "interrupts" property: of_irq_get() gives way to the resources);
// -ENXIO for none; 0 is WARNed of and -EINVAL.
int get_irq_optional(StubCall& c, uint64_t pdev, unsigned num) {
    Kernel& k = c.kernel;
    const KernelStructs::Resource& rs = k.structs().resource;
    uint64_t r = platform_get_resource(k, pdev, rs.irq, num);
    if (!r) return -ENXIO;
    int irq = static_cast<int32_t>(word(k, r + rs.start));
    if (!irq) {
        kernel_warn(c, "drivers/base/platform.c", 0, "0 is an invalid IRQ number");
        return -EINVAL;
    }
    return irq;
}

// devm_ioremap_resource() of platform_get_resource(pdev, IORESOURCE_MEM, index), and the
// resource at *res when res is not NULL (devm_platform_get_and_ioremap_resource()).
uint64_t get_and_ioremap_resource(StubCall& c, uint64_t pdev, unsigned index, uint64_t res) {
    Kernel& k = c.kernel;
    uint64_t r = platform_get_resource(k, pdev, k.structs().resource.mem, index);
    if (res) c.emu.write_word(res, r);
    return devm_ioremap_resource(c, pdev + k.structs().platform_device.dev, r);
}

}  // namespace

namespace drivers {

uint64_t platform_get_resource(Kernel& k, uint64_t pdev, uint64_t type, unsigned num) {
    const KernelStructs& s = k.structs();
    const KernelStructs::Resource& rs = s.resource;
    uint32_t n = k.emu().read_u32(pdev + s.platform_device.num_resources);
    uint64_t res = word(k, pdev + s.platform_device.resource);
    for (uint32_t i = 0; i < n; ++i) {
        uint64_t r = res + i * rs.size;
        if ((word(k, r + rs.flags) & rs.type_bits) == type && num-- == 0) return r;
    }
    return 0;
}

uint64_t declare_platform_device(StubCall& c, const std::string& name, uint64_t np, uint64_t res,
                                 unsigned num) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::PlatformDevice& pd = s.platform_device;
    Platform& pf = k.state<Platform>();
    // of_device_alloc(): platform_device_alloc("", PLATFORM_DEVID_NONE), the resources, the
    // node (dev.of_node, dev.fwnode = &np->fwnode), the name; of_device_add(): pdev->name the
    // device's name, device_add(). A device without a node is named as its board file would
    // register it: NAME, PLATFORM_DEVID_NONE.
    uint64_t pdev = device_alloc(c, np ? "" : name, int(pd.devid_none));
    uint64_t dev = pdev + pd.dev;
    c.emu.write_word(pdev + pd.resource, res);
    c.emu.write_u32(pdev + pd.num_resources, num);
    if (np) {
        c.emu.write_word(dev + s.device.of_node, np);
        c.emu.write_word(dev + s.device.fwnode, np + s.device_node.fwnode);
    }
    c.emu.write_word(dev + s.device.parent, pf.parent);
    c.emu.write_word(dev + s.device.bus, pf.bus);
    dev_set_name(k, dev, name);
    if (np) c.emu.write_word(pdev + pd.name, word(k, dev + s.device.kobj_name));
    device_add(c, dev);
    return pdev;
}

}  // namespace drivers

void register_platform(Kernel& k) {
    const char* sub = "drivers/base/platform";
    const KernelStructs& s = k.structs();
    Platform& pf = k.state<Platform>();
    pf.bus = kernel_bus(k, "platform_bus_type", "platform");
    k.state<DriverModel>().kernel_bus_ops[pf.bus] = {platform_match, platform_probe,
                                                     platform_remove};
    // struct device platform_bus = { .init_name = "platform" }, registered at boot.
    {
        const std::string name = "platform";
        Export& e = k.add_data("platform_bus", sub, s.device.size, nullptr, true);
        uint64_t str = k.alloc_data(name.size() + 1, 1);
        k.emu().write(str, name.c_str(), name.size() + 1);
        k.emu().write_word(e.address + s.device.kobj_name, str);
        k.emu().write_u32(e.address + s.device.kobj_kref, 1);
        pf.parent = e.address;
    }
    // The kernel's own functions that platform devices and drivers point at (not exports).
    // platform_device_release(dev): the device's platform data, MFD cell, resources and
    // driver_override freed with it.
    pf.release = k.add_function("platform_device_release", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t pdev = c.arg(0) - s.platform_device.dev;
        kfree(k, word(k, c.arg(0) + s.device.platform_data));
        kfree(k, word(k, pdev + s.platform_device.mfd_cell));
        kfree(k, word(k, pdev + s.platform_device.resource));
        kfree(k, word(k, pdev + s.platform_device.driver_override));
        kfree(k, pdev);
        return 0;
    }).address;
    pf.probe_fail = k.add_function("platform_probe_fail", sub, [](StubCall&) -> uint64_t {
        return ret(-ENXIO);
    }).address;

    k.add_function("platform_device_alloc", sub, [](StubCall& c) -> uint64_t {
        return device_alloc(c, c.read_cstr(c.arg(0), 256), c.iarg(1));
    }, true);
    k.add_function("platform_device_add_resources", sub, [](StubCall& c) -> uint64_t {
        return ret(add_resources(c, c.arg(0), c.arg(1), uint32_t(c.arg(2))));
    }, true);
    k.add_function("platform_device_add_data", sub, [](StubCall& c) -> uint64_t {
        return ret(add_data(c, c.arg(0), c.arg(1), c.arg(2)));
    }, true);
    k.add_function("platform_device_add", sub, [](StubCall& c) -> uint64_t {
        return ret(device_add_platform(c, c.arg(0)));
    }, true);
    k.add_function("platform_device_del", sub, [](StubCall& c) -> uint64_t {
        device_del_platform(c, c.arg(0));
        return 0;
    }, true);
    k.add_function("platform_device_put", sub, [](StubCall& c) -> uint64_t {
        device_put_platform(c, c.arg(0));
        return 0;
    }, true);
    k.add_function("platform_device_unregister", sub, [](StubCall& c) -> uint64_t {
        device_del_platform(c, c.arg(0));
        device_put_platform(c, c.arg(0));
        return 0;
    }, true);
    // platform_device_register(pdev): a device the caller made (its own release).
    k.add_function("platform_device_register", sub, [](StubCall& c) -> uint64_t {
        device_initialize(c.kernel, c.arg(0) + c.kernel.structs().platform_device.dev);
        setup_dma_masks(c, c.arg(0));
        return ret(device_add_platform(c, c.arg(0)));
    }, true);
    // platform_device_register_full(pdevinfo): the device of the struct platform_device_info,
    // or ERR_PTR.
    k.add_function("platform_device_register_full", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        const KernelStructs::PlatformDeviceInfo& pi = s.platform_device_info;
        uint64_t info = c.arg(0);
        std::string name = cstr(c, word(k, info + pi.name));
        int id = static_cast<int32_t>(c.emu.read_u32(info + pi.id));
        if (word(k, info + pi.fwnode))
            c.unimplemented("platform_device_register_full (a device with a firmware node)");
        if (word(k, info + pi.properties))
            c.unimplemented("platform_device_register_full (software node properties)");
        uint64_t pdev = device_alloc(c, name, id);
        if (!pdev) return ret(-ENOMEM);
        uint64_t dev = pdev + s.platform_device.dev;
        c.emu.write_word(dev + s.device.parent, word(k, info + pi.parent));
        uint64_t dma_mask = 0;
        std::vector<uint8_t> b = c.read(info + pi.dma_mask, 8);
        std::copy(b.begin(), b.end(), reinterpret_cast<uint8_t*>(&dma_mask));
        if (dma_mask) {
            write_u64(c, pdev + s.platform_device.platform_dma_mask, dma_mask);
            c.emu.write_word(dev + s.device.dma_mask, pdev + s.platform_device.platform_dma_mask);
            write_u64(c, dev + s.device.coherent_dma_mask, dma_mask);
        }
        int err = add_resources(c, pdev, word(k, info + pi.res),
                                c.emu.read_u32(info + pi.num_res));
        if (!err) err = add_data(c, pdev, word(k, info + pi.data), word(k, info + pi.size_data));
        if (!err) err = device_add_platform(c, pdev);
        if (err) {
            device_put_platform(c, pdev);
            return ret(err);
        }
        return pdev;
    }, true);
    // platform_add_devices(devs, num): each registered; on a failure the earlier ones
    // unregistered.
    k.add_function("platform_add_devices", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t devs = c.arg(0);
        int num = c.iarg(1);
        for (int i = 0; i < num; ++i) {
            uint64_t pdev = word(k, devs + uint64_t(i) * k.word());
            device_initialize(k, pdev + k.structs().platform_device.dev);
            setup_dma_masks(c, pdev);
            if (int err = device_add_platform(c, pdev)) {
                while (--i >= 0) {
                    uint64_t p = word(k, devs + uint64_t(i) * k.word());
                    device_del_platform(c, p);
                    device_put_platform(c, p);
                }
                return ret(err);
            }
        }
        return 0;
    }, true);

    // platform_get_resource(dev, type, num): the num-th resource of that type, or NULL.
    k.add_function("platform_get_resource", sub, [](StubCall& c) -> uint64_t {
        return drivers::platform_get_resource(c.kernel, c.arg(0), c.arg(1), uint32_t(c.arg(2)));
    }, true);
    // platform_get_resource_byname(dev, type, name): the first resource of that type whose name
    // is `name` (a node's resources are named by its full name, without "reg-names"), or NULL.
    k.add_function("platform_get_resource_byname", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        const KernelStructs::Resource& rs = s.resource;
        uint64_t pdev = c.arg(0);
        std::string name = c.read_cstr(c.arg(2), 256);
        uint32_t n = c.emu.read_u32(pdev + s.platform_device.num_resources);
        uint64_t res = word(k, pdev + s.platform_device.resource);
        for (uint32_t i = 0; i < n; ++i) {
            uint64_t r = res + i * rs.size;
            uint64_t rname = word(k, r + rs.name);
            if (!rname) continue;
            if ((word(k, r + rs.flags) & rs.type_bits) == c.arg(1) && cstr(c, rname) == name)
                return r;
        }
        return 0;
    }, true);
    k.add_function("platform_get_irq_optional", sub, [](StubCall& c) -> uint64_t {
        return ret(get_irq_optional(c, c.arg(0), uint32_t(c.arg(1))));
    }, true);
    // platform_get_irq(dev, num): platform_get_irq_optional(), with dev_err_probe()'s
    // "IRQ index %u not found" for a failure other than a deferral.
    k.add_function("platform_get_irq", sub, [](StubCall& c) -> uint64_t {
        int irq = get_irq_optional(c, c.arg(0), uint32_t(c.arg(1)));
        if (irq < 0 && irq != -eprobe_defer)
            dev_printk(c.kernel, 3, c.arg(0) + c.kernel.structs().platform_device.dev,
                       "error " + errname(irq) + ": IRQ index " +
                           std::to_string(uint32_t(c.arg(1))) + " not found");
        return ret(irq);
    }, true);
    k.add_function("devm_platform_ioremap_resource", sub, [](StubCall& c) -> uint64_t {
        return get_and_ioremap_resource(c, c.arg(0), uint32_t(c.arg(1)), 0);
    }, true);
    k.add_function("devm_platform_get_and_ioremap_resource", sub, [](StubCall& c) -> uint64_t {
        return get_and_ioremap_resource(c, c.arg(0), uint32_t(c.arg(1)), c.arg(2));
    }, true);

    k.add_function("__platform_driver_register", sub, [](StubCall& c) -> uint64_t {
        return ret(driver_register_platform(c, c.arg(0), c.arg(1)));
    }, true);
    k.add_function("platform_driver_unregister", sub, [](StubCall& c) -> uint64_t {
        driver_unregister(c, c.arg(0) + c.kernel.structs().bus_drivers.platform_driver);
        return 0;
    }, true);
    // __platform_register_drivers(drivers, count, owner): each registered in turn; on a failure
    // the earlier ones are unregistered, last first.
    k.add_function("__platform_register_drivers", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t drivers = c.arg(0);
        unsigned count = uint32_t(c.arg(1));
        for (unsigned i = 0; i < count; ++i) {
            uint64_t pdrv = word(k, drivers + uint64_t(i) * k.word());
            int err = driver_register_platform(c, pdrv, c.arg(2));
            if (err < 0) {
                k.log(3, "failed to register platform driver " +
                             k.symbolize(pdrv, false).value_or(hex(pdrv)) + ": " +
                             std::to_string(err));
                while (i--)
                    driver_unregister(c, word(k, drivers + uint64_t(i) * k.word()) +
                                             k.structs().bus_drivers.platform_driver);
                return ret(err);
            }
        }
        return 0;
    }, true);
    k.add_function("platform_unregister_drivers", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t drivers = c.arg(0);
        for (unsigned count = uint32_t(c.arg(1)); count--;)
            driver_unregister(c, word(k, drivers + uint64_t(count) * k.word()) +
                                     k.structs().bus_drivers.platform_driver);
        return 0;
    }, true);
    // __platform_driver_probe(drv, probe, module): a driver of devices that are there already
    // (its probe is __init code): registered synchronously, unable to defer or to bind again
    // later (probe becomes platform_probe_fail); -ENODEV, unregistered, when it bound none.
    k.add_function("__platform_driver_probe", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t pdrv = c.arg(0);
        uint64_t drv = pdrv + s.bus_drivers.platform_driver;
        const KernelStructs::DeviceDriver& dd = s.device_driver;
        if (c.emu.read_u32(drv + dd.probe_type) == uint32_t(dd.probe_prefer_async)) {
            k.log(3, cstr(c, word(k, drv + dd.name)) +
                         ": drivers registered with __platform_driver_probe can not be probed "
                         "asynchronously");
            return ret(-EINVAL);
        }
        c.emu.write_u32(drv + dd.probe_type, uint32_t(dd.probe_force_sync));
        write_u8(c, pdrv + s.platform_driver.prevent_deferred_probe, 1);
        write_u8(c, drv + dd.suppress_bind_attrs, 1);
        c.emu.write_word(pdrv + s.platform_driver.probe, c.arg(1));
        int code = driver_register_platform(c, pdrv, c.arg(2));
        int retval = code;
        if (retval) return ret(retval);
        c.emu.write_word(pdrv + s.platform_driver.probe, k.state<Platform>().probe_fail);
        if (k.state<DriverModel>().bound[drv].empty()) retval = -ENODEV;
        if (code != retval) driver_unregister(c, drv);
        return ret(retval);
    }, true);
}

}  // namespace kmodemu
