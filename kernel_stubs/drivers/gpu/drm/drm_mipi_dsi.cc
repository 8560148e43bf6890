// drivers/gpu/drm/drm_mipi_dsi.c (CONFIG_DRM_MIPI_DSI=y): MIPI DSI peripheral drivers on the
// mipi-dsi bus. Its devices are made by the DSI hosts' drivers for their device-tree children;
// the machine has no DSI host, so a driver registers and finds nothing to bind.
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_mipi_dsi(Kernel& k) {
    const char* sub = "drivers/gpu/drm/drm_mipi_dsi";
    // The bus's wrappers that mipi_dsi_driver_register_full() puts in the device_driver: they
    // call the mipi_dsi_driver's own for a DSI device, which never exists here.
    uint64_t probe = k.add_function("mipi_dsi_drv_probe", sub, [](StubCall& c) -> uint64_t {
                          c.unimplemented("mipi_dsi_drv_probe (a MIPI DSI device)");
                      }).address;
    uint64_t remove = k.add_function("mipi_dsi_drv_remove", sub, [](StubCall& c) -> uint64_t {
                           c.unimplemented("mipi_dsi_drv_remove (a MIPI DSI device)");
                       }).address;
    uint64_t shutdown =
        k.add_function("mipi_dsi_drv_shutdown", sub, [](StubCall& c) -> uint64_t {
             c.unimplemented("mipi_dsi_drv_shutdown (a MIPI DSI device)");
         }).address;
    // mipi_dsi_driver_register_full(drv, owner): on mipi_dsi_bus_type, the owner, the bus's
    // wrappers for the driver's probe, remove and shutdown it has; driver_register().
    k.add_function("mipi_dsi_driver_register_full", sub,
                   [probe, remove, shutdown](StubCall& c) -> uint64_t {
                       Kernel& k = c.kernel;
                       const KernelStructs& s = k.structs();
                       const auto& f = s.dsi_serdev_aux;
                       uint64_t ddrv = c.arg(0);
                       uint64_t drv = ddrv + f.mipi_dsi_driver;
                       c.emu.write_word(drv + s.device_driver.bus,
                                        drivers::kernel_bus(k, "mipi_dsi_bus_type", "mipi-dsi"));
                       c.emu.write_word(drv + s.device_driver.owner, c.arg(1));
                       if (c.emu.read_word(ddrv + f.mipi_dsi_probe))
                           c.emu.write_word(drv + s.device_driver.probe, probe);
                       if (c.emu.read_word(ddrv + f.mipi_dsi_remove))
                           c.emu.write_word(drv + s.device_driver.remove, remove);
                       if (c.emu.read_word(ddrv + f.mipi_dsi_shutdown))
                           c.emu.write_word(drv + s.device_driver.shutdown, shutdown);
                       return static_cast<uint64_t>(int64_t(drivers::driver_register(c, drv)));
                   });
    // mipi_dsi_driver_unregister(drv): driver_unregister(&drv->driver).
    k.add_function("mipi_dsi_driver_unregister", sub, [](StubCall& c) -> uint64_t {
        drivers::driver_unregister(c, c.arg(0) + c.kernel.structs().dsi_serdev_aux.mipi_dsi_driver);
        return 0;
    });
}

}  // namespace kmodemu
