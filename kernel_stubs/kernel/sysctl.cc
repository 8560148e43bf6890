// fs/proc/proc_sysctl.c: sysctl tables. A registered table gets a header; nothing reads
// /proc/sys here. (The kernel refuses an entry registered twice with "sysctl duplicate entry";
// kmodemu does not walk the tables to find one.)
#include <set>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

// struct ctl_table_header as allocated with its table's bookkeeping: modules hold the pointer.
constexpr uint64_t header_object_size = 256;

struct Sysctl : Kernel::SubsystemState {
    std::set<uint64_t> headers;
};

uint64_t register_table(StubCall& c) {
    uint64_t h = c.kernel.slab_alloc(header_object_size, gfp_zero);
    if (h) c.kernel.state<Sysctl>().headers.insert(h);
    return h;
}

}  // namespace

void register_sysctl_tables(Kernel& k) {
    const char* sub = "fs/proc/proc_sysctl";
    // 6.1: register_sysctl_table(table), register_sysctl(path, table);
    // 6.6+: register_sysctl_sz(path, table, size).
    k.add_functions({"register_sysctl_table", "register_sysctl", "register_sysctl_sz"}, sub,
                    [](StubCall& c) { return register_table(c); });
    k.add_function("unregister_sysctl_table", sub, [](StubCall& c) -> uint64_t {
        if (c.kernel.state<Sysctl>().headers.erase(c.arg(0))) c.kernel.slab().free(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
