// drivers/input/serio/serio.c: serio drivers on the kernel's serio bus. The machine has no serio
// port (kmodemu models none), so a driver registers and finds nothing to bind.
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_serio(Kernel& k) {
    const char* sub = "drivers/input/serio";
    // __serio_register_driver(drv, owner, mod_name): on serio_bus with manual binding while
    // driver_register() runs; then, unless the driver binds manually, an attach event that
    // kseriod handles by driver_attach() (no port to attach here).
    k.add_function("__serio_register_driver", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t sdrv = c.arg(0);
        uint64_t drv = sdrv + s.bus_driver_fields.serio_driver;
        uint64_t manual_at = sdrv + s.bus_driver_fields.serio_manual_bind;
        uint8_t manual_bind = c.read(manual_at, 1)[0];
        c.emu.write_word(drv + s.device_driver.bus, drivers::kernel_bus(k, "serio_bus", "serio"));
        c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
        c.emu.write_word(drv + s.device_driver.mod_name, c.arg(2));
        uint8_t one = 1;
        c.write(manual_at, &one, 1);
        int err = drivers::driver_register(c, drv);
        if (err) {
            std::string name = c.read_cstr(c.emu.read_word(drv + s.device_driver.name), 256);
            k.log(3, "serio: driver_register() failed for " + name + ", error: " +
                         std::to_string(err));
            return static_cast<uint64_t>(int64_t(err));
        }
        if (!manual_bind) c.write(manual_at, &manual_bind, 1);
        return 0;
    });
    // serio_unregister_driver(drv): manual binding (no port picks it again), no port to
    // disconnect, driver_unregister().
    k.add_function("serio_unregister_driver", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        uint8_t one = 1;
        c.write(c.arg(0) + s.bus_driver_fields.serio_manual_bind, &one, 1);
        drivers::driver_unregister(c, c.arg(0) + s.bus_driver_fields.serio_driver);
        return 0;
    });
}

}  // namespace kmodemu
