// lib/kobject_uevent.c: uevents. No process listens on the emulated machine (no udev, no
// uevent helper), so an event that is made is broadcast to nobody and kobject_uevent_env()
// returns 0; a kobject in no kset cannot send one (-EINVAL, said at pr_debug level only). The
// environment of a device's event is filled by callbacks of its bus, class and type: those of a
// module would run here, which kmodemu does not emulate yet (the run stops, saying so).
#include <cerrno>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

int64_t uevent(StubCall& c, uint64_t kobj) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    uint64_t dev = kobj - (s.device.kobj_name - s.kobject.name);
    if (drivers::device_is_added(k, dev)) {
        // devices_kset's dev_uevent(): the bus's, the class's and the type's uevent().
        std::pair<uint64_t, uint64_t> callbacks[] = {
            {word(k, dev + s.device.bus), s.uevent.bus},
            {word(k, dev + s.device.class_), s.uevent.class_dev},
            {word(k, dev + s.device.type), s.uevent.type}};
        for (auto [owner, field] : callbacks)
            if (owner && word(k, owner + field))
                c.unimplemented("kobject_uevent_env (a module's uevent callback)");
        return 0;
    }
    // kobject_uevent_env(): the kset of the kobject or of its nearest ancestor that has one.
    for (uint64_t top = kobj, depth = 0; top && depth < 64; top = word(k, top + s.kobject.parent))
        if (word(k, top + s.kobject.kset)) return 0;
    return -EINVAL;
}

}  // namespace

void register_kobject_uevent(Kernel& k) {
    const char* sub = "lib/kobject_uevent";
    // kobject_uevent(kobj, action), kobject_uevent_env(kobj, action, envp_ext)
    k.add_functions({"kobject_uevent", "kobject_uevent_env"}, sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(uevent(c, c.arg(0)));
    }, true);
}

}  // namespace kmodemu
