// drivers/amba/bus.c: AMBA drivers on the amba bus. The AMBA devices of the machine the real
// kernel ran on (QEMU's virt board: the PL011 UART, PL031 RTC and PL061 GPIO) are bound to the
// kernel's built-in drivers, and kmodemu models no other: a module's AMBA driver registers and
// finds no device to bind, as the recordings show (no probe's line, insmod 0).
#include <cerrno>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// amba_driver_register(drv) (6.1) / __amba_driver_register(drv, owner) (6.12): -EINVAL without
// a probe; on amba_bustype, driver_register().
uint64_t register_driver(StubCall& c, uint64_t adrv, uint64_t owner, bool set_owner) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    if (!c.emu.read_word(adrv + s.bus_driver_fields.amba_probe))
        return static_cast<uint64_t>(int64_t(-EINVAL));
    uint64_t drv = adrv + s.bus_driver_fields.amba_drv;
    if (set_owner) c.emu.write_word(drv + s.device_driver.owner, owner);
    c.emu.write_word(drv + s.device_driver.bus, drivers::kernel_bus(k, "amba_bustype", "amba"));
    return static_cast<uint64_t>(int64_t(drivers::driver_register(c, drv)));
}

}  // namespace

void register_amba(Kernel& k) {
    const char* sub = "drivers/amba/bus";
    k.add_function("amba_driver_register", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), 0, false);
    });
    k.add_function("__amba_driver_register", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), c.arg(1), true);
    });
    // amba_driver_unregister(drv): driver_unregister(&drv->drv).
    k.add_function("amba_driver_unregister", sub, [](StubCall& c) -> uint64_t {
        drivers::driver_unregister(c, c.arg(0) + c.kernel.structs().bus_driver_fields.amba_drv);
        return 0;
    });
}

}  // namespace kmodemu
