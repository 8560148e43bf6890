// net/core/sock_diag.c: the socket diagnostics handlers (sock_diag_handlers[AF_MAX]), one per
// address family. Debian's handlers are all modules (inet_diag, unix_diag, ...).
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct SockDiag : Kernel::SubsystemState {
    std::map<uint8_t, uint64_t> handlers;  // family -> struct sock_diag_handler *
    uint64_t inet_rcv_compat = 0;          // inet_diag's handler of the old requests
};

uint8_t family_of(StubCall& c, uint64_t hndl) {
    uint8_t family = 0;
    c.emu.read(hndl + c.kernel.structs().sock_diag.family, &family, 1);
    return family;
}

}  // namespace

void register_sock_diag(Kernel& k) {
    const char* sub = "net/core/sock_diag";
    // sock_diag_register(hndl): -EINVAL for a family beyond AF_MAX, -EBUSY for one taken.
    k.add_function(
        "sock_diag_register", sub,
        [](StubCall& c) -> uint64_t {
            uint8_t family = family_of(c, c.arg(0));
            if (family >= c.kernel.structs().sock_diag.af_max)
                return static_cast<uint64_t>(-int64_t(EINVAL));
            SockDiag& d = c.kernel.state<SockDiag>();
            if (d.handlers.count(family)) return static_cast<uint64_t>(-int64_t(EBUSY));
            d.handlers[family] = c.arg(0);
            return 0;
        },
        true);
    // sock_diag_unregister(hnld): the family's slot emptied (a family beyond AF_MAX: nothing).
    k.add_function(
        "sock_diag_unregister", sub,
        [](StubCall& c) -> uint64_t {
            uint8_t family = family_of(c, c.arg(0));
            if (family < c.kernel.structs().sock_diag.af_max)
                c.kernel.state<SockDiag>().handlers.erase(family);
            return 0;
        },
        true);
    // sock_diag_register_inet_compat(fn) / sock_diag_unregister_inet_compat(fn): the handler of
    // TCPDIAG_GETSOCK and DCCPDIAG_GETSOCK requests set, then cleared (whatever it was).
    k.add_function("sock_diag_register_inet_compat", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<SockDiag>().inet_rcv_compat = c.arg(0);
        return 0;
    });
    k.add_function("sock_diag_unregister_inet_compat", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<SockDiag>().inet_rcv_compat = 0;
        return 0;
    });
}

}  // namespace kmodemu
