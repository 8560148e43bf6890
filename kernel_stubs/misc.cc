// Small exports every module needs: the stack protector, fortify, arm64 alternatives callbacks,
// jiffies and delays.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_misc(Kernel& k) {
    const char* sub = "misc";
    // __stack_chk_fail(): panic("stack-protector: Kernel stack is corrupted in: %pB").
    k.add_function("__stack_chk_fail", sub, [](StubCall& c) -> uint64_t {
        std::string where = c.kernel.symbolize(c.ret_addr(), true).value_or(hex(c.ret_addr()));
        std::string msg = "stack-protector: Kernel stack is corrupted in: " + where;
        c.kernel.log(0, "Kernel panic - not syncing: " + msg);
        throw KernelPanic{msg};
    });
    uint64_t guard = k.config().stack_canary;
    k.add_data("__stack_chk_guard", sub, k.word(), &guard);
    // fortify_panic(name) (6.1): pr_emerg("detected buffer overflow in %s\n", name); BUG().
    auto fortify = [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(0));
        c.kernel.log(0, "detected buffer overflow in " + name);
        throw KernelPanic{"detected buffer overflow in " + name};
    };
    k.add_function("fortify_panic", sub, fortify);
    // alt_cb_patch_nops is applied at load time by the loader (module_finalize()); called at
    // run time it would be a bug in the module, and does nothing.
    k.add_function("alt_cb_patch_nops", sub, [](StubCall&) { return uint64_t(0); });

    // jiffies: INITIAL_JIFFIES-like start, advanced by the delay functions.
    uint64_t j = 0xfffb6c20ull;
    uint64_t jiffies = k.add_data("jiffies", sub, 8, &j).address;
    k.add_data("jiffies_64", sub, 8, &j);
    k.objects["jiffies"] = jiffies;
    const uint64_t hz = 250;  // CONFIG_HZ of Debian's arm64 and armmp kernels
    k.add_function("msleep", sub, [jiffies, hz](StubCall& c) {
        uint64_t ms = c.arg(0) & 0xffffffffu;
        uint64_t now = c.emu.read_word(jiffies);
        uint64_t later = now + (ms * hz + 999) / 1000 + 1;
        c.emu.write(jiffies, &later, 8);
        return uint64_t(0);
    });
    for (const char* n : {"__const_udelay", "__udelay", "__ndelay", "usleep_range_state"})
        k.add_function(n, sub, [](StubCall&) { return uint64_t(0); });
}

}  // namespace kmodemu
