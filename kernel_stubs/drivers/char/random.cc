// drivers/char/random.c: the kernel's random numbers, from a generator seeded by the run's seed
// (KernelConfig::seed), so that the same command gives the same output. The values are not the
// real kernel's (nothing could be); their ranges are.
#include <random>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Entropy : Kernel::SubsystemState {
    std::mt19937_64 gen;
    bool seeded = false;
};

std::mt19937_64& generator(Kernel& k) {
    Entropy& e = k.state<Entropy>();
    if (!e.seeded) {
        e.gen.seed(k.config().seed);
        e.seeded = true;
    }
    return e.gen;
}

}  // namespace

bool random_drawn(Kernel& k) {
    return k.state<Entropy>().seeded;
}

void register_random(Kernel& k) {
    const char* sub = "drivers/char/random";
    // get_random_bytes(buf, len)
    k.add_function("get_random_bytes", sub, [](StubCall& c) -> uint64_t {
        std::vector<uint8_t> buf(c.arg(1) & 0xffffffffu);
        for (uint8_t& b : buf)
            b = static_cast<uint8_t>(generator(c.kernel)());
        c.write(c.arg(0), buf.data(), buf.size());
        return 0;
    });
    // get_random_u8/u16/u32/u64(); on ARM a u64 comes back in r0:r1.
    for (auto [name, bits] : {std::pair{"get_random_u8", 8}, std::pair{"get_random_u16", 16},
                              std::pair{"get_random_u32", 32}}) {
        uint64_t mask = (uint64_t(1) << bits) - 1;
        k.add_function(name, sub,
                       [mask](StubCall& c) -> uint64_t { return generator(c.kernel)() & mask; });
    }
    k.add_function("get_random_u64", sub, [](StubCall& c) -> uint64_t {
        uint64_t v = generator(c.kernel)();
        if (c.kernel.word() == 4) {
            c.emu.set_arg(1, v >> 32);
            return v & 0xffffffffu;
        }
        return v;
    });
    // __get_random_u32_below(ceil) (6.2+): uniform in [0, ceil), by the kernel's
    // multiply-and-shift with rejection.
    k.add_function("__get_random_u32_below", sub, [](StubCall& c) -> uint64_t {
        uint32_t ceil = static_cast<uint32_t>(c.arg(0));
        if (!ceil) return 0;
        for (;;) {
            uint64_t mult = uint64_t(ceil) * static_cast<uint32_t>(generator(c.kernel)());
            if (static_cast<uint32_t>(mult) >= static_cast<uint32_t>(-ceil) % ceil)
                return mult >> 32;
        }
    });
}

}  // namespace kmodemu
