// net/ipv4/protocol.c: the IP protocol handlers (inet_protos[MAX_INET_PROTOS]). Debian's kernels
// register ICMP, IGMP, TCP, UDP, PIM (CONFIG_IP_PIMSM_V2) and UDP-Lite at boot. The GSO/GRO
// offloads (inet_offloads[]) of TCP, UDP, IP-in-IP (af_inet.c), GRE (gre_offload.c) and IPv6
// over IPv4 (sit_offload of net/ipv6/ip6_offload.c) are registered at boot too.
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/net/ipv4/protocol.h"

namespace kmodemu {

namespace {

struct InetProtos : Kernel::SubsystemState {
    // protocol -> struct net_protocol * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{1, 0}, {2, 0}, {6, 0}, {17, 0}, {103, 0}, {136, 0}};
};

struct InetOffloads : Kernel::SubsystemState {
    // protocol -> struct net_offload * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{4, 0}, {6, 0}, {17, 0}, {41, 0}, {47, 0}};
};

}  // namespace

void register_inet_protocols(Kernel& k) {
    register_protocol_table<InetProtos>(k, "net/ipv4/protocol", "inet_add_protocol",
                                        "inet_del_protocol");
    register_protocol_table<InetOffloads>(k, "net/ipv4/protocol", "inet_add_offload",
                                          "inet_del_offload");
}

}  // namespace kmodemu
