// GPIO consumers (kernel_stubs/drivers/gpio/), the MDIO board list and firmware nodes, the AMBA,
// MIPI DSI, serdev and auxiliary buses' driver registration, the tty line disciplines and baud
// rates: Debian's modules that need them get the real kernel's exit status and lines, and the
// stubs fail as the kernel does (no GPIO described, an out-of-range discipline, an AMBA driver
// without probe, a driver registered twice).
#include <gtest/gtest.h>

#include <cerrno>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "kit_kernel.h"
#include "recorded_modules.h"

using namespace kmodemu;

TEST(KitDev2, DebianModulesGetTheRealKernelsVerdicts) {
    fx::expect_real_verdicts({
        // devm_gpiod_get_optional() of __mdiobus_register() (6.12: __dev_fwnode() too), the
        // board's MDIO devices; and modules that need fixed_phy
        "kernel/drivers/net/phy/fixed_phy.ko",
        "kernel/drivers/net/phy/fixed_phy.ko.xz",
        "kernel/drivers/net/ethernet/stmicro/stmmac/stmmac.ko",
        "kernel/drivers/net/ethernet/intel/ixgbe/ixgbe.ko",
        "kernel/drivers/net/usb/lan78xx.ko",
        // AMBA drivers (6.1's amba_driver_register(), 6.12's __amba_driver_register())
        "kernel/drivers/dma/pl330.ko",
        "kernel/drivers/watchdog/sp805_wdt.ko",
        "kernel/drivers/mmc/host/armmmci.ko.xz",
        // MIPI DSI, serdev and auxiliary drivers
        "kernel/drivers/gpu/drm/panel/panel-simple.ko",
        "kernel/drivers/gpu/drm/bridge/adv7511/adv7511.ko",
        "kernel/drivers/gnss/gnss-ubx.ko",
        "kernel/drivers/gnss/gnss-mtk.ko.xz",
        "kernel/drivers/gpu/drm/bridge/ti-sn65dsi86.ko",
        "kernel/drivers/gpu/drm/bridge/aux-bridge.ko.xz",
        // line disciplines
        "kernel/drivers/net/slip/slip.ko",
        "kernel/drivers/net/ppp/ppp_async.ko",
        "kernel/drivers/net/can/slcan/slcan.ko",
        "kernel/drivers/net/can/can327.ko.xz",
        // tty_termios_encode_baud_rate()
        "kernel/drivers/net/usb/hso.ko",
    });
}

namespace {

using Machine = fx::KitKernel;

int64_t err(uint64_t v) {
    return static_cast<int64_t>(v);
}

}  // namespace

TEST(KitDev2, GpioLookupsFindNothingDescribed) {
    Machine m;
    uint64_t dev = m.k.slab_alloc(m.s.device.size, gfp_zero);
    uint64_t con = m.str("reset");
    // A device without firmware node and no lookup table: -ENOENT, NULL when optional.
    EXPECT_EQ(err(m.call("gpiod_get", {dev, con, 0})), -ENOENT);
    EXPECT_EQ(err(m.call("devm_gpiod_get_index", {dev, con, 1, 0})), -ENOENT);
    EXPECT_EQ(m.call("gpiod_get_optional", {dev, con, 0}), 0u);
    EXPECT_EQ(m.call("devm_gpiod_get_optional", {dev, con, 0}), 0u);
    // An absent optional GPIO: the consumer functions do nothing.
    EXPECT_EQ(m.call("gpiod_direction_output", {0, 1}), 0u);
    EXPECT_EQ(m.call("gpiod_get_value_cansleep", {0}), 0u);
    m.call("gpiod_set_value_cansleep", {0, 1});
    m.call("gpiod_put", {0});
    EXPECT_TRUE(m.k.log_lines().empty());
    EXPECT_EQ(err(m.call("gpiod_to_irq", {0})), -EINVAL);
    // An error pointer is warned about and is the result.
    uint64_t enoent = static_cast<uint64_t>(int64_t(-ENOENT));
    EXPECT_EQ(err(m.call("gpiod_direction_output", {enoent, 1})), -ENOENT);
    EXPECT_TRUE(m.logged("gpiod_direction_output: invalid GPIO (errorpointer)"));
    m.call("gpiod_set_value", {enoent, 0});
    EXPECT_TRUE(m.logged("gpiod_set_value: invalid GPIO (errorpointer)"));
}

TEST(KitDev2, LineDisciplinesInRangeOnly) {
    Machine m;
    uint64_t ops = m.k.slab_alloc(256, gfp_zero);
    auto set_num = [&](int32_t n) { m.emu.write_u32(ops + m.s.tty_ldisc.ops_num, uint32_t(n)); };
    set_num(int32_t(m.s.tty_ldisc.nr_ldiscs));
    EXPECT_EQ(err(m.call("tty_register_ldisc", {ops})), -EINVAL);
    set_num(-1);
    EXPECT_EQ(err(m.call("tty_register_ldisc", {ops})), -EINVAL);
    // A number in range is taken, again after it is given back, and may replace another's.
    set_num(int32_t(m.s.tty_ldisc.nr_ldiscs) - 1);
    EXPECT_EQ(m.call("tty_register_ldisc", {ops}), 0u);
    m.call("tty_unregister_ldisc", {ops});
    EXPECT_EQ(m.call("tty_register_ldisc", {ops}), 0u);
    EXPECT_EQ(m.call("tty_register_ldisc", {ops}), 0u);
}

TEST(KitDev2, BusDriversRegisterAsTheKernelDoes) {
    Machine m;
    const KernelStructs& s = m.s;
    // An AMBA driver without probe: -EINVAL; with one, registered once, -EBUSY twice.
    uint64_t adrv = m.k.slab_alloc(1024, gfp_zero);
    uint64_t drv = adrv + s.bus_driver_fields.amba_drv;
    m.emu.write_word(drv + s.device_driver.name, m.str("kmodemu-amba"));
    EXPECT_EQ(err(m.call("amba_driver_register", {adrv})), -EINVAL);
    m.emu.write_word(adrv + s.bus_driver_fields.amba_probe, m.str("probe"));
    EXPECT_EQ(m.call("amba_driver_register", {adrv}), 0u);
    EXPECT_EQ(m.cstr(m.emu.read_word(m.emu.read_word(drv + s.device_driver.bus) +
                                     s.bus_type.name)),
              "amba");
    EXPECT_EQ(err(m.call("amba_driver_register", {adrv})), -EBUSY);
    EXPECT_TRUE(m.logged("Error: Driver 'kmodemu-amba' is already registered, aborting..."));
    m.call("amba_driver_unregister", {adrv});
    EXPECT_EQ(m.call("amba_driver_register", {adrv}), 0u);

    // An auxiliary driver is named "modname.name"; unregistered, the name is freed.
    const auto& f = s.dsi_serdev_aux;
    uint64_t aux = m.k.slab_alloc(1024, gfp_zero);
    m.emu.write_word(aux + f.auxiliary_probe, m.str("probe"));
    m.emu.write_word(aux + f.auxiliary_id_table, m.str("id"));
    m.emu.write_word(aux + f.auxiliary_name, m.str("core"));
    uint64_t modname = m.str("kmodemu_aux");
    EXPECT_EQ(m.call("__auxiliary_driver_register", {aux, 0, modname}), 0u);
    uint64_t adrv2 = aux + f.auxiliary_driver;
    EXPECT_EQ(m.cstr(m.emu.read_word(adrv2 + s.device_driver.name)), "kmodemu_aux.core");
    EXPECT_EQ(m.emu.read_word(adrv2 + s.device_driver.mod_name), modname);
    m.call("auxiliary_driver_unregister", {aux});

    // A MIPI DSI driver with a probe gets the bus's wrapper; one without remove keeps none.
    uint64_t dsi = m.k.slab_alloc(1024, gfp_zero);
    uint64_t ddrv = dsi + f.mipi_dsi_driver;
    m.emu.write_word(ddrv + s.device_driver.name, m.str("kmodemu-dsi"));
    m.emu.write_word(dsi + f.mipi_dsi_probe, m.str("probe"));
    EXPECT_EQ(m.call("mipi_dsi_driver_register_full", {dsi, 0}), 0u);
    EXPECT_EQ(m.emu.read_word(ddrv + s.device_driver.probe),
              m.k.find_export("mipi_dsi_drv_probe")->address);
    EXPECT_EQ(m.emu.read_word(ddrv + s.device_driver.remove), 0u);
    m.call("mipi_dsi_driver_unregister", {dsi});
}

TEST(KitDev2, BaudRatesEncodeAsTheKernelDoes) {
    Machine m;
    const KernelStructs::Ktermios& t = m.s.ktermios;
    uint64_t termios = m.k.slab_alloc(t.size, gfp_zero);
    // CS8 | CREAD | HUPCL (asm-generic termbits), no speed bits: 115200 is B115200 (CBAUDEX | 2),
    // the input speed left to follow the output.
    const uint32_t base = 0000060 | 0000200 | 0002000;
    m.emu.write_u32(termios + t.c_cflag, base);
    m.call("tty_termios_encode_baud_rate", {termios, 115200, 115200});
    EXPECT_EQ(m.emu.read_u32(termios + t.c_cflag), base | 0010002u);
    EXPECT_EQ(m.emu.read_u32(termios + t.c_ispeed), 115200u);
    EXPECT_EQ(m.emu.read_u32(termios + t.c_ospeed), 115200u);
    // A rate of no table entry within 2%: BOTHER, and for a different input rate BOTHER's input
    // bits (B9600 = 015 close enough for 9650).
    m.emu.write_u32(termios + t.c_cflag, base);
    m.call("tty_termios_encode_baud_rate", {termios, 9650, 123456});
    EXPECT_EQ(m.emu.read_u32(termios + t.c_cflag), base | 0010000u | (015u << 16));
}
