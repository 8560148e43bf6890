// The differential suite: every case of tests/oracle/cases-ARCH.txt, run under Debian's real
// kernel in QEMU by tools/qemu-oracle (recorded in tests/oracle/<release>.expected, one file per
// kernel build) and here under kmodemu with the same kernel's profile, must end with the same
// exit status and print the same lines in the same order: every line the real kernel printed,
// after the normalisation rules of tools/oracle.cc and nothing else.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "kernel_stubs/profile.h"
#include "tools/oracle.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

struct Case {
    std::string arch, name, module;
    std::vector<std::string> params;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.arch << "/" << c.name;
}

std::vector<Case> read_cases(const std::string& arch) {
    std::vector<Case> out;
    std::ifstream in(std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/cases-" + arch + ".txt");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        Case c;
        c.arch = arch;
        ss >> c.name >> c.module;
        std::string p;
        while (ss >> p)
            c.params.push_back(p);
        if (!c.name.empty()) out.push_back(c);
    }
    return out;
}

// Both logs side by side from the first difference, for the failure message.
std::string diff(const std::vector<std::string>& real, const std::vector<std::string>& ours) {
    size_t i = 0;
    while (i < real.size() && i < ours.size() && real[i] == ours[i])
        ++i;
    std::ostringstream o;
    o << "first difference at line " << i + 1 << " (after normalisation)\n";
    for (size_t k = i; k < std::max(real.size(), ours.size()) && k < i + 12; ++k) {
        o << "  real kernel: " << (k < real.size() ? real[k] : "<none>") << "\n";
        o << "  kmodemu:     " << (k < ours.size() ? ours[k] : "<none>") << "\n";
    }
    return o.str();
}

std::string kit_for(const std::string& arch) {
    return arch == "arm64" ? KMODEMU_KIT_ARM64 : KMODEMU_KIT_ARMHF;
}

std::shared_ptr<const KernelProfile> profile_for(const std::string& arch) {
    static std::map<std::string, std::shared_ptr<const KernelProfile>> cache;
    auto& p = cache[arch];
    if (!p) p = KernelProfile::from_kit(kit_for(arch));
    return p;
}

// The recording of the kit's own kernel build.
const oracle::ResultFile* results_for(const std::string& arch) {
    static std::map<std::string, std::optional<oracle::ResultFile>> cache;
    if (!cache.count(arch))
        cache[arch] = oracle::read_results(oracle::results_path(
            std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle", profile_for(arch)->release));
    return cache[arch] ? &*cache[arch] : nullptr;
}

class Oracle : public ::testing::TestWithParam<Case> {};

std::vector<Case> all_cases() {
    std::vector<Case> v = read_cases("arm64");
    for (Case& c : read_cases("armhf"))
        v.push_back(c);
    return v;
}

}  // namespace

TEST(OracleFiles, EachArchitectureHasAtLeast25CasesAllRecordedForTheKitsKernel) {
    for (const char* arch : {"arm64", "armhf"}) {
        auto cases = read_cases(arch);
        EXPECT_GE(cases.size(), 25u) << arch;
        const oracle::ResultFile* r = results_for(arch);
        ASSERT_TRUE(r) << "no recording of the real kernel " << profile_for(arch)->release
                       << ": tools/qemu-oracle " << arch << " makes it";
        EXPECT_EQ(r->release, profile_for(arch)->release);
        for (const Case& c : cases)
            EXPECT_TRUE(r->cases.count(c.name)) << arch << " " << c.name;
    }
}

TEST(OracleRules, EachRuleIsNamedAndGivesItsReason) {
    std::set<std::string> names;
    for (const oracle::Rule& r : oracle::rules()) {
        EXPECT_TRUE(names.insert(r.name).second) << r.name;
        EXPECT_GT(std::string(r.reason).size(), 40u) << r.name;
    }
    EXPECT_GE(names.size(), 10u);
}

TEST(OracleRules, NormaliseWhatDiffersBetweenBootsAndNothingElse) {
    oracle::Context c{true, "6.1.0-57-arm64", "6.1.192-3"};
    auto n = [&](std::string l) { return oracle::normalise({l}, c).at(0); };
    // Two boots of the same kernel.
    EXPECT_EQ(n("CPU: 0 PID: 87 Comm: insmod Tainted: G           OE      6.1.0-57-arm64 #1  "
                "Debian 6.1.192-3"),
              n("CPU: 1 PID: 88 Comm: insmod Tainted: G           OE      6.1.0-57-arm64 #1  "
                "Debian 6.1.192-3"));
    EXPECT_EQ(n("list_del corruption, ffff8000086eb7c0->next is LIST_POISON1 (dead000000000100)"),
              n("list_del corruption, ffff800008777770->next is LIST_POISON1 (dead000000000100)"));
    EXPECT_EQ(n("WARNING: CPU: 0 PID: 87 at faulty.c:63 faulty_init+0x3f0/0x1000 [faulty]"),
              n("WARNING: CPU: 1 PID: 9 at faulty.c:63 faulty_init+0x3f0/0x1000 [faulty]"));
    // What a module decides is compared.
    EXPECT_NE(n("hello: val=7"), n("hello: val=8"));
    EXPECT_NE(n("list_del corruption, ffff8000086eb7c0->next is LIST_POISON1 (dead000000000100)"),
              n("list_del corruption, ffff8000086eb7c0->next is LIST_POISON2 (dead000000000122)"));
    EXPECT_NE(n("Unable to handle kernel NULL pointer dereference at virtual address "
                "0000000000000004"),
              n("Unable to handle kernel NULL pointer dereference at virtual address "
                "0000000000000008"));
    EXPECT_NE(n("Internal error: Oops: 0000000096000006 [#1] SMP"),
              n("Internal error: Oops: 0000000096000005 [#1] SMP"));
    EXPECT_NE(n("WARNING: CPU: 0 PID: 87 at faulty.c:63 faulty_init+0x3f0/0x1000 [faulty]"),
              n("WARNING: CPU: 0 PID: 87 at faulty.c:64 faulty_init+0x3f0/0x1000 [faulty]"));
    // Fixtures are built with relative __FILE__ (fixtures/CMakeLists.txt): a path is compared.
    EXPECT_NE(n("kernel BUG at /a/faulty.c:63!"), n("kernel BUG at faulty.c:63!"));
    EXPECT_NE(n("pc : poke.constprop.0+0x14/0xf14 [faulty]"),
              n("pc : poke.constprop.0+0x18/0xf14 [faulty]"));
    EXPECT_NE(n("pstate: 80000005 (Nzcv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--)"),
              n("pstate: 60000005 (nZCv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--)"));
    // The faulting instruction is compared; a relocated branch before it is not.
    EXPECT_EQ(n("Code: 94000000 d2800000 (b9400400) "), n("Code: 97ffe1c5 d2800000 (b9400400) "));
    EXPECT_NE(n("Code: 94000000 d2800000 (b9400400) "), n("Code: 94000000 d2800000 (b9400404) "));
}

TEST(OracleRules, AfterAnOopsEndsNothingIsCompared) {
    oracle::Context c{true, "r", "v"};
    std::vector<std::string> log = {"Internal error: Oops: 0000000096000006 [#1] SMP",
                                    "---[ end trace 0000000000000000 ]---",
                                    "note: insmod[88] exited with irqs disabled"};
    EXPECT_EQ(oracle::normalise(log, c).size(), 2u);
    // A WARN's end of trace is no oops: what follows still counts.
    std::vector<std::string> warn = {"WARNING: CPU: 0 PID: 1 at f.c:1 f+0x0/0x4 [m]",
                                     "---[ end trace 0000000000000000 ]---", "m: after warn"};
    EXPECT_EQ(oracle::normalise(warn, c).size(), 3u);
}

TEST_P(Oracle, SameAsTheRealKernel) {
    const Case& c = GetParam();
    const oracle::ResultFile* r = results_for(c.arch);
    ASSERT_TRUE(r) << "no recording of the real kernel " << profile_for(c.arch)->release
                   << ": tools/qemu-oracle " << c.arch << " makes it";
    ASSERT_TRUE(r->cases.count(c.name)) << "no recorded result: run tools/qemu-oracle " << c.arch;
    const oracle::Expected& e = r->cases.at(c.name);

    std::string path = std::string(KMODEMU_FIXTURES) + "/" + c.module;
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path;
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    RunOptions opts;
    opts.params = c.params;
    opts.profile = profile_for(c.arch);
    opts.budget = 20'000'000;
    RunOutcome out = run_module(bytes, opts);

    EXPECT_EQ(std::to_string(out.exit_status), e.rc) << "insmod exit status";
    std::vector<std::string> load_lines, unload_lines;
    for (size_t i = 0; i < out.log.size(); ++i)
        (i < out.load_log_lines ? load_lines : unload_lines).push_back(out.log[i].text);
    oracle::Context ctx{r->arm64, r->release, r->version};
    auto real = oracle::normalise(e.log, ctx), ours = oracle::normalise(load_lines, ctx);
    EXPECT_TRUE(real == ours) << "insmod's kernel log: " << diff(real, ours);
    if (e.unload_rc) {
        ASSERT_TRUE(out.unload.has_value()) << "the real rmmod ran";
        EXPECT_EQ(std::to_string(-out.unload->err), *e.unload_rc);
        auto ureal = oracle::normalise(e.unload_log, ctx);
        auto uours = oracle::normalise(unload_lines, ctx);
        EXPECT_TRUE(ureal == uours) << "rmmod's kernel log: " << diff(ureal, uours);
    } else {
        EXPECT_FALSE(out.unload.has_value()) << "the real rmmod did not run";
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, Oracle, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                             return i.param.arch + "_" + i.param.name;
                         });
