// net/core/rtnetlink.c: the RTNL lock. One task runs here, so taking it never waits; taking it
// twice would deadlock the kernel, which kmodemu reports instead.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Rtnl : Kernel::SubsystemState {
    bool held = false;
};

}  // namespace

void register_rtnetlink(Kernel& k) {
    const char* sub = "net/core/rtnetlink";
    k.add_function("rtnl_lock", sub, [](StubCall& c) -> uint64_t {
        Rtnl& r = c.kernel.state<Rtnl>();
        if (r.held) c.unimplemented("rtnl_lock while the RTNL is held (the task would deadlock)");
        r.held = true;
        return 0;
    });
    k.add_function("rtnl_unlock", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Rtnl>().held = false;
        return 0;
    });
}

}  // namespace kmodemu
