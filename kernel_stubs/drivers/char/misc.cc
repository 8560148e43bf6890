// drivers/char/misc.c: misc character devices (major 10). A dynamic minor counts down from
// DYNAMIC_MINORS - 1; the device misc_register() creates is a struct device with the misc
// device's name (no one opens it here).
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr int misc_dynamic_minor = 255;  // MISC_DYNAMIC_MINOR
constexpr int dynamic_minors = 128;      // DYNAMIC_MINORS

struct Misc : Kernel::SubsystemState {
    std::map<uint64_t, int> devices;  // struct miscdevice * -> minor (misc_list)
    std::set<int> dynamic;            // the misc_minors bitmap's minors in use
};

}  // namespace

void register_misc_devices(Kernel& k) {
    const char* sub = "drivers/char/misc";
    k.add_function("misc_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        Misc& m = k.state<Misc>();
        uint64_t misc = c.arg(0);
        int minor = static_cast<int32_t>(c.emu.read_u32(misc + s.miscdevice.minor));
        uint64_t list = misc + s.miscdevice.list;  // INIT_LIST_HEAD(&misc->list)
        c.emu.write_word(list + s.list_head.next, list);
        c.emu.write_word(list + s.list_head.prev, list);
        bool dynamic = minor == misc_dynamic_minor;
        if (dynamic) {
            int i = 0;
            while (i < dynamic_minors && m.dynamic.count(dynamic_minors - i - 1)) ++i;
            if (i >= dynamic_minors) return static_cast<uint64_t>(int64_t(-EBUSY));
            minor = dynamic_minors - i - 1;
            uint32_t v = static_cast<uint32_t>(minor);
            c.write(misc + s.miscdevice.minor, &v, 4);
        } else {
            for (const auto& [d, mn] : m.devices)
                if (mn == minor) return static_cast<uint64_t>(int64_t(-EBUSY));
        }
        // device_create_with_groups(misc_class, ..., "%s", misc->name)
        uint64_t dev = k.slab_alloc(s.device.size, gfp_zero);
        if (!dev) return static_cast<uint64_t>(int64_t(-ENOMEM));
        std::string name = c.read_cstr(c.emu.read_word(misc + s.miscdevice.name), 256);
        uint64_t kname = k.slab_alloc(name.size() + 1, 0);
        if (kname) c.write(kname, name.c_str(), name.size() + 1);
        c.emu.write_word(dev + s.device.kobj_name, kname);
        c.emu.write_word(misc + s.miscdevice.this_device, dev);
        if (dynamic) m.dynamic.insert(minor);
        m.devices[misc] = minor;
        return 0;
    });
    k.add_function("misc_deregister", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        Misc& m = k.state<Misc>();
        uint64_t misc = c.arg(0);
        auto it = m.devices.find(misc);
        if (it == m.devices.end()) {
            // WARN_ON(list_empty(&misc->list)): kmodemu says it without the WARN's report.
            c.kernel.diag("misc_deregister() of a misc device that is not registered");
            return 0;
        }
        uint64_t dev = c.emu.read_word(misc + s.miscdevice.this_device);
        if (dev) {
            k.slab().free(c.emu.read_word(dev + s.device.kobj_name));
            k.slab().free(dev);
        }
        m.dynamic.erase(it->second);
        m.devices.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
