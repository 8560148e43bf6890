// drivers/tty/serdev/core.c (CONFIG_SERIAL_DEV_BUS=y): serial device bus drivers. A serdev
// device is a device-tree (or ACPI) child of a serial port; the machine's only serial port, the
// PL011, has none, so the serial bus has no device and a driver registers and binds nothing.
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_serdev(Kernel& k) {
    const char* sub = "drivers/tty/serdev/core";
    // __serdev_device_driver_register(sdrv, owner): on serdev_bus_type, the owner, probing
    // forced asynchronous (PROBE_PREFER_ASYNCHRONOUS); driver_register().
    k.add_function("__serdev_device_driver_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = c.arg(0) + s.dsi_serdev_aux.serdev_driver;
        c.emu.write_word(drv + s.device_driver.bus,
                         drivers::kernel_bus(k, "serdev_bus_type", "serial"));
        c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
        c.emu.write_u32(drv + s.device_driver.probe_type,
                        uint32_t(s.device_driver.probe_prefer_async));
        return static_cast<uint64_t>(int64_t(drivers::driver_register(c, drv)));
    }, true);
}

}  // namespace kmodemu
