// fs/proc/proc_sysctl.c: sysctl tables. A registered table gets a header; nothing reads
// /proc/sys here. (The kernel refuses an entry registered twice with "sysctl duplicate entry";
// kmodemu does not walk the tables to find one.)
#include <set>

#include "kernel_stubs/kernel/sysctl.h"

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

// struct ctl_table_header as allocated with its table's bookkeeping: modules hold the pointer.
constexpr uint64_t header_object_size = 256;

struct Sysctl : Kernel::SubsystemState {
    std::set<uint64_t> headers;
};

}  // namespace

uint64_t sysctl_register_table(Kernel& k) {
    uint64_t h = k.slab_alloc(header_object_size, gfp_zero);
    if (h) k.state<Sysctl>().headers.insert(h);
    return h;
}

void sysctl_unregister_table(Kernel& k, uint64_t header) {
    if (k.state<Sysctl>().headers.erase(header)) k.slab().free(header);
}

void register_sysctl_tables(Kernel& k) {
    const char* sub = "fs/proc/proc_sysctl";
    // 6.1: register_sysctl_table(table), register_sysctl(path, table);
    // 6.6+: register_sysctl_sz(path, table, size).
    k.add_functions({"register_sysctl_table", "register_sysctl", "register_sysctl_sz"}, sub,
                    [](StubCall& c) { return sysctl_register_table(c.kernel); });
    k.add_function("unregister_sysctl_table", sub, [](StubCall& c) -> uint64_t {
        sysctl_unregister_table(c.kernel, c.arg(0));
        return 0;
    });
    // net/sysctl_net.c: register_net_sysctl(net, path, table) (6.6+: _sz), a table of the
    // namespace's own sysctl root (init_net's here); unregister_net_sysctl_table(header).
    k.add_functions({"register_net_sysctl", "register_net_sysctl_sz"}, "net/sysctl_net",
                    [](StubCall& c) { return sysctl_register_table(c.kernel); });
    k.add_function("unregister_net_sysctl_table", "net/sysctl_net", [](StubCall& c) -> uint64_t {
        sysctl_unregister_table(c.kernel, c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
