// drivers/base/auxiliary.c (CONFIG_AUXILIARY_BUS=y): auxiliary drivers. Auxiliary devices are
// made by other drivers for parts of their hardware (mlx5, SOF, DRM bridges...); none is there
// at boot on the machine, and one a module adds stops the run (a device on the kernel's bus), so
// a driver registers and finds nothing to bind.
#include <cerrno>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_auxiliary(Kernel& k) {
    const char* sub = "drivers/base/auxiliary";
    // __auxiliary_driver_register(auxdrv, owner, modname): WARN_ON and -EINVAL without a probe
    // or an id table; the driver's name kasprintf()'ed as "modname.name" (or "modname"); owner,
    // bus and mod_name set; driver_register(), the name freed if it fails.
    k.add_function("__auxiliary_driver_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        const auto& f = s.dsi_serdev_aux;
        uint64_t auxdrv = c.arg(0), modname = c.arg(2);
        if (!c.emu.read_word(auxdrv + f.auxiliary_probe) ||
            !c.emu.read_word(auxdrv + f.auxiliary_id_table))
            c.unimplemented("__auxiliary_driver_register (no probe or id table: WARN_ON)");
        std::string name = modname ? c.read_cstr(modname, 256) : "(null)";
        if (uint64_t n = c.emu.read_word(auxdrv + f.auxiliary_name))
            name += "." + c.read_cstr(n, 256);
        uint64_t drv = auxdrv + f.auxiliary_driver;
        uint64_t p = k.slab_alloc(name.size() + 1, 0);
        if (!p) return static_cast<uint64_t>(int64_t(-ENOMEM));
        c.write(p, name.c_str(), name.size() + 1);
        c.emu.write_word(drv + s.device_driver.name, p);
        c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
        c.emu.write_word(drv + s.device_driver.bus,
                         drivers::kernel_bus(k, "auxiliary_bus_type", "auxiliary"));
        c.emu.write_word(drv + s.device_driver.mod_name, modname);
        int err = drivers::driver_register(c, drv);
        if (err) k.slab().free(p);
        return static_cast<uint64_t>(int64_t(err));
    }, true);
    // auxiliary_driver_unregister(auxdrv): driver_unregister(), the name freed.
    k.add_function("auxiliary_driver_unregister", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = c.arg(0) + s.dsi_serdev_aux.auxiliary_driver;
        drivers::driver_unregister(c, drv);
        if (uint64_t p = c.emu.read_word(drv + s.device_driver.name)) k.slab().free(p);
        return 0;
    }, true);
}

}  // namespace kmodemu
