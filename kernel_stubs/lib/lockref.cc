// lib/lockref.c: a spinlock and a count in one word (struct lockref); the emulation, which runs
// one CPU, updates the count in place (the kernel's cmpxchg loop without contention).
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_lockref(Kernel& k) {
    const char* sub = "lib/lockref";
    const uint64_t at = k.structs().vfs.lockref_count;
    auto get = [at](StubCall& c) { return static_cast<int32_t>(c.emu.read_u32(c.arg(0) + at)); };
    auto set = [at](StubCall& c, int32_t n) {
        c.emu.write_u32(c.arg(0) + at, static_cast<uint32_t>(n));
    };
    // lockref_get(): count + 1.
    k.add_function("lockref_get", sub, [get, set](StubCall& c) -> uint64_t {
        set(c, get(c) + 1);
        return 0;
    });
    // lockref_get_not_zero(): 0 when the count is 0 or below (dead).
    k.add_function("lockref_get_not_zero", sub, [get, set](StubCall& c) -> uint64_t {
        int32_t n = get(c);
        if (n <= 0) return 0;
        set(c, n + 1);
        return 1;
    });
    // lockref_get_not_dead(): 0 when dead (count below 0).
    k.add_function("lockref_get_not_dead", sub, [get, set](StubCall& c) -> uint64_t {
        int32_t n = get(c);
        if (n < 0) return 0;
        set(c, n + 1);
        return 1;
    });
    // lockref_put_return(): the new count, -1 when it was 0 or below.
    k.add_function("lockref_put_return", sub, [get, set](StubCall& c) -> uint64_t {
        int32_t n = get(c);
        if (n <= 0) return static_cast<uint64_t>(int64_t(-1));
        set(c, n - 1);
        return static_cast<uint64_t>(int64_t(n - 1));
    });
    // lockref_mark_dead(): count -128.
    k.add_function("lockref_mark_dead", sub, [set](StubCall& c) -> uint64_t {
        set(c, -128);
        return 0;
    });
}

}  // namespace kmodemu
