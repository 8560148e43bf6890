// End to end on 32-bit ARM: the same fixture sources built with Kbuild against Debian's armmp
// headers, in ARM mode and as Thumb-2, must print what the arm64 builds print.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "kernel_stubs/kernel.h"
#include "loader/elf_file.h"
#include "tests/fixture_util.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::faulty_line;
using fx::has_line;
using fx::texts;

namespace {

std::vector<uint8_t> fixture(const std::string& flavour, const std::string& name) {
    return fx::module(flavour, name);
}

RunOutcome run(const std::string& flavour, const std::string& name,
               std::vector<std::string> params = {}, bool thumb2_kernel = true) {
    RunOptions opts;
    opts.params = std::move(params);
    opts.budget = 5'000'000;
    opts.thumb2_kernel = thumb2_kernel;
    return run_module(fixture(flavour, name), opts);
}

class ArmFlavours : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(ArmFlavours, SameOutputAsArm64) {
    // Parameters whose values fit 32-bit longs, so that the source does not differ.
    for (const std::vector<std::string>& params :
         {std::vector<std::string>{}, {"val=-12", "name=xyz", "arr=4,5,6", "flag", "ret=1"}}) {
        RunOutcome a64 = run("arm64", "hello", params);
        RunOutcome a32 = run(GetParam(), "hello", params);
        EXPECT_EQ(a32.arch, "arm");
        EXPECT_EQ(a32.exit_status, 0);
        // Except what dump_stack() (after init's positive return) says of each architecture's
        // machine and call trace.
        auto common = [](std::vector<std::string> t) {
            std::erase_if(t, [](const std::string& l) {
                return l.starts_with("Hardware name: ") || l.starts_with("Call trace:") ||
                       l.starts_with(" ");
            });
            return t;
        };
        EXPECT_EQ(common(texts(a32)), common(texts(a64)));
    }
    RunOutcome a64 = run("arm64", "eabi");
    RunOutcome a32 = run(GetParam(), "eabi");
    EXPECT_EQ(a32.exit_status, 0);
    EXPECT_EQ(texts(a32), texts(a64));
    EXPECT_TRUE(has_line(a32, "eabi: do_div 1000000000123 / 7 = 142857142874 rem 5"));
    // arith's 64-bit divisions need __aeabi_uldivmod and __aeabi_ldivmod, which no ARM kernel
    // exports: the default kernel refuses it as Debian's armmp does (tests/oracle).
    EXPECT_EQ(run("arm64", "arith").exit_status, 0);
    a32 = run(GetParam(), "arith");
    EXPECT_EQ(a32.exit_status, ENOENT);
    EXPECT_TRUE(has_line(a32, "arith: Unknown symbol __aeabi_uldivmod (err -2)"));
    EXPECT_TRUE(has_line(a32, "arith: Unknown symbol __aeabi_ldivmod (err -2)"));
}

// The EABI helpers are called; the mcount calls are not: with CONFIG_DYNAMIC_FTRACE (Debian's
// kernels, and the default kernel) ftrace_module_init() turns every call site in __mcount_loc
// into a nop before the module runs.
TEST_P(ArmFlavours, EabiHelpersAreUsedAndMcountCallsAreNops) {
    RunOutcome out = run(GetParam(), "eabi");
    EXPECT_EQ(out.exit_status, 0);
    for (const char* fn : {"__aeabi_uidiv", "__aeabi_idivmod", "__do_div64", "_set_bit",
                           "_test_and_set_bit"})
        EXPECT_GT(out.calls[fn], 0u) << fn;
    EXPECT_EQ(out.calls["__gnu_mcount_nc"], 0u);
}

TEST_P(ArmFlavours, InitErrorsAndUnknownSymbols) {
    RunOutcome out = run(GetParam(), "hello", {"ret=-19"});
    EXPECT_EQ(out.exit_status, ENODEV);
    out = run(GetParam(), "faulty", {"mode=4"});
    EXPECT_EQ(out.exit_status, EINVAL);
    out = run(GetParam(), "unknown_sym");
    EXPECT_EQ(out.exit_status, ENOENT);
    EXPECT_TRUE(has_line(out, "unknown_sym: Unknown symbol kmodemu_missing_one (err -2)"));
}

TEST_P(ArmFlavours, NullDereferenceAndHang) {
    RunOutcome out = run(GetParam(), "faulty", {"mode=1"});
    EXPECT_EQ(out.exit_status, 139);
    // A user-range address: the ARM kernel's domain fault (arch/arm/mm/fault.c).
    EXPECT_TRUE(has_line(out, "Unhandled fault: page domain fault (0x01b) at 0x00000004"));
    bool pc = false;
    for (const auto& t : texts(out))
        pc |= t.starts_with("PC is at ") && t.ends_with("[faulty]");
    EXPECT_TRUE(pc);
    out = run(GetParam(), "faulty", {"mode=2"});
    EXPECT_EQ(out.exit_status, 124);
}

TEST_P(ArmFlavours, FarStubsGoThroughModulePlts) {
    // Kernel text 144 MiB above the module area: out of range of BL (±32 MiB) and BL.W
    // (±16 MiB), so every call into the kernel goes through a PLT entry. The PLT flavour
    // follows the kernel (ARM entries for an ARM-mode kernel, Thumb-2 for a Thumb-2 one).
    bool thumb = std::string(GetParam()) == "armhf-thumb";
    RunOptions opts;
    opts.thumb2_kernel = thumb;
    KernelLayout l = KernelLayout::for_arch(Arch::arm);
    l.stub_text = 0xc8000000u;
    l.exit_page = l.stub_text - 0x1000;
    opts.layout = l;
    RunOutcome far = run_module(fixture(GetParam(), "hello"), opts);
    RunOutcome near = run(GetParam(), "hello", {}, thumb);
    EXPECT_EQ(near.load.plt_entries, 0u);
    EXPECT_GT(far.load.plt_entries, 5u);
    EXPECT_EQ(far.exit_status, 0);
    EXPECT_EQ(texts(far), texts(near));
}

INSTANTIATE_TEST_SUITE_P(Arm, ArmFlavours, ::testing::Values("armhf", "armhf-thumb"));

TEST(ArmKernelMode, ThumbModuleRefusedByArmModeKernel) {
    // Debian's armmp kernel is built in ARM mode: its apply_relocate() has no Thumb cases.
    RunOutcome out = run("armhf-thumb", "hello", {}, /*thumb2_kernel=*/false);
    EXPECT_EQ(out.exit_status, ENOEXEC);
    bool msg = false;
    for (const auto& t : texts(out))
        msg |= t.starts_with("hello: unknown relocation: ");
    EXPECT_TRUE(msg);
    // The ARM-mode build loads on both kernels.
    EXPECT_EQ(run("armhf", "hello", {}, false).exit_status, 0);
}

TEST(ArmKernelMode, WrongArchitectureForTheKernel) {
    // An arm64 module offered to the 32-bit kernel and the other way round.
    std::vector<uint8_t> bytes = fixture("arm64", "hello");
    ElfFile elf;
    Status st = elf.open(bytes, Arch::arm);
    EXPECT_EQ(st.err, -ENOEXEC);
    EXPECT_EQ(st.message, "Invalid architecture in ELF header: 183");
    ElfFile elf2;
    st = elf2.open(fixture("armhf", "hello"), Arch::arm64);
    EXPECT_EQ(st.err, -ENOEXEC);
    EXPECT_EQ(st.message, "Invalid architecture in ELF header: 40");
}

TEST_P(ArmFlavours, WarnGoesThroughWarnSlowpathFmt) {
    RunOutcome out = run(GetParam(), "faulty", {"mode=6"});
    EXPECT_EQ(out.exit_status, 0);
    auto t = texts(out);
    auto cut = std::find(t.begin(), t.end(), "------------[ cut here ]------------");
    ASSERT_NE(cut, t.end());
    EXPECT_TRUE(cut[1].starts_with("WARNING: CPU: 0 PID: "));
    EXPECT_NE(cut[1].find(faulty_line("WARN(1, \"faulty: warned") + " faulty_init+0x"),
              std::string::npos)
        << cut[1];
    EXPECT_EQ(cut[2], "faulty: warned with 6");  // warn_slowpath_fmt prints it after
    EXPECT_TRUE(has_line(out, "faulty: after warn"));
}

TEST(ArmBug, BugUndefinedInstructionOopses) {
    // ARM mode only: the armmp headers encode BUG() as an ARM word, which is no trap in a
    // Thumb-2 build (a real Thumb-2 kernel's headers would use the Thumb encoding).
    RunOutcome out = run("armhf", "faulty", {"mode=7"});
    EXPECT_EQ(out.exit_status, 139);
    bool bug_line = false;
    for (const auto& l : texts(out))
        bug_line |=
            l.starts_with("kernel BUG at ") && l.ends_with(faulty_line("BUG_ON(mode == 7)") + "!");
    EXPECT_TRUE(bug_line);
}

TEST(ArmFaults, EveryFaultClassOopses) {
    for (const char* mode : {"mode=9", "mode=10", "mode=11", "mode=12", "mode=3"}) {
        RunOutcome out = run("armhf", "faulty", {mode});
        EXPECT_EQ(out.exit_status, 139) << mode;
        bool pc = false;
        for (const auto& l : texts(out))
            pc |= l.starts_with("PC is at ");
        EXPECT_TRUE(pc) << mode;
    }
    RunOutcome out = run("armhf", "faulty", {"mode=10"});
    EXPECT_TRUE(has_line(out, "Internal error: Oops - undefined instruction: 0 [#1] SMP ARM"));
    out = run("armhf", "faulty", {"mode=11"});
    EXPECT_TRUE(has_line(out, "Kernel stack overflow"));
}
