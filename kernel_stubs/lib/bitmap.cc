// lib/bitmap.c: the out-of-line bitmap helpers over a bitmap of `bits` bits in guest memory.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_bitmap(Kernel& k) {
    // __bitmap_weight(bitmap, bits): the number of set bits.
    k.add_function("__bitmap_weight", "lib/bitmap", [](StubCall& c) -> uint64_t {
        const unsigned w = c.kernel.word() * 8;
        uint64_t bits = c.arg(1), n = 0;
        for (uint64_t i = 0; i * w < bits; ++i) {
            uint64_t v = c.emu.read_word(c.arg(0) + i * c.kernel.word());
            uint64_t valid = bits - i * w;
            if (valid < w) v &= (uint64_t(1) << valid) - 1;
            n += static_cast<uint64_t>(__builtin_popcountll(v));
        }
        return n;
    });
}

}  // namespace kmodemu
