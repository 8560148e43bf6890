// net/netlink/af_netlink.c: kernel-side netlink sockets. A unit taken by a socket already
// there fails as in netlink_insert(); no user space talks to them here.
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/notifier.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Netlink : Kernel::SubsystemState {
    std::map<uint64_t, int> sockets;  // struct sock * -> protocol (unit)
};

}  // namespace

void register_netlink(Kernel& k) {
    const char* sub = "net/netlink";
    constexpr int max_links = 32;  // MAX_LINKS
    // __netlink_kernel_create(net, unit, module, cfg): the socket, or NULL.
    k.add_function("__netlink_kernel_create", sub, [](StubCall& c) -> uint64_t {
        int unit = static_cast<int32_t>(c.arg(1));
        if (unit < 0 || unit >= max_links) return 0;
        Netlink& nl = c.kernel.state<Netlink>();
        for (const auto& [sk, u] : nl.sockets)
            if (u == unit) return 0;
        uint64_t sk = c.kernel.slab_alloc(c.kernel.structs().sock.size, gfp_zero);
        if (sk) nl.sockets[sk] = unit;
        return sk;
    });
    k.add_function("netlink_kernel_release", sub, [](StubCall& c) -> uint64_t {
        if (c.kernel.state<Netlink>().sockets.erase(c.arg(0))) c.kernel.slab().free(c.arg(0));
        return 0;
    });
    // netlink_register_notifier(nb) / netlink_unregister_notifier(nb): netlink_chain, told of
    // NETLINK_URELEASE when a user socket is released (no user space here).
    k.add_function("netlink_register_notifier", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(notifier::chain_register(
            c.kernel, notifier::kernel_chain(c.kernel, "netlink_chain"), c.arg(0), false)));
    });
    k.add_function("netlink_unregister_notifier", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(notifier::chain_unregister(
            c.kernel, notifier::kernel_chain(c.kernel, "netlink_chain"), c.arg(0))));
    });
}

}  // namespace kmodemu
