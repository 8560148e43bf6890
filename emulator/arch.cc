#include "emulator/arch.h"

#include <capstone/capstone.h>
#include <elf.h>

namespace kmodemu {

namespace {

constexpr ArchInfo arm64_info{
    .arch = Arch::arm64,
    .name = "arm64",
    .debian = "arm64",
    .word_size = 8,
    .elf_machine = EM_AARCH64,
    .elf_class = ELFCLASS64,
    .unicorn_arch = UC_ARCH_ARM64,
    .unicorn_mode = UC_MODE_ARM,
    .unicorn_cpu_model = UC_CPU_ARM64_MAX,
    .arg_regs = 8,
    .reg_arg0 = UC_ARM64_REG_X0,
    .reg_pc = UC_ARM64_REG_PC,
    .reg_sp = UC_ARM64_REG_SP,
    .reg_lr = UC_ARM64_REG_LR,
    .reg_flags = UC_ARM64_REG_NZCV,
    .ret_insn = 0xd65f03c0,    // ret
    .bug_insn = 0xd4210000,    // brk #0x800 (BUG_BRK_IMM)
    .bug_exception_index = 7,  // EXCP_BKPT
    .capstone_arch = CS_ARCH_ARM64,
    .page_size = 0x1000,
    .thread_size = 0x4000,  // 16 KiB
    .hardware_name = "linux,dummy-virt (DT)",
};

constexpr ArchInfo arm_info{
    .arch = Arch::arm,
    .name = "arm",
    .debian = "armhf",
    .word_size = 4,
    .elf_machine = EM_ARM,
    .elf_class = ELFCLASS32,
    .unicorn_arch = UC_ARCH_ARM,
    .unicorn_mode = UC_MODE_ARM,
    .unicorn_cpu_model = UC_CPU_ARM_CORTEX_A15,
    .arg_regs = 4,
    .reg_arg0 = UC_ARM_REG_R0,
    .reg_pc = UC_ARM_REG_PC,
    .reg_sp = UC_ARM_REG_SP,
    .reg_lr = UC_ARM_REG_LR,
    .reg_flags = UC_ARM_REG_CPSR,
    .ret_insn = 0xe12fff1e,    // bx lr
    .bug_insn = 0xe7f001f2,    // BUG_INSTR_VALUE (ARM state)
    .bug_exception_index = 1,  // EXCP_UDEF
    .capstone_arch = CS_ARCH_ARM,
    .page_size = 0x1000,
    .thread_size = 0x2000,  // 8 KiB
    .hardware_name = "Generic DT based system",
};

}  // namespace

const ArchInfo& arch_info(Arch arch) {
    static constexpr const ArchInfo* by_arch[] = {&arm64_info, &arm_info};
    static_assert(static_cast<int>(Arch::arm64) == 0 && static_cast<int>(Arch::arm) == 1);
    return *by_arch[static_cast<int>(arch)];
}

const char* arch_name(Arch arch) {
    return arch_info(arch).name;
}

std::optional<Arch> arch_of_debian(std::string_view debian) {
    for (Arch a : {Arch::arm64, Arch::arm})
        if (debian == arch_info(a).debian) return a;
    return std::nullopt;
}

}  // namespace kmodemu
