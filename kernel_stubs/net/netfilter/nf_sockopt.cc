// net/netfilter/nf_sockopt.c: the netfilter socket options' registry (nf_sockopts): a
// protocol family's set and get option ranges are exclusive. Debian builds none in (ip_tables,
// ebtables, ip_set, ... are modules).
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Sockopt {
    uint8_t pf;
    int32_t set_min, set_max, get_min, get_max;
};

struct NfSockopts : Kernel::SubsystemState {
    std::map<uint64_t, Sockopt> registered;  // struct nf_sockopt_ops * -> its ranges
};

// overlap(): the ranges are [min, max).
bool overlap(int32_t min1, int32_t max1, int32_t min2, int32_t max2) {
    return max1 > min2 && min1 < max2;
}

}  // namespace

void register_nf_sockopt(Kernel& k) {
    const char* sub = "net/netfilter/nf_sockopt";
    // nf_register_sockopt(reg): -EBUSY when a range of the family overlaps one registered
    // (pr_debug("nf_sock overlap: ..."): not printed).
    k.add_function("nf_register_sockopt", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::NfSockoptOps& l = c.kernel.structs().nf_sockopt_ops;
        uint64_t reg = c.arg(0);
        auto i32 = [&](uint64_t off) { return static_cast<int32_t>(c.emu.read_u32(reg + off)); };
        uint8_t pf = 0;
        c.emu.read(reg + l.pf, &pf, 1);
        Sockopt n{pf, i32(l.set_optmin), i32(l.set_optmax), i32(l.get_optmin), i32(l.get_optmax)};
        NfSockopts& s = c.kernel.state<NfSockopts>();
        for (const auto& [ops, o] : s.registered)
            if (o.pf == n.pf && (overlap(o.set_min, o.set_max, n.set_min, n.set_max) ||
                                 overlap(o.get_min, o.get_max, n.get_min, n.get_max)))
                return static_cast<uint64_t>(-int64_t(EBUSY));
        s.registered[reg] = n;
        return 0;
    });
    // nf_unregister_sockopt(reg): list_del() of it.
    k.add_function("nf_unregister_sockopt", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<NfSockopts>().registered.erase(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
