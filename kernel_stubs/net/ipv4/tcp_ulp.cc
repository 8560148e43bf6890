// net/ipv4/tcp_ulp.c: the TCP upper layer protocols (tcp_ulp_list), found by name. Debian's
// kernels build one in: MPTCP's subflow ULP ("mptcp", CONFIG_MPTCP), registered at boot.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/rcu/rcu.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Ulps : Kernel::SubsystemState {
    std::map<uint64_t, std::string> ops;  // struct tcp_ulp_ops * -> its name
};

std::string ulp_name(StubCall& c, uint64_t ulp) {
    const KernelStructs::TcpUlpOps& l = c.kernel.structs().tcp_ulp_ops;
    std::string name = c.read_cstr(ulp + l.name, l.name_len);
    return name.substr(0, std::min<size_t>(name.size(), l.name_len));
}

}  // namespace

void register_tcp_ulp(Kernel& k) {
    const char* sub = "net/ipv4/tcp_ulp";
    // tcp_register_ulp(ulp): -EEXIST when a ULP of the name is registered (tcp_ulp_find()).
    k.add_function("tcp_register_ulp", sub, [](StubCall& c) -> uint64_t {
        std::string name = ulp_name(c, c.arg(0));
        const auto& p = c.kernel.config().profile;
        bool builtin_mptcp = p && p->config.find("CONFIG_MPTCP") == "y";
        Ulps& u = c.kernel.state<Ulps>();
        bool taken = builtin_mptcp && name == "mptcp";
        for (const auto& [ops, n] : u.ops) taken |= n == name;
        if (taken) return static_cast<uint64_t>(int64_t(-EEXIST));
        u.ops[c.arg(0)] = name;
        return 0;
    }, true);
    // tcp_unregister_ulp(ulp): list_del_rcu(), then synchronize_rcu().
    k.add_function("tcp_unregister_ulp", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Ulps>().ops.erase(c.arg(0));
        rcu_synchronize(c.kernel);
        return 0;
    }, true);
}

}  // namespace kmodemu
