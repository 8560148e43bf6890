// kernel/jump_label.c: what can be answered without patching code.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_jump_label(Kernel& k) {
    // static_key_count(key): atomic_read(&key->enabled) (the first member of struct static_key).
    k.add_function(
        "static_key_count", "kernel/jump_label",
        [](StubCall& c) -> uint64_t {
            auto v = c.read(c.arg(0), 4);
            return static_cast<uint64_t>(
                int64_t(int32_t(v[0] | v[1] << 8 | v[2] << 16 | uint32_t(v[3]) << 24)));
        },
        true);
}

}  // namespace kmodemu
