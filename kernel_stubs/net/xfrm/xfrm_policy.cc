// net/xfrm/xfrm_policy.c: the XFRM interface callbacks (xfrm_if_cb) that xfrm_interface installs.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/rcu/rcu.h"

namespace kmodemu {

namespace {

struct XfrmPolicy : Kernel::SubsystemState {
    uint64_t if_cb = 0;  // xfrm_if_cb
};

}  // namespace

void register_xfrm_policy(Kernel& k) {
    const char* sub = "net/xfrm/xfrm_policy";
    // xfrm_if_register_cb(ifcb): rcu_assign_pointer(xfrm_if_cb, ifcb) under xfrm_if_cb_lock.
    k.add_function("xfrm_if_register_cb", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<XfrmPolicy>().if_cb = c.arg(0);
        return 0;
    });
    // xfrm_if_unregister_cb(): RCU_INIT_POINTER(xfrm_if_cb, NULL), then synchronize_rcu().
    k.add_function("xfrm_if_unregister_cb", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<XfrmPolicy>().if_cb = 0;
        rcu_synchronize(c.kernel);
        return 0;
    });
}

}  // namespace kmodemu
