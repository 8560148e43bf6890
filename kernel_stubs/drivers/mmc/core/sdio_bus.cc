// drivers/mmc/core/sdio_bus.c: SDIO function drivers on the sdio bus. The machine has no MMC
// host, so no SDIO function: a driver registers and finds nothing to bind.
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// sdio_register_driver(drv) (6.1) / __sdio_register_driver(drv, owner) (6.12): the driver's
// name when its device_driver has none; on sdio_bus_type, driver_register().
uint64_t register_driver(StubCall& c, uint64_t sdrv, uint64_t owner, bool set_owner) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t drv = sdrv + s.bus_driver_fields.sdio_drv;
    if (!c.emu.read_word(drv + s.device_driver.name))
        c.emu.write_word(drv + s.device_driver.name,
                         c.emu.read_word(sdrv + s.bus_driver_fields.sdio_name));
    c.emu.write_word(drv + s.device_driver.bus, drivers::kernel_bus(k, "sdio_bus_type", "sdio"));
    if (set_owner) c.emu.write_word(drv + s.device_driver.owner, owner);
    return static_cast<uint64_t>(int64_t(drivers::driver_register(c, drv)));
}

}  // namespace

void register_sdio_bus(Kernel& k) {
    const char* sub = "drivers/mmc/core/sdio_bus";
    k.add_function("sdio_register_driver", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), 0, false);
    }, true);
    k.add_function("__sdio_register_driver", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), c.arg(1), true);
    }, true);
    k.add_function("sdio_unregister_driver", sub, [](StubCall& c) -> uint64_t {
        drivers::driver_unregister(c, c.arg(0) + c.kernel.structs().bus_driver_fields.sdio_drv);
        return 0;
    }, true);
}

}  // namespace kmodemu
