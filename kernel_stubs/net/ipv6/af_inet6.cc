// net/ipv6/af_inet6.c: the IPv6 socket types' protocol switch (inetsw6[SOCK_MAX]), permanent
// protocols first. Debian's kernels have SOCK_STREAM TCP (permanent) and MPTCP, SOCK_DGRAM UDP
// and UDP-Lite (permanent) and ICMPv6 (ping), SOCK_RAW IPPROTO_IP.
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint8_t inet_protosw_permanent = 0x02;  // INET_PROTOSW_PERMANENT (net/protocol.h)

struct Inetsw6 : Kernel::SubsystemState {
    struct Entry {
        uint16_t protocol;
        bool permanent;
        uint64_t p;  // struct inet_protosw * (0: built into the kernel)
    };
    std::map<uint16_t, std::vector<Entry>> types{
        {1, {{6, true, 0}, {262, false, 0}}},
        {2, {{17, true, 0}, {136, true, 0}, {58, false, 0}}},
        {3, {{0, false, 0}}},
    };
};

uint16_t read_u16(StubCall& c, uint64_t addr) {
    std::vector<uint8_t> raw = c.read(addr, 2);
    return uint16_t(raw[0] | raw[1] << 8);
}

}  // namespace

void register_af_inet6(Kernel& k) {
    const char* sub = "net/ipv6/af_inet6";
    // ipv6_mod_enabled(): disable_ipv6_mod == 0, the ipv6.disable= parameter not given (IPv6 is
    // built into Debian's kernels).
    k.add_function(
        "ipv6_mod_enabled", sub, [](StubCall&) -> uint64_t { return 1; }, true);
    // inet6_register_protosw(p): -EINVAL for a type beyond SOCK_MAX, -EPERM for a permanent
    // protocol of the type again (each with a message); else after the permanent ones.
    k.add_function("inet6_register_protosw", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::NetProtos& l = c.kernel.structs().net_protos;
        uint64_t p = c.arg(0);
        uint16_t type = read_u16(c, p + l.protosw_type);
        uint16_t protocol = read_u16(c, p + l.protosw_protocol);
        bool permanent = c.read(p + l.protosw_flags, 1)[0] & inet_protosw_permanent;
        if (type >= l.sock_max) {
            c.kernel.log(
                3, "Ignoring attempt to register invalid socket type " + std::to_string(type));
            return static_cast<uint64_t>(-int64_t(EINVAL));
        }
        std::vector<Inetsw6::Entry>& list = c.kernel.state<Inetsw6>().types[type];
        size_t last_perm = 0;
        for (size_t i = 0; i < list.size(); ++i)
            if (list[i].permanent) {
                if (list[i].protocol == protocol) {
                    c.kernel.log(
                        3, "Attempt to override permanent protocol " + std::to_string(protocol));
                    return static_cast<uint64_t>(-int64_t(EPERM));
                }
                last_perm = i + 1;
            }
        list.insert(list.begin() + static_cast<long>(last_perm), {protocol, permanent, p});
        return 0;
    });
    // inet6_unregister_protosw(p): a permanent protocol stays, with a message.
    k.add_function("inet6_unregister_protosw", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::NetProtos& l = c.kernel.structs().net_protos;
        uint64_t p = c.arg(0);
        if (c.read(p + l.protosw_flags, 1)[0] & inet_protosw_permanent) {
            c.kernel.log(3, "Attempt to unregister permanent protocol " +
                                std::to_string(read_u16(c, p + l.protosw_protocol)));
            return 0;
        }
        for (auto& [type, list] : c.kernel.state<Inetsw6>().types)
            for (auto it = list.begin(); it != list.end(); ++it)
                if (it->p == p) {
                    list.erase(it);
                    return 0;
                }
        c.unimplemented("inet6_unregister_protosw (of a protocol not registered)");
    });
}

}  // namespace kmodemu
