// Network devices (net/core/dev.c, net/ethernet/eth.c): Debian's modules that make virtual
// devices (dummy, eql, the ham radio drivers, teql) get the real kernel's verdict, and
// registration names, numbers and refuses devices as the kernel does.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitNetdev, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // alloc_netdev_mqs, ether_setup, register_netdevice under rtnl_lock,
        // rtnl_link_unregister (its devices unregistered), free_netdev
        "kernel/drivers/net/dummy.ko",
        // register_netdev, unregister_netdev
        "kernel/drivers/net/eql.ko",
        "kernel/drivers/net/hamradio/baycom_par.ko",
        // (baycom_ser_hdx and yam agree on arm64; armhf stops in ax25 at _raw_write_lock_bh)
        "kernel/net/sched/sch_teql.ko",
        // alloc_etherdev_mqs ("eth%d" made ipddp0 by the module)
        "kernel/drivers/net/appletalk/ipddp.ko",
    });
}

struct NetdevKernel {
    NetdevKernel() : emu(Arch::arm64), k(emu, config()) {}
    static KernelConfig config() {
        KernelConfig c;
        c.profile = KernelProfile::from_kit(KMODEMU_KIT_ARM64);
        return c;
    }
    int64_t call(const char* name, std::initializer_list<uint64_t> args) {
        Export* e = k.find_export(name);
        EXPECT_TRUE(e) << name;
        unsigned i = 0;
        for (uint64_t a : args)
            emu.set_arg(i++, a);
        StubCall c(k, emu);
        return static_cast<int64_t>(e->fn(c));
    }
    uint64_t str(const std::string& s) {
        uint64_t p = k.slab_alloc(s.size() + 1, gfp_zero);
        emu.write(p, s.c_str(), s.size() + 1);
        return p;
    }
    std::string cstr(uint64_t at) {
        std::string s;
        emu.read_cstring(at, 256, s);
        return s;
    }
    // alloc_netdev(0, name, NET_NAME_ENUM, ether_setup)
    uint64_t alloc(const std::string& name, uint64_t txqs = 1) {
        return static_cast<uint64_t>(call(
            "alloc_netdev_mqs", {0, str(name), 1, k.find_export("ether_setup")->address, txqs, 1}));
    }
    Emulator emu;
    Kernel k;
};

TEST(KitNetdev, AllocNetdevRunsTheSetup) {
    NetdevKernel n;
    const KernelStructs::NetDevice& l = n.k.structs().net_device;
    uint64_t dev = n.alloc("kmd%d");
    ASSERT_NE(dev, 0u);
    EXPECT_EQ(dev % 32, 0u);  // NETDEV_ALIGN
    EXPECT_EQ(n.cstr(dev + l.name), "kmd%d");
    uint16_t type = 0;
    n.emu.read(dev + l.type, &type, 2);
    EXPECT_EQ(type, 1);  // ARPHRD_ETHER
    EXPECT_EQ(n.emu.read_u32(dev + l.mtu), 1500u);
    EXPECT_EQ(n.emu.read_u32(dev + l.tx_queue_len), 1000u);
    EXPECT_EQ(n.emu.read_u32(dev + l.num_tx_queues), 1u);
    uint64_t tx = n.emu.read_word(dev + l.tx);
    EXPECT_EQ(n.emu.read_word(tx + l.queue_dev), dev);
    // No queue: the kernel's error and NULL.
    EXPECT_EQ(n.alloc("kmd%d", 0), 0u);
    n.call("free_netdev", {dev});
}

TEST(KitNetdev, RegistrationNamesNumbersAndRefuses) {
    NetdevKernel n;
    const KernelStructs::NetDevice& l = n.k.structs().net_device;
    uint64_t init_net = n.k.find_export("init_net")->address;
    EXPECT_EQ(n.call("dev_valid_name", {n.str("kmd0")}), 1);
    EXPECT_EQ(n.call("dev_valid_name", {n.str("a/b")}), 0);
    EXPECT_EQ(n.call("dev_valid_name", {n.str("..")}), 0);
    EXPECT_EQ(n.call("dev_valid_name", {n.str("0123456789abcdef")}), 0);  // IFNAMSIZ
    n.call("rtnl_lock", {});
    uint64_t a = n.alloc("kmd%d"), b = n.alloc("kmd%d");
    EXPECT_EQ(n.call("register_netdevice", {a}), 0);
    EXPECT_EQ(n.call("register_netdevice", {b}), 0);
    EXPECT_EQ(n.cstr(a + l.name), "kmd0");
    EXPECT_EQ(n.cstr(b + l.name), "kmd1");
    EXPECT_EQ(n.emu.read_u32(a + l.ifindex), 2u);  // lo has 1
    EXPECT_EQ(n.emu.read_u32(b + l.ifindex), 3u);
    EXPECT_EQ(n.call("__dev_get_by_name", {init_net, n.str("kmd1")}), int64_t(b));
    EXPECT_EQ(n.call("__dev_get_by_index", {init_net, 2}), int64_t(a));
    EXPECT_EQ(n.call("__dev_get_by_name", {init_net, n.str("lo")}) != 0, true);
    // A name taken: -EEXIST; a bad one: -EINVAL; a format with two units: -EINVAL.
    uint64_t c = n.alloc("kmd1");
    EXPECT_EQ(n.call("register_netdevice", {c}), -EEXIST);
    n.call("free_netdev", {c});
    c = n.alloc("a:b");
    EXPECT_EQ(n.call("register_netdevice", {c}), -EINVAL);
    n.call("free_netdev", {c});
    c = n.alloc("k%d%d");
    EXPECT_EQ(n.call("register_netdevice", {c}), -EINVAL);
    n.call("free_netdev", {c});
    // Unregistered: off the list at once, NETREG_UNREGISTERED at rtnl_unlock().
    n.call("unregister_netdevice_queue", {a, 0});
    EXPECT_EQ(n.call("__dev_get_by_name", {init_net, n.str("kmd0")}), 0);
    uint8_t st = 0;
    n.emu.read(a + l.reg_state, &st, 1);
    EXPECT_EQ(st, 2);  // NETREG_UNREGISTERING
    n.call("rtnl_unlock", {});
    n.emu.read(a + l.reg_state, &st, 1);
    EXPECT_EQ(st, 3);  // NETREG_UNREGISTERED
    n.call("free_netdev", {a});
    // The lowest free unit is taken again; the ifindex is not.
    n.call("rtnl_lock", {});
    uint64_t d = n.alloc("kmd%d");
    EXPECT_EQ(n.call("register_netdevice", {d}), 0);
    EXPECT_EQ(n.cstr(d + l.name), "kmd0");
    EXPECT_EQ(n.emu.read_u32(d + l.ifindex), 4u);
    n.call("rtnl_unlock", {});
    // register_netdev()/unregister_netdev() take the RTNL themselves.
    uint64_t e = n.alloc("kmd%d");
    EXPECT_EQ(n.call("register_netdev", {e}), 0);
    EXPECT_EQ(n.cstr(e + l.name), "kmd2");
    n.call("unregister_netdev", {e});
    n.emu.read(e + l.reg_state, &st, 1);
    EXPECT_EQ(st, 3);
    n.call("free_netdev", {e});
}

}  // namespace
