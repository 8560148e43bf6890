// `kmodemu fuzz` (tools/fuzz.cc), its inputs (tools/fuzz_input.cc) and its executions
// (tools/fuzz_exec.cc): parameters typed from the module's parmtype, what an input decides, the
// findings and their signatures, warm executions (the fork server) identical to fresh ones, and,
// in a kmodemu built with libFuzzer (tools/setup installs it: the tests below exist where it
// was found at configure time), the planted bugs of fixtures/planted found by the fuzzer within
// a bounded number of runs and reproduced by `kmodemu run --replay`, on each architecture.
#include <gtest/gtest.h>

#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "tests/fixture_util.h"
#include "tools/fuzz_exec.h"
#include "tools/fuzz_input.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

class KitFuzz : public ::testing::TestWithParam<const char*> {};

[[maybe_unused]] std::string fixture_path(const std::string& flavour, const std::string& name) {
    return std::string(KMODEMU_FIXTURES) + "/" + flavour + "/" + name + "/" + name + ".ko";
}

// An input with what it decides: no failing call, seed 0, then the parameters' bytes.
std::vector<uint8_t> input(std::vector<uint8_t> params, uint8_t fault = 0,
                           std::vector<uint8_t> fault_args = {}) {
    std::vector<uint8_t> in = {fault};
    in.insert(in.end(), fault_args.begin(), fault_args.end());
    in.push_back(0);  // seed
    in.insert(in.end(), params.begin(), params.end());
    return in;
}

// The parameter bytes of an input that gives planted's `magic` the value (the other parameters
// none), in the order of the module's parameters.
std::vector<uint8_t> magic(const std::string& flavour, uint32_t value) {
    std::vector<uint8_t> v;
    for (const FuzzParam& p : fuzz_params(fx::module(flavour, "planted"))) {
        if (p.name != "magic") {
            v.push_back(0);
            continue;
        }
        v.push_back(1);
        for (int i = 0; i < 4; ++i)
            v.push_back(static_cast<uint8_t>(value >> (8 * i)));
    }
    return v;
}

// The first line of the oops of a NULL dereference: arm64's, or ARM's do_DataAbort() (a
// domain fault: the NULL page is user space).
std::string null_oops(const std::string& flavour) {
    return flavour == "arm64" ? "Unable to handle kernel NULL pointer dereference"
                              : "Unhandled fault: page domain fault";
}

RunOutcome run_input(const std::string& flavour, const std::vector<uint8_t>& in) {
    std::vector<uint8_t> ko = fx::module(flavour, "planted");
    FuzzDecision d = decode_fuzz_input(in, fuzz_params(ko));
    RunOptions base;
    base.budget = 20'000'000;
    RunOptions opts = apply_fuzz_decision(base, d);
    return run_module(std::move(ko), opts);
}

// The stderr and status of a command.
[[maybe_unused]] std::pair<std::string, int> shell(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen((cmd + " 2>&1").c_str(), "r"), ::pclose);
    if (!p) return {"", -1};
    std::array<char, 4096> buf;
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), p.get()))
        out += buf.data();
    int st = ::pclose(p.release());
    return {out, st};
}

[[maybe_unused]] std::string finding_line(const std::string& out) {
    size_t at = out.find("kmodemu: finding: ");
    if (at == std::string::npos) return "";
    return out.substr(at, out.find('\n', at) - at);
}

}  // namespace

// The parameters as modinfo's parmtype declares them, in the module's order, with their types.
TEST_P(KitFuzz, ParametersTypedFromParmtype) {
    std::vector<FuzzParam> ps = fuzz_params(fx::module(GetParam(), "hello"));
    std::map<std::string, std::string> types;
    for (const FuzzParam& p : ps)
        types[p.name] = p.type;
    EXPECT_EQ(types["val"], "int");
    EXPECT_EQ(types["flag"], "bool");
    EXPECT_EQ(types["name"], "charp");
    EXPECT_EQ(types["label"], "string");
    EXPECT_EQ(types["arr"], "array of int");
    EXPECT_EQ(types["ulval"], "ulong");
    std::vector<FuzzParam> planted = fuzz_params(fx::module(GetParam(), "planted"));
    ASSERT_EQ(planted.size(), 2u);
}

// What an input decides: each parameter's value by its type, a failing call, the seed; missing
// bytes read as zero.
TEST(KitFuzzInput, Decodes) {
    std::vector<FuzzParam> ps = {{"n", "int"}, {"b", "bool"}, {"s", "charp"}, {"u", "ushort"}};
    FuzzDecision d = decode_fuzz_input(
        std::vector<uint8_t>{0xc0, 1, 7, 1, 0x39, 0x05, 0, 0, 3, 1, 2, 0, 1, 1, 0xff, 0xff, 1, 0},
        ps);
    EXPECT_EQ(d.faults.fail_alloc, 2u);
    EXPECT_EQ(d.seed, 7u);
    EXPECT_EQ(d.params, (std::vector<std::string>{"n=1337", "b=Y", "s=ab", "u=65535"}));
    EXPECT_EQ(d.describe(), "--seed 7 --fail-alloc 2 n=1337 b=Y s=ab u=65535");
    FuzzDecision empty = decode_fuzz_input({}, ps);
    EXPECT_TRUE(empty.params.empty());
    EXPECT_FALSE(empty.faults.any());
    // --fail of a function of the table: kmalloc's second call fails with NULL.
    FuzzDecision fail = decode_fuzz_input(std::vector<uint8_t>{0x80, 0, 1, 1}, {});
    ASSERT_EQ(fail.faults.fail.size(), 1u);
    EXPECT_EQ(fail.faults.fail[0].nth, 2u);
}

// The planted bugs, each behind its input: magic=1337 oopses in init; the second allocation
// failing takes the error path that frees the first buffer twice (SLUB's BUG). Any other input
// is no finding.
TEST_P(KitFuzz, PlantedFindings) {
    RunOutcome ok = run_input(GetParam(), input(magic(GetParam(), 1336)));
    EXPECT_EQ(ok.exit_status, 0);
    EXPECT_FALSE(find_finding(ok));

    RunOutcome oops = run_input(GetParam(), input(magic(GetParam(), 1337)));
    EXPECT_EQ(oops.ending, "oops");
    std::optional<Finding> f = find_finding(oops);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, "oops");
    EXPECT_TRUE(f->signature.starts_with(null_oops(GetParam()))) << f->signature;
    EXPECT_NE(f->signature.find(" at planted_init+0x"), std::string::npos) << f->signature;
    EXPECT_TRUE(f->signature.ends_with(" [planted]")) << f->signature;

    RunOutcome df = run_input(GetParam(), input({}, 0xc0, {1}));  // --fail-alloc 2
    std::optional<Finding> b = find_finding(df);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->kind, "BUG");
    EXPECT_TRUE(b->signature.starts_with("kernel BUG at mm/slub.c:")) << b->signature;

    RunOutcome first = run_input(GetParam(), input({}, 0xc0, {0}));  // --fail-alloc 1
    EXPECT_EQ(first.exit_status, ENOMEM);
    EXPECT_FALSE(find_finding(first));
}

ModuleInput module_input(const std::string& flavour, const std::string& dir,
                         const std::string& name) {
    std::string path =
        std::string(KMODEMU_FIXTURES) + "/" + flavour + "/" + dir + "/" + name + ".ko";
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing fixture " << path;
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    return {path, bytes, {}};
}

// Inputs for the comparison: the planted findings' own, then pseudo-random ones (a fixed
// generator), a third of them with a failing call.
std::vector<std::vector<uint8_t>> sample_inputs(const std::string& flavour, size_t n) {
    std::vector<std::vector<uint8_t>> v = {
        {}, input(magic(flavour, 1337)), input({}, 0xc0, {1}), input({}, 0xc0, {0})};
    uint64_t x = 0x243f6a8885a308d3ull;
    auto next = [&] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return static_cast<uint8_t>(x >> 24);
    };
    while (v.size() < n) {
        std::vector<uint8_t> in(next() % 24);
        for (uint8_t& b : in)
            b = next();
        if (!in.empty() && v.size() % 3) in[0] &= 0x7f;  // no failing call
        v.push_back(in);
    }
    return v;
}

// A warm execution (forked from the kernel made once) ends as a fresh one does, with the same
// kernel log, diagnostics and finding, input after input: the planted fixture with and without
// failing calls, hello (typed parameters of each kind), and deps_user over its dependency (the
// fork point after deps loaded).
void expect_warm_is_fresh(const std::string& flavour, FuzzTarget t, size_t n) {
    WarmExecutor warm(t);
    size_t findings = 0;
    for (const std::vector<uint8_t>& in : sample_inputs(flavour, n)) {
        ExecResult f = execute_fresh(t, in);
        ExecResult w = warm.run(in);
        std::string what = decode_fuzz_input(in, t.params, t.faults).describe();
        ASSERT_FALSE(f.internal) << f.internal_what << "; " << what;
        ASSERT_FALSE(w.internal) << w.internal_what << "; " << what;
        EXPECT_EQ(w.ending, f.ending) << what;
        EXPECT_EQ(w.exit_status, f.exit_status) << what;
        EXPECT_EQ(w.log, f.log) << what;
        EXPECT_EQ(w.diagnostics, f.diagnostics) << what;
        ASSERT_EQ(w.finding.has_value(), f.finding.has_value()) << what;
        if (f.finding) {
            ++findings;
            EXPECT_EQ(w.finding->signature, f.finding->signature) << what;
            EXPECT_EQ(w.finding->report, f.finding->report) << what;
        }
    }
    EXPECT_EQ(warm.fresh_reason(), "");
    EXPECT_EQ(warm.warm_runs(), n);
    if (t.mods.back().path.find("planted") != std::string::npos) {
        EXPECT_GE(findings, t.faults ? 2u : 1u);
    }
}

TEST_P(KitFuzz, WarmExecutionsAreFreshOnes) {
    FuzzTarget t;
    t.base.budget = 20'000'000;
    t.mods = {module_input(GetParam(), "planted", "planted")};
    t.params = fuzz_params(t.mods.back().bytes);
    expect_warm_is_fresh(GetParam(), t, 120);
    t.faults = false;
    expect_warm_is_fresh(GetParam(), t, 30);
    t.faults = true;
    t.mods = {module_input(GetParam(), "hello", "hello")};
    t.params = fuzz_params(t.mods.back().bytes);
    expect_warm_is_fresh(GetParam(), t, 60);
    t.mods = {module_input(GetParam(), "deps", "deps"),
              module_input(GetParam(), "deps", "deps_user")};
    t.params = fuzz_params(t.mods.back().bytes);
    expect_warm_is_fresh(GetParam(), t, 30);
}

// With a kit's kernel (its profile, and the caches of its image the server fills before
// forking) warm executions are fresh ones too.
TEST(KitFuzzKit, WarmExecutionsAreFreshOnes) {
    FuzzTarget t;
    t.base.budget = 20'000'000;
    t.base.kernel_kit = KMODEMU_KIT_ARM64;
    t.mods = {module_input("arm64", "planted", "planted")};
    t.params = fuzz_params(t.mods.back().bytes);
    expect_warm_is_fresh("arm64", t, 40);
}

// A dependency that fails to load ends every execution there: the warm path says so and runs
// them fresh, with the fresh result.
TEST_P(KitFuzz, WarmPathFallsBackWhenTheRunEndsBeforeTheModule) {
    FuzzTarget t;
    t.base.budget = 20'000'000;
    ModuleInput broken = module_input(GetParam(), "deps", "deps");
    broken.bytes.resize(64);  // not an ELF file any more
    t.mods = {broken, module_input(GetParam(), "deps", "deps_user")};
    WarmExecutor warm(t);
    ExecResult w = warm.run(std::vector<uint8_t>{});
    ExecResult f = execute_fresh(t, std::vector<uint8_t>{});
    EXPECT_EQ(w.ending, f.ending);
    EXPECT_EQ(w.exit_status, f.exit_status);
    EXPECT_EQ(warm.fresh_reason(), "the run ends before the module loads");
}

#ifdef KMODEMU_HAVE_LIBFUZZER
// The fuzzer finds a planted bug within a bounded number of runs (libFuzzer's seed fixed), saves
// the input as libFuzzer does, and `kmodemu run --replay` with the same options reports the same
// finding from it: with failing calls, the double free of the error path; with --no-fail, the
// NULL dereference behind magic=1337 (its constant comes from the module's dictionary).
void fuzz_and_replay(const std::string& flavour, const std::string& options,
                     const std::string& expect, const std::string& engine = "",
                     const std::string& fuzz_only = "") {
    namespace fs = std::filesystem;
    fs::path dir =
        fs::temp_directory_path() / ("kmodemu-fuzz-" + flavour + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string ko = fixture_path(flavour, "planted");
    std::string kmodemu = std::string("'") + KMODEMU_BINARY + "' ";
    auto [out, st] =
        shell(kmodemu + "fuzz --budget 2000000 " + fuzz_only + " " + options + " '" + ko +
              "' -- -runs=5000 -seed=1 " + engine + " -artifact_prefix=" + dir.string() + "/");
    EXPECT_NE(st, 0) << out;
    std::string found = finding_line(out);
    ASSERT_FALSE(found.empty()) << out;
    EXPECT_NE(found.find(expect), std::string::npos) << found;
    EXPECT_NE(found.find("planted_init"), std::string::npos) << found;
    std::vector<fs::path> crashes;
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
        if (e.path().filename().string().starts_with("crash-")) crashes.push_back(e.path());
    // -fork=N: each of the N processes may save one before the first one's ends the campaign.
    ASSERT_GE(crashes.size(), 1u) << out;
    if (engine.empty()) {
        EXPECT_EQ(crashes.size(), 1u) << out;
    }
    auto [replayed, rst] = shell(kmodemu + "run --budget 2000000 " + options + " --replay '" +
                                 crashes[0].string() + "' '" + ko + "'");
    EXPECT_EQ(finding_line(replayed), found) << replayed;
    EXPECT_NE(rst, 0);
    fs::remove_all(dir);
}

TEST_P(KitFuzz, FuzzerFindsFailedCallBug) {
    fuzz_and_replay(GetParam(), "", "BUG: kernel BUG at mm/slub.c:");
}

// The same with the warm path (--warm: executions forked from the kernel made once).
TEST_P(KitFuzz, WarmFuzzerFindsFailedCallBug) {
    fuzz_and_replay(GetParam(), "", "BUG: kernel BUG at mm/slub.c:", "", "--warm");
}

// libFuzzer's scale-out: -fork=2 runs the same command line again in two processes (kmodemu's
// own options after -ignore_remaining_args=1), each with its warm path.
TEST_P(KitFuzz, FuzzerScalesOutWithFork) {
    fuzz_and_replay(GetParam(), "", "BUG: kernel BUG at mm/slub.c:", "-fork=2");
}

TEST_P(KitFuzz, FuzzerFindsMagicParameter) {
    fuzz_and_replay(GetParam(), "--no-fail", "oops: " + null_oops(GetParam()));
}

#endif  // KMODEMU_HAVE_LIBFUZZER

INSTANTIATE_TEST_SUITE_P(Flavours, KitFuzz, ::testing::Values("arm64", "armhf"));
