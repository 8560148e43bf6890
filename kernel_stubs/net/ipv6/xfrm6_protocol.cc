// net/ipv6/xfrm6_protocol.c: the IPv6 IPsec protocol handlers (kernel_stubs/net/ipv4/
// xfrm4_protocol.h).
#include "kernel_stubs/net/ipv4/xfrm4_protocol.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Xfrm6Protocols : Kernel::SubsystemState, xfrm_protocol::Chains {};

}  // namespace

void register_xfrm6_protocol(Kernel& k) {
    const char* sub = "net/ipv6/xfrm6_protocol";
    k.add_function("xfrm6_protocol_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::XfrmType& l = c.kernel.structs().xfrm_type;
        return xfrm_protocol::ret(xfrm_protocol::add(c, c.kernel.state<Xfrm6Protocols>(), l.v6_next,
                                                     l.v6_priority, "inet6_add_protocol",
                                                     "xfrm6_protocol_register"));
    });
    k.add_function("xfrm6_protocol_deregister", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::XfrmType& l = c.kernel.structs().xfrm_type;
        return xfrm_protocol::ret(xfrm_protocol::del(c, c.kernel.state<Xfrm6Protocols>(), l.v6_next,
                                                     "inet6_del_protocol",
                                                     "xfrm6_protocol_deregister"));
    });
}

}  // namespace kmodemu
