// drivers/input/input.c: input handlers. The emulated machine has no input device, so a
// handler registers and connects to nothing.
#include <set>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Input : Kernel::SubsystemState {
    std::set<uint64_t> handlers;
};

}  // namespace

void register_input(Kernel& k) {
    const char* sub = "drivers/input";
    k.add_function("input_register_handler", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Input>().handlers.insert(c.arg(0));
        return 0;
    });
    k.add_function("input_unregister_handler", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Input>().handlers.erase(c.arg(0));
        return 0;
    });
    // input_free_device(dev): nothing for NULL (a probe that failed before
    // input_allocate_device()); input devices themselves are not emulated.
    k.add_function("input_free_device", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0)) c.unimplemented("input_free_device (a device)");
        return 0;
    });
}

}  // namespace kmodemu
