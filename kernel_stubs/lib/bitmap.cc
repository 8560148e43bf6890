// lib/bitmap.c: the out-of-line bitmap helpers over a bitmap of `bits` bits in guest memory.
#include <algorithm>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// __bitmap_set(map, start, len) / __bitmap_clear(): bits [start, start + len), word by word.
void set_range(StubCall& c, bool set) {
    const uint64_t w = c.kernel.word(), bits = w * 8;
    uint64_t start = c.arg(1) & 0xffffffffu, len = c.arg(2) & 0xffffffffu;
    for (uint64_t b = start; b < start + len;) {
        uint64_t addr = c.arg(0) + (b / bits) * w, off = b % bits;
        uint64_t n = std::min(bits - off, start + len - b);
        uint64_t mask = (n == 64 ? ~0ull : ((uint64_t(1) << n) - 1)) << off;
        uint64_t v = c.emu.read_word(addr);
        c.emu.write_word(addr, set ? v | mask : v & ~mask);
        b += n;
    }
}

}  // namespace

void register_bitmap(Kernel& k) {
    k.add_function("__bitmap_set", "lib/bitmap", [](StubCall& c) -> uint64_t {
        set_range(c, true);
        return 0;
    });
    k.add_function("__bitmap_clear", "lib/bitmap", [](StubCall& c) -> uint64_t {
        set_range(c, false);
        return 0;
    });
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
