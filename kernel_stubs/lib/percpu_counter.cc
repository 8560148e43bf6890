// lib/percpu_counter.c: counters with a global count and a per-CPU delta. Per-CPU memory here
// is one copy, CPU 0's (kernel_stubs/mm/percpu.cc), and every add happens on CPU 0: a delta
// below the batch stays in CPU 0's counter, one that reaches it is folded into the count, as
// percpu_counter_add_batch() does; the sum is the count plus CPU 0's delta.
#include <cerrno>
#include <cstdlib>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

const KernelStructs::PercpuCounter& L(Kernel& k) {
    return k.structs().percpu_counter;
}

int64_t count_of(Kernel& k, uint64_t fbc) {
    int64_t v = 0;
    k.emu().read(fbc + L(k).count, &v, 8);
    return v;
}

void set_count(Kernel& k, uint64_t fbc, int64_t v) {
    k.emu().write(fbc + L(k).count, &v, 8);
}

int32_t cpu0(Kernel& k, uint64_t fbc) {
    int32_t v = 0;
    if (uint64_t p = k.emu().read_word(fbc + L(k).counters)) k.emu().read(p, &v, 4);
    return v;
}

void set_cpu0(Kernel& k, uint64_t fbc, int32_t v) {
    if (uint64_t p = k.emu().read_word(fbc + L(k).counters)) k.emu().write(p, &v, 4);
}

// An s64 argument: x1 on arm64, r2:r3 on ARM (an even register pair).
int64_t s64_arg(StubCall& c, unsigned arm64_index) {
    if (c.kernel.word() == 8) return static_cast<int64_t>(c.arg(arm64_index));
    return static_cast<int64_t>((c.arg(2) & 0xffffffffu) | (c.arg(3) << 32));
}

// __percpu_counter_init_many(fbc, amount, gfp, nr_counters, key): nr counters of one array.
uint64_t init_many(StubCall& c, unsigned nr) {
    Kernel& k = c.kernel;
    int64_t amount = s64_arg(c, 1);
    uint64_t fbc = c.arg(0);
    for (unsigned i = 0; i < nr; ++i) {
        uint64_t counters = k.slab_alloc(4, gfp_zero);
        if (!counters) {
            while (i--)
                k.slab().free(k.emu().read_word(fbc + i * L(k).size + L(k).counters));
            return static_cast<uint64_t>(int64_t(-ENOMEM));
        }
        uint64_t f = fbc + i * L(k).size;
        set_count(k, f, amount);
        k.emu().write_word(f + L(k).counters, counters);
    }
    return 0;
}

void destroy_many(Kernel& k, uint64_t fbc, unsigned nr) {
    for (unsigned i = 0; i < nr; ++i) {
        uint64_t f = fbc + i * L(k).size;
        if (uint64_t p = k.emu().read_word(f + L(k).counters)) k.slab().free(p);
        k.emu().write_word(f + L(k).counters, 0);
    }
}

}  // namespace

void register_percpu_counter(Kernel& k) {
    const char* sub = "lib/percpu_counter";
    // 6.1: __percpu_counter_init(fbc, amount, gfp, key); 6.6+: the _many form.
    k.add_function("__percpu_counter_init", sub, [](StubCall& c) { return init_many(c, 1); });
    k.add_function("__percpu_counter_init_many", sub, [](StubCall& c) {
        // (fbc, amount, gfp, nr_counters, key): on ARM amount is r2:r3, the rest on the stack.
        unsigned nr = static_cast<unsigned>(c.kernel.word() == 8 ? c.arg(3) : c.arg(5));
        return init_many(c, nr);
    });
    k.add_function("percpu_counter_destroy", sub, [](StubCall& c) -> uint64_t {
        destroy_many(c.kernel, c.arg(0), 1);
        return 0;
    });
    k.add_function("percpu_counter_destroy_many", sub, [](StubCall& c) -> uint64_t {
        destroy_many(c.kernel, c.arg(0), static_cast<unsigned>(c.arg(1)));
        return 0;
    });
    // percpu_counter_add_batch(fbc, amount, batch)
    k.add_function("percpu_counter_add_batch", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        int64_t amount = s64_arg(c, 1);
        int32_t batch = static_cast<int32_t>(k.word() == 8 ? c.arg(2) : c.arg(4));
        int64_t v = cpu0(k, c.arg(0)) + amount;
        if (std::llabs(v) >= batch) {
            set_count(k, c.arg(0), count_of(k, c.arg(0)) + v);
            set_cpu0(k, c.arg(0), 0);
        } else {
            set_cpu0(k, c.arg(0), static_cast<int32_t>(v));
        }
        return 0;
    });
    // percpu_counter_set(fbc, amount)
    k.add_function("percpu_counter_set", sub, [](StubCall& c) -> uint64_t {
        set_cpu0(c.kernel, c.arg(0), 0);
        set_count(c.kernel, c.arg(0), s64_arg(c, 1));
        return 0;
    });
    // __percpu_counter_sum(fbc): an s64 (r0:r1 on ARM).
    k.add_function("__percpu_counter_sum", sub, [](StubCall& c) -> uint64_t {
        int64_t sum = count_of(c.kernel, c.arg(0)) + cpu0(c.kernel, c.arg(0));
        if (c.kernel.word() == 4) {
            c.emu.set_arg(1, static_cast<uint64_t>(sum) >> 32);
            return static_cast<uint64_t>(sum) & 0xffffffffu;
        }
        return static_cast<uint64_t>(sum);
    });
}

}  // namespace kmodemu
