// lib/find_bit.c (and ARM's little-endian _find_*_bit_le of arch/arm/lib/findbit.S, the same
// searches): the first set or clear bit of a bitmap of `size` bits in guest memory, from an
// offset; `size` when there is none.
#include <functional>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// The first bit at or after `start` below `size` for which `pick(word index)` has a 1.
uint64_t find_next(StubCall& c, uint64_t size, uint64_t start,
                   const std::function<uint64_t(uint64_t)>& pick) {
    const unsigned bits = c.kernel.word() * 8;
    for (uint64_t i = start; i < size;) {
        uint64_t w = pick(i / bits) >> (i % bits);
        if (bits == 32) w &= 0xffffffffu;
        if (w) {
            uint64_t at = i + static_cast<uint64_t>(__builtin_ctzll(w));
            return at < size ? at : size;
        }
        i = (i / bits + 1) * bits;
    }
    return size;
}

uint64_t word_at(StubCall& c, uint64_t base, uint64_t idx) {
    return c.emu.read_word(base + idx * c.kernel.word());
}

}  // namespace

void register_find_bit(Kernel& k) {
    const char* sub = "lib/find_bit";
    const uint64_t ones = k.word() == 8 ? ~uint64_t(0) : 0xffffffffu;
    // (addr, size)
    k.add_functions({"_find_first_bit", "_find_first_bit_le"}, sub, [](StubCall& c) {
        uint64_t a = c.arg(0);
        return find_next(c, c.arg(1), 0, [&](uint64_t i) { return word_at(c, a, i); });
    });
    k.add_functions({"_find_first_zero_bit", "_find_first_zero_bit_le"}, sub,
                    [ones](StubCall& c) {
                        uint64_t a = c.arg(0);
                        return find_next(c, c.arg(1), 0,
                                         [&](uint64_t i) { return ~word_at(c, a, i) & ones; });
                    });
    // (addr, size, offset)
    k.add_functions({"_find_next_bit", "_find_next_bit_le"}, sub, [](StubCall& c) {
        uint64_t a = c.arg(0);
        return find_next(c, c.arg(1), c.arg(2), [&](uint64_t i) { return word_at(c, a, i); });
    });
    k.add_functions({"_find_next_zero_bit", "_find_next_zero_bit_le"}, sub, [ones](StubCall& c) {
        uint64_t a = c.arg(0);
        return find_next(c, c.arg(1), c.arg(2),
                         [&](uint64_t i) { return ~word_at(c, a, i) & ones; });
    });
    // (addr1, addr2, size, offset)
    k.add_function("_find_next_and_bit", sub, [](StubCall& c) {
        uint64_t a = c.arg(0), b = c.arg(1);
        return find_next(c, c.arg(2), c.arg(3),
                         [&](uint64_t i) { return word_at(c, a, i) & word_at(c, b, i); });
    });
    k.add_function("_find_next_andnot_bit", sub, [ones](StubCall& c) {
        uint64_t a = c.arg(0), b = c.arg(1);
        return find_next(c, c.arg(2), c.arg(3),
                         [&](uint64_t i) { return word_at(c, a, i) & ~word_at(c, b, i) & ones; });
    });
    k.add_function("_find_next_or_bit", sub, [](StubCall& c) {
        uint64_t a = c.arg(0), b = c.arg(1);
        return find_next(c, c.arg(2), c.arg(3),
                         [&](uint64_t i) { return word_at(c, a, i) | word_at(c, b, i); });
    });
    // (addr1, addr2, size)
    k.add_function("_find_first_and_bit", sub, [](StubCall& c) {
        uint64_t a = c.arg(0), b = c.arg(1);
        return find_next(c, c.arg(2), 0,
                         [&](uint64_t i) { return word_at(c, a, i) & word_at(c, b, i); });
    });
    // _find_last_bit(addr, size): the last set bit, or size.
    k.add_function("_find_last_bit", sub, [](StubCall& c) -> uint64_t {
        uint64_t a = c.arg(0), size = c.arg(1);
        const unsigned bits = c.kernel.word() * 8;
        for (uint64_t n = size; n > 0;) {
            uint64_t idx = (n - 1) / bits;
            uint64_t w = word_at(c, a, idx);
            unsigned valid = static_cast<unsigned>(n - idx * bits);  // bits of this word in range
            if (valid < bits) w &= (uint64_t(1) << valid) - 1;
            if (w) return idx * bits + 63 - static_cast<uint64_t>(__builtin_clzll(w));
            n = idx * bits;
        }
        return size;
    });
}

}  // namespace kmodemu
