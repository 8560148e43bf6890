// drivers/base/attribute_container.c and transport_class.c: the attribute containers (the
// classes of SCSI, ATA, ... transports that attach attributes to devices) and transport classes.
// Registration keeps the kernel's list; no device is added to a container here
// (attribute_container_add_device() is not emulated), so a container's list of class devices is
// always empty.
#include <algorithm>
#include <vector>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

using namespace drivers;

struct Containers : Kernel::SubsystemState {
    std::vector<uint64_t> list;  // attribute_container_list, in registration order
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// attribute_container_register(cont): on the list (list_add_tail()); always 0.
int container_register(Kernel& k, uint64_t cont) {
    k.state<Containers>().list.push_back(cont);
    return 0;
}

// attribute_container_unregister(cont): -EBUSY while class devices are in it (never here), else
// off the list.
int container_unregister(Kernel& k, uint64_t cont) {
    std::erase(k.state<Containers>().list, cont);
    return 0;
}

}  // namespace

void register_transport_class(Kernel& k) {
    const char* sub = "drivers/base/transport_class";
    k.add_function("attribute_container_register", sub, [](StubCall& c) -> uint64_t {
        return ret(container_register(c.kernel, c.arg(0)));
    }, true);
    k.add_function("attribute_container_unregister", sub, [](StubCall& c) -> uint64_t {
        return ret(container_unregister(c.kernel, c.arg(0)));
    }, true);
    // transport_class_register(tclass): class_register(&tclass->class).
    k.add_function("transport_class_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        return ret(class_register(c.kernel, c.arg(0) + s.transport_class.class_));
    }, true);
    k.add_function("transport_class_unregister", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        class_unregister(c.kernel, c.arg(0) + s.transport_class.class_);
        return 0;
    }, true);
    // anon_transport_dummy_function(): the setup and remove of an anonymous transport class
    // (the kernel's own function, not an export).
    uint64_t dummy = k.add_function("anon_transport_dummy_function", sub,
                                    [](StubCall&) -> uint64_t { return 0; })
                         .address;
    // anon_transport_class_register(atc): its container for its class (no class devices),
    // registered; the class itself is not.
    k.add_function("anon_transport_class_register", sub, [dummy](StubCall& c) -> uint64_t {
        const KernelStructs::TransportClass& t = c.kernel.structs().transport_class;
        uint64_t atc = c.arg(0);
        uint64_t cont = atc + t.anon_container;
        uint64_t tclass = atc + t.anon_tclass;
        c.emu.write_word(cont + t.container_class, tclass + t.class_);
        // attribute_container_set_no_classdevs()
        c.emu.write_word(cont + t.container_flags,
                         c.emu.read_word(cont + t.container_flags) | t.no_classdevs);
        if (int err = container_register(c.kernel, cont)) return ret(err);
        c.emu.write_word(tclass + t.setup, dummy);
        c.emu.write_word(tclass + t.remove, dummy);
        return 0;
    }, true);
    // anon_transport_class_unregister(atc): BUG() if its container is busy (never here).
    k.add_function("anon_transport_class_unregister", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TransportClass& t = c.kernel.structs().transport_class;
        container_unregister(c.kernel, c.arg(0) + t.anon_container);
        return 0;
    }, true);
}

}  // namespace kmodemu
