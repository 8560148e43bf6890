// net/l3mdev/l3mdev.c: the table-id lookup handler of each L3 master device type (VRF's).
#include <array>
#include <cerrno>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// enum l3mdev_type: L3MDEV_TYPE_UNSPEC (0), L3MDEV_TYPE_VRF (1) = L3MDEV_TYPE_MAX.
constexpr int64_t l3mdev_type_max = 1;

struct L3mdev : Kernel::SubsystemState {
    std::array<uint64_t, l3mdev_type_max + 1> dev_lookup{};  // l3mdev_handlers[type].dev_lookup
};

}  // namespace

void register_l3mdev(Kernel& k) {
    const char* sub = "net/l3mdev/l3mdev";
    // l3mdev_table_lookup_register(l3type, fn): l3mdev_check_type() (-EINVAL outside
    // UNSPEC < type <= L3MDEV_TYPE_MAX), then -EBUSY when the type has a handler already.
    k.add_function(
        "l3mdev_table_lookup_register", sub,
        [](StubCall& c) -> uint64_t {
            int64_t type = int32_t(c.arg(0));
            if (type <= 0 || type > l3mdev_type_max) return uint64_t(-EINVAL);
            uint64_t& h = c.kernel.state<L3mdev>().dev_lookup[size_t(type)];
            if (h) return uint64_t(-EBUSY);
            h = c.arg(1);
            return 0;
        },
        true);
    // l3mdev_table_lookup_unregister(l3type, fn): the handler goes if it is fn.
    k.add_function(
        "l3mdev_table_lookup_unregister", sub,
        [](StubCall& c) -> uint64_t {
            int64_t type = int32_t(c.arg(0));
            if (type <= 0 || type > l3mdev_type_max) return 0;
            uint64_t& h = c.kernel.state<L3mdev>().dev_lookup[size_t(type)];
            if (h == c.arg(1)) h = 0;
            return 0;
        },
        true);
}

}  // namespace kmodemu
