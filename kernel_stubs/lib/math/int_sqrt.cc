// lib/math/int_sqrt.c
#include <cmath>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_int_sqrt(Kernel& k) {
    // int_sqrt(x): floor(sqrt(x)) of an unsigned long.
    k.add_function("int_sqrt", "lib/math/int_sqrt", [](StubCall& c) -> uint64_t {
        uint64_t x = c.arg(0) & c.emu.info().word_mask();
        uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<long double>(x)));
        while (r * r > x)
            --r;
        while ((r + 1) * (r + 1) <= x && (r + 1) * (r + 1) > r * r)
            ++r;
        return r;
    });
}

}  // namespace kmodemu
