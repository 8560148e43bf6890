// net/core/rtnetlink.c: the RTNL lock and the link kinds' registry (link_ops). One task runs
// here, so taking the lock never waits; taking it twice would deadlock the kernel, which
// kmodemu reports instead. No link kind that a module registers is built into Debian's kernels.
#include "kernel_stubs/net/core/rtnetlink.h"

#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "kernel_stubs/net/core/dev.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Rtnl : Kernel::SubsystemState {
    bool held = false;
    std::map<uint64_t, std::string> link_ops;          // struct rtnl_link_ops * -> its kind
    std::map<std::pair<int, int>, uint64_t> handlers;  // (protocol, msgtype) -> doit
    std::set<uint64_t> af_ops;                         // rtnl_af_register()'s
};

constexpr int rtnl_family_max = 129;  // RTNL_FAMILY_MAX

// RTNL_MAX_TYPE and RTNL_SLAVE_MAX_TYPE (rtnetlink.c's own): 50 and 43 in 6.1; the slave one
// 44 since 6.6 (IFLA_BRPORT_BACKUP_NHID).
constexpr uint32_t rtnl_max_type = 50;
uint32_t rtnl_slave_max_type(const Kernel& k) {
    return kernel_since(k.config().profile.get(), 6, 6) ? 44 : 43;
}

// __rtnl_link_register(ops), the RTNL held: -EEXIST for a kind taken; ops that can create
// devices (alloc or setup) and have no dellink get unregister_netdevice_queue.
int link_register(StubCall& c, uint64_t ops) {
    const KernelStructs::RtnlLinkOps& l = c.kernel.structs().rtnl_link_ops;
    Emulator& e = c.emu;
    std::string kind = c.read_cstr(e.read_word(ops + l.kind));
    Rtnl& r = c.kernel.state<Rtnl>();
    for (const auto& [other, k2] : r.link_ops)
        if (k2 == kind) return -EEXIST;
    if ((e.read_word(ops + l.alloc) || e.read_word(ops + l.setup)) &&
        !e.read_word(ops + l.dellink)) {
        // The export, bound lazily as for a module's import when kmodemu lacks it.
        const Export* q = c.kernel.find_export("unregister_netdevice_queue");
        if (!q) q = &c.kernel.add_lazy("unregister_netdevice_queue");
        e.write_word(ops + l.dellink, q->address);
    }
    r.link_ops[ops] = kind;
    return 0;
}

// __rtnl_kill_links(net, ops): ops->dellink(dev, &list_kill) of each device of the kind (init_net
// is the only namespace), then unregister_netdevice_many(&list_kill).
void kill_links(StubCall& c, uint64_t ops) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t kill = 0;
    for (uint64_t dev : init_net_devices(k)) {
        if (c.emu.read_word(dev + s.net_device.rtnl_link_ops) != ops) continue;
        if (!kill) {
            kill = k.slab_alloc(s.list_head.size, 0);
            c.emu.write_word(kill + s.list_head.next, kill);
            c.emu.write_word(kill + s.list_head.prev, kill);
        }
        k.call_guest(c.emu.read_word(ops + s.rtnl_link_ops.dellink), {dev, kill});
    }
    if (!kill) return;
    unregister_netdevice_many(c, kill);
    k.slab().free(kill);
}

// rtnl_register_internal(owner, protocol, msgtype, doit, dumpit, flags): the message type's
// handlers (a second registration replaces the first); a protocol beyond RTNL_FAMILY_MAX is
// the kernel's WARN and -EINVAL, not emulated.
int register_handler(StubCall& c, int protocol, int msgtype, uint64_t doit) {
    if (protocol < 0 || protocol > rtnl_family_max)
        c.unimplemented("rtnl_register_internal (a protocol beyond RTNL_FAMILY_MAX: a WARN)");
    c.kernel.state<Rtnl>().handlers[{protocol, msgtype}] = doit;
    return 0;
}

// rtnl_unregister(protocol, msgtype): -ENOENT when nothing is registered for it.
int unregister_handler(Kernel& k, int protocol, int msgtype) {
    return k.state<Rtnl>().handlers.erase({protocol, msgtype}) ? 0 : -ENOENT;
}

// The handler array of 6.12's __rtnl_register_many()/__rtnl_unregister_many().
struct MsgHandler {
    int protocol, msgtype;
    uint64_t doit;
};
MsgHandler msg_handler(StubCall& c, uint64_t handlers, int i) {
    const KernelStructs::RtnlMsgHandler& h = c.kernel.structs().rtnl_msg_handler;
    if (!h.size) c.unimplemented("rtnl_msg_handler (a kit without its layout)");
    uint64_t p = handlers + uint64_t(i) * h.size;
    return {static_cast<int>(c.emu.read_u32(p + h.protocol)),
            static_cast<int>(c.emu.read_u32(p + h.msgtype)), c.emu.read_word(p + h.doit)};
}

}  // namespace

void rtnl_take(StubCall& c, const char* what) {
    Rtnl& r = c.kernel.state<Rtnl>();
    if (r.held)
        c.unimplemented(std::string(what) + " while the RTNL is held (the task would deadlock)");
    r.held = true;
}

void rtnl_release(Kernel& k) {
    k.state<Rtnl>().held = false;
}

bool rtnl_held(Kernel& k) {
    return k.state<Rtnl>().held;
}

void register_rtnetlink(Kernel& k) {
    const char* sub = "net/core/rtnetlink";
    k.add_function("rtnl_lock", sub, [](StubCall& c) -> uint64_t {
        rtnl_take(c, "rtnl_lock");
        return 0;
    });
    // rtnl_unlock(): the mutex released, then netdev_run_todo().
    k.add_function("rtnl_unlock", sub, [](StubCall& c) -> uint64_t {
        rtnl_release(c.kernel);
        netdev_run_todo(c);
        return 0;
    });
    // rtnl_is_locked(): mutex_is_locked(&rtnl_mutex).
    k.add_function("rtnl_is_locked", sub,
                   [](StubCall& c) -> uint64_t { return c.kernel.state<Rtnl>().held ? 1 : 0; });
    k.add_function("__rtnl_link_register", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(link_register(c, c.arg(0))));
    });
    // rtnl_link_register(ops): WARN_ON() and -EINVAL for attribute counts beyond the kernel's
    // (not modelled: Debian's modules are built against them), then __rtnl_link_register()
    // under the RTNL.
    k.add_function("rtnl_link_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::RtnlLinkOps& l = c.kernel.structs().rtnl_link_ops;
        if (c.emu.read_u32(c.arg(0) + l.maxtype) > rtnl_max_type ||
            c.emu.read_u32(c.arg(0) + l.slave_maxtype) > rtnl_slave_max_type(c.kernel))
            c.unimplemented("rtnl_link_register (maxtype beyond RTNL_MAX_TYPE: WARN_ON)");
        rtnl_take(c, "rtnl_link_register");
        int err = link_register(c, c.arg(0));
        rtnl_release(c.kernel);
        return static_cast<uint64_t>(int64_t(err));
    });
    // __rtnl_link_unregister(ops): the links of the kind would be deleted (__rtnl_kill_links();
    // no device is made of one here) and the kind removed.
    k.add_function("__rtnl_link_unregister", sub, [](StubCall& c) -> uint64_t {
        kill_links(c, c.arg(0));
        c.kernel.state<Rtnl>().link_ops.erase(c.arg(0));
        return 0;
    });
    // rtnl_link_unregister(ops): __rtnl_link_unregister() under the RTNL, whose rtnl_unlock()
    // finishes the unregistrations.
    k.add_function("rtnl_link_unregister", sub, [](StubCall& c) -> uint64_t {
        rtnl_take(c, "rtnl_link_unregister");
        kill_links(c, c.arg(0));
        c.kernel.state<Rtnl>().link_ops.erase(c.arg(0));
        rtnl_release(c.kernel);
        netdev_run_todo(c);
        return 0;
    });
    k.add_function(
        "rtnl_register_module", sub,
        [](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(
                int64_t(register_handler(c, c.iarg(1), c.iarg(2), c.arg(3))));
        },
        true);
    k.add_function(
        "rtnl_unregister", sub,
        [](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(
                int64_t(unregister_handler(c.kernel, c.iarg(0), c.iarg(1))));
        },
        true);
    // 6.12 __rtnl_register_many(handlers, n): each in order; on an error the ones registered
    // are unregistered (__rtnl_unregister_many()) and the error returned.
    k.add_function(
        "__rtnl_register_many", sub,
        [](StubCall& c) -> uint64_t {
            int n = c.iarg(1);
            for (int i = 0; i < n; i++) {
                MsgHandler h = msg_handler(c, c.arg(0), i);
                if (int err = register_handler(c, h.protocol, h.msgtype, h.doit)) {
                    for (int j = i - 1; j >= 0; j--) {
                        MsgHandler u = msg_handler(c, c.arg(0), j);
                        unregister_handler(c.kernel, u.protocol, u.msgtype);
                    }
                    return static_cast<uint64_t>(int64_t(err));
                }
            }
            return 0;
        },
        true);
    // __rtnl_unregister_many(handlers, n): rtnl_unregister() of each, the last first.
    k.add_function(
        "__rtnl_unregister_many", sub,
        [](StubCall& c) -> uint64_t {
            for (int j = c.iarg(1) - 1; j >= 0; j--) {
                MsgHandler u = msg_handler(c, c.arg(0), j);
                unregister_handler(c.kernel, u.protocol, u.msgtype);
            }
            return 0;
        },
        true);
    k.add_function(
        "rtnl_unregister_all", sub,
        [](StubCall& c) -> uint64_t {
            auto& h = c.kernel.state<Rtnl>().handlers;
            for (auto it = h.begin(); it != h.end();)
                it = it->first.first == c.iarg(0) ? h.erase(it) : std::next(it);
            return 0;
        },
        true);
    // rtnl_af_register(ops) / rtnl_af_unregister(ops): the address family's link operations.
    k.add_function(
        "rtnl_af_register", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Rtnl>().af_ops.insert(c.arg(0));
            return 0;
        },
        true);
    k.add_function(
        "rtnl_af_unregister", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Rtnl>().af_ops.erase(c.arg(0));
            return 0;
        },
        true);
}

}  // namespace kmodemu
