// lib/cpumask.c: off-stack CPU masks (CONFIG_CPUMASK_OFFSTACK, Debian's arm64 6.12 with its
// NR_CPUS of thousands). alloc_cpumask_var_node() kmallocs cpumask_size() bytes, the bitmap of
// nr_cpu_ids bits when NR_CPUS is above 4 longs' worth of bits, else of NR_CPUS; the machine
// has 2 CPUs (see kernel_stubs/kernel/cpu.cc), so a mask is at least one long.
#include <cstdlib>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

constexpr uint64_t nr_cpu_ids = 2;

// cpumask_size(): bitmap_size(large_cpumask_bits), in bytes.
uint64_t cpumask_size(const Kernel& k) {
    const auto& p = k.config().profile;
    auto v = p ? p->config.find("CONFIG_NR_CPUS") : std::nullopt;
    uint64_t nr_cpus = v ? std::strtoull(std::string(*v).c_str(), nullptr, 10) : nr_cpu_ids;
    uint64_t bits_per_long = 8 * k.word();
    uint64_t bits = nr_cpus <= 4 * bits_per_long ? nr_cpus : nr_cpu_ids;
    return (bits + bits_per_long - 1) / bits_per_long * k.word();
}

}  // namespace

void register_cpumask(Kernel& k) {
    const char* sub = "lib/cpumask";
    // alloc_cpumask_var_node(mask, flags, node): *mask = kmalloc_node(cpumask_size(), flags);
    // whether it was allocated. (zalloc_cpumask_var*() are inline: __GFP_ZERO in flags.)
    k.add_function("alloc_cpumask_var_node", sub, [](StubCall& c) -> uint64_t {
        uint64_t m = c.kernel.slab_alloc(cpumask_size(c.kernel), c.arg(1) & 0xffffffffu);
        c.emu.write_word(c.arg(0), m);
        return m != 0;
    });
    // free_cpumask_var(mask): kfree(mask).
    k.add_function("free_cpumask_var", sub, [](StubCall& c) -> uint64_t {
        if (uint64_t m = c.arg(0); m && !c.kernel.slab().free(m))
            c.kernel.diag("free_cpumask_var of a mask that is not allocated: " + hex(m));
        return 0;
    });
}

}  // namespace kmodemu
