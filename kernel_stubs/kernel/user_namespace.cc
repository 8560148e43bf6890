// kernel/user_namespace.c (and kernel/user.c's init_user_ns): ids between a user namespace
// and the kernel. The emulated kernel has the initial namespace only, whose uid and gid maps
// are the identity over 0..4294967294 (one extent of 4294967295 ids): an id maps to itself,
// and (uid_t)-1, outside the extent, to -1. init_net's user_ns is init_user_ns.
#include <cstdint>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint32_t overflow_id = 65534;  // DEFAULT_OVERFLOWUID / DEFAULT_OVERFLOWGID

// The namespace argument must be init_user_ns.
void check_initial(StubCall& c, uint64_t ns, const char* fn) {
    const Export* init = c.kernel.find_export("init_user_ns");
    if (!init || ns != init->address)
        c.unimplemented(std::string(fn) + " (a user namespace other than init_user_ns)");
}

}  // namespace

void register_user_namespace(Kernel& k) {
    const char* sub = "kernel/user_namespace";
    const KernelStructs& s = k.structs();
    uint64_t ns = k.add_data("init_user_ns", "kernel/user", s.user_ns.size, nullptr, true).address;
    if (const Export* init_net = k.find_export("init_net"))
        k.emu().write_word(init_net->address + s.user_ns.net_user_ns, ns);
    // make_kuid(ns, uid), make_kgid(ns, gid), from_kuid(targ, kuid), from_kgid(targ, kgid):
    // map_id_range_down()/map_id_up() of the identity map.
    for (const char* fn : {"make_kuid", "make_kgid", "from_kuid", "from_kgid"}) {
        std::string name = fn;
        k.add_function(fn, sub, [name](StubCall& c) -> uint64_t {
            check_initial(c, c.arg(0), name.c_str());
            return static_cast<uint32_t>(c.arg(1));
        });
    }
    // from_kuid_munged(), from_kgid_munged(): an id without a mapping becomes overflowuid
    // (overflowgid), that is -1 only.
    for (const char* fn : {"from_kuid_munged", "from_kgid_munged"}) {
        std::string name = fn;
        k.add_function(fn, sub, [name](StubCall& c) -> uint64_t {
            check_initial(c, c.arg(0), name.c_str());
            uint32_t id = static_cast<uint32_t>(c.arg(1));
            return id == UINT32_MAX ? overflow_id : id;
        });
    }
}

}  // namespace kmodemu
