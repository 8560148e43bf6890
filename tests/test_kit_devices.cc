// The driver model's devices and the buses built on it (kernel_stubs/drivers/base/platform.cc,
// dd.cc, transport_class.cc, kernel_stubs/drivers/tty/tty_io.cc, serio, virtio, SDIO): Debian's
// modules that need them get the real kernel's exit status and lines, and the registries keep
// the kernel's state (a platform device and driver meet in either order and the driver probes
// and removes it; names, auto ids, duplicate and failed registrations).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "kit_kernel.h"
#include "recorded_modules.h"

using namespace kmodemu;

TEST(KitDevices, DebianModulesGetTheRealKernelsVerdicts) {
    fx::expect_real_verdicts({
        // platform: __platform_register_drivers(), __platform_driver_probe() with no device
        "kernel/drivers/usb/host/ehci-hcd.ko",
        "kernel/drivers/gpu/host1x/host1x.ko",
        "kernel/drivers/rtc/rtc-mv.ko",
        "kernel/drivers/watchdog/imx2_wdt.ko",
        // transport classes and attribute containers
        "kernel/drivers/ata/libata.ko",
        "kernel/drivers/scsi/raid_class.ko",
        "kernel/drivers/scsi/scsi_transport_fc.ko",
        "kernel/drivers/scsi/scsi_transport_spi.ko",
        "kernel/drivers/scsi/scsi_transport_sas.ko",
        // class interfaces (scsi_register_interface())
        "kernel/drivers/scsi/sg.ko",
        "kernel/drivers/scsi/ses.ko",
        // tty drivers, and driver_attach() of usbserial's bus
        "kernel/drivers/tty/nozomi.ko",
        "kernel/drivers/usb/class/cdc-acm.ko",
        "kernel/drivers/usb/gadget/function/u_serial.ko",
        "kernel/drivers/usb/serial/usbserial.ko",
        "kernel/drivers/usb/serial/ftdi_sio.ko",
        // serio, virtio and SDIO drivers
        "kernel/drivers/input/touchscreen/elo.ko",
        "kernel/drivers/input/keyboard/stowaway.ko",
        "kernel/drivers/char/hw_random/virtio-rng.ko",
        "kernel/drivers/virtio/virtio_balloon.ko",
        "kernel/net/9p/9pnet_virtio.ko",
        "kernel/drivers/mmc/core/sdio_uart.ko",
        "kernel/drivers/net/wireless/ti/wlcore/wlcore_sdio.ko",
        // driver_find() of a module's driver
        "kernel/drivers/media/pci/ivtv/ivtvfb.ko",
    });
}

namespace {

// An emulated kernel of the arm64 kit, with probe and remove functions that record their calls.
struct Machine : fx::KitKernel {
    Machine() {
        probe = k.add_function("kmodemu_test_probe", "test", [this](StubCall& c) -> uint64_t {
            probed.push_back(c.arg(0));
            return static_cast<uint64_t>(int64_t(probe_ret));
        }).address;
        remove = k.add_function("kmodemu_test_remove", "test", [this](StubCall& c) -> uint64_t {
            removed.push_back(c.arg(0));
            return 0;
        }).address;
    }
    // A struct platform_driver named `name` whose probe and remove_new are the recorders.
    uint64_t platform_driver(const std::string& name) {
        uint64_t pdrv = k.slab_alloc(1024, gfp_zero);
        uint64_t drv = pdrv + s.bus_drivers.platform_driver;
        emu.write_word(drv + s.device_driver.name, str(name));
        emu.write_word(pdrv + s.platform_driver.probe, probe);
        emu.write_word(pdrv + s.platform_driver.remove_new, remove);
        return pdrv;
    }
    // platform_device_register_simple(name, id, NULL, 0)
    uint64_t register_device(const std::string& name, int id) {
        uint64_t info = k.slab_alloc(256, gfp_zero);
        emu.write_word(info + s.platform_device_info.name, str(name));
        emu.write_u32(info + s.platform_device_info.id, uint32_t(id));
        return call("platform_device_register_full", {info});
    }
    std::string dev_name(uint64_t pdev) {
        return cstr(emu.read_word(pdev + s.platform_device.dev + s.device.kobj_name));
    }
    uint64_t driver_of(uint64_t pdev) {
        return emu.read_word(pdev + s.platform_device.dev + s.device.driver);
    }
    uint64_t probe = 0, remove = 0;
    int probe_ret = 0;
    std::vector<uint64_t> probed, removed;
};

int64_t err(uint64_t v) {
    return static_cast<int64_t>(v);
}

}  // namespace

TEST(KitDevices, APlatformDeviceAndDriverMeetInEitherOrder) {
    Machine m;
    // The device first ("name" for PLATFORM_DEVID_NONE), then its driver: probed at registration.
    uint64_t pdev = m.register_device("kmodemu-test", -1);
    ASSERT_LT(pdev, uint64_t(-4095));
    EXPECT_EQ(m.dev_name(pdev), "kmodemu-test");
    EXPECT_TRUE(m.probed.empty());
    uint64_t pdrv = m.platform_driver("kmodemu-test");
    uint64_t drv = pdrv + m.s.bus_drivers.platform_driver;
    EXPECT_EQ(m.call("__platform_driver_register", {pdrv, 0}), 0u);
    ASSERT_EQ(m.probed.size(), 1u);
    EXPECT_EQ(m.probed[0], pdev);
    EXPECT_EQ(m.driver_of(pdev), drv);
    // Unregistering the device removes it from its driver.
    m.call("platform_device_unregister", {pdev});
    ASSERT_EQ(m.removed.size(), 1u);
    EXPECT_EQ(m.removed[0], pdev);
    // The driver first: a device added later ("name.id") is probed at once; unregistering the
    // driver removes it.
    uint64_t pdev3 = m.register_device("kmodemu-test", 3);
    EXPECT_EQ(m.dev_name(pdev3), "kmodemu-test.3");
    ASSERT_EQ(m.probed.size(), 2u);
    EXPECT_EQ(m.probed[1], pdev3);
    m.call("platform_driver_unregister", {pdrv});
    ASSERT_EQ(m.removed.size(), 2u);
    EXPECT_EQ(m.removed[1], pdev3);
    EXPECT_EQ(m.driver_of(pdev3), 0u);
    // Registered again, the driver binds the device still there; a device of another name is
    // no match.
    EXPECT_EQ(m.call("__platform_driver_register", {pdrv, 0}), 0u);
    ASSERT_EQ(m.probed.size(), 3u);
    EXPECT_EQ(m.probed[2], pdev3);
    m.register_device("kmodemu-other", -1);
    EXPECT_EQ(m.probed.size(), 3u);
}

TEST(KitDevices, PlatformRegistriesFailAsTheKernelDoes) {
    Machine m;
    // Automatic ids: "name.N.auto", the lowest free N.
    uint64_t a = m.register_device("kmodemu-auto", -2);
    uint64_t b = m.register_device("kmodemu-auto", -2);
    EXPECT_EQ(m.dev_name(a), "kmodemu-auto.0.auto");
    EXPECT_EQ(m.dev_name(b), "kmodemu-auto.1.auto");
    m.call("platform_device_unregister", {a});
    EXPECT_EQ(m.dev_name(m.register_device("kmodemu-auto", -2)), "kmodemu-auto.0.auto");
    // A driver registered twice.
    uint64_t pdrv = m.platform_driver("kmodemu-twice");
    EXPECT_EQ(m.call("__platform_driver_register", {pdrv, 0}), 0u);
    EXPECT_EQ(err(m.call("__platform_driver_register", {pdrv, 0})), -EBUSY);
    EXPECT_TRUE(m.logged("Error: Driver 'kmodemu-twice' is already registered, aborting..."));
    // A probe that fails: the kernel's warning, no binding, device_add() still succeeds.
    m.probe_ret = -EINVAL;
    uint64_t bad = m.register_device("kmodemu-twice", 7);
    ASSERT_LT(bad, uint64_t(-4095));
    EXPECT_TRUE(m.logged("kmodemu-twice: probe of kmodemu-twice.7 failed with error -22"));
    EXPECT_EQ(m.driver_of(bad), 0u);
    // __platform_driver_probe() of a driver that finds no device: -ENODEV, unregistered again.
    m.probe_ret = 0;
    uint64_t once = m.platform_driver("kmodemu-once");
    EXPECT_EQ(err(m.call("__platform_driver_probe", {once, m.probe, 0})), -ENODEV);
    EXPECT_EQ(m.call("__platform_driver_register", {once, 0}), 0u);
}

TEST(KitDevices, ManagedResourcesAreReleasedWhenTheDriverUnbinds) {
    Machine m;
    const KernelStructs& s = m.s;
    uint64_t pdrv = m.platform_driver("kmodemu-devres");
    EXPECT_EQ(m.call("__platform_driver_register", {pdrv, 0}), 0u);
    uint64_t pdev = m.register_device("kmodemu-devres", -1);
    uint64_t dev = pdev + s.platform_device.dev;
    ASSERT_EQ(m.driver_of(pdev), pdrv + s.bus_drivers.platform_driver);
    // A resource whose release is the recorder (called as release(dev, res)), and a managed
    // allocation: unbinding releases the resource, after the driver's remove.
    uint64_t res = m.call("__devres_alloc_node", {m.remove, 32, gfp_zero, uint64_t(-1), 0});
    ASSERT_NE(res, 0u);
    m.call("devres_add", {dev, res});
    EXPECT_NE(m.call("devm_kmalloc", {dev, 64, gfp_zero}), 0u);
    m.call("platform_device_del", {pdev});
    ASSERT_EQ(m.removed.size(), 2u);
    EXPECT_EQ(m.removed[0], pdev);  // the driver's remove(pdev)
    EXPECT_EQ(m.removed[1], dev);   // the resource's release(dev, res)
    // Resources on a device before its probe: the kernel refuses to probe it.
    uint64_t other = m.register_device("kmodemu-early", -1);
    uint64_t odev = other + s.platform_device.dev;
    m.call("devm_kmalloc", {odev, 16, 0});
    uint64_t early = m.platform_driver("kmodemu-early");
    EXPECT_EQ(m.call("__platform_driver_register", {early, 0}), 0u);
    EXPECT_EQ(m.driver_of(other), 0u);
    EXPECT_TRUE(m.logged("platform kmodemu-early: Resources present before probing"));
}

TEST(KitDevices, TransportClassesAndTtyDriversKeepTheirRegistries) {
    Machine m;
    const KernelStructs& s = m.s;
    // transport_class_register(): its class, by name, once.
    uint64_t tc1 = m.k.slab_alloc(512, gfp_zero), tc2 = m.k.slab_alloc(512, gfp_zero);
    uint64_t name = m.str("kmodemu_transport");
    m.emu.write_word(tc1 + s.transport_class.class_ + s.class_.name, name);
    m.emu.write_word(tc2 + s.transport_class.class_ + s.class_.name, name);
    EXPECT_EQ(m.call("transport_class_register", {tc1}), 0u);
    EXPECT_EQ(err(m.call("transport_class_register", {tc2})), -EEXIST);
    m.call("transport_class_unregister", {tc1});
    EXPECT_EQ(m.call("transport_class_register", {tc2}), 0u);

    // __tty_alloc_driver(): no lines, or several unnumbered ones, are -EINVAL.
    const KernelStructs::TtyDriver& t = s.tty_driver;
    EXPECT_EQ(err(m.call("__tty_alloc_driver", {0, 0, t.dynamic_dev})), -EINVAL);
    EXPECT_EQ(err(m.call("__tty_alloc_driver", {2, 0, t.unnumbered_node})), -EINVAL);
    // A dynamic major; a second driver on the same numbers is -EBUSY until the first goes.
    uint64_t d1 = m.call("__tty_alloc_driver", {4, 0, t.dynamic_dev});
    uint64_t d2 = m.call("__tty_alloc_driver", {4, 0, t.dynamic_dev});
    ASSERT_LT(d1, uint64_t(-4095));
    m.emu.write_word(d1 + t.name, m.str("ttyKMODEMU"));
    m.emu.write_word(d2 + t.name, m.str("ttyKMODEMU"));
    EXPECT_EQ(m.call("tty_register_driver", {d1}), 0u);
    uint32_t major = m.emu.read_u32(d1 + t.major);
    EXPECT_GE(major, 234u);
    EXPECT_TRUE(m.emu.read_word(d1 + t.flags) & t.installed);
    m.emu.write_u32(d2 + t.major, major);
    EXPECT_EQ(err(m.call("tty_register_driver", {d2})), -EBUSY);
    m.call("tty_unregister_driver", {d1});
    m.call("tty_driver_kref_put", {d1});
    EXPECT_EQ(m.call("tty_register_driver", {d2}), 0u);
    // tty_std_termios: 38400 baud, ^C to interrupt.
    const Export* std_termios = m.k.find_export("tty_std_termios");
    ASSERT_TRUE(std_termios);
    EXPECT_EQ(m.emu.read_u32(std_termios->address + s.ktermios.c_ospeed), 38400u);
    uint8_t intr = 0;
    m.emu.read(std_termios->address + s.ktermios.c_cc, &intr, 1);
    EXPECT_EQ(intr, 3);
}
