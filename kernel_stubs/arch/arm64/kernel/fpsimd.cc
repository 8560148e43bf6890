// arch/arm64/kernel/fpsimd.c: kernel-mode NEON. kernel_neon_begin() claims the CPU's FPSIMD
// registers for the kernel: get_cpu_fpsimd_context() (local_bh_disable(), then the per-CPU
// fpsimd_context_busy flag), saves the task's state and invalidates it. The current task here is
// insmod running a module's init, whose user FPSIMD state is not part of the emulation: what is
// modelled is the claim (the bottom halves disabled in the task's preempt count, the busy flag)
// and its BUG_ON(!may_use_simd()) for a nested claim.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint32_t softirq_disable_offset = 0x200;  // SOFTIRQ_DISABLE_OFFSET

struct Fpsimd : Kernel::SubsystemState {
    bool busy = false;  // fpsimd_context_busy of the CPU
};

void add_preempt_count(StubCall& c, int32_t delta) {
    uint64_t at = c.kernel.current_task() + c.kernel.structs().task.preempt_count;
    uint32_t count = 0;
    c.emu.read(at, &count, 4);
    count += static_cast<uint32_t>(delta);
    c.emu.write(at, &count, 4);
}

}  // namespace

void register_fpsimd(Kernel& k) {
    if (k.arch() != Arch::arm64) return;
    const char* sub = "arch/arm64/kernel/fpsimd";
    // kernel_neon_begin(): BUG_ON(!may_use_simd()) (a claim inside a claim), then
    // get_cpu_fpsimd_context(): local_bh_disable() and fpsimd_context_busy set.
    k.add_function(
        "kernel_neon_begin", sub,
        [](StubCall& c) -> uint64_t {
            Fpsimd& s = c.kernel.state<Fpsimd>();
            if (s.busy) c.unimplemented("kernel_neon_begin (nested: BUG_ON(!may_use_simd()))");
            add_preempt_count(c, softirq_disable_offset);
            s.busy = true;
            return 0;
        },
        true);
    // kernel_neon_end(): put_cpu_fpsimd_context(): the busy flag cleared (WARN_ON when it was
    // not set), local_bh_enable() (no softirq is ever pending here).
    k.add_function(
        "kernel_neon_end", sub,
        [](StubCall& c) -> uint64_t {
            Fpsimd& s = c.kernel.state<Fpsimd>();
            if (!s.busy) c.unimplemented("kernel_neon_end (without kernel_neon_begin: WARN_ON)");
            s.busy = false;
            add_preempt_count(c, -int32_t(softirq_disable_offset));
            return 0;
        },
        true);
}

}  // namespace kmodemu
