// net/ipv6/protocol.c: the IPv6 protocol handlers (inet6_protos[MAX_INET_PROTOS]). Debian's
// kernels (CONFIG_IPV6=y) register TCP, UDP, the routing, fragment, no-next-header and
// destination options headers, ICMPv6, PIM (CONFIG_IPV6_PIMSM_V2) and UDP-Lite at boot. The
// offloads (inet6_offloads[]) of TCP, UDP, IPv6 and IPv4 in IPv6 (ip6_offload.c), the routing
// and destination options headers (exthdrs_offload.c) and GRE (gre_offload.c) too.
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/net/ipv4/protocol.h"

namespace kmodemu {

namespace {

struct Inet6Protos : Kernel::SubsystemState {
    // protocol -> struct inet6_protocol * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{6, 0},  {17, 0}, {43, 0},  {44, 0}, {58, 0},
                                       {59, 0}, {60, 0}, {103, 0}, {136, 0}};
};

struct Inet6Offloads : Kernel::SubsystemState {
    // protocol -> struct net_offload * (0: built into the kernel)
    std::map<uint8_t, uint64_t> protos{{4, 0}, {6, 0}, {17, 0}, {41, 0}, {43, 0}, {47, 0}, {60, 0}};
};

}  // namespace

void register_inet6_protocols(Kernel& k) {
    register_protocol_table<Inet6Protos>(k, "net/ipv6/protocol", "inet6_add_protocol",
                                         "inet6_del_protocol");
    register_protocol_table<Inet6Offloads>(k, "net/ipv6/protocol", "inet6_add_offload",
                                           "inet6_del_offload");
}

}  // namespace kmodemu
