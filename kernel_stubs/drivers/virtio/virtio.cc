// drivers/virtio/virtio.c: virtio drivers on the virtio bus. The machine the real kernel ran on
// has no virtio device (no virtio-mmio transport finds one), so a driver registers and finds
// nothing to bind.
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// register_virtio_driver(driver) (6.1) / __register_virtio_driver(driver, owner) (6.12): BUG()
// for a feature table size without a table; on virtio_bus, driver_register().
uint64_t register_driver(StubCall& c, uint64_t vdrv, uint64_t owner, bool set_owner) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::BusDriverFields& f = s.bus_driver_fields;
    if (c.emu.read_u32(vdrv + f.virtio_feature_table_size) &&
        !c.emu.read_word(vdrv + f.virtio_feature_table))
        c.unimplemented("register_virtio_driver (BUG_ON: a feature table size without a table)");
    uint64_t drv = vdrv + f.virtio_driver;
    c.emu.write_word(drv + s.device_driver.bus, drivers::kernel_bus(k, "virtio_bus", "virtio"));
    if (set_owner) c.emu.write_word(drv + s.device_driver.owner, owner);
    return static_cast<uint64_t>(int64_t(drivers::driver_register(c, drv)));
}

}  // namespace

void register_virtio(Kernel& k) {
    const char* sub = "drivers/virtio";
    k.add_function("register_virtio_driver", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), 0, false);
    }, true);
    k.add_function("__register_virtio_driver", sub, [](StubCall& c) -> uint64_t {
        return register_driver(c, c.arg(0), c.arg(1), true);
    }, true);
    k.add_function("unregister_virtio_driver", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        drivers::driver_unregister(c, c.arg(0) + s.bus_driver_fields.virtio_driver);
        return 0;
    }, true);
}

}  // namespace kmodemu
