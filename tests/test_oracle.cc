// The differential suite: every case of tests/oracle/cases-ARCH.txt, run under Debian's real
// kernel in QEMU by tools/qemu-oracle (recorded in tests/oracle/<release>.expected, one file per
// kernel build) and here under kmodemu with the same kernel's profile, must end with the same
// exit status and print the same lines in the same order: every line the real kernel printed,
// after the normalisation rules of tools/oracle.cc and nothing else.
#include <gtest/gtest.h>

#include <cctype>
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

// A kernel the cases run on: a main kit (KMODEMU_KIT_ARM64/ARMHF, fixtures in KMODEMU_FIXTURES)
// or one of KMODEMU_KITS (fixtures in KMODEMU_FIXTURES/kits/<release>, laid out the same way).
struct Kit {
    std::string arch, dir, fixtures, release;
};

const std::vector<Kit>& kits() {
    static const std::vector<Kit> v = [] {
        std::vector<Kit> out;
        auto add = [&](const std::string& dir, bool main) {
            if (dir.empty()) return;
            auto env = read_kit_env(dir + "/kit.env");
            Kit k;
            k.dir = dir;
            if (env) {
                k.arch = (*env)["KIT_ARCH"];
                k.release = (*env)["KIT_RELEASE"];
            }
            k.fixtures = std::string(KMODEMU_FIXTURES) + (main ? "" : "/kits/" + k.release);
            out.push_back(k);
        };
        add(KMODEMU_KIT_ARM64, true);
        add(KMODEMU_KIT_ARMHF, true);
        std::istringstream extra(KMODEMU_KITS);  // ':' between the kits
        std::string dir;
        while (std::getline(extra, dir, ':'))
            add(dir, false);
        return out;
    }();
    return v;
}

struct Case {
    size_t kit = 0;  // in kits()
    std::string arch, name, module;
    std::vector<std::string> params;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << kits()[c.kit].release << "/" << c.name;
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

std::shared_ptr<const KernelProfile> profile_for(size_t kit) {
    static std::map<size_t, std::shared_ptr<const KernelProfile>> cache;
    auto& p = cache[kit];
    if (!p) p = KernelProfile::from_kit(kits()[kit].dir);
    return p;
}

// The recording of the kit's own kernel build.
const oracle::ResultFile* results_for(size_t kit) {
    static std::map<size_t, std::optional<oracle::ResultFile>> cache;
    if (!cache.count(kit))
        cache[kit] = oracle::read_results(oracle::results_path(
            std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle", profile_for(kit)->release));
    return cache[kit] ? &*cache[kit] : nullptr;
}

class Oracle : public ::testing::TestWithParam<Case> {};

// Every case of the kit's architecture, for every kit.
std::vector<Case> all_cases() {
    std::vector<Case> v;
    for (size_t k = 0; k < kits().size(); ++k)
        for (Case& c : read_cases(kits()[k].arch)) {
            c.kit = k;
            v.push_back(c);
        }
    return v;
}

// A test name part: the release with what gtest does not allow in a name made '_'.
std::string name_part(const std::string& s) {
    std::string out = s;
    for (char& ch : out)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return out;
}

}  // namespace

TEST(OracleFiles, EachArchitectureHasAtLeast25CasesAllRecordedForEachKitsKernel) {
    for (const char* arch : {"arm64", "armhf"})
        EXPECT_GE(read_cases(arch).size(), 25u) << arch;
    ASSERT_FALSE(std::string(KMODEMU_KIT_ARM64).empty()) << "configured without an arm64 kit";
    ASSERT_FALSE(std::string(KMODEMU_KIT_ARMHF).empty()) << "configured without an armhf kit";
    for (size_t k = 0; k < kits().size(); ++k) {
        const Kit& kit = kits()[k];
        EXPECT_TRUE(kit.arch == "arm64" || kit.arch == "armhf") << kit.dir << ": KIT_ARCH";
        const oracle::ResultFile* r = results_for(k);
        if (!r) {
            ADD_FAILURE() << "no recording of the real kernel " << profile_for(k)->release
                          << ": tools/qemu-oracle " << kit.arch << " --kit " << kit.dir
                          << " --fixtures " << kit.fixtures << " makes it";
            continue;
        }
        EXPECT_EQ(r->release, profile_for(k)->release);
        for (const Case& c : read_cases(kit.arch))
            EXPECT_TRUE(r->cases.count(c.name)) << kit.release << " " << c.name;
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

TEST(OracleRules, TheFtraceOpsAddressBeforeAnArm64FunctionIsABootDifferenceSince6_4) {
    // poke+0xc faults: the first word shown is poke-4, the upper half of its ftrace_ops address.
    std::vector<std::string> log = {"pc : poke.constprop.0+0xc/0x18 [faulty]", "Call trace:",
                                    "Code: ffffd35e aa1e03e9 d503201f d2800000 (b9400400) "};
    auto code = [&](const char* release, const char* first) {
        std::vector<std::string> l = log;
        l[2].replace(6, 8, first);
        return oracle::normalise(l, oracle::Context{true, release, "v"}).at(2);
    };
    EXPECT_EQ(code("6.12.95+deb12-arm64", "ffffd35e"), code("6.12.95+deb12-arm64", "ffffbe62"));
    EXPECT_EQ(code("6.12.95+deb12-arm64", "ffffd35e"),
              "Code: <ftrace-ops> aa1e03e9 d503201f d2800000 (b9400400) ");
    // Before 6.4 the words before a function are the code before it, and are compared.
    EXPECT_NE(code("6.1.0-57-arm64", "ffffd35e"), code("6.1.0-57-arm64", "ffffbe62"));
    // Words of the function itself are compared.
    std::vector<std::string> l = log;
    l[2] = "Code: ffffd35e aa1e03e9 d503201f d2800001 (b9400400) ";
    EXPECT_NE(oracle::normalise(l, oracle::Context{true, "6.12.95+deb12-arm64", "v"}).at(2),
              code("6.12.95+deb12-arm64", "ffffd35e"));
}

TEST(OracleRules, ArmPsrIsComparedButForItsGeAndABits) {
    oracle::Context c{false, "6.12.95+deb12-armmp", "v"};
    auto n = [&](const char* psr) {
        return oracle::normalise(
                   {std::string("pc : [<bf006108>]    lr : [<bf006030>]    psr: ") + psr}, c)
            .at(0);
    };
    EXPECT_EQ(n("800f0013"), n("80070113"));  // GE (19:16) and A (8)
    EXPECT_NE(n("800f0013"), n("800f0213"));  // E (9)
    EXPECT_NE(n("800f0013"), n("800f0093"));  // I (7)
    EXPECT_NE(n("800f0013"), n("400f0013"));  // the condition flags of a fault in module code
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
    const Kit& kit = kits()[c.kit];
    const oracle::ResultFile* r = results_for(c.kit);
    ASSERT_TRUE(r) << "no recording of the real kernel " << profile_for(c.kit)->release
                   << ": tools/qemu-oracle " << c.arch << " --kit " << kit.dir << " --fixtures "
                   << kit.fixtures << " makes it";
    ASSERT_TRUE(r->cases.count(c.name))
        << "no recorded result: run tools/qemu-oracle " << c.arch << " --kit " << kit.dir;
    const oracle::Expected& e = r->cases.at(c.name);

    // MODULE_PATH is one module, or modules inserted in order before the case's own (A.ko,B.ko):
    // the real kernel's lines are those of the last insmod and its rmmod.
    std::vector<ModuleInput> mods;
    std::istringstream paths(c.module);
    for (std::string m; std::getline(paths, m, ',');) {
        std::string path = kit.fixtures + "/" + m;
        std::ifstream in(path, std::ios::binary);
        ASSERT_TRUE(in.good()) << path;
        mods.push_back({path, std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}), {}});
    }
    mods.back().params = c.params;
    size_t n = mods.size();
    RunOptions opts;
    opts.params = c.params;
    opts.profile = profile_for(c.kit);
    opts.budget = 20'000'000;
    RunOutcome out = run_modules(std::move(mods), opts);

    EXPECT_EQ(std::to_string(out.exit_status), e.rc) << "insmod exit status";
    ASSERT_EQ(out.steps.size(), n) << "every module before the case's own loaded";
    const RunOutcome::Step& own = out.steps.back();
    std::vector<std::string> load_lines, unload_lines;
    for (size_t i = own.log_begin; i < own.log_end; ++i)
        load_lines.push_back(out.log[i].text);
    for (size_t i = own.unload_log_begin; i < own.unload_log_end; ++i)
        unload_lines.push_back(out.log[i].text);
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
                             return name_part(kits()[i.param.kit].release + "_" + i.param.name);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Oracle);  // a build without kits has no cases
