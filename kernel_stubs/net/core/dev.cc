// net/core/dev.c: the netdevice notifier chains (netdev_chain, and init_net's own) and the
// devices they are told about. A Debian machine that has booted has one device in init_net,
// the loopback device `lo` (drivers/net/loopback.c, registered by loopback_net_init() and up
// since boot): it is modelled as the struct net_device those notifiers read, with its name,
// ifindex 1, flags IFF_LOOPBACK | IFF_UP (IFF_RUNNING is not kept in dev->flags:
// dev_get_flags() adds it), type ARPHRD_LOOPBACK, mtu LOOPBACK_MTU, nd_net = &init_net, its
// 6-byte all-zero address, and a struct net_device_ops of its own (loopback_ops' callbacks are
// not modelled: they stay NULL). Its other fields are zero (its priv_flags too).
#include <cerrno>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/rcu/rcu.h"
#include "kernel_stubs/net/core/rtnetlink.h"
#include "kernel_stubs/notifier.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint32_t iff_up = 0x1;           // IFF_UP
constexpr uint32_t iff_loopback = 0x8;     // IFF_LOOPBACK
constexpr uint16_t arphrd_loopback = 772;  // ARPHRD_LOOPBACK
constexpr uint32_t loopback_mtu = 64 * 1024;
constexpr unsigned max_addr_len = 32;  // MAX_ADDR_LEN (dev_addr_init()'s buffer)
constexpr uint8_t eth_alen = 6;

struct Netdev : Kernel::SubsystemState {
    uint64_t lo = 0;
    std::set<uint64_t> packet_types;  // struct packet_type * on ptype_all or ptype_base
};

// loopback_net_init(): lo, on init_net's dev_base_head list (the list modules walk inline with
// for_each_netdev()).
uint64_t make_loopback(Kernel& k) {
    const KernelStructs& s = k.structs();
    const KernelStructs::NetDevice& l = s.net_device;
    Emulator& e = k.emu();
    uint64_t dev = k.alloc_data(l.size, 64);
    e.write(dev + l.name, "lo", 3);
    int32_t ifindex = 1;
    e.write(dev + l.ifindex, &ifindex, 4);
    uint32_t flags = iff_loopback | iff_up;
    e.write(dev + l.flags, &flags, 4);
    uint16_t type = arphrd_loopback;
    e.write(dev + l.type, &type, 2);
    uint32_t mtu = loopback_mtu;
    e.write(dev + l.mtu, &mtu, 4);
    const Export* init_net = k.find_export("init_net");
    if (!init_net) throw std::logic_error("net/core/dev: no init_net");
    e.write_word(dev + l.nd_net, init_net->address);
    e.write_word(dev + l.dev_addr, k.alloc_data(max_addr_len, 16));
    uint8_t alen = eth_alen;
    e.write(dev + l.addr_len, &alen, 1);
    e.write_word(dev + l.netdev_ops, k.alloc_data(l.ops_size, 16));
    // list_add_tail_rcu(&dev->dev_list, &net->dev_base_head) on the empty list.
    uint64_t head = init_net->address + l.net_dev_base_head, node = dev + l.dev_list;
    e.write_word(head + s.list_head.next, node);
    e.write_word(head + s.list_head.prev, node);
    e.write_word(node + s.list_head.next, head);
    e.write_word(node + s.list_head.prev, head);
    return dev;
}

// The devices of init_net (for_each_netdev).
std::vector<uint64_t> init_net_devices(Kernel& k) {
    return {k.state<Netdev>().lo};
}

uint64_t netdev_chain(Kernel& k) {
    return notifier::kernel_chain(k, "netdev_chain");
}
// init_net's netdev_chain (register_netdevice_notifier_net()).
uint64_t init_net_chain(Kernel& k) {
    return notifier::kernel_chain(k, "init_net.netdev_chain");
}

// call_netdevice_notifier(): the notifier alone, with a struct netdev_notifier_info {dev}.
int call_netdevice_notifier(Kernel& k, uint64_t nb, uint64_t val, uint64_t dev) {
    const KernelStructs& s = k.structs();
    uint64_t info = k.slab_alloc(s.netdev_notifier.info_size, gfp_zero);
    k.emu().write_word(info + s.netdev_notifier.info_dev, dev);
    uint64_t fn = k.emu().read_word(nb + s.notifier_block.notifier_call);
    int ret = static_cast<int32_t>(k.call_guest(fn, {nb, val, info}));
    k.slab().free(info);
    return ret;
}

bool dev_up(Kernel& k, uint64_t dev) {
    return k.emu().read_u32(dev + k.structs().net_device.flags) & iff_up;
}

// call_netdevice_unregister_notifiers()
void unregister_notifiers(Kernel& k, uint64_t nb, uint64_t dev) {
    const KernelStructs::NetdevNotifier& ev = k.structs().netdev_notifier;
    if (dev_up(k, dev)) {
        call_netdevice_notifier(k, nb, ev.going_down, dev);
        call_netdevice_notifier(k, nb, ev.down, dev);
    }
    call_netdevice_notifier(k, nb, ev.unregister, dev);
}

// call_netdevice_register_net_notifiers(): NETDEV_REGISTER (and NETDEV_UP for a device up) of
// every device of the namespace; on a refusal, the devices already told are unregistered in
// reverse order.
int register_net_notifiers(Kernel& k, uint64_t nb) {
    const KernelStructs::NetdevNotifier& ev = k.structs().netdev_notifier;
    std::vector<uint64_t> devs = init_net_devices(k);
    for (size_t i = 0; i < devs.size(); ++i) {
        int err = notifier::to_errno(call_netdevice_notifier(k, nb, ev.register_, devs[i]));
        if (!err && dev_up(k, devs[i])) call_netdevice_notifier(k, nb, ev.up, devs[i]);
        if (err) {
            while (i--)
                unregister_notifiers(k, nb, devs[i]);
            return err;
        }
    }
    return 0;
}

void unregister_net_notifiers(Kernel& k, uint64_t nb) {
    for (uint64_t dev : init_net_devices(k))
        unregister_notifiers(k, nb, dev);
}

// register_netdevice_notifier() and __register_netdevice_notifier_net(): the chain, then the
// replay (the boot is over: dev_boot_phase is 0).
int register_notifier(StubCall& c, uint64_t chain, uint64_t nb, const char* what) {
    rtnl_take(c, what);
    int err = notifier::chain_register(c.kernel, chain, nb, false);
    if (!err) {
        err = register_net_notifiers(c.kernel, nb);
        if (err) notifier::chain_unregister(c.kernel, chain, nb);
    }
    rtnl_release(c.kernel);
    return err;
}

int unregister_notifier(StubCall& c, uint64_t chain, uint64_t nb, const char* what) {
    rtnl_take(c, what);
    int err = notifier::chain_unregister(c.kernel, chain, nb);
    if (!err) unregister_net_notifiers(c.kernel, nb);
    rtnl_release(c.kernel);
    return err;
}

uint64_t ret(int v) {
    return static_cast<uint64_t>(int64_t(v));
}

}  // namespace

void register_netdev(Kernel& k) {
    const char* sub = "net/core/dev";
    k.state<Netdev>().lo = make_loopback(k);
    k.add_function("register_netdevice_notifier", sub, [](StubCall& c) -> uint64_t {
        return ret(
            register_notifier(c, netdev_chain(c.kernel), c.arg(0), "register_netdevice_notifier"));
    });
    k.add_function("unregister_netdevice_notifier", sub, [](StubCall& c) -> uint64_t {
        return ret(unregister_notifier(c, netdev_chain(c.kernel), c.arg(0),
                                       "unregister_netdevice_notifier"));
    });
    // dev_add_pack(pt): the packet handler added to ptype_all or its type's ptype_base list
    // (no packet is received here, so which list is not modelled).
    k.add_function("dev_add_pack", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Netdev>().packet_types.insert(c.arg(0));
        return 0;
    });
    // dev_remove_pack(pt): __dev_remove_pack() and synchronize_net(); a handler not added gets
    // pr_warn("dev_remove_pack: %p not found\n"), not modelled.
    k.add_functions({"dev_remove_pack", "__dev_remove_pack"}, sub, [](StubCall& c) -> uint64_t {
        if (!c.kernel.state<Netdev>().packet_types.erase(c.arg(0)))
            c.unimplemented("dev_remove_pack (of a handler not added)");
        return 0;
    });
    // unregister_netdevice_many(head): nothing to do for an empty list (a pernet exit that
    // found none of its devices); the unregistration of devices is not modelled.
    k.add_function("unregister_netdevice_many", sub, [](StubCall& c) -> uint64_t {
        uint64_t head = c.arg(0);
        if (c.emu.read_word(head + c.kernel.structs().list_head.next) != head)
            c.unimplemented("unregister_netdevice_many (of devices)");
        return 0;
    });
    // register_netdevice_notifier_net(net, nb): init_net is the only namespace.
    k.add_function("register_netdevice_notifier_net", sub, [](StubCall& c) -> uint64_t {
        const Export* init_net = c.kernel.find_export("init_net");
        if (!init_net || c.arg(0) != init_net->address)
            c.unimplemented("register_netdevice_notifier_net (a namespace other than init_net)");
        return ret(register_notifier(c, init_net_chain(c.kernel), c.arg(1),
                                     "register_netdevice_notifier_net"));
    });
    k.add_function("unregister_netdevice_notifier_net", sub, [](StubCall& c) -> uint64_t {
        const Export* init_net = c.kernel.find_export("init_net");
        if (!init_net || c.arg(0) != init_net->address)
            c.unimplemented("unregister_netdevice_notifier_net (a namespace other than init_net)");
        return ret(unregister_notifier(c, init_net_chain(c.kernel), c.arg(1),
                                       "unregister_netdevice_notifier_net"));
    });
    // synchronize_net(): synchronize_rcu() (or its expedited form under the RTNL lock).
    k.add_function("synchronize_net", "net/core/dev", [](StubCall& c) -> uint64_t {
        rcu_synchronize(c.kernel);
        return 0;
    });
}

}  // namespace kmodemu
