// An architecture is one description: what kmodemu needs to know of arm64 and 32-bit ARM as data
// (word size, ELF identity, Unicorn's engine and register numbers, instruction words it plants,
// page and stack sizes), in one object per architecture. Code that behaves differently per
// architecture (relocations, unwinding, the oops report) stays in the architecture's files;
// everything else asks the description instead of testing which architecture it is.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace kmodemu {

enum class Arch { arm64, arm };

struct ArchInfo {
    Arch arch;
    const char* name;      // the kernel's ARCH: "arm64", "arm"
    const char* debian;    // Debian's architecture of its kernel packages (KIT_ARCH): "armhf"
    unsigned word_size;    // sizeof(long) == sizeof(void *)
    uint16_t elf_machine;  // EM_AARCH64, EM_ARM
    uint8_t elf_class;     // ELFCLASS64, ELFCLASS32
    // The Unicorn engine and the CPU it models (QEMU's "max" arm64 core; a Cortex-A15 class
    // ARMv7-A core with the division instructions and Thumb-2, as Debian's armmp targets).
    uc_arch unicorn_arch;
    uc_mode unicorn_mode;
    int unicorn_cpu_model;
    // The calling convention (AAPCS64, AAPCS): integer arguments in x0-x7 / r0-r3, then on the
    // stack one word each; Unicorn's numbers of the registers by role.
    unsigned arg_regs;
    int reg_arg0, reg_pc, reg_sp, reg_lr;
    int reg_flags;  // NZCV / CPSR: the condition flags
    // Instruction words kmodemu plants: the return of trap slots and the exit page (ret,
    // bx lr), and the BUG() trap in the kernel's own encoding (brk #0x800, BUG_INSTR), with how
    // QEMU reports it (EXCP_BKPT, EXCP_UDEF).
    uint32_t ret_insn;
    uint32_t bug_insn;
    uint32_t bug_exception_index;
    int capstone_arch;     // cs_arch of the disassembler: CS_ARCH_ARM64, CS_ARCH_ARM
    uint64_t page_size;    // PAGE_SIZE (4 KiB pages in Debian's kernels)
    uint64_t thread_size;  // THREAD_SIZE: the kernel stack
    // dump_stack_print_info()'s "Hardware name:" on QEMU's virt board, where the oracle runs:
    // arm64's device-tree model; on ARM the generic DT machine (arch/arm/kernel/devtree.c).
    const char* hardware_name;

    uint64_t word_mask() const { return word_size == 8 ? ~0ull : 0xffffffffull; }
    int hex_digits() const { return static_cast<int>(word_size * 2); }  // %px's width
};

const ArchInfo& arch_info(Arch arch);
const char* arch_name(Arch arch);  // arch_info(arch).name
// The architecture of a Debian architecture name ("arm64", "armhf"), if kmodemu has it.
std::optional<Arch> arch_of_debian(std::string_view debian);

}  // namespace kmodemu
