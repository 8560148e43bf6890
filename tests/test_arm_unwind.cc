// The 32-bit ARM oops report: the EHABI unwinder over hand-made unwind tables, and the lines of
// __die() (registers, flags, register information, stack, call trace, code) on the fixtures.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "kernel_stubs/arm_unwind.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "tests/fixture_util.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;
using fx::texts;

namespace {

KernelConfig arm_mode_kernel() {
    KernelConfig c;
    c.thumb2_kernel = false;  // the frame pointer of the unwinder is r11
    return c;
}

// A module "unw" with three functions in one page of text and an unwind table over its first
// 0x100 bytes, in a page of its own; index entries and .ARM.extab words are written by tests.
class Unwind : public ::testing::Test {
  protected:
    Emulator emu{Arch::arm};
    Kernel k{emu, arm_mode_kernel()};
    LoadedModule mod;
    uint32_t text = 0, tables = 0, extab = 0;
    uint32_t f1 = 0, f2 = 0, f3 = 0;

    void SetUp() override {
        text = static_cast<uint32_t>(k.layout().modules);
        tables = text + 0x1000;
        extab = tables + 0x800;
        emu.map(text, 0x1000, prot_rx);
        emu.map(tables, 0x1000, prot_read);
        f1 = text, f2 = text + 0x40, f3 = text + 0x80;
        mod.name = "unw";
        mod.arch = Arch::arm;
        mod.regions.push_back({Region::Type::text, text, 0x1000, 0x1000});
        mod.symbols = {{"f1", f1, 0x40, true}, {"f2", f2, 0x40, true}, {"f3", f3, 0x40, true}};
        mod.unwind_tables.push_back({tables, 0, text, 0x100, false});
        k.modules.push_back(&mod);
    }
    void TearDown() override { std::erase(k.modules, &mod); }

    // An index entry for the function at fn: prel31 to it, then the second word.
    void entry(uint32_t fn, uint32_t insn) {
        uint32_t place = tables + static_cast<uint32_t>(mod.unwind_tables[0].size);
        uint32_t words[2] = {(fn - place) & 0x7fffffffu, insn};
        emu.write(place, words, sizeof words);
        mod.unwind_tables[0].size += 8;
    }
    // A prel31 from an index entry's second word to .ARM.extab + off.
    uint32_t to_extab(uint32_t off) const {
        uint32_t place = tables + static_cast<uint32_t>(mod.unwind_tables[0].size) + 4;
        return (extab + off - place) & 0x7fffffffu;
    }
    uint32_t stack_top() const {
        return static_cast<uint32_t>(k.layout().stack + k.layout().stack_size);
    }
    bool logged(const std::string& line) const {
        for (const LogLine& l : k.log_lines())
            if (l.text == line) return true;
        return false;
    }
};

}  // namespace

// Personality routine 0 inline in the index (pop {r4, lr}), then personality 1 in .ARM.extab
// (vsp += 12, pop {lr}), back to the emulated kernel: one line per frame.
TEST_F(Unwind, PopsTheReturnAddressesFrameByFrame) {
    entry(f1, 0x80a8b0b0);  // 0xa8: pop {r4, r14}; 0xb0: finish
    entry(f2, to_extab(0));
    entry(f3, 1);                                      // EXIDX_CANTUNWIND
    const uint32_t pr1[2] = {0x81010284, 0x00b0b0b0};  // 0x02: vsp += 12; 0x8400: pop {r14}
    emu.write(extab, pr1, sizeof pr1);

    uint32_t sp = stack_top() - 0x40;
    const uint32_t stack[6] = {0x1234, f2 + 0x10, 0,
                               0,      0,         static_cast<uint32_t>(k.layout().exit_page)};
    emu.write(sp, stack, sizeof stack);

    arm::StackFrame f{0, sp, 0xdead, f1 + 8};
    ASSERT_TRUE(arm::unwind_frame(k, f));
    EXPECT_EQ(f.pc, f2 + 0x10);
    EXPECT_EQ(f.lr, f2 + 0x10);
    EXPECT_EQ(f.sp, sp + 8);
    ASSERT_TRUE(arm::unwind_frame(k, f));
    EXPECT_EQ(f.pc, k.layout().exit_page);
    EXPECT_EQ(f.sp, sp + 24);
    EXPECT_FALSE(arm::unwind_frame(k, f));  // the emulated kernel's caller: the trace ends

    arm::dump_backtrace(k, {0, sp, 0xdead, f1 + 8}, 0);
    EXPECT_TRUE(logged(" f1 [unw] from f2+0x10/0x40 [unw]"));
    EXPECT_TRUE(logged(" f2 [unw] from do_one_initcall"));
    EXPECT_EQ(k.log_lines().size(), 2u);

    // EXIDX_CANTUNWIND stops without a word.
    arm::StackFrame g{0, sp, f1 + 4, f3 + 4};
    EXPECT_FALSE(arm::unwind_frame(k, g));
    EXPECT_EQ(k.log_lines().size(), 2u);
}

TEST_F(Unwind, FirstInstructionIsStillTheCallersFrame) {
    entry(f1, 0x80a8b0b0);
    arm::StackFrame f{0, stack_top() - 0x40, f2 + 8, f1};
    ASSERT_TRUE(arm::unwind_frame(k, f));
    EXPECT_EQ(f.pc, f2 + 8);
    EXPECT_EQ(f.sp, stack_top() - 0x40);
    arm::StackFrame g{0, stack_top() - 0x40, f1, f1};  // pc == lr: no progress possible
    EXPECT_FALSE(arm::unwind_frame(k, g));
}

TEST_F(Unwind, StackIncrementsAndTheirBounds) {
    entry(f1, 0x80b201b0);  // 0xb2 0x01: vsp += 0x204 + (1 << 2)
    uint32_t sp = stack_top() - 0x400;
    arm::StackFrame f{0, sp, f2 + 4, f1 + 8};
    ASSERT_TRUE(arm::unwind_frame(k, f));
    EXPECT_EQ(f.sp, sp + 0x208);
    EXPECT_EQ(f.pc, f2 + 4);  // finish: pc = lr
    // The same increment from near the top of the stack leaves it: refused.
    arm::StackFrame g{0, stack_top() - 0x100, f2 + 4, f1 + 8};
    EXPECT_FALSE(arm::unwind_frame(k, g));
}

TEST_F(Unwind, RefusalsAreLoggedAsTheKernelDoes) {
    entry(f1 + 0x10, 0x808000b0);  // 0x80 0x00: "refuse to unwind"
    entry(f2, 0x80b1f0b0);         // 0xb1 0xf0: spare encoding
    entry(f3, 0x80c8b0b0);         // 0xc8: not an opcode the kernel knows
    arm::StackFrame f{0, stack_top() - 0x40, f2, f1 + 0x14};
    EXPECT_FALSE(arm::unwind_frame(k, f));
    EXPECT_TRUE(logged("unwind: 'Refuse to unwind' instruction 8000"));
    f = {0, stack_top() - 0x40, f1, f2 + 4};
    EXPECT_FALSE(arm::unwind_frame(k, f));
    EXPECT_TRUE(logged("unwind: Spare encoding b1f0"));
    f = {0, stack_top() - 0x40, f1, f3 + 4};
    EXPECT_FALSE(arm::unwind_frame(k, f));
    EXPECT_TRUE(logged("unwind: Unhandled instruction c8"));
    // Below the first entry, and outside the table's text: the kernel's two warnings.
    char buf[64];
    f = {0, stack_top() - 0x40, f2, f1 + 4};
    EXPECT_FALSE(arm::unwind_frame(k, f));
    std::snprintf(buf, sizeof buf, "unwind: Unknown symbol address %08x", f1 + 4);
    EXPECT_TRUE(logged(buf));
    f = {0, stack_top() - 0x40, f2, text + 0x200};
    EXPECT_FALSE(arm::unwind_frame(k, f));
    std::snprintf(buf, sizeof buf, "unwind: Index not found %08x", text + 0x200);
    EXPECT_TRUE(logged(buf));
}

// A function of the emulated kernel has no table: it is a leaf returning to lr.
TEST_F(Unwind, KernelFunctionsReturnToTheirCaller) {
    entry(f1, 0x80a8b0b0);
    uint32_t memset = static_cast<uint32_t>(k.find_export("memset")->address);
    uint32_t sp = stack_top() - 0x40;
    const uint32_t stack[2] = {0, static_cast<uint32_t>(k.layout().exit_page)};
    emu.write(sp, stack, sizeof stack);
    arm::dump_backtrace(k, {0, sp, f1 + 0x20, memset}, 0);
    ASSERT_EQ(k.log_lines().size(), 2u);
    EXPECT_EQ(k.log_lines()[0].text, " memset from f1+0x20/0x40 [unw]");
    EXPECT_EQ(k.log_lines()[1].text, " f1 [unw] from do_one_initcall");
}

namespace {

RunOutcome run(const std::string& flavour, const std::string& name, const std::string& param) {
    RunOptions opts;
    opts.params = {param};
    opts.budget = 5'000'000;
    opts.thumb2_kernel = flavour == "armhf-thumb";
    return run_module(fx::module(flavour, name), opts);
}

// The lines after the one starting with `prefix`.
std::vector<std::string> after(const RunOutcome& out, const std::string& prefix) {
    auto t = texts(out);
    auto it = std::find_if(t.begin(), t.end(),
                           [&](const std::string& l) { return l.starts_with(prefix); });
    return it == t.end() ? std::vector<std::string>{} : std::vector<std::string>(it, t.end());
}

// A register's value in __show_regs()'s lines ("sp : c0ffffc0", "r10: 00000000", "pc : [<...>]").
uint32_t reg_value(const RunOutcome& out, const std::string& name) {
    std::string key = name + std::string(name.size() < 3 ? 3 - name.size() : 0, ' ') + ": ";
    for (const std::string& l : texts(out)) {
        size_t at = l.find(key);
        if (at == std::string::npos || (at != 0 && l[at - 1] != ' ')) continue;
        const char* v = l.c_str() + at + key.size();
        if (std::strncmp(v, "[<", 2) == 0) v += 2;
        return static_cast<uint32_t>(std::strtoul(v, nullptr, 16));
    }
    ADD_FAILURE() << "no register " << name;
    return 0;
}

class ArmOops : public ::testing::TestWithParam<const char*> {};

}  // namespace

// A module function that called a kernel function: the kernel function, then the module frame
// that the module's .ARM.exidx unwinds to the caller of init.
TEST_P(ArmOops, CallTraceThroughTheModulesUnwindTables) {
    RunOutcome out = run(GetParam(), "quirks", "mode=5");  // memset(NULL + 0x140, ...)
    ASSERT_EQ(out.exit_status, 139);
    auto t = after(out, " memset from quirks_init+0x");
    ASSERT_GE(t.size(), 3u);
    EXPECT_TRUE(t[0].ends_with(" [quirks]")) << t[0];
    EXPECT_EQ(t[1], " quirks_init [quirks] from do_one_initcall");
    EXPECT_TRUE(t[2].starts_with("Code: ") && t[2].find(") ") != std::string::npos &&
                t[2].ends_with(" "))
        << t[2];
    // A fault in the module itself: its own frame first.
    out = run(GetParam(), "faulty", "mode=1");
    bool frame = false;
    for (const std::string& l : texts(out))
        frame |= l.starts_with(" poke") && l.ends_with(" [faulty] from do_one_initcall");
    EXPECT_TRUE(frame);
}

TEST_P(ArmOops, RegistersFlagsAndTheStack) {
    bool thumb = std::string(GetParam()) == "armhf-thumb";
    RunOutcome out = run(GetParam(), "faulty", "mode=1");
    uint32_t psr = reg_value(out, "psr"), sp = reg_value(out, "sp");
    EXPECT_EQ(psr & 0x1df, 0x13u);  // SVC mode, IRQs, FIQs and aborts unmasked
    EXPECT_EQ((psr >> 5) & 1, thumb ? 1u : 0u);
    auto flags = after(out, "Flags: ");
    ASSERT_FALSE(flags.empty());
    char expect[128];
    std::snprintf(expect, sizeof expect, "Flags: %c%c%c%c  IRQs on  FIQs on  Mode SVC_32  ISA %s",
                  psr & (1u << 31) ? 'N' : 'n', psr & (1u << 30) ? 'Z' : 'z',
                  psr & (1u << 29) ? 'C' : 'c', psr & (1u << 28) ? 'V' : 'v',
                  thumb ? "Thumb" : "ARM");
    EXPECT_TRUE(flags[0].starts_with(expect)) << flags[0];
    EXPECT_TRUE(flags[1].starts_with("Control: ")) << flags[1];
    // mem_dump_obj() of r0..r12, then the process and its stack from sp to the stack's top.
    for (int i = 0; i < 13; ++i)
        EXPECT_TRUE(flags[2 + i].starts_with("Register r" + std::to_string(i) + " information: "));
    EXPECT_TRUE(flags[15].starts_with("Process insmod (pid: "));
    char stack[64];
    std::snprintf(stack, sizeof stack, "Stack: (0x%08x to 0x%08x)", sp,
                  static_cast<uint32_t>(KernelLayout::for_arch(Arch::arm).stack + 0x2000));
    EXPECT_EQ(flags[16], stack);
    std::snprintf(stack, sizeof stack, "%04x:", sp & 0xffe0);
    EXPECT_TRUE(flags[17].starts_with(stack)) << flags[17];
    // The Code: line: words, or halfwords (one more after the PC) in Thumb state.
    auto code = after(out, "Code: ");
    ASSERT_FALSE(code.empty());
    EXPECT_EQ(code[0].size(),
              thumb ? std::string("Code: 0000 0000 0000 0000 (0000) 0000 ").size()
                    : std::string("Code: 00000000 00000000 00000000 00000000 (00000000) ").size());
}

INSTANTIATE_TEST_SUITE_P(Arm, ArmOops, ::testing::Values("armhf", "armhf-thumb"));

TEST(ArmOopsMemory, RegisterInformationNamesKmodemusObjects) {
    // quirks mode=4 frees one object twice: kfree()'s argument is a freed kmalloc-64 object.
    RunOutcome out = run("armhf", "quirks", "mode=4");
    ASSERT_EQ(out.exit_status, 139);
    uint32_t r0 = reg_value(out, "r0");
    char want[128];
    std::snprintf(want, sizeof want,
                  "Register r0 information: slab kmalloc-64 start %08x pointer offset 0 size 64",
                  r0);
    EXPECT_TRUE(has_line(out, want));
    // The module's memory: the module_alloc() area its text is in.
    out = run("armhf", "faulty", "mode=3");
    uint32_t r3 = reg_value(out, "r3");  // &table[...] in rodata
    // The armmp kit's kernel is an ARM-mode build: MODULES_VADDR is PAGE_OFFSET - 16 MiB.
    uint32_t base = static_cast<uint32_t>(KernelLayout::for_arch(Arch::arm, false).modules);
    std::snprintf(want, sizeof want, "vmalloc region starting at 0x%x allocated at load_module",
                  base);
    ASSERT_GE(r3, base);
    bool found = false;
    for (const std::string& l : texts(out))
        found |= l.starts_with("Register r3 information: ") && l.ends_with(want);
    EXPECT_TRUE(found);
    EXPECT_TRUE(has_line(out, "Register r5 information: NULL pointer"));
}

TEST(ArmOopsMemory, MemDumpObjOfTheTaskAndTheHeap) {
    Emulator emu(Arch::arm);
    Kernel k(emu);
    Kernel::Slab& s = k.slab();
    uint64_t a = s.alloc(100, 0);
    auto o = s.object_at(a + 5);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->first, a);
    EXPECT_EQ(o->second, s.size_class(100));
    s.free(a);
    EXPECT_TRUE(s.object_at(a));  // still a slab object, as kmem_obj_info() sees it
    uint64_t big = s.alloc(100000, 0);
    EXPECT_FALSE(s.object_at(big));  // kmalloc_large(): pages
}

// WARN() on ARM is warn_slowpath_fmt(): dump_stack() with the call trace from it.
TEST(ArmOopsWarn, WarnPrintsTheMachineAndTheCallTrace) {
    RunOutcome out = run("armhf", "faulty", "mode=5");
    EXPECT_EQ(out.exit_status, 0);
    auto t = after(out, "Hardware name: ");
    ASSERT_GE(t.size(), 4u);
    EXPECT_EQ(t[0], "Hardware name: Generic DT based system");
    EXPECT_TRUE(t[1].starts_with(" warn_slowpath_fmt from faulty_init+0x")) << t[1];
    EXPECT_EQ(t[2], " faulty_init [faulty] from do_one_initcall");
    EXPECT_EQ(t[3], "---[ end trace 0000000000000000 ]---");
}

// With the kit's kernel image, kmodemu runs the kernel's own memset (mmioset) where the stub
// would fault; that code keeps lr on the stack and reuses the register, so its caller is found
// only through the image's unwind index.
TEST(ArmOopsKit, KernelCodeFromTheImageUnwindsByItsIndex) {
    std::string kit = KMODEMU_KIT_ARMHF;
    ASSERT_TRUE(!kit.empty() && std::ifstream(kit + "/kit.env")) << "no armhf kit";
    RunOptions opts;
    opts.params = {"mode=5"};
    opts.budget = 5'000'000;
    opts.kernel_kit = kit;
    RunOutcome out = run_module(fx::module("armhf", "quirks"), opts);
    ASSERT_EQ(out.exit_status, 139);
    auto pc = after(out, "PC is at ");
    ASSERT_FALSE(pc.empty());
    std::string fn = pc[0].substr(9, pc[0].find('+') - 9);
    // The image's own routine ran (a fault in the stub would be at +0x0).
    ASSERT_EQ(pc[0].find("+0x0/"), std::string::npos) << "the stub faulted: " << pc[0];
    auto t = after(out, " " + fn + " from ");
    ASSERT_GE(t.size(), 2u) << fn;
    EXPECT_TRUE(t[0].starts_with(" " + fn + " from quirks_init+0x") && t[0].ends_with(" [quirks]"))
        << t[0];
    EXPECT_TRUE(t[1].starts_with(" quirks_init [quirks] from do_one_initcall")) << t[1];
}

// do_init_module()'s dump_stack() after a positive return: the task and machine; the call trace
// is the emulated kernel's own (C++), which has no frames to show.
TEST(ArmOopsWarn, DumpStackOfTheEmulatedKernelItself) {
    RunOutcome out = run("armhf", "hello", "ret=1");
    EXPECT_EQ(out.exit_status, 0);
    auto t = after(out, "do_init_module: loading module anyway...");
    ASSERT_GE(t.size(), 3u);
    EXPECT_TRUE(t[1].starts_with("CPU: 0 PID: ")) << t[1];
    EXPECT_EQ(t[2], "Hardware name: Generic DT based system");
    EXPECT_TRUE(t.size() == 3 || !t[3].starts_with(" ")) << t[3];
}
