// BUG(), WARN() and oopses: lib/bug.c report_bug(), kernel/panic.c __warn(), and the
// architectures' die() with show_regs(), as the kernel prints them.
#pragma once

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// The oops report for a guest fault that ends the call (arm64 die() / ARM die()).
void report_oops(Kernel& k, const RunResult& r);
// show_regs(): the register dump of the current CPU state.
void show_regs(Kernel& k, uint64_t pc);
// dump_stack() (lib/dump_stack.c): the task and machine lines, then on ARM the call trace from
// the kernel function the guest called (none when the emulated kernel's C++ code calls it).
void dump_stack(Kernel& k);
// dump_stack() called by the emulated kernel's own `caller`, a function of insmod's path
// (do_init_module): on arm64 and ARM the call trace from dump_stack() through caller to the
// syscall entry, as the kit's kallsyms and code name the frames.
void dump_stack(Kernel& k, std::string_view caller);

// BUG() at file:line inside the emulated kernel function the module called (c.slot), for the
// stubs of kernel functions that end in BUG() (CHECK_DATA_CORRUPTION(), SLUB's
// set_freepointer()): report_bug()'s lines, then the call ends as an oops whose pc is that
// function. `chain` lists the kernel functions from the one the module called to the one whose
// BUG() fires when that one is a callee (kfree() -> __kmem_cache_free()); empty: c.slot alone.
[[noreturn]] void kernel_bug(StubCall& c, std::string_view file, unsigned line,
                             const std::vector<uint64_t>& chain = {});
// The condition flags the real kernel's _printk() returns with: Z and C set, N and V clear, in
// the recordings of Debian's arm64 and ARM kernels alike (kmodemu's printk runs none of that
// code). A report after such a call shows them (pstate / psr).
void set_printk_flags(Emulator& e);
// BUG() in the kernel function the module called (c.slot) where the kernel's own code has it:
// at the trap of the function's code from the kit's image whose __bug_table entry (of `file`
// when it has some) is the nth by line when nth >= 0 (the function's nth check in its source),
// else the one for `line` (else its first), with that entry's file:line; without the kit's
// image, at the stub with the given file:line.
// `lr`: on ARM, the link register at the trap when a call just before it left it other than
// the call's return address (a callee that returns by popping pc leaves its own last call's).
[[noreturn]] void kernel_function_bug(StubCall& c, std::string_view file, unsigned line,
                                      int nth = -1, std::optional<uint64_t> lr = std::nullopt);
// The same for a BUG() in `callee`, which the function the module called (c.slot) calls (kfree()
// -> __kmem_cache_free()): on arm64, at the trap of callee's code from the kit's image, below
// the caller's frame at its return from the call; else (or without the kit) kernel_bug() with
// `chain`. When the kit's kernel has no `callee` (inlined: 6.12's kfree()), in the code of the
// function the module called.
[[noreturn]] void kernel_function_bug(StubCall& c, std::string_view file, unsigned line,
                                      const std::string& callee,
                                      const std::vector<uint64_t>& chain);
// WARN(1, "%s\n", message) in `callee`'s code, which the function the module called (c.slot)
// calls (6.12's __fortify_panic() -> __fortify_report()); returns, as the kernel carries on. On
// arm64 at the trap of callee's code from the kit's image whose __bug_table entry is the one of
// file:line (else its first), below the caller's frame at its return from the call; on ARM
// (warn_slowpath_fmt(), with file:line) from callee's call of warn_slowpath_fmt(), callee's and
// the caller's frames as their prologues push them. Without the kit's image, kernel_warn().
// Returns the link register callee returns with when that is not its caller's return address
// from the call (ARM: its own call of warn_slowpath_fmt()'s), for kernel_function_bug().
std::optional<uint64_t> kernel_callee_warn(StubCall& c, std::string_view file, unsigned line,
                                           const std::string& callee, std::string_view message);
// WARN(1, "%s", message) at file:line there: __warn_printk() and __warn(); returns, as the
// kernel carries on (a panic when panic_on_warn is set).
void kernel_warn(StubCall& c, std::string_view file, unsigned line, std::string_view message);

}  // namespace kmodemu
