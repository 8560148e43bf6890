// The 32-bit ARM stack unwinder (arch/arm/kernel/unwind.c): the EHABI index and personality
// routine 0/1 opcodes of the modules' .ARM.exidx/.ARM.extab tables, and the call trace that
// unwind_backtrace() prints with dump_backtrace_entry() (arch/arm/kernel/traps.c).
//
// The emulated kernel's own functions (C++ stubs) have no unwind tables: a frame in one is a
// leaf whose caller is the link register; a copy of a function of the kit's kernel image that
// runs in the emulated kernel unwinds by the image's own index. The trace ends where a module
// returns into the emulated kernel (the caller of init or exit): kmodemu has no frames there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "loader/elf_file.h"
#include "loader/module.h"

namespace kmodemu::arm {

// struct stackframe (arch/arm/include/asm/stacktrace.h)
struct StackFrame {
    uint32_t fp = 0;
    uint32_t sp = 0;
    uint32_t lr = 0;
    uint32_t pc = 0;
};

// module_finalize() (arch/arm/kernel/module.c): an unwind table for every allocated .ARM.exidx*
// section whose text section (".text" for ".ARM.exidx", else the name's tail) the module has.
// `addr` holds the sections' final addresses, by section index.
void add_unwind_tables(LoadedModule& mod, const ElfFile& elf, const std::vector<uint64_t>& addr);

// The frame of the current CPU state, as arm_get_current_stackframe() takes it from pt_regs
// (fp is r7 on a Thumb-2 kernel, r11 otherwise); `pc` is the reported PC.
StackFrame current_frame(Kernel& k, uint64_t pc);

// unwind_frame(): one frame up. Returns false where the kernel returns -URC_FAILURE, after
// logging its "unwind: ..." warnings where it does.
bool unwind_frame(Kernel& k, StackFrame& frame);

// unwind_backtrace() from a frame: one " <where> from <caller>" line per frame, at `level`;
// `caller` names the callers (%pS) when given (the report's own naming of the emulated kernel).
void dump_backtrace(Kernel& k, StackFrame frame, int level,
                    const std::function<std::string(uint64_t)>& caller = nullptr);

}  // namespace kmodemu::arm
