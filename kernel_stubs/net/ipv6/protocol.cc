// net/ipv6/protocol.c: the IPv6 protocol handlers (inet6_protos[MAX_INET_PROTOS]). Debian's
// kernels (CONFIG_IPV6=y) register TCP, UDP, the routing, fragment, no-next-header and
// destination options headers, ICMPv6, PIM (CONFIG_IPV6_PIMSM_V2) and UDP-Lite at boot.
#include <map>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Inet6Protos : Kernel::SubsystemState {
    // protocol -> struct inet6_protocol * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{6, 0},  {17, 0}, {43, 0},  {44, 0}, {58, 0},
                                       {59, 0}, {60, 0}, {103, 0}, {136, 0}};
};

}  // namespace

void register_inet6_protocols(Kernel& k) {
    const char* sub = "net/ipv6/protocol";
    // inet6_add_protocol(prot, protocol): 0, or -1 for a protocol taken.
    k.add_function("inet6_add_protocol", sub, [](StubCall& c) -> uint64_t {
        Inet6Protos& p = c.kernel.state<Inet6Protos>();
        uint8_t protocol = static_cast<uint8_t>(c.arg(1));
        if (p.protos.count(protocol)) return static_cast<uint64_t>(int64_t(-1));
        p.protos[protocol] = c.arg(0);
        return 0;
    });
    // inet6_del_protocol(prot, protocol): 0, or -1 when prot is not the protocol's handler.
    k.add_function("inet6_del_protocol", sub, [](StubCall& c) -> uint64_t {
        Inet6Protos& p = c.kernel.state<Inet6Protos>();
        auto it = p.protos.find(static_cast<uint8_t>(c.arg(1)));
        if (it == p.protos.end() || !it->second || it->second != c.arg(0))
            return static_cast<uint64_t>(int64_t(-1));
        p.protos.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
