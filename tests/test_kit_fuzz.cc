// `kmodemu fuzz` (tools/fuzz.cc) and its inputs (tools/fuzz_input.cc): parameters typed from the
// module's parmtype, what an input decides, the findings and their signatures, and, with a
// kmodemu built with libFuzzer, the planted bugs of fixtures/planted found by the fuzzer and
// reproduced by `kmodemu run --replay`, on each architecture.
#include <gtest/gtest.h>

#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "tests/fixture_util.h"
#include "tools/fuzz_input.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

class KitFuzz : public ::testing::TestWithParam<const char*> {};

std::string fixture_path(const std::string& flavour, const std::string& name) {
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

RunOutcome run_input(const std::string& flavour, const std::vector<uint8_t>& in) {
    std::vector<uint8_t> ko = fx::module(flavour, "planted");
    FuzzDecision d = decode_fuzz_input(in, fuzz_params(ko));
    RunOptions base;
    base.budget = 20'000'000;
    RunOptions opts = apply_fuzz_decision(base, d);
    return run_module(std::move(ko), opts);
}

// The stderr and status of a command.
std::pair<std::string, int> shell(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen((cmd + " 2>&1").c_str(), "r"), ::pclose);
    if (!p) return {"", -1};
    std::array<char, 4096> buf;
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), p.get()))
        out += buf.data();
    int st = ::pclose(p.release());
    return {out, st};
}

std::string finding_line(const std::string& out) {
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
    RunOutcome ok = run_input(GetParam(), input({1, 0x38, 0x05, 0, 0}));
    EXPECT_EQ(ok.exit_status, 0);
    EXPECT_FALSE(find_finding(ok));

    RunOutcome oops = run_input(GetParam(), input({1, 0x39, 0x05, 0, 0}));
    EXPECT_EQ(oops.ending, "oops");
    std::optional<Finding> f = find_finding(oops);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, "oops");
    EXPECT_TRUE(f->signature.starts_with("Unable to handle kernel NULL pointer dereference"))
        << f->signature;
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

// The fuzzer finds a planted bug within a bounded number of runs (libFuzzer's seed fixed), saves
// the input as libFuzzer does, and `kmodemu run --replay` with the same options reports the same
// finding from it: with failing calls, the double free of the error path; with --no-fail, the
// NULL dereference behind magic=1337 (its constant comes from the module's dictionary).
void fuzz_and_replay(const std::string& flavour, const std::string& options,
                     const std::string& expect) {
#ifndef KMODEMU_HAVE_LIBFUZZER
    GTEST_SKIP() << "kmodemu built without libFuzzer";
#endif
    namespace fs = std::filesystem;
    fs::path dir =
        fs::temp_directory_path() / ("kmodemu-fuzz-" + flavour + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string ko = fixture_path(flavour, "planted");
    std::string kmodemu = std::string("'") + KMODEMU_BINARY + "' ";
    auto [out, st] = shell(kmodemu + "fuzz --budget 2000000 " + options + " '" + ko +
                           "' -- -runs=100000 -seed=1 -artifact_prefix=" + dir.string() + "/");
    EXPECT_NE(st, 0) << out;
    std::string found = finding_line(out);
    ASSERT_FALSE(found.empty()) << out;
    EXPECT_NE(found.find(expect), std::string::npos) << found;
    EXPECT_NE(found.find("planted_init+0x"), std::string::npos) << found;
    std::vector<fs::path> crashes;
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
        if (e.path().filename().string().starts_with("crash-")) crashes.push_back(e.path());
    ASSERT_EQ(crashes.size(), 1u) << out;
    auto [replayed, rst] = shell(kmodemu + "run --budget 2000000 " + options + " --replay '" +
                                 crashes[0].string() + "' '" + ko + "'");
    EXPECT_EQ(finding_line(replayed), found) << replayed;
    EXPECT_NE(rst, 0);
    fs::remove_all(dir);
}

TEST_P(KitFuzz, FuzzerFindsFailedCallBug) {
    fuzz_and_replay(GetParam(), "", "BUG: kernel BUG at mm/slub.c:");
}

TEST_P(KitFuzz, FuzzerFindsMagicParameter) {
    fuzz_and_replay(GetParam(), "--no-fail",
                    "oops: Unable to handle kernel NULL pointer dereference");
}

INSTANTIATE_TEST_SUITE_P(Flavours, KitFuzz, ::testing::Values("arm64", "armhf"));
