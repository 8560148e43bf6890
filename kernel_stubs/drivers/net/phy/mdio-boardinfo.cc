// drivers/net/phy/mdio-boardinfo.c (built into the kernel with CONFIG_MDIO_DEVICE): the board's
// MDIO devices, listed by mdiobus_register_board_info() for buses not yet registered. The
// emulated machine's board code lists none, and a module's mdiobus_register_board_info() (only
// dsa_loop_bdinfo calls it) is not emulated, so the list stays empty.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_mdio_boardinfo(Kernel& k) {
    const char* sub = "drivers/net/phy/mdio-boardinfo";
    // mdiobus_setup_mdiodev_from_board_info(bus, cb): cb(bus, bi) for each entry of
    // mdio_board_list whose bus_id is bus->id; the list is empty, so no call.
    k.add_function("mdiobus_setup_mdiodev_from_board_info", sub,
                   [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
