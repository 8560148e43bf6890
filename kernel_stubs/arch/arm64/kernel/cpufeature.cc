// arch/arm64/kernel/cpufeature.c: the CPU's features as the kernel found them at boot. The
// machine is the oracle's (tools/qemu-oracle): QEMU's virt board with a Cortex-A57, whose
// /proc/cpuinfo features are "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid" (the event
// stream: CONFIG_ARM_ARCH_TIMER_EVTSTREAM).
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_arm64_cpufeature(Kernel& k) {
    if (k.arch() != Arch::arm64) return;
    const KernelStructs::Hwcaps h = k.structs().hwcap;
    uint64_t elf_hwcap = 0;
    for (uint64_t bit :
         {h.fp, h.asimd, h.evtstrm, h.aes, h.pmull, h.sha1, h.sha2, h.crc32, h.cpuid})
        elf_hwcap |= uint64_t(1) << bit;
    // cpu_have_feature(num): elf_hwcap has bit num (module_cpu_feature_match()'s test).
    k.add_function(
        "cpu_have_feature", "arch/arm64/kernel/cpufeature",
        [elf_hwcap](StubCall& c) -> uint64_t {
            unsigned num = static_cast<unsigned>(c.arg(0));
            return num < 64 && (elf_hwcap >> num) & 1;
        },
        true);
}

}  // namespace kmodemu
