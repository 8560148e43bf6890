// net/ipv6/addrconf_core.c: the IPv6 address classification every IPv6 user calls, and the
// well-known addresses (RFC 2553's wildcard and loopback, the all-nodes/all-routers groups).
// (inet6addr_chain's notifier registration is in kernel_stubs/notifier.cc.)
#include <array>
#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

constexpr uint32_t addr_any = 0x0000, addr_unicast = 0x0001, addr_multicast = 0x0002,
                   addr_loopback = 0x0010, addr_linklocal = 0x0020, addr_sitelocal = 0x0040,
                   addr_compatv4 = 0x0080, addr_mapped = 0x1000;  // IPV6_ADDR_*
constexpr uint32_t scope_nodelocal = 0x01, scope_linklocal = 0x02, scope_sitelocal = 0x05,
                   scope_global = 0x0e;  // IPV6_ADDR_SCOPE_*

constexpr uint32_t scope_type(uint32_t scope) {
    return scope << 16;  // IPV6_ADDR_SCOPE_TYPE()
}

// ipv6_addr_scope2type()
uint32_t scope2type(uint32_t scope) {
    switch (scope) {
    case scope_nodelocal: return scope_type(scope_nodelocal) | addr_loopback;
    case scope_linklocal: return scope_type(scope_linklocal) | addr_linklocal;
    case scope_sitelocal: return scope_type(scope_sitelocal) | addr_sitelocal;
    }
    return scope_type(scope);
}

// __ipv6_addr_type(): the address's type and scope, from its first word (host order here:
// the kernel compares big-endian words with htonl() constants).
uint32_t ipv6_addr_type(const std::array<uint8_t, 16>& a) {
    auto be = [&](int i) {
        return uint32_t(a[4 * i]) << 24 | uint32_t(a[4 * i + 1]) << 16 |
               uint32_t(a[4 * i + 2]) << 8 | a[4 * i + 3];
    };
    uint32_t st = be(0);
    if ((st & 0xE0000000) != 0 && (st & 0xE0000000) != 0xE0000000)
        return addr_unicast | scope_type(scope_global);
    if ((st & 0xFF000000) == 0xFF000000)
        return addr_multicast | scope2type(a[1] & 0x0f);  // IPV6_ADDR_MC_SCOPE()
    if ((st & 0xFFC00000) == 0xFE800000)
        return addr_linklocal | addr_unicast | scope_type(scope_linklocal);
    if ((st & 0xFFC00000) == 0xFEC00000)
        return addr_sitelocal | addr_unicast | scope_type(scope_sitelocal);
    if ((st & 0xFE000000) == 0xFC000000) return addr_unicast | scope_type(scope_global);
    if ((be(0) | be(1)) == 0) {
        if (be(2) == 0) {
            if (be(3) == 0) return addr_any;
            if (be(3) == 1) return addr_loopback | addr_unicast | scope_type(scope_linklocal);
            return addr_compatv4 | addr_unicast | scope_type(scope_global);
        }
        if (be(2) == 0x0000ffff) return addr_mapped | scope_type(scope_global);
    }
    return addr_unicast | scope_type(scope_global);
}

}  // namespace

void register_addrconf_core(Kernel& k) {
    const char* sub = "net/ipv6/addrconf_core";
    k.add_function("__ipv6_addr_type", sub, [](StubCall& c) -> uint64_t {
        std::array<uint8_t, 16> a{};
        c.emu.read(c.arg(0), a.data(), a.size());
        return ipv6_addr_type(a);
    });
    // The constant addresses (IN6ADDR_*_INIT).
    struct Known {
        const char* name;
        uint8_t first0, first1, last;
    };
    for (const Known& n : {Known{"in6addr_any", 0, 0, 0}, Known{"in6addr_loopback", 0, 0, 1},
                           Known{"in6addr_linklocal_allnodes", 0xff, 0x02, 1},
                           Known{"in6addr_linklocal_allrouters", 0xff, 0x02, 2},
                           Known{"in6addr_interfacelocal_allnodes", 0xff, 0x01, 1},
                           Known{"in6addr_interfacelocal_allrouters", 0xff, 0x01, 2},
                           Known{"in6addr_sitelocal_allrouters", 0xff, 0x05, 2}}) {
        std::array<uint8_t, 16> a{};
        a[0] = n.first0;
        a[1] = n.first1;
        a[15] = n.last;
        k.add_data(n.name, sub, a.size(), a.data());
    }
}

}  // namespace kmodemu
