// 32-bit ARM arch exports (arch/arm/kernel/armksyms.c, arch/arm/lib/): the EABI run-time helpers,
// __do_div64, the bitops, delays, barriers, the EHABI personality routines and __gnu_mcount_nc.
#include <cerrno>
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

uint64_t pair(StubCall& c, unsigned lo) {
    return c.arg(lo) | (c.arg(lo + 1) << 32);
}

void set_pair(StubCall& c, unsigned lo, uint64_t v) {
    c.emu.set_arg(lo, v & 0xffffffffu);
    c.emu.set_arg(lo + 1, v >> 32);
}

// __div0(): "Division by zero in kernel." and a stack dump; the helper then returns 0.
void div0(StubCall& c) {
    c.kernel.log(3, "Division by zero in kernel.");
}

uint32_t read32(StubCall& c, uint64_t addr) {
    auto b = c.read(addr, 4);
    uint32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
}

// _set_bit() and friends (arch/arm/lib/bitops.h): bit nr of the little-endian bitmap at p.
template <class Op>
uint64_t bitop(StubCall& c, Op op) {
    uint32_t nr = static_cast<uint32_t>(c.arg(0));
    uint64_t word = c.arg(1) + (nr / 32) * 4;
    uint32_t mask = 1u << (nr % 32);
    uint32_t old = read32(c, word);
    uint32_t now = op(old, mask);
    c.write(word, &now, 4);
    return (old & mask) != 0;
}

// _find_next_zero_bit_le(p, size, offset) and friends.
uint64_t find_bit(StubCall& c, bool want_set, uint32_t size, uint32_t offset) {
    for (uint32_t i = offset; i < size; ++i) {
        uint32_t w = read32(c, c.arg(0) + (i / 32) * 4);
        if (((w >> (i % 32)) & 1) == (want_set ? 1u : 0u)) return i;
    }
    return size;
}

}  // namespace

void register_arm(Kernel& k) {
    const char* sub = "arm";
    // A system call's kernel code runs in SVC mode with IRQs, FIQs and asynchronous aborts
    // unmasked (the CPU resets with all three masked): the psr that oopses report.
    k.emu().set_reg(UC_ARM_REG_CPSR, 0x13);
    // Division: quotient in r0 (and the remainder in r1 for the divmod forms).
    auto uidiv = [](StubCall& c) -> uint64_t {
        uint32_t n = static_cast<uint32_t>(c.arg(0)), d = static_cast<uint32_t>(c.arg(1));
        if (!d) {
            div0(c);
            c.emu.set_arg(1, 0);
            return 0;
        }
        c.emu.set_arg(1, n % d);
        return n / d;
    };
    auto idiv = [](StubCall& c) -> uint64_t {
        int32_t n = static_cast<int32_t>(c.arg(0)), d = static_cast<int32_t>(c.arg(1));
        if (!d) {
            div0(c);
            c.emu.set_arg(1, 0);
            return 0;
        }
        if (n == INT32_MIN && d == -1) {
            c.emu.set_arg(1, 0);
            return static_cast<uint32_t>(n);
        }
        c.emu.set_arg(1, static_cast<uint32_t>(n % d));
        return static_cast<uint32_t>(n / d);
    };
    for (const char* n : {"__aeabi_uidiv", "__aeabi_uidivmod", "__udivsi3"})
        k.add_function(n, sub, uidiv);
    for (const char* n : {"__aeabi_idiv", "__aeabi_idivmod", "__divsi3"})
        k.add_function(n, sub, idiv);
    k.add_function("__umodsi3", sub, [uidiv](StubCall& c) {
        uidiv(c);
        return c.emu.arg(1);
    });
    k.add_function("__modsi3", sub, [idiv](StubCall& c) {
        idiv(c);
        return c.emu.arg(1);
    });
    // 64-bit: n in r0:r1, d in r2:r3; quotient to r0:r1, remainder to r2:r3.
    k.add_function("__aeabi_uldivmod", sub, [](StubCall& c) -> uint64_t {
        uint64_t n = pair(c, 0), d = pair(c, 2);
        if (!d) {
            div0(c);
            set_pair(c, 2, 0);
            c.emu.set_arg(1, 0);
            return 0;
        }
        set_pair(c, 2, n % d);
        c.emu.set_arg(1, (n / d) >> 32);
        return (n / d) & 0xffffffffu;
    });
    k.add_function("__aeabi_ldivmod", sub, [](StubCall& c) -> uint64_t {
        int64_t n = static_cast<int64_t>(pair(c, 0)), d = static_cast<int64_t>(pair(c, 2));
        if (!d) {
            div0(c);
            set_pair(c, 2, 0);
            c.emu.set_arg(1, 0);
            return 0;
        }
        int64_t q = (n == INT64_MIN && d == -1) ? n : n / d;
        int64_t r = (n == INT64_MIN && d == -1) ? 0 : n % d;
        set_pair(c, 2, static_cast<uint64_t>(r));
        c.emu.set_arg(1, static_cast<uint64_t>(q) >> 32);
        return static_cast<uint64_t>(q) & 0xffffffffu;
    });
    // __do_div64 (arch/arm/lib/div64.S): n in r0:r1, base in r4; quotient in r2:r3, remainder
    // in r1.
    k.add_function("__do_div64", sub, [](StubCall& c) -> uint64_t {
        uint64_t n = pair(c, 0);
        uint32_t base = static_cast<uint32_t>(c.emu.reg(UC_ARM_REG_R4));
        if (!base) {
            div0(c);
            return c.arg(0);
        }
        set_pair(c, 2, n / base);
        c.emu.set_arg(1, n % base);
        return c.arg(0);
    });
    // Shifts and multiply: value in r0:r1, result in r0:r1.
    auto ret64 = [](StubCall& c, uint64_t v) {
        c.emu.set_arg(1, v >> 32);
        return v & 0xffffffffu;
    };
    k.add_function("__aeabi_llsl", sub, [ret64](StubCall& c) {
        uint32_t s = static_cast<uint32_t>(c.arg(2));
        return ret64(c, s >= 64 ? 0 : pair(c, 0) << s);
    });
    k.add_function("__aeabi_llsr", sub, [ret64](StubCall& c) {
        uint32_t s = static_cast<uint32_t>(c.arg(2));
        return ret64(c, s >= 64 ? 0 : pair(c, 0) >> s);
    });
    k.add_function("__aeabi_lasr", sub, [ret64](StubCall& c) {
        uint32_t s = static_cast<uint32_t>(c.arg(2));
        int64_t v = static_cast<int64_t>(pair(c, 0));
        return ret64(c, static_cast<uint64_t>(s >= 64 ? (v < 0 ? -1 : 0) : v >> s));
    });
    k.add_function("__aeabi_lmul", sub,
                   [ret64](StubCall& c) { return ret64(c, pair(c, 0) * pair(c, 2)); });
    k.add_function("__aeabi_ulcmp", sub, [](StubCall& c) -> uint64_t {
        uint64_t a = pair(c, 0), b = pair(c, 2);
        return a < b ? 0xffffffffu : a > b ? 1 : 0;
    });

    // Bitops.
    k.add_function("_set_bit", sub, [](StubCall& c) {
        bitop(c, [](uint32_t w, uint32_t m) { return w | m; });
        return uint64_t(0);
    });
    k.add_function("_clear_bit", sub, [](StubCall& c) {
        bitop(c, [](uint32_t w, uint32_t m) { return w & ~m; });
        return uint64_t(0);
    });
    k.add_function("_change_bit", sub, [](StubCall& c) {
        bitop(c, [](uint32_t w, uint32_t m) { return w ^ m; });
        return uint64_t(0);
    });
    k.add_function("_test_and_set_bit", sub, [](StubCall& c) {
        return bitop(c, [](uint32_t w, uint32_t m) { return w | m; });
    });
    k.add_function("_test_and_clear_bit", sub, [](StubCall& c) {
        return bitop(c, [](uint32_t w, uint32_t m) { return w & ~m; });
    });
    k.add_function("_test_and_change_bit", sub, [](StubCall& c) {
        return bitop(c, [](uint32_t w, uint32_t m) { return w ^ m; });
    });
    k.add_function("_find_first_zero_bit_le", sub, [](StubCall& c) {
        return find_bit(c, false, static_cast<uint32_t>(c.arg(1)), 0);
    });
    k.add_function("_find_next_zero_bit_le", sub, [](StubCall& c) {
        return find_bit(c, false, static_cast<uint32_t>(c.arg(1)), static_cast<uint32_t>(c.arg(2)));
    });
    k.add_function("_find_first_bit_le", sub, [](StubCall& c) {
        return find_bit(c, true, static_cast<uint32_t>(c.arg(1)), 0);
    });
    k.add_function("_find_next_bit_le", sub, [](StubCall& c) {
        return find_bit(c, true, static_cast<uint32_t>(c.arg(1)), static_cast<uint32_t>(c.arg(2)));
    });

    // Barriers: one emulated core. (Delays, arm_delay_ops, are in misc.cc with the clock.)
    k.add_function("arm_heavy_mb", sub, [](StubCall&) { return uint64_t(0); });

    // EHABI personality routines: named by .ARM.exidx relocations, never called here.
    for (const char* n :
         {"__aeabi_unwind_cpp_pr0", "__aeabi_unwind_cpp_pr1", "__aeabi_unwind_cpp_pr2"})
        k.add_function(n, sub, [](StubCall&) { return uint64_t(0); });

    // __gnu_mcount_nc: entered with `push {lr}; bl __gnu_mcount_nc`. Like the kernel's
    // (arch/arm/kernel/entry-ftrace.S, tracing off): return to the caller with lr popped.
    k.add_function("__gnu_mcount_nc", sub, [](StubCall& c) -> uint64_t {
        uint64_t sp = c.emu.sp();
        auto b = c.read(sp, 4);
        uint32_t saved;
        std::memcpy(&saved, b.data(), 4);
        c.emu.set_lr(saved);
        c.emu.set_sp(sp + 4);
        return c.arg(0);  // r0 is preserved
    });
    k.add_function("ftrace_caller", sub, [](StubCall& c) { return c.arg(0); });
    // mmioset/mmiocpy are memset/memcpy for I/O memory.
    if (const Export* e = k.find_export("memset")) {
        StubFn f = e->fn;
        k.add_function("mmioset", sub, f);
    }
    if (const Export* e = k.find_export("memcpy")) {
        StubFn f = e->fn;
        k.add_function("mmiocpy", sub, f);
    }

    // elf_hwcap and elf_hwcap2 (arch/arm/kernel/setup.c): the CPU's features as the kernel found
    // them at boot. The machine is the oracle's (tools/qemu-oracle): QEMU's virt board with its
    // default Cortex-A15, whose /proc/cpuinfo features are "half thumb fastmult vfp edsp neon
    // vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm": the processor's hwcaps (proc-v7.S), SWP
    // withdrawn (elf_hwcap_fixup(): LDREX/STREX are there), IDIVA/IDIVT and LPAE from the ID
    // registers (cpuid_init_hwcaps()), the VFP and NEON ones of vfp_init(), the event stream of
    // the architected timer (CONFIG_ARM_ARCH_TIMER_EVTSTREAM); no crypto extensions (elf_hwcap2
    // 0). The bits are the UAPI's (arch/arm/include/uapi/asm/hwcap.h), fixed by the ABI.
    enum : uint32_t {
        hwcap_half = 1 << 1,
        hwcap_thumb = 1 << 2,
        hwcap_fast_mult = 1 << 4,
        hwcap_vfp = 1 << 6,
        hwcap_edsp = 1 << 7,
        hwcap_neon = 1 << 12,
        hwcap_vfpv3 = 1 << 13,
        hwcap_tls = 1 << 15,
        hwcap_vfpv4 = 1 << 16,
        hwcap_idiva = 1 << 17,
        hwcap_idivt = 1 << 18,
        hwcap_vfpd32 = 1 << 19,
        hwcap_lpae = 1 << 20,
        hwcap_evtstrm = 1 << 21,
    };
    uint32_t elf_hwcap = hwcap_half | hwcap_thumb | hwcap_fast_mult | hwcap_vfp | hwcap_edsp |
                         hwcap_neon | hwcap_vfpv3 | hwcap_tls | hwcap_vfpv4 | hwcap_idiva |
                         hwcap_idivt | hwcap_vfpd32 | hwcap_lpae | hwcap_evtstrm;
    uint32_t elf_hwcap2 = 0;
    k.add_data("elf_hwcap", sub, 4, &elf_hwcap);
    k.add_data("elf_hwcap2", sub, 4, &elf_hwcap2);

    // Kernel-mode NEON (arch/arm/vfp/vfpmodule.c, CONFIG_KERNEL_MODE_NEON): kernel_neon_begin()
    // sets FPEXC.EN so that the module's NEON instructions execute, after saving the task's VFP
    // state (insmod's user VFP state is not part of the emulation); kernel_neon_end() clears it.
    // 6.1 holds the CPU with get_cpu() (preempt_disable(): no count without
    // CONFIG_PREEMPT_COUNT); since 6.2 (kernel mode NEON permitted in softirq context) it is
    // local_bh_disable(), SOFTIRQ_DISABLE_OFFSET in the task's preempt count.
    constexpr uint32_t fpexc_en = 1u << 30, softirq_disable_offset = 0x200;
    const bool bh = kernel_since(k.config().profile.get(), 6, 2);
    auto add_preempt = [](StubCall& c, int32_t delta) {
        uint64_t at = c.kernel.current_task() + c.kernel.structs().task.preempt_count;
        c.emu.write_u32(at, c.emu.read_u32(at) + static_cast<uint32_t>(delta));
    };
    k.add_function("kernel_neon_begin", sub, [bh, add_preempt](StubCall& c) -> uint64_t {
        if (bh) add_preempt(c, softirq_disable_offset);
        c.emu.set_reg(UC_ARM_REG_FPEXC, c.emu.reg(UC_ARM_REG_FPEXC) | fpexc_en);
        return 0;
    });
    k.add_function("kernel_neon_end", sub, [bh, add_preempt](StubCall& c) -> uint64_t {
        c.emu.set_reg(UC_ARM_REG_FPEXC, c.emu.reg(UC_ARM_REG_FPEXC) & ~uint64_t(fpexc_en));
        if (bh) add_preempt(c, -int32_t(softirq_disable_offset));
        return 0;
    });
}

}  // namespace kmodemu
