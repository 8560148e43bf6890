// net/core/lwtunnel.c: the lightweight tunnel encapsulations (lwtun_encaps[]), one slot per
// enum lwtunnel_encap_types. At boot the kernel registers IP and IP6 (ip_tunnel_core.c), BPF
// (CONFIG_LWTUNNEL_BPF), SEG6 and SEG6_LOCAL (CONFIG_IPV6_SEG6_LWTUNNEL), RPL
// (CONFIG_IPV6_RPL_LWTUNNEL) and IOAM6 (CONFIG_IPV6_IOAM6_LWTUNNEL) where they are built in.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

namespace {

constexpr unsigned encap_ip = 2, encap_ip6 = 4, encap_seg6 = 5, encap_bpf = 6, encap_seg6_local = 7,
                   encap_rpl = 8, encap_ioam6 = 9;
constexpr unsigned encap_max = 10;  // LWTUNNEL_ENCAP_MAX (LWTUNNEL_ENCAP_XFRM)
constexpr uint64_t builtin = 1;     // the kernel's own ops

struct Lwtunnel : Kernel::SubsystemState {
    std::map<unsigned, uint64_t> encaps;  // encap type -> struct lwtunnel_encap_ops *
    bool booted = false;
};

std::map<unsigned, uint64_t>& encaps(Kernel& k) {
    Lwtunnel& l = k.state<Lwtunnel>();
    if (!l.booted) {
        l.booted = true;
        const KernelProfile* p = k.config().profile.get();
        auto y = [p](const char* c) { return !p || p->config.find(c) == "y"; };
        if (y("CONFIG_LWTUNNEL")) {
            l.encaps[encap_ip] = builtin;
            if (y("CONFIG_IPV6")) l.encaps[encap_ip6] = builtin;
            if (y("CONFIG_LWTUNNEL_BPF")) l.encaps[encap_bpf] = builtin;
            if (y("CONFIG_IPV6_SEG6_LWTUNNEL")) {
                l.encaps[encap_seg6] = builtin;
                l.encaps[encap_seg6_local] = builtin;
            }
            if (y("CONFIG_IPV6_RPL_LWTUNNEL")) l.encaps[encap_rpl] = builtin;
            if (y("CONFIG_IPV6_IOAM6_LWTUNNEL")) l.encaps[encap_ioam6] = builtin;
        }
    }
    return l.encaps;
}

}  // namespace

void register_lwtunnel(Kernel& k) {
    const char* sub = "net/core/lwtunnel";
    // lwtunnel_encap_add_ops(ops, num): -ERANGE beyond LWTUNNEL_ENCAP_MAX; a cmpxchg on the
    // slot: -1 when it is taken.
    k.add_function("lwtunnel_encap_add_ops", sub, [](StubCall& c) -> uint64_t {
        unsigned num = static_cast<uint32_t>(c.arg(1));
        if (num > encap_max) return static_cast<uint64_t>(-int64_t(ERANGE));
        uint64_t& slot = encaps(c.kernel)[num];
        if (slot) return static_cast<uint64_t>(int64_t(-1));
        slot = c.arg(0);
        return 0;
    });
    // lwtunnel_encap_del_ops(ops, encap_type): -ERANGE for NONE or beyond the maximum; -1
    // unless ops is the slot's; then synchronize_net().
    k.add_function("lwtunnel_encap_del_ops", sub, [](StubCall& c) -> uint64_t {
        unsigned num = static_cast<uint32_t>(c.arg(1));
        if (!num || num > encap_max) return static_cast<uint64_t>(-int64_t(ERANGE));
        std::map<unsigned, uint64_t>& m = encaps(c.kernel);
        auto it = m.find(num);
        int ret = -1;
        if (it != m.end() && it->second == c.arg(0)) {
            m.erase(it);
            ret = 0;
        }
        if (const Export* s = c.kernel.find_export("synchronize_net"))
            c.kernel.call_guest(s->address, {});
        return static_cast<uint64_t>(int64_t(ret));
    });
}

}  // namespace kmodemu
