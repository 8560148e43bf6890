// net/xfrm/xfrm_input.c: the input handlers per family, plain and IP-in-IP. The kernel's own
// (xfrm4_protocol.c and xfrm6_protocol.c, built into Debian's kernels with CONFIG_XFRM and
// CONFIG_IPV6) hold the plain AF_INET and AF_INET6 slots from boot.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned af_inet = 2, af_inet6 = 10;
constexpr uint64_t builtin = 1;  // the kernel's own afinfo

struct XfrmInput : Kernel::SubsystemState {
    std::map<std::pair<bool, unsigned>, uint64_t> afinfo;  // (is_ipip, family) -> afinfo
    bool booted = false;
};

XfrmInput& state(Kernel& k) {
    XfrmInput& x = k.state<XfrmInput>();
    if (!x.booted) {
        x.booted = true;
        const KernelProfile* p = k.config().profile.get();
        auto y = [p](const char* c) { return !p || p->config.find(c) == "y"; };
        if (y("CONFIG_XFRM") && y("CONFIG_INET")) x.afinfo[{false, af_inet}] = builtin;
        if (y("CONFIG_XFRM") && y("CONFIG_IPV6")) x.afinfo[{false, af_inet6}] = builtin;
    }
    return x;
}

std::pair<bool, unsigned> key_of(StubCall& c, uint64_t afinfo) {
    const KernelStructs::XfrmInputAfinfo& l = c.kernel.structs().xfrm_input_afinfo;
    auto b = c.read(afinfo + l.family, 1);
    auto ipip = c.read(afinfo + l.is_ipip, 1);
    return {ipip[0] != 0, b[0]};
}

}  // namespace

void register_xfrm_input(Kernel& k) {
    const char* sub = "net/xfrm/xfrm_input";
    // xfrm_input_register_afinfo(afinfo): -EEXIST when its slot is taken; a family past
    // AF_INET6 is the kernel's WARN and -EAFNOSUPPORT.
    k.add_function("xfrm_input_register_afinfo", sub, [](StubCall& c) -> uint64_t {
        auto key = key_of(c, c.arg(0));
        if (key.second > af_inet6)
            c.unimplemented("xfrm_input_register_afinfo (of a family past AF_INET6: a WARN)");
        uint64_t& slot = state(c.kernel).afinfo[key];
        if (slot) return static_cast<uint64_t>(int64_t(-EEXIST));
        slot = c.arg(0);
        return 0;
    });
    // xfrm_input_unregister_afinfo(afinfo): -EINVAL unless it is the one in its slot.
    k.add_function("xfrm_input_unregister_afinfo", sub, [](StubCall& c) -> uint64_t {
        auto key = key_of(c, c.arg(0));
        if (key.second > af_inet6)
            c.unimplemented("xfrm_input_unregister_afinfo (of a family past AF_INET6: a WARN)");
        auto& m = state(c.kernel).afinfo;
        auto it = m.find(key);
        if (it == m.end() || it->second != c.arg(0)) return static_cast<uint64_t>(int64_t(-EINVAL));
        m.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
