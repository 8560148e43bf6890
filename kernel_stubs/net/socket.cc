// net/socket.c: the protocol families (net_families[NPROTO]). Debian's kernels have PF_UNIX,
// PF_INET, PF_INET6, PF_NETLINK, PF_PACKET and PF_XDP built in and registered at boot.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// pf_family_names[], by the address family numbers of include/linux/socket.h.
constexpr const char* pf_family_names[] = {
    "PF_UNSPEC",
    "PF_UNIX/PF_LOCAL",
    "PF_INET",
    "PF_AX25",
    "PF_IPX",
    "PF_APPLETALK",
    "PF_NETROM",
    "PF_BRIDGE",
    "PF_ATMPVC",
    "PF_X25",
    "PF_INET6",
    "PF_ROSE",
    "PF_DECnet",
    "PF_NETBEUI",
    "PF_SECURITY",
    "PF_KEY",
    "PF_NETLINK/PF_ROUTE",
    "PF_PACKET",
    "PF_ASH",
    "PF_ECONET",
    "PF_ATMSVC",
    "PF_RDS",
    "PF_SNA",
    "PF_IRDA",
    "PF_PPPOX",
    "PF_WANPIPE",
    "PF_LLC",
    "PF_IB",
    "PF_MPLS",
    "PF_CAN",
    "PF_TIPC",
    "PF_BLUETOOTH",
    "PF_IUCV",
    "PF_RXRPC",
    "PF_ISDN",
    "PF_PHONET",
    "PF_IEEE802154",
    "PF_CAIF",
    "PF_ALG",
    "PF_NFC",
    "PF_VSOCK",
    "PF_KCM",
    "PF_QIPCRTR",
    "PF_SMC",
    "PF_XDP",
    "PF_MCTP",
};

struct NetFamilies : Kernel::SubsystemState {
    // net_families[]: family -> struct net_proto_family * (0: built into the kernel)
    std::map<int, uint64_t> families{{1, 0}, {2, 0}, {10, 0}, {16, 0}, {17, 0}, {44, 0}};
    uint64_t br_ioctl_hook = 0;  // br_ioctl_hook (brioctl_set())
};

std::string family_name(int family) {
    if (family >= 0 && family < int(std::size(pf_family_names))) return pf_family_names[family];
    return "(null)";
}

}  // namespace

void register_socket(Kernel& k) {
    const char* sub = "net/socket";
    // sock_register(ops): -ENOBUFS for a family beyond NPROTO, -EEXIST for one taken; the
    // registration is announced either way.
    k.add_function("sock_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        int family = static_cast<int32_t>(c.emu.read_u32(c.arg(0) + s.net_protos.family_family));
        int nproto = static_cast<int>(s.sock_diag.af_max);  // NPROTO is AF_MAX
        if (family >= nproto) {
            c.kernel.log(2, "protocol " + std::to_string(family) + " >= NPROTO(" +
                                std::to_string(nproto) + ")");
            return static_cast<uint64_t>(-int64_t(ENOBUFS));
        }
        NetFamilies& nf = c.kernel.state<NetFamilies>();
        int err = 0;
        if (family < 0) c.unimplemented("sock_register (a negative family)");
        if (nf.families.count(family))
            err = -EEXIST;
        else
            nf.families[family] = c.arg(0);
        c.kernel.log(6, "NET: Registered " + family_name(family) + " protocol family");
        return static_cast<uint64_t>(int64_t(err));
    });
    // sock_unregister(family): the slot emptied (BUG_ON() for a family out of range).
    k.add_function("sock_unregister", sub, [](StubCall& c) -> uint64_t {
        int family = c.iarg(0);
        if (family < 0 || family >= static_cast<int>(c.kernel.structs().sock_diag.af_max))
            c.unimplemented("sock_unregister (a family out of range: BUG_ON)");
        c.kernel.state<NetFamilies>().families.erase(family);
        c.kernel.log(6, "NET: Unregistered " + family_name(family) + " protocol family");
        return 0;
    });
    // brioctl_set(hook): the bridge's ioctl handler (SIOCGIFBR/SIOCSIFBR, SIOCBRADDBR/
    // SIOCBRDELBR), set under br_ioctl_mutex; NULL unsets it.
    k.add_function("brioctl_set", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<NetFamilies>().br_ioctl_hook = c.arg(0);
        return 0;
    });
    // sock_is_registered(family)
    k.add_function("sock_is_registered", sub, [](StubCall& c) -> uint64_t {
        int family = c.iarg(0);
        return family >= 0 && family < static_cast<int>(c.kernel.structs().sock_diag.af_max) &&
               c.kernel.state<NetFamilies>().families.count(family);
    });
}

}  // namespace kmodemu
