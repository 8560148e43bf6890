#include "kernel_stubs/kernel.h"

namespace kmodemu {

// net/ethtool/common.c: ethtool_set_ethtool_phy_ops() publishes phylib's operations to ethtool
// (under rtnl_lock()).
void register_ethtool(Kernel& k) {
    k.add_function("ethtool_set_ethtool_phy_ops", "net/ethtool", [](StubCall& c) -> uint64_t {
        c.kernel.objects["ethtool_phy_ops"] = c.arg(0);
        return 0;
    });
}

}  // namespace kmodemu
