// net/ipv4/af_inet.c: the socket types' protocol switch (inetsw[SOCK_MAX]). Each type's list has
// its permanent protocols first; Debian's kernels have, from inetsw_array and udplite4_register()
// and mptcp_proto_init(): SOCK_STREAM TCP (permanent) and MPTCP, SOCK_DGRAM UDP and UDP-Lite
// (permanent) and ICMP (ping), SOCK_RAW IPPROTO_IP.
#include <map>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint8_t inet_protosw_permanent = 0x02;  // INET_PROTOSW_PERMANENT (net/protocol.h)

struct Inetsw : Kernel::SubsystemState {
    struct Entry {
        uint16_t protocol;
        bool permanent;
        uint64_t p;  // struct inet_protosw * (0: built into the kernel)
    };
    std::map<uint16_t, std::vector<Entry>> types{
        {1, {{6, true, 0}, {262, false, 0}}},                 // SOCK_STREAM
        {2, {{17, true, 0}, {136, true, 0}, {1, false, 0}}},  // SOCK_DGRAM
        {3, {{0, false, 0}}},                                 // SOCK_RAW
    };
};

}  // namespace

void register_af_inet(Kernel& k) {
    const char* sub = "net/ipv4/af_inet";
    // inet_register_protosw(p): added after its type's permanent protocols; a type beyond
    // SOCK_MAX, or a permanent protocol of the type again, is refused with a message.
    k.add_function("inet_register_protosw", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::NetProtos& l = c.kernel.structs().net_protos;
        uint64_t p = c.arg(0);
        std::vector<uint8_t> raw = c.read(p + l.protosw_type, 2);
        uint16_t type = uint16_t(raw[0] | raw[1] << 8);
        raw = c.read(p + l.protosw_protocol, 2);
        uint16_t protocol = uint16_t(raw[0] | raw[1] << 8);
        bool permanent = c.read(p + l.protosw_flags, 1)[0] & inet_protosw_permanent;
        if (type >= l.sock_max) {
            c.kernel.log(
                3, "Ignoring attempt to register invalid socket type " + std::to_string(type));
            return 0;
        }
        std::vector<Inetsw::Entry>& list = c.kernel.state<Inetsw>().types[type];
        size_t at = 0;
        for (; at < list.size() && list[at].permanent; ++at)
            if (list[at].protocol == protocol) {
                c.kernel.log(3,
                             "Attempt to override permanent protocol " + std::to_string(protocol));
                return 0;
            }
        list.insert(list.begin() + static_cast<long>(at), {protocol, permanent, p});
        return 0;
    });
    // inet_unregister_protosw(p): a permanent protocol stays, with a message.
    k.add_function("inet_unregister_protosw", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::NetProtos& l = c.kernel.structs().net_protos;
        uint64_t p = c.arg(0);
        if (c.read(p + l.protosw_flags, 1)[0] & inet_protosw_permanent) {
            std::vector<uint8_t> raw = c.read(p + l.protosw_protocol, 2);
            c.kernel.log(3, "Attempt to unregister permanent protocol " +
                                std::to_string(raw[0] | raw[1] << 8));
            return 0;
        }
        for (auto& [type, list] : c.kernel.state<Inetsw>().types)
            for (auto it = list.begin(); it != list.end(); ++it)
                if (it->p == p) {
                    list.erase(it);
                    return 0;
                }
        c.unimplemented("inet_unregister_protosw (of a protocol not registered)");
    });
}

}  // namespace kmodemu
