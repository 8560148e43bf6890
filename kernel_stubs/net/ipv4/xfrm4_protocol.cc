// net/ipv4/xfrm4_protocol.c: the IPv4 IPsec protocol handlers (kernel_stubs/net/ipv4/
// xfrm4_protocol.h).
#include "kernel_stubs/net/ipv4/xfrm4_protocol.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Xfrm4Protocols : Kernel::SubsystemState, xfrm_protocol::Chains {};

}  // namespace

void register_xfrm4_protocol(Kernel& k) {
    const char* sub = "net/ipv4/xfrm4_protocol";
    k.add_function("xfrm4_protocol_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::XfrmType& l = c.kernel.structs().xfrm_type;
        return xfrm_protocol::ret(xfrm_protocol::add(c, c.kernel.state<Xfrm4Protocols>(), l.v4_next,
                                                     l.v4_priority, "inet_add_protocol",
                                                     "xfrm4_protocol_register"));
    });
    k.add_function("xfrm4_protocol_deregister", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::XfrmType& l = c.kernel.structs().xfrm_type;
        return xfrm_protocol::ret(xfrm_protocol::del(c, c.kernel.state<Xfrm4Protocols>(), l.v4_next,
                                                     "inet_del_protocol",
                                                     "xfrm4_protocol_deregister"));
    });
}

}  // namespace kmodemu
