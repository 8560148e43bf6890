// mm/zpool.c: the registry of zpool drivers (zsmalloc, z3fold, zbud), a list the kernel keeps
// under drivers_lock.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Zpool : Kernel::SubsystemState {
    std::deque<uint64_t> drivers;  // drivers_head, the last registered first (list_add())
};

}  // namespace

void register_zpool(Kernel& k) {
    const char* sub = "mm/zpool";
    // zpool_register_driver(driver): atomic_set(&driver->refcount, 0), at the list's head.
    k.add_function("zpool_register_driver", sub, [](StubCall& c) -> uint64_t {
        uint64_t drv = c.arg(0);
        int32_t zero = 0;
        c.write(drv + c.kernel.structs().zpool_driver_refcount, &zero, 4);
        c.kernel.state<Zpool>().drivers.push_front(drv);
        return 0;
    });
    // zpool_unregister_driver(driver): -EBUSY while pools use it (refcount > 0; WARN_ON below
    // 0), else off the list: 0.
    k.add_function("zpool_unregister_driver", sub, [](StubCall& c) -> uint64_t {
        uint64_t drv = c.arg(0);
        int32_t refcount = 0;
        auto b = c.read(drv + c.kernel.structs().zpool_driver_refcount, 4);
        std::memcpy(&refcount, b.data(), 4);
        if (refcount < 0) c.unimplemented("zpool_unregister_driver (refcount < 0: WARN_ON)");
        if (refcount > 0) return static_cast<uint64_t>(-EBUSY);
        std::erase(c.kernel.state<Zpool>().drivers, drv);
        return 0;
    });
}

}  // namespace kmodemu
