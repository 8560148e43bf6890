// Fault injection (kernel_stubs/lib/fault-inject.cc): each form (--fail-alloc, --fail-alloc-every,
// --fail-probability, --fail NAME:NTH:ERRNO) on the fixtures of each architecture, what a failed
// call returns in each failure form, the report of it, and the usage errors.
#include <gtest/gtest.h>

#include <map>

#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/lib/fault-inject.h"
#include "tests/fixture_util.h"
#include "tools/report.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;

namespace {

RunOutcome run(const std::string& flavour, const std::string& name, const FaultPlan& plan) {
    RunOptions opts;
    opts.budget = 20'000'000;
    opts.faults = plan;
    return run_module(fx::module(flavour, name), opts);
}

class Faults : public ::testing::TestWithParam<const char*> {};

}  // namespace

// --fail-alloc N: the Nth allocation returns NULL; hello's init checks each and fails with
// -ENOMEM, having printed what came before.
TEST_P(Faults, FailAllocNth) {
    FaultPlan plan;
    plan.fail_alloc = 1;
    RunOutcome first = run(GetParam(), "hello", plan);
    EXPECT_EQ(first.exit_status, ENOMEM);
    EXPECT_FALSE(has_line(first, "hello: buf=world-7 len=7"));
    ASSERT_EQ(first.injected_faults.size(), 1u);
    const InjectedFault& f = first.injected_faults[0];
    EXPECT_EQ(f.function, "kmalloc");
    EXPECT_EQ(f.nth, 1u);
    EXPECT_EQ(f.allocation, 1u);
    EXPECT_EQ(f.err, ENOMEM);
    EXPECT_EQ(f.returned, "NULL");
    EXPECT_EQ(f.reason, "--fail-alloc");
    EXPECT_TRUE(f.where.starts_with("hello_init+0x")) << f.where;
    EXPECT_TRUE(f.where.ends_with(" [hello]")) << f.where;
    // Said in kmodemu's voice, not the kernel's (Debian has no CONFIG_FAULT_INJECTION).
    bool said = false;
    for (const std::string& d : first.diagnostics)
        said |= d.starts_with("fault injection (--fail-alloc): call 1 of kmalloc (") &&
                d.find("fails: returns NULL, from hello_init+0x") != std::string::npos;
    EXPECT_TRUE(said);
    for (const LogLine& l : first.log)
        EXPECT_EQ(l.text.find("FAULT_INJECTION"), std::string::npos);

    plan.fail_alloc = 3;  // the second item of the list
    RunOutcome third = run(GetParam(), "hello", plan);
    EXPECT_EQ(third.exit_status, ENOMEM);
    EXPECT_TRUE(has_line(third, "hello: buf=world-7 len=7"));
    ASSERT_EQ(third.injected_faults.size(), 1u);
    EXPECT_EQ(third.injected_faults[0].allocation, 3u);
    EXPECT_EQ(third.injected_faults[0].nth, 3u);

    plan.fail_alloc = 5;  // beyond init's four allocations: nothing fails
    RunOutcome none = run(GetParam(), "hello", plan);
    EXPECT_EQ(none.exit_status, 0);
    EXPECT_TRUE(none.injected_faults.empty());

    // The JSON report's record of it.
    nlohmann::json j = make_report(first, "hello.ko");
    ASSERT_EQ(j["injected_faults"].size(), 1u);
    EXPECT_EQ(j["injected_faults"][0]["function"], "kmalloc");
    EXPECT_EQ(j["injected_faults"][0]["nth"], 1);
    EXPECT_EQ(j["injected_faults"][0]["errno"], "ENOMEM");
    EXPECT_EQ(j["injected_faults"][0]["caller"], f.where);
}

// --fail-alloc-every N: allocations N, 2N, ... fail.
TEST_P(Faults, FailAllocEvery) {
    FaultPlan plan;
    plan.fail_alloc_every = 2;
    RunOutcome out = run(GetParam(), "hello", plan);
    EXPECT_EQ(out.exit_status, ENOMEM);
    ASSERT_EQ(out.injected_faults.size(), 1u);
    EXPECT_EQ(out.injected_faults[0].allocation, 2u);
    EXPECT_EQ(out.injected_faults[0].reason, "--fail-alloc-every");
    plan.fail_alloc_every = 5;
    EXPECT_EQ(run(GetParam(), "hello", plan).exit_status, 0);
}

// --fail-probability P: failslab's probability; the same seed fails the same calls.
TEST_P(Faults, FailProbabilityIsReproducible) {
    FaultPlan plan;
    plan.probability = 100;
    RunOutcome all = run(GetParam(), "hello", plan);
    EXPECT_EQ(all.exit_status, ENOMEM);
    ASSERT_EQ(all.injected_faults.size(), 1u);
    EXPECT_EQ(all.injected_faults[0].reason, "--fail-probability");
    EXPECT_EQ(all.injected_faults[0].allocation, 1u);

    plan.probability = 0;
    EXPECT_EQ(run(GetParam(), "hello", plan).exit_status, 0);

    // At 20%, some seeds fail one of the four allocations and some none; each seed's outcome
    // is the same every time.
    plan.probability = 20;
    std::set<uint64_t> failed_at;
    bool some_pass = false;
    for (uint64_t seed = 1; seed <= 8; ++seed) {
        plan.seed = seed;
        RunOutcome a = run(GetParam(), "hello", plan), b = run(GetParam(), "hello", plan);
        EXPECT_EQ(a.exit_status, b.exit_status);
        ASSERT_EQ(a.injected_faults.size(), b.injected_faults.size());
        if (a.injected_faults.empty()) {
            some_pass = true;
            EXPECT_EQ(a.exit_status, 0);
        } else {
            EXPECT_EQ(a.exit_status, ENOMEM);
            EXPECT_EQ(a.injected_faults[0].allocation, b.injected_faults[0].allocation);
            failed_at.insert(a.injected_faults[0].allocation);
        }
    }
    EXPECT_TRUE(some_pass);
    EXPECT_FALSE(failed_at.empty());
}

// --fail NAME:NTH:ERRNO in each failure form: -ERRNO, ERR_PTR(-ERRNO), NULL; the NTH call only.
TEST_P(Faults, FailNamedCalls) {
    std::string error;
    FaultPlan plan;
    for (const char* s :
         {"platform_driver_register:2:ENODEV", "class_create:1:ENOMEM",
          "alloc_chrdev_region:1:EBUSY", "debugfs_create_dir:1:ENOENT", "alloc_workqueue:1"}) {
        std::optional<FaultSpec> f = parse_fault_spec(s, error);
        ASSERT_TRUE(f) << error;
        plan.fail.push_back(*f);
    }
    RunOutcome out = run(GetParam(), "drivers", plan);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "drivers: platform_driver_register=0"));  // the first call ran
    EXPECT_TRUE(has_line(out, "drivers: again=-19"));
    EXPECT_TRUE(has_line(out, "drivers: class_create failed"));
    EXPECT_TRUE(has_line(out, "drivers: alloc_chrdev_region=-16 minor=0"));
    EXPECT_TRUE(has_line(out, "drivers: debugfs dir failed"));
    EXPECT_TRUE(has_line(out, "drivers: workqueue NULL"));
    ASSERT_EQ(out.injected_faults.size(), 5u);
    EXPECT_EQ(out.injected_faults[0].function, "platform_driver_register");
    EXPECT_EQ(out.injected_faults[0].export_name, "__platform_driver_register");
    EXPECT_EQ(out.injected_faults[0].nth, 2u);
    EXPECT_EQ(out.injected_faults[0].returned, "-ENODEV");
    EXPECT_EQ(out.injected_faults[1].returned, "ERR_PTR(-ENOMEM)");
    EXPECT_EQ(out.injected_faults[2].returned, "-EBUSY");
    EXPECT_EQ(out.injected_faults[3].returned, "ERR_PTR(-ENOENT)");
    EXPECT_EQ(out.injected_faults[4].returned, "NULL");
    for (const InjectedFault& f : out.injected_faults) {
        EXPECT_EQ(f.reason, "--fail");
        EXPECT_TRUE(f.where.starts_with("drivers_init+0x")) << f.where;
    }
    // A named allocation is an allocation too: kmalloc:2 in hello.
    FaultPlan k;
    k.fail.push_back(*parse_fault_spec("kmalloc:2", error));
    RunOutcome h = run(GetParam(), "hello", k);
    EXPECT_EQ(h.exit_status, ENOMEM);
    ASSERT_EQ(h.injected_faults.size(), 1u);
    EXPECT_EQ(h.injected_faults[0].nth, 2u);
}

INSTANTIATE_TEST_SUITE_P(Flavours, Faults, ::testing::Values("arm64", "armhf", "armhf-thumb"));

// The dependencies of the module asked for load undisturbed: counting starts with its insmod.
TEST(FaultsDeps, CountedFromTheModuleAskedFor) {
    FaultPlan plan;
    plan.fail_alloc = 1;
    RunOptions opts;
    opts.faults = plan;
    opts.budget = 20'000'000;
    std::vector<ModuleInput> mods(2);
    mods[0].bytes = fx::module("arm64", "drivers");
    mods[1].bytes = fx::module("arm64", "hello");
    RunOutcome out = run_modules(std::move(mods), opts);
    ASSERT_EQ(out.steps.size(), 2u);
    EXPECT_EQ(out.steps[0].exit_status, 0);
    EXPECT_EQ(out.exit_status, ENOMEM);
    ASSERT_EQ(out.injected_faults.size(), 1u);
    EXPECT_TRUE(out.injected_faults[0].where.ends_with(" [hello]"));
}

// The forms --fail refuses (a usage error of kmodemu run, exit 64), and errno names.
TEST(FaultsSpec, ParseAndRefuse) {
    std::string error;
    std::optional<FaultSpec> s = parse_fault_spec("register_chrdev:1:EBUSY", error);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->function, "register_chrdev");
    EXPECT_EQ(s->nth, 1u);
    EXPECT_EQ(s->err, EBUSY);
    // An export's own name names its function; numbers and -ERRNO are accepted.
    s = parse_fault_spec("__register_chrdev:3:-16", error);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->function, "register_chrdev");
    EXPECT_EQ(s->err, 16);
    s = parse_fault_spec("request_firmware:1:EPROBE_DEFER", error);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->err, 517);
    EXPECT_EQ(errno_string(517), "EPROBE_DEFER");
    EXPECT_EQ(errno_string(EBUSY), "EBUSY");

    for (const char* bad :
         {"strlen:1:EINVAL", "nosuchfunction:1:EBUSY", "register_chrdev", "register_chrdev:0:EBUSY",
          "register_chrdev:x:EBUSY", "register_chrdev:1",
          "register_chrdev:1:", "register_chrdev:1:EWHAT", "register_chrdev:1:4096", ":1:EBUSY"}) {
        error.clear();
        EXPECT_FALSE(parse_fault_spec(bad, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
    parse_fault_spec("strlen:1:EINVAL", error);
    EXPECT_NE(error.find("strlen is not a fallible kernel function kmodemu implements"),
              std::string::npos)
        << error;
}

// Every export the table names is one the emulated kernel implements (on at least one
// architecture: the page allocator's struct pages are arm64's only), and is marked fallible.
TEST(FaultsSpec, TableNamesImplementedFunctions) {
    std::map<std::string, int> found;
    for (Arch a : {Arch::arm64, Arch::arm}) {
        Emulator emu(a);
        Kernel k(emu);
        for (const FallibleFunction& f : fallible_functions())
            for (const char* n : f.exports) {
                found[n];
                const Export* e = k.find_export(n);
                if (!e) continue;
                ++found[n];
                EXPECT_TRUE(e->is_function) << n;
                EXPECT_FALSE(e->auto_stub) << n;
                EXPECT_NE(e->subsystem, "unimplemented") << n;
                EXPECT_EQ(e->fallible, &f) << n;
            }
    }
    for (const auto& [name, archs] : found) EXPECT_GT(archs, 0) << name;
}
