// net/ipv4/protocol.c: the IP protocol handlers (inet_protos[MAX_INET_PROTOS]). Debian's kernels
// register ICMP, IGMP, TCP, UDP, PIM (CONFIG_IP_PIMSM_V2) and UDP-Lite at boot.
#include <map>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct InetProtos : Kernel::SubsystemState {
    // protocol -> struct net_protocol * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{1, 0}, {2, 0}, {6, 0}, {17, 0}, {103, 0}, {136, 0}};
};

}  // namespace

void register_inet_protocols(Kernel& k) {
    const char* sub = "net/ipv4/protocol";
    // inet_add_protocol(prot, protocol): 0, or -1 for a protocol taken (the cmpxchg failed).
    k.add_function("inet_add_protocol", sub, [](StubCall& c) -> uint64_t {
        InetProtos& p = c.kernel.state<InetProtos>();
        uint8_t protocol = static_cast<uint8_t>(c.arg(1));
        if (p.protos.count(protocol)) return static_cast<uint64_t>(int64_t(-1));
        p.protos[protocol] = c.arg(0);
        return 0;
    });
    // inet_del_protocol(prot, protocol): 0, or -1 when prot is not the protocol's handler.
    k.add_function("inet_del_protocol", sub, [](StubCall& c) -> uint64_t {
        InetProtos& p = c.kernel.state<InetProtos>();
        auto it = p.protos.find(static_cast<uint8_t>(c.arg(1)));
        if (it == p.protos.end() || !it->second || it->second != c.arg(0))
            return static_cast<uint64_t>(int64_t(-1));
        p.protos.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
