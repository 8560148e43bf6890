// net/core/dev.c: the netdevice notifier chains (netdev_chain, and init_net's own) and the
// devices they are told about. A Debian machine that has booted has one device in init_net,
// the loopback device `lo` (drivers/net/loopback.c, registered by loopback_net_init() and up
// since boot): it is modelled as the struct net_device those notifiers read, with its name,
// ifindex 1, flags IFF_LOOPBACK | IFF_UP (IFF_RUNNING is not kept in dev->flags:
// dev_get_flags() adds it), type ARPHRD_LOOPBACK, mtu LOOPBACK_MTU, nd_net = &init_net, its
// 6-byte all-zero address, and a struct net_device_ops of its own (loopback_ops' callbacks are
// not modelled: they stay NULL). Its other fields are zero (its priv_flags too).
//
// The devices modules make: alloc_netdev_mqs() (the private area at netdev_priv()'s offset, the
// module's setup callback, the queues), register_netdevice() (the name, %d units allocated as
// dev_alloc_name() does, ndo_init, the ifindex, the device on init_net's list, the
// NETDEV_POST_INIT and NETDEV_REGISTER notifiers), their unregistration (NETDEV_UNREGISTER,
// ndo_uninit, and at rtnl_unlock() netdev_run_todo(): priv_destructor and free_netdev() when
// needs_free_netdev) and free_netdev(). No sysfs device, feature set, qdisc or link watch is
// made for them; a device that is brought up is not modelled.
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/rcu/rcu.h"
#include "kernel_stubs/net/core/dev.h"
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
    std::set<uint64_t> packet_types;           // struct packet_type * on ptype_all or ptype_base
    int32_t last_ifindex = 1;                  // net->ifindex of init_net (lo has 1)
    std::map<uint64_t, uint64_t> allocations;  // alloc_netdev_mqs()'s devices: their kvzalloc()
    std::vector<uint64_t> todo;                // net_todo_list: run at rtnl_unlock()
    uint64_t default_ethtool_ops = 0;
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

uint64_t init_net_address(Kernel& k) {
    const Export* init_net = k.find_export("init_net");
    if (!init_net) throw std::logic_error("net/core/dev: no init_net");
    return init_net->address;
}

}  // namespace

// The devices of init_net (for_each_netdev): its dev_base_head list, as modules walk it.
std::vector<uint64_t> init_net_devices(Kernel& k) {
    const KernelStructs& s = k.structs();
    uint64_t head = init_net_address(k) + s.net_device.net_dev_base_head;
    std::vector<uint64_t> devs;
    for (uint64_t n = k.emu().read_word(head + s.list_head.next); n && n != head;
         n = k.emu().read_word(n + s.list_head.next))
        devs.push_back(n - s.net_device.dev_list);
    return devs;
}

namespace {

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

constexpr unsigned ifnamsiz = 16;                // IFNAMSIZ
constexpr uint64_t netdev_align = 32;            // NETDEV_ALIGN
constexpr uint32_t default_tx_queue_len = 1000;  // DEFAULT_TX_QUEUE_LEN
constexpr uint8_t netreg_uninitialized = 0, netreg_registered = 1, netreg_unregistering = 2,
                  netreg_unregistered = 3, netreg_released = 4;  // enum netdev_reg_state
constexpr uint64_t gfp_kernel = 0xcc0;

uint32_t priv_flags(Kernel& k, uint64_t dev) {
    return k.emu().read_u32(dev + k.structs().net_device.priv_flags);
}
void set_priv_flags(Kernel& k, uint64_t dev, uint32_t v) {
    k.emu().write(dev + k.structs().net_device.priv_flags, &v, 4);
}
uint8_t reg_state(Kernel& k, uint64_t dev) {
    uint8_t v = 0;
    k.emu().read(dev + k.structs().net_device.reg_state, &v, 1);
    return v;
}
void set_reg_state(Kernel& k, uint64_t dev, uint8_t v) {
    k.emu().write(dev + k.structs().net_device.reg_state, &v, 1);
}
void write_u32(Kernel& k, uint64_t a, uint32_t v) {
    k.emu().write(a, &v, 4);
}
std::string dev_name(Kernel& k, uint64_t dev) {
    char name[ifnamsiz + 1] = {};
    k.emu().read(dev + k.structs().net_device.name, name, ifnamsiz);
    return name;
}
void init_list_head(Kernel& k, uint64_t l) {
    k.emu().write_word(l + k.structs().list_head.next, l);
    k.emu().write_word(l + k.structs().list_head.prev, l);
}

// dev_valid_name()
bool dev_valid_name(const std::string& name) {
    if (name.empty() || name.size() >= ifnamsiz || name == "." || name == "..") return false;
    for (unsigned char ch : name)
        if (ch == '/' || ch == ':' || ch == ' ' || (ch >= '\t' && ch <= '\r') || ch == 0xa0)
            return false;
    return true;
}

// netdev_name_in_use() (the alternative names are not modelled: none is made here)
bool name_in_use(Kernel& k, const std::string& name) {
    for (uint64_t d : init_net_devices(k))
        if (dev_name(k, d) == name) return true;
    return false;
}

// __dev_alloc_name(): a name with one %d gets the lowest unit no device of the namespace
// has; -EINVAL for another format, -ENFILE when all are taken.
int alloc_name(Kernel& k, const std::string& fmt, std::string& out) {
    size_t p = fmt.find('%');
    if (p != std::string::npos) {
        if (fmt.compare(p, 2, "%d") || fmt.find('%', p + 2) != std::string::npos) return -EINVAL;
        std::set<int> used;
        std::string pre = fmt.substr(0, p), post = fmt.substr(p + 2);
        for (uint64_t d : init_net_devices(k)) {
            std::string n = dev_name(k, d);
            // sscanf(d->name, name, &i): the prefix, a number, and the name made of it again
            if (n.compare(0, pre.size(), pre)) continue;
            size_t q = pre.size(), e = q;
            while (e < n.size() && ((n[e] >= '0' && n[e] <= '9') || (e == q && n[e] == '-')))
                ++e;
            if (e == q) continue;
            int i = std::atoi(n.substr(q, e - q).c_str());
            if (i < 0 || pre + std::to_string(i) + post != n) continue;
            used.insert(i);
        }
        for (int i = 0; i < 32768; ++i)  // max_netdevices: 8 * PAGE_SIZE bits
            if (!used.count(i)) {
                std::string n = pre + std::to_string(i) + post;
                if (n.size() >= ifnamsiz) return -ENFILE;
                if (!name_in_use(k, n)) {
                    out = n;
                    return i;
                }
            }
        return -ENFILE;
    }
    if (name_in_use(k, fmt)) return -EEXIST;
    out = fmt;
    return 0;
}

// dev_get_valid_name(net, dev, name)
int get_valid_name(Kernel& k, uint64_t dev, const std::string& name) {
    if (!dev_valid_name(name)) return -EINVAL;
    std::string out;
    int err = alloc_name(k, name, out);
    if (err < 0) return err;
    k.emu().write(dev + k.structs().net_device.name, out.c_str(), out.size() + 1);
    return 0;
}

// call_netdevice_notifiers(val, dev): init_net's chain first, then netdev_chain.
int call_netdevice_notifiers(Kernel& k, uint64_t val, uint64_t dev) {
    const KernelStructs& s = k.structs();
    uint64_t info = k.slab_alloc(s.netdev_notifier.info_size, gfp_zero);
    k.emu().write_word(info + s.netdev_notifier.info_dev, dev);
    int ret = notifier::call_chain(k, init_net_chain(k), val, info, -1, nullptr);
    if (!(ret & notifier::notify_stop_mask))
        ret = notifier::call_chain(k, netdev_chain(k), val, info, -1, nullptr);
    k.slab().free(info);
    return ret;
}

void list_netdevice(Kernel& k, uint64_t dev) {
    const KernelStructs& s = k.structs();
    uint64_t head = init_net_address(k) + s.net_device.net_dev_base_head;
    uint64_t node = dev + s.net_device.dev_list;
    uint64_t prev = k.emu().read_word(head + s.list_head.prev);
    k.emu().write_word(node + s.list_head.next, head);
    k.emu().write_word(node + s.list_head.prev, prev);
    k.emu().write_word(prev + s.list_head.next, node);
    k.emu().write_word(head + s.list_head.prev, node);
}

// list_del_rcu(&dev->dev_list)
void unlist_netdevice(Kernel& k, uint64_t dev) {
    const KernelStructs& s = k.structs();
    uint64_t node = dev + s.net_device.dev_list;
    uint64_t next = k.emu().read_word(node + s.list_head.next);
    uint64_t prev = k.emu().read_word(node + s.list_head.prev);
    k.emu().write_word(prev + s.list_head.next, next);
    k.emu().write_word(next + s.list_head.prev, prev);
    k.emu().write_word(node + s.list_head.prev, s.list_head.poison2);
}

void free_queues_and_memory(Kernel& k, uint64_t dev) {
    const KernelStructs::NetDevice& l = k.structs().net_device;
    Emulator& e = k.emu();
    for (uint64_t f : {l.tx, l.rx, l.dev_addr, l.pcpu_refcnt}) {
        if (!f) continue;
        uint64_t p = e.read_word(dev + f);
        if (p) k.slab().free(p);
        e.write_word(dev + f, 0);
    }
    Netdev& n = k.state<Netdev>();
    auto it = n.allocations.find(dev);
    if (it != n.allocations.end()) {
        k.slab().free(it->second);
        n.allocations.erase(it);
    }
}

// free_netdev(dev)
void free_netdev(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    if (!k.state<Netdev>().allocations.count(dev))
        c.unimplemented("free_netdev (of a device alloc_netdev_mqs() did not make)");
    uint8_t st = reg_state(k, dev);
    if (st == netreg_unregistering) {  // freed when the unregistration ends
        uint8_t t = 1;
        k.emu().write(dev + k.structs().net_device.needs_free_netdev, &t, 1);
        return;
    }
    if (st != netreg_uninitialized && st != netreg_unregistered)
        c.unimplemented("free_netdev (of a registered device: BUG)");
    // The napi instances, ingress queue, core stats and the address lists are not made here;
    // the device's memory goes with its last reference (put_device() of dev->dev).
    if (st == netreg_unregistered) set_reg_state(k, dev, netreg_released);
    free_queues_and_memory(k, dev);
}

// alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, txqs, rxqs)
uint64_t alloc_netdev_mqs(StubCall& c, uint64_t sizeof_priv, const std::string& name,
                          uint8_t assign_type, uint64_t setup, uint32_t txqs, uint32_t rxqs) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::NetDevice& l = s.net_device;
    Emulator& e = k.emu();
    if (name.size() >= ifnamsiz) c.unimplemented("alloc_netdev_mqs (a name beyond IFNAMSIZ: BUG)");
    if (txqs < 1) {
        k.log(3, "alloc_netdev: Unable to allocate device with zero queues");
        return 0;
    }
    if (rxqs < 1) {
        k.log(3, "alloc_netdev: Unable to allocate device with zero RX queues");
        return 0;
    }
    // The private area at netdev_priv()'s offset; the whole aligned on NETDEV_ALIGN.
    uint64_t p = k.slab_alloc(l.priv + sizeof_priv + netdev_align - 1, gfp_kernel | gfp_zero);
    if (!p) return 0;
    uint64_t dev = (p + netdev_align - 1) & ~(netdev_align - 1);
    k.state<Netdev>().allocations[dev] = p;
    if (l.pcpu_refcnt) {  // alloc_percpu(int) and __dev_hold()
        uint64_t ref = k.slab_alloc(4, gfp_kernel | gfp_zero);
        if (!ref) {
            free_queues_and_memory(k, dev);
            return 0;
        }
        e.write_word(dev + l.pcpu_refcnt, ref);
        write_u32(k, ref, 1);
    }
    uint64_t addr = k.slab_alloc(max_addr_len, gfp_kernel | gfp_zero);  // dev_addr_init()
    if (!addr) {
        free_queues_and_memory(k, dev);
        return 0;
    }
    e.write_word(dev + l.dev_addr, addr);
    e.write_word(dev + l.nd_net, init_net_address(k));
    init_list_head(k, dev + l.unreg_list);
    if (l.priv_len) write_u32(k, dev + l.priv_len, static_cast<uint32_t>(sizeof_priv));
    set_priv_flags(k, dev, l.iff_xmit_dst_release | l.iff_xmit_dst_release_perm);
    const Export* es = k.find_export("ether_setup");
    if (es && setup == es->address)
        ether_setup_dev(k, dev);
    else
        k.call_guest(setup, {dev});
    if (!e.read_u32(dev + l.tx_queue_len)) {
        set_priv_flags(k, dev, priv_flags(k, dev) | l.iff_no_queue);
        write_u32(k, dev + l.tx_queue_len, default_tx_queue_len);
    }
    // netif_alloc_netdev_queues() and netif_alloc_rx_queues(): queue->dev of each
    write_u32(k, dev + l.num_tx_queues, txqs);
    write_u32(k, dev + l.real_num_tx_queues, txqs);
    write_u32(k, dev + l.num_rx_queues, rxqs);
    write_u32(k, dev + l.real_num_rx_queues, rxqs);
    if (txqs > 0xffff) {
        free_netdev(c, dev);
        return 0;
    }
    uint64_t tx = k.slab_alloc(uint64_t(txqs) * l.queue_size, gfp_kernel | gfp_zero);
    uint64_t rx = tx ? k.slab_alloc(uint64_t(rxqs) * l.rx_queue_size, gfp_kernel | gfp_zero) : 0;
    e.write_word(dev + l.tx, tx);
    e.write_word(dev + l.rx, rx);
    if (!tx || !rx) {
        free_netdev(c, dev);
        return 0;
    }
    for (uint32_t i = 0; i < txqs; ++i)
        e.write_word(tx + i * l.queue_size + l.queue_dev, dev);
    for (uint32_t i = 0; i < rxqs; ++i)
        e.write_word(rx + i * l.rx_queue_size + l.rx_queue_dev, dev);
    e.write(dev + l.name, name.c_str(), name.size() + 1);
    e.write(dev + l.name_assign_type, &assign_type, 1);
    if (!e.read_word(dev + l.ethtool_ops)) {
        Netdev& n = k.state<Netdev>();
        if (!n.default_ethtool_ops) n.default_ethtool_ops = k.alloc_data(l.ethtool_ops_size, 16);
        e.write_word(dev + l.ethtool_ops, n.default_ethtool_ops);
    }
    return dev;
}

// register_netdevice(dev), the RTNL held. Not modelled: the features' fix-ups, the device's
// kobject in sysfs (/sys/class/net), the link watch, the qdiscs, perm_addr, rtmsg_ifinfo()
// (no listener).
int register_netdevice(StubCall& c, uint64_t dev) {
    Kernel& k = c.kernel;
    const KernelStructs::NetDevice& l = k.structs().net_device;
    Emulator& e = k.emu();
    if (!rtnl_held(k)) c.unimplemented("register_netdevice (RTNL not held: assertion failed)");
    if (!k.state<Netdev>().allocations.count(dev))
        c.unimplemented("register_netdevice (of a device alloc_netdev_mqs() did not make)");
    if (reg_state(k, dev) != netreg_uninitialized)
        c.unimplemented("register_netdevice (of a device registered before: BUG)");
    int ret = get_valid_name(k, dev, dev_name(k, dev));
    if (ret < 0) return ret;
    uint64_t ops = e.read_word(dev + l.netdev_ops);
    uint64_t init = ops ? e.read_word(ops + l.ndo_init) : 0;
    if (init) {
        ret = static_cast<int32_t>(k.call_guest(init, {dev}));
        if (ret) return ret > 0 ? -EIO : ret;
    }
    auto uninit = [&] {
        uint64_t u = ops ? e.read_word(ops + l.ndo_uninit) : 0;
        if (u) k.call_guest(u, {dev});
        uint64_t d = e.read_word(dev + l.priv_destructor);
        if (d) k.call_guest(d, {dev});
    };
    Netdev& n = k.state<Netdev>();
    int32_t ifindex = static_cast<int32_t>(e.read_u32(dev + l.ifindex));
    if (!ifindex) {  // dev_new_index()
        std::set<int32_t> used;
        for (uint64_t d : init_net_devices(k))
            used.insert(static_cast<int32_t>(e.read_u32(d + l.ifindex)));
        ifindex = n.last_ifindex;
        do {
            if (++ifindex <= 0) ifindex = 1;
        } while (used.count(ifindex));
        n.last_ifindex = ifindex;
        write_u32(k, dev + l.ifindex, static_cast<uint32_t>(ifindex));
    } else {
        for (uint64_t d : init_net_devices(k))
            if (static_cast<int32_t>(e.read_u32(d + l.ifindex)) == ifindex) {
                uninit();
                return -EBUSY;
            }
    }
    ret = notifier::to_errno(call_netdevice_notifiers(k, l.netdev_post_init, dev));
    if (ret) {
        uninit();
        return ret;
    }
    set_reg_state(k, dev, netreg_registered);
    uint64_t state = e.read_word(dev + l.state);  // set_bit(__LINK_STATE_PRESENT)
    e.write_word(dev + l.state, state | (uint64_t(1) << l.link_state_present));
    if (l.pcpu_refcnt) {  // netdev_hold(dev, &dev->dev_registered_tracker)
        uint64_t ref = e.read_word(dev + l.pcpu_refcnt);
        write_u32(k, ref, e.read_u32(ref) + 1);
    }
    list_netdevice(k, dev);
    ret =
        notifier::to_errno(call_netdevice_notifiers(k, k.structs().netdev_notifier.register_, dev));
    if (ret) {
        uint8_t f = 0;  // expect explicit free_netdev() on failure
        e.write(dev + l.needs_free_netdev, &f, 1);
        unregister_netdevice_queue(c, dev, 0);
    }
    return ret;
}

}  // namespace

uint64_t alloc_netdev(StubCall& c, uint64_t sizeof_priv, const std::string& name, uint8_t type,
                      uint64_t setup, uint32_t txqs, uint32_t rxqs) {
    return alloc_netdev_mqs(c, sizeof_priv, name, type, setup, txqs, rxqs);
}

// unregister_netdevice_queue(dev, head)
void unregister_netdevice_queue(StubCall& c, uint64_t dev, uint64_t head) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    if (!rtnl_held(k)) c.unimplemented("unregister_netdevice_queue (RTNL not held)");
    uint64_t node = dev + s.net_device.unreg_list;
    if (head) {  // list_move_tail(&dev->unreg_list, head)
        uint64_t next = k.emu().read_word(node + s.list_head.next);
        uint64_t prev = k.emu().read_word(node + s.list_head.prev);
        k.emu().write_word(prev + s.list_head.next, next);
        k.emu().write_word(next + s.list_head.prev, prev);
        uint64_t tail = k.emu().read_word(head + s.list_head.prev);
        k.emu().write_word(node + s.list_head.next, head);
        k.emu().write_word(node + s.list_head.prev, tail);
        k.emu().write_word(tail + s.list_head.next, node);
        k.emu().write_word(head + s.list_head.prev, node);
        return;
    }
    // LIST_HEAD(single); list_add(&dev->unreg_list, &single); unregister_netdevice_many()
    uint64_t single = k.slab_alloc(s.list_head.size, gfp_zero);
    k.emu().write_word(single + s.list_head.next, node);
    k.emu().write_word(single + s.list_head.prev, node);
    k.emu().write_word(node + s.list_head.next, single);
    k.emu().write_word(node + s.list_head.prev, single);
    unregister_netdevice_many(c, single);
    k.slab().free(single);
}

// unregister_netdevice_many(head): the devices (none of them up: dev_close_many() is not
// modelled) off the list of the namespace, NETDEV_UNREGISTER told, ndo_uninit() called, and
// put on the todo list rtnl_unlock() runs; the list emptied (list_del(head)).
void unregister_netdevice_many(StubCall& c, uint64_t head) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    const KernelStructs::NetDevice& l = s.net_device;
    Emulator& e = k.emu();
    std::vector<uint64_t> devs;
    for (uint64_t n = e.read_word(head + s.list_head.next); n != head;
         n = e.read_word(n + s.list_head.next))
        devs.push_back(n - l.unreg_list);
    if (devs.empty()) return;
    for (uint64_t dev : devs) {
        if (reg_state(k, dev) != netreg_registered)
            c.unimplemented("unregister_netdevice_many (of a device not registered)");
        if (dev_up(k, dev)) c.unimplemented("unregister_netdevice_many (of a device up)");
    }
    for (uint64_t dev : devs) {
        unlist_netdevice(k, dev);
        set_reg_state(k, dev, netreg_unregistering);
    }
    rcu_synchronize(k);
    for (uint64_t dev : devs) {
        call_netdevice_notifiers(k, s.netdev_notifier.unregister, dev);
        uint64_t ops = e.read_word(dev + l.netdev_ops);
        uint64_t u = ops ? e.read_word(ops + l.ndo_uninit) : 0;
        if (u) k.call_guest(u, {dev});
    }
    rcu_synchronize(k);
    Netdev& n = k.state<Netdev>();
    for (uint64_t dev : devs) {
        if (l.pcpu_refcnt) {  // netdev_put(dev, &dev->dev_registered_tracker)
            uint64_t ref = e.read_word(dev + l.pcpu_refcnt);
            write_u32(k, ref, e.read_u32(ref) - 1);
        }
        init_list_head(k, dev + l.unreg_list);
        n.todo.push_back(dev);
    }
    init_list_head(k, head);
}

// netdev_run_todo(): each device unregistered, its last references waited for, then its
// priv_destructor() and, when it asks, free_netdev().
void netdev_run_todo(StubCall& c) {
    Kernel& k = c.kernel;
    const KernelStructs::NetDevice& l = k.structs().net_device;
    Emulator& e = k.emu();
    Netdev& n = k.state<Netdev>();
    std::vector<uint64_t> todo;
    todo.swap(n.todo);
    for (uint64_t dev : todo) {
        set_reg_state(k, dev, netreg_unregistered);
        if (l.pcpu_refcnt && e.read_u32(e.read_word(dev + l.pcpu_refcnt)) != 1)
            c.unimplemented("netdev_run_todo (a device still referenced: netdev_wait_allrefs)");
        uint64_t d = e.read_word(dev + l.priv_destructor);
        if (d) k.call_guest(d, {dev});
        uint8_t needs_free = 0;
        e.read(dev + l.needs_free_netdev, &needs_free, 1);
        if (needs_free) free_netdev(c, dev);
    }
}

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
    k.add_function("unregister_netdevice_many", sub, [](StubCall& c) -> uint64_t {
        unregister_netdevice_many(c, c.arg(0));
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
    // alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, txqs, rxqs)
    k.add_function("alloc_netdev_mqs", sub, [](StubCall& c) -> uint64_t {
        return alloc_netdev_mqs(c, c.arg(0) & 0xffffffffu, c.read_cstr(c.arg(1)),
                                static_cast<uint8_t>(c.arg(2)), c.arg(3),
                                static_cast<uint32_t>(c.arg(4)), static_cast<uint32_t>(c.arg(5)));
    });
    k.add_function("free_netdev", sub, [](StubCall& c) -> uint64_t {
        free_netdev(c, c.arg(0));
        return 0;
    });
    k.add_function("register_netdevice", sub,
                   [](StubCall& c) -> uint64_t { return ret(register_netdevice(c, c.arg(0))); });
    // register_netdev(dev): register_netdevice() under the RTNL (rtnl_lock_killable()).
    k.add_function("register_netdev", sub, [](StubCall& c) -> uint64_t {
        rtnl_take(c, "register_netdev");
        int err = register_netdevice(c, c.arg(0));
        rtnl_release(c.kernel);
        netdev_run_todo(c);
        return ret(err);
    });
    k.add_function("unregister_netdevice_queue", sub, [](StubCall& c) -> uint64_t {
        unregister_netdevice_queue(c, c.arg(0), c.arg(1));
        return 0;
    });
    // unregister_netdev(dev): unregister_netdevice() under the RTNL.
    k.add_function("unregister_netdev", sub, [](StubCall& c) -> uint64_t {
        rtnl_take(c, "unregister_netdev");
        unregister_netdevice_queue(c, c.arg(0), 0);
        rtnl_release(c.kernel);
        netdev_run_todo(c);
        return 0;
    });
    k.add_function("dev_valid_name", sub, [](StubCall& c) -> uint64_t {
        return dev_valid_name(c.read_cstr(c.arg(0))) ? 1 : 0;
    });
    // dev_alloc_name(dev, name): the unit found, or an errno; the name written to dev->name.
    k.add_function("dev_alloc_name", sub, [](StubCall& c) -> uint64_t {
        if (!rtnl_held(c.kernel)) c.unimplemented("dev_alloc_name (RTNL not held)");
        std::string out;
        int r = alloc_name(c.kernel, c.read_cstr(c.arg(1)), out);
        if (r >= 0)
            c.emu.write(c.arg(0) + c.kernel.structs().net_device.name, out.c_str(), out.size() + 1);
        return ret(r);
    });
    // __dev_get_by_name(net, name) and __dev_get_by_index(net, ifindex): no reference taken.
    k.add_function("__dev_get_by_name", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0) != init_net_address(c.kernel))
            c.unimplemented("__dev_get_by_name (a namespace other than init_net)");
        std::string name = c.read_cstr(c.arg(1));
        for (uint64_t d : init_net_devices(c.kernel))
            if (dev_name(c.kernel, d) == name) return d;
        return 0;
    });
    k.add_function("__dev_get_by_index", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0) != init_net_address(c.kernel))
            c.unimplemented("__dev_get_by_index (a namespace other than init_net)");
        uint32_t ifindex = static_cast<uint32_t>(c.arg(1));
        for (uint64_t d : init_net_devices(c.kernel))
            if (c.emu.read_u32(d + c.kernel.structs().net_device.ifindex) == ifindex) return d;
        return 0;
    });
    // dev_addr_mod(dev, offset, addr, len): memcpy() into dev->dev_addr (its shadow in
    // dev_addr_list, not modelled otherwise, is the same bytes).
    k.add_function("dev_addr_mod", sub, [](StubCall& c) -> uint64_t {
        uint64_t off = c.arg(1), len = c.arg(3);
        if (off + len > max_addr_len) c.unimplemented("dev_addr_mod (beyond MAX_ADDR_LEN)");
        std::vector<uint8_t> b(len);
        c.emu.read(c.arg(2), b.data(), len);
        uint64_t a = c.emu.read_word(c.arg(0) + c.kernel.structs().net_device.dev_addr);
        c.emu.write(a + off, b.data(), len);
        return 0;
    });
    // synchronize_net(): synchronize_rcu() (or its expedited form under the RTNL lock).
    k.add_function("synchronize_net", "net/core/dev", [](StubCall& c) -> uint64_t {
        rcu_synchronize(c.kernel);
        return 0;
    });
}

}  // namespace kmodemu
