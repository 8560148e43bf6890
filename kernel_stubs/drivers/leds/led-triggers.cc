// drivers/leds/led-triggers.c: LED triggers. The emulated machine has no LED, so a trigger
// registers and its events light nothing.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct LedTriggers : Kernel::SubsystemState {
    std::map<uint64_t, std::string> registered;  // struct led_trigger * -> name (trigger_list)
};

// led_trigger_register(): -EEXIST when a trigger of that name is registered.
int trigger_register(Kernel& k, uint64_t trig) {
    std::string name;
    k.emu().read_cstring(k.emu().read_word(trig + k.structs().led_trigger.name), 256, name);
    LedTriggers& t = k.state<LedTriggers>();
    for (const auto& [p, n] : t.registered)
        if (n == name) return -EEXIST;
    t.registered[trig] = name;
    return 0;
}

}  // namespace

void register_led_triggers(Kernel& k) {
    const char* sub = "drivers/leds";
    k.add_function("led_trigger_register", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(trigger_register(c.kernel, c.arg(0))));
    }, true);
    k.add_function("led_trigger_unregister", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<LedTriggers>().registered.erase(c.arg(0));
        return 0;
    }, true);
    // led_trigger_register_simple(name, struct led_trigger **tp): a new trigger of that name,
    // or NULL with a warning.
    k.add_function("led_trigger_register_simple", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        std::string name = c.read_cstr(c.arg(0), 256);
        uint64_t trig = k.slab_alloc(s.led_trigger.size, gfp_zero);
        if (trig) {
            c.emu.write_word(trig + s.led_trigger.name, c.arg(0));
            if (int err = trigger_register(k, trig); err < 0) {
                k.slab().free(trig);
                trig = 0;
                k.log(4, "LED trigger " + name + " failed to register (" + std::to_string(err) +
                             ")");
            }
        } else {
            k.log(4, "LED trigger " + name + " failed to register (no memory)");
        }
        c.emu.write_word(c.arg(1), trig);
        return 0;
    }, true);
    k.add_function("led_trigger_unregister_simple", sub, [](StubCall& c) -> uint64_t {
        uint64_t trig = c.arg(0);
        if (trig && c.kernel.state<LedTriggers>().registered.erase(trig))
            c.kernel.slab().free(trig);
        return 0;
    }, true);
    // No LED is attached to any trigger.
    k.add_functions({"led_trigger_event", "led_trigger_blink", "led_trigger_blink_oneshot"}, sub,
                    [](StubCall&) -> uint64_t { return 0; }, true);
}

}  // namespace kmodemu
