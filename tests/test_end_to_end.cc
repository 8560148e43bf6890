// End to end on the Kbuild-built arm64 fixtures: the whole insmod/rmmod path through run_module.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

#include "kernel_stubs/kernel.h"
#include "tests/fixture_util.h"
#include "tools/report.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::faulty_line;
using fx::has_line;
using fx::texts;

namespace {

std::vector<uint8_t> fixture(const std::string& name) {
    return fx::module("arm64", name);
}

RunOutcome run(const std::string& name, std::vector<std::string> params = {}) {
    RunOptions opts;
    opts.params = std::move(params);
    opts.budget = 5'000'000;
    return run_module(fixture(name), opts);
}

// The lines of the module itself (those starting with "hello: " but not the kernel's taints).
std::vector<std::string> module_lines(const RunOutcome& out, const std::string& prefix) {
    std::vector<std::string> v;
    for (const LogLine& l : out.log)
        if (l.text.starts_with(prefix) && l.text.find("taint") == std::string::npos)
            v.push_back(l.text);
    return v;
}

}  // namespace

TEST(EndToEnd, HelloDefaultLoadsRunsAndUnloads) {
    RunOutcome out = run("hello");
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.ending, "ok");
    EXPECT_EQ(out.module_name, "hello");
    EXPECT_EQ(out.arch, "arm64");
    EXPECT_TRUE(out.vermagic.starts_with("6.1.0-")) << out.vermagic;
    ASSERT_GE(out.log.size(), 3u);
    // The kernel's own lines about an unsigned out-of-tree module come first.
    EXPECT_EQ(out.log[0].text, "hello: loading out-of-tree module taints kernel.");
    EXPECT_EQ(out.log[1].text,
              "hello: module verification failed: signature and/or required key missing - tainting "
              "kernel");
    EXPECT_TRUE(has_line(out, "hello: val=7"));
    EXPECT_TRUE(has_line(out, "hello: init returns 0"));
    EXPECT_EQ(out.log.back().text, "hello: exit");
    EXPECT_EQ(out.log.back().level, 6);  // pr_info
    ASSERT_TRUE(out.unload.has_value());
    EXPECT_TRUE(out.unload->exit_ran);
    EXPECT_EQ(out.calls.at("kfree"), 4u);  // one buffer and three list items
}

TEST(EndToEnd, ParametersOfEveryType) {
    RunOutcome out = run(
        "hello", {"val=-12", "uval=4294967295", "lval=-9000000000", "ulval=0x10", "sval=-32768",
                  "usval=0", "bval=255", "flag", "inv=y", "name=xyz", "label=abc", "arr=4,5,6"});
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "hello: val=-12"));
    EXPECT_TRUE(has_line(
        out, "hello: uval=4294967295 lval=-9000000000 ulval=16 sval=-32768 usval=0 bval=255"));
    EXPECT_TRUE(has_line(out, "hello: flag=1 inv=0 name=xyz label=abc"));
    EXPECT_TRUE(has_line(out, "hello: arr[0]=4"));
    EXPECT_TRUE(has_line(out, "hello: arr[2]=6"));
    EXPECT_FALSE(has_line(out, "hello: arr[3]=0"));
    EXPECT_TRUE(has_line(out, "hello: buf=xyz--12 len=7"));
}

TEST(EndToEnd, QuotedCharpAndDashesInNames) {
    RunOutcome out = run("hello", {"name=two words", "flag=off"});
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "hello: flag=0 inv=1 name=two words label=lbl"));
}

TEST(EndToEnd, BadParameterValuesFailWithEinval) {
    RunOutcome out = run("hello", {"val=abc"});
    EXPECT_EQ(out.exit_status, EINVAL);
    EXPECT_TRUE(has_line(out, "hello: `abc' invalid for parameter `val'"));
    EXPECT_FALSE(has_line(out, "hello: val=7"));  // init never ran

    // kstrtou8() says -ERANGE; parse_args() passes it on, so insmod reports ERANGE.
    out = run("hello", {"bval=256"});
    EXPECT_EQ(out.exit_status, ERANGE);
    EXPECT_TRUE(has_line(out, "hello: `256' invalid for parameter `bval'"));

    out = run("hello", {"arr=1,2,3,4,5"});
    EXPECT_EQ(out.exit_status, EINVAL);
    EXPECT_TRUE(has_line(out, "arr: can only take 4 arguments"));
    // param_array() cut the value at its commas in place, so the message shows "1" (as the real
    // kernel prints it: tests/oracle/arm64.expected, case hello_array_overflow).
    EXPECT_TRUE(has_line(out, "hello: `1' invalid for parameter `arr'"));

    out = run("hello", {"label=0123456789abcdefXYZ"});
    EXPECT_EQ(out.exit_status, ENOSPC);
    EXPECT_TRUE(has_line(out, "label: string doesn't fit in 15 chars."));
    EXPECT_TRUE(has_line(out, "hello: `0123456789abcdefXYZ' too large for parameter `label'"));

    out = run("hello", {"val"});  // an int needs a value
    EXPECT_EQ(out.exit_status, EINVAL);
    EXPECT_TRUE(has_line(out, "hello: `' invalid for parameter `val'"));
}

TEST(EndToEnd, UnknownParameterIsIgnoredWithWarning) {
    RunOutcome out = run("hello", {"nosuch=1"});
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "hello: unknown parameter 'nosuch' ignored"));
}

TEST(EndToEnd, InitReturningErrnoFailsWithoutExit) {
    RunOutcome out = run("hello", {"ret=-19"});
    EXPECT_EQ(out.exit_status, ENODEV);
    EXPECT_EQ(out.ending, "errno");
    EXPECT_TRUE(out.load.init_ran);
    EXPECT_EQ(out.load.init_ret, -19);
    EXPECT_FALSE(out.unload.has_value());
    EXPECT_FALSE(has_line(out, "hello: exit"));
    nlohmann::json r = make_report(out, "hello.ko");
    EXPECT_EQ(r["init"]["errno_name"], "ENODEV");
    EXPECT_EQ(r["exit_status"], 19);

    out = run("hello", {"ret=-22"});
    EXPECT_EQ(out.exit_status, EINVAL);
}

TEST(EndToEnd, PositiveInitReturnIsSuspiciousButLoads) {
    RunOutcome out = run("hello", {"ret=1"});
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(
        out,
        "do_init_module: 'hello'->init suspiciously returned 1, it should follow 0/-E convention"));
    EXPECT_TRUE(has_line(out, "do_init_module: loading module anyway..."));
    EXPECT_TRUE(has_line(out, "hello: exit"));
}

TEST(EndToEnd, NotifierChainOrderAndStopMask) {
    RunOutcome out = run("hello");
    std::vector<std::string> expect = {
        "hello: notifier b ev=1 prio=10", "hello: notifier c ev=1 prio=5",
        "hello: notifier a ev=1 prio=0",  "hello: notifier b ev=2 prio=10",
        "hello: notifier c ev=2 prio=5",  "hello: chain returned 0x8001",
        "hello: notifier b ev=3 prio=10", "hello: notifier a ev=3 prio=0",
    };
    auto lines = module_lines(out, "hello: ");
    auto first = std::find(lines.begin(), lines.end(), expect[0]);
    ASSERT_NE(first, lines.end());
    std::vector<std::string> got(first,
                                 std::min(lines.end(), first + static_cast<long>(expect.size())));
    EXPECT_EQ(got, expect);
    // The module's own module notifier sees its LIVE event (MODULE_STATE_LIVE = 0) after init.
    EXPECT_TRUE(has_line(out, "hello: module event 0 for hello"));
}

TEST(EndToEnd, PrintkFormatting) {
    RunOutcome out = run("hello");
    EXPECT_TRUE(has_line(out,
                         "hello: fmt [   42] [42   ] [00042] [+42] [beef] [0XBEEF] [010] [Z] [abc] "
                         "[     right] [left  ]"));
    EXPECT_TRUE(has_line(
        out, "hello: fmt [-1234567890123] [18446744073709551615] [123456789abc] [8] [-9] [%]"));
    for (const LogLine& l : out.log) {
        if (l.text.starts_with("hello: fmt [  ")) {
            EXPECT_EQ(l.level, 5);  // pr_notice
        }
        if (l.text.starts_with("hello: fmt [-")) {
            EXPECT_EQ(l.level, 4);  // pr_warn
        }
    }
}

TEST(EndToEnd, FarStubsGoThroughModulePlts) {
    // Kernel text 1 GiB away from the module area: every CALL26 to the kernel is out of range and
    // must go through a PLT veneer (module_emit_plt_entry()).
    RunOptions near_opts;
    RunOutcome near = run_module(fixture("hello"), near_opts);
    RunOptions far_opts;
    KernelLayout l = KernelLayout::for_arch(Arch::arm64);
    l.stub_text = l.modules + 0x40000000ull;
    far_opts.layout = l;
    RunOutcome far = run_module(fixture("hello"), far_opts);
    EXPECT_EQ(near.load.plt_entries, 0u);
    EXPECT_GT(far.load.plt_entries, 5u);
    EXPECT_EQ(far.exit_status, 0) << (far.log.empty() ? "" : far.log.back().text);
    EXPECT_EQ(texts(far), texts(near));
}

TEST(EndToEnd, UnknownSymbolsAreAllReported) {
    RunOutcome out = run("unknown_sym");
    EXPECT_EQ(out.exit_status, ENOENT);
    EXPECT_TRUE(has_line(out, "unknown_sym: Unknown symbol kmodemu_missing_one (err -2)"));
    EXPECT_TRUE(has_line(out, "unknown_sym: Unknown symbol kmodemu_missing_two (err -2)"));
    EXPECT_FALSE(out.load.init_ran);
}

TEST(EndToEnd, AutoStubsAreReported) {
    // --auto-stub pretends functions the kernel exports but kmodemu does not implement; what no
    // kernel exports stays an unknown symbol, as for a kit's kernel.
    RunOptions opts;
    opts.auto_stub = true;
    RunOutcome unknown = run_module(fixture("unknown_sym"), opts);
    EXPECT_EQ(unknown.exit_status, ENOENT);
    EXPECT_TRUE(unknown.auto_stubs.empty());
    // The same module calling two functions the default kernel exports (kmodemu does not
    // implement them).
    auto bytes = fx::rename_import(
        fx::rename_import(fixture("unknown_sym"), "kmodemu_missing_one", "kobject_get_path"),
        "kmodemu_missing_two", "kset_find_obj");
    RunOutcome out = run_module(bytes, opts);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.auto_stubs.size(), 2u);
    nlohmann::json r = make_report(out, "unknown_sym.ko");
    EXPECT_EQ(r["auto_stubs"].size(), 2u);
}

TEST(EndToEnd, NullDereferenceOopses) {
    RunOutcome out = run("faulty", {"mode=1"});
    EXPECT_EQ(out.exit_status, 139);
    EXPECT_EQ(out.ending, "oops");
    EXPECT_TRUE(has_line(
        out,
        "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000004"));
    bool pc_line = false;
    for (const auto& t : texts(out))
        pc_line |= t.starts_with("pc : ") && t.ends_with("[faulty]");
    EXPECT_TRUE(pc_line);
}

TEST(EndToEnd, EndlessLoopHitsTheBudget) {
    RunOutcome out = run("faulty", {"mode=2"});
    EXPECT_EQ(out.exit_status, 124);
    EXPECT_EQ(out.ending, "hang");
    ASSERT_FALSE(out.diagnostics.empty());
    EXPECT_NE(out.diagnostics[0].find("faulty_init"), std::string::npos);
}

TEST(EndToEnd, WriteToRodataFaults) {
    RunOutcome out = run("faulty", {"mode=3"});
    EXPECT_EQ(out.exit_status, 139);
}

TEST(EndToEnd, WarnOnContinuesAfterTheTrap) {
    RunOutcome out = run("faulty", {"mode=5"});
    EXPECT_EQ(out.exit_status, 0);
    auto t = texts(out);
    auto cut = std::find(t.begin(), t.end(), "------------[ cut here ]------------");
    ASSERT_NE(cut, t.end());
    ASSERT_NE(cut + 1, t.end());
    // WARNING: CPU: 0 PID: <pid> at <file>:<line> <func>+<off>/<size> [<mod>]
    EXPECT_TRUE(cut[1].starts_with("WARNING: CPU: 0 PID: ")) << cut[1];
    EXPECT_NE(cut[1].find(faulty_line("WARN_ON(mode == 5)") + " faulty_init+0x"), std::string::npos)
        << cut[1];
    EXPECT_TRUE(cut[1].ends_with(" [faulty]"));
    EXPECT_TRUE(has_line(out, "Modules linked in: faulty(OE+)"));
    EXPECT_TRUE(has_line(out, "---[ end trace 0000000000000000 ]---"));
    EXPECT_TRUE(has_line(out, "faulty: after warn"));
    EXPECT_TRUE(has_line(out, "faulty: exit"));
}

TEST(EndToEnd, WarnWithMessagePrintsItBeforeTheWarningLine) {
    RunOutcome out = run("faulty", {"mode=6"});
    EXPECT_EQ(out.exit_status, 0);
    auto t = texts(out);
    auto cut = std::find(t.begin(), t.end(), "------------[ cut here ]------------");
    ASSERT_NE(cut, t.end());
    EXPECT_EQ(cut[1], "faulty: warned with 6");  // __warn_printk() comes before the brk
    EXPECT_TRUE(cut[2].starts_with("WARNING: CPU: 0 PID: "));
}

TEST(EndToEnd, WarnOnceWarnsOnce) {
    RunOutcome out = run("faulty", {"mode=8"});
    EXPECT_EQ(out.exit_status, 0);
    int warnings = 0;
    for (const auto& l : texts(out))
        warnings += l.starts_with("WARNING: ");
    EXPECT_EQ(warnings, 1);
    EXPECT_TRUE(has_line(out, "faulty: after warn once"));
}

TEST(EndToEnd, PanicOnWarn) {
    RunOptions opts;
    opts.params = {"mode=5"};
    opts.panic_on_warn = true;
    RunOutcome out = run_module(fixture("faulty"), opts);
    EXPECT_EQ(out.exit_status, 139);
    EXPECT_EQ(out.ending, "panic");
    EXPECT_FALSE(has_line(out, "faulty: after warn"));
}

TEST(EndToEnd, BugOopses) {
    RunOutcome out = run("faulty", {"mode=7"});
    EXPECT_EQ(out.exit_status, 139);
    bool bug_line = false;
    for (const auto& l : texts(out))
        bug_line |=
            l.starts_with("kernel BUG at ") && l.ends_with(faulty_line("BUG_ON(mode == 7)") + "!");
    EXPECT_TRUE(bug_line);
    EXPECT_TRUE(has_line(out, "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP"));
    EXPECT_FALSE(has_line(out, "faulty: after bug"));
}

TEST(EndToEnd, OopsReportHasRegistersCallTraceAndCode) {
    RunOutcome out = run("faulty", {"mode=1"});
    auto t = texts(out);
    EXPECT_TRUE(has_line(out, "Call trace:"));
    bool regs = false, code = false;
    for (const auto& l : t) {
        regs |= l.starts_with("x29: ");
        code |= l.starts_with("Code: ");
    }
    EXPECT_TRUE(regs);
    EXPECT_TRUE(code);
    bool disasm = false;
    for (const auto& d : out.diagnostics)
        disasm |= d.starts_with("faulting instruction at ");
    EXPECT_TRUE(disasm);
}

TEST(EndToEnd, EveryFaultClassOopses) {
    struct Case {
        const char* mode;
        const char* line;  // a line of the report
    } cases[] = {
        {"mode=9",
         "Unable to handle kernel execute from non-executable memory at virtual address "},
        {"mode=10", "Internal error: Oops - Undefined instruction: 0000000002000000 [#1] SMP"},
        {"mode=11", "Kernel stack overflow"},
        {"mode=3", "Unable to handle kernel write to read-only memory at virtual address "},
    };
    for (const Case& c : cases) {
        RunOutcome out = run("faulty", {c.mode});
        EXPECT_EQ(out.exit_status, 139) << c.mode;
        bool found = false;
        for (const auto& l : texts(out))
            found |= l.starts_with(c.line);
        EXPECT_TRUE(found) << c.mode << ": no line starting with " << c.line;
    }
}

TEST(EndToEnd, InitMemoryIsGoneAfterInit) {
    // init stores a pointer to __initdata; exit reads it after init memory was freed.
    RunOutcome out = run("faulty", {"mode=12"});
    EXPECT_EQ(out.exit_status, 139);
    EXPECT_TRUE(out.load.init_ran);
    ASSERT_TRUE(out.unload.has_value());
    EXPECT_TRUE(out.unload->exit_ran);
    bool pc = false;
    for (const auto& l : texts(out))
        pc |= l.starts_with("pc : faulty_exit+");
    EXPECT_TRUE(pc);
}

TEST(EndToEnd, AlternativesFollowTheModelledCpu) {
    // The atomics of arith carry .altinstructions entries whose callback is alt_cb_patch_nops:
    // without the capability the branch to the LL/SC code stays; with it the kernel NOPs the
    // branch and the LSE instructions run.
    RunOutcome base = run("arith");
    EXPECT_EQ(base.exit_status, 0);
    EXPECT_EQ(base.load.alternatives_applied, 0u);
    RunOptions opts;
    std::set<unsigned> caps{0, 1};
    for (unsigned c = 2; c < 64; ++c)
        caps.insert(c);  // every capability present
    opts.cpucaps = caps;
    RunOutcome lse = run_module(fixture("arith"), opts);
    EXPECT_GT(lse.load.alternatives_applied, 0u);
    EXPECT_EQ(lse.exit_status, 0);
    EXPECT_EQ(texts(lse), texts(base));
}
