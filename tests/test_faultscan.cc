// `kmodemu faults` (tools/faults.cc) and --coverage (tools/coverage.cc), on the errpath fixture
// of each architecture: the error path with a planted double free is found (SLUB's BUG), the
// one that leaks is found, the ignored failure is noted, the correct one is clean; coverage
// lists the module's init function.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/fixture_util.h"
#include "tools/coverage.h"
#include "tools/faults.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

class FaultScanTest : public ::testing::TestWithParam<const char*> {};

std::vector<ModuleInput> errpath(const std::string& flavour) {
    std::vector<ModuleInput> m(1);
    m[0].path = "errpath.ko";
    m[0].bytes = fx::module(flavour, "errpath");
    return m;
}

const FaultPath* path_of(const FaultScan& s, const std::string& function, uint64_t nth) {
    for (const FaultPath& p : s.paths)
        if (p.call.function == function && p.call.nth == nth) return &p;
    return nullptr;
}

bool has_kind(const std::vector<FaultFinding>& v, const std::string& kind) {
    for (const FaultFinding& f : v)
        if (f.kind == kind) return true;
    return false;
}

}  // namespace

TEST_P(FaultScanTest, FindsThePlantedErrorPathBugs) {
    RunOptions opts;
    opts.budget = 5'000'000;
    FaultScan s = scan_faults(errpath(GetParam()), opts);
    EXPECT_EQ(s.ending, "ok");
    EXPECT_TRUE(s.baseline_findings.empty());
    // kmalloc, kzalloc (kmalloc's second call), kstrdup, register_chrdev.
    ASSERT_EQ(s.calls.size(), 4u);
    ASSERT_EQ(s.paths.size(), 4u);
    for (const FaultPath& p : s.paths) {
        EXPECT_TRUE(p.reached) << p.call.function;
        EXPECT_NE(p.call.where.find("errpath_init+0x"), std::string::npos) << p.call.where;
    }

    // The first allocation's failure is handled: init returns -ENOMEM, nothing else.
    const FaultPath* first = path_of(s, "kmalloc", 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->init_ret, -12);
    EXPECT_TRUE(first->findings.empty());
    EXPECT_TRUE(first->notes.empty());

    // The second: the first object freed twice; SLUB's freelist check BUG()s.
    const FaultPath* second = path_of(s, "kmalloc", 2);
    ASSERT_TRUE(second);
    EXPECT_TRUE(has_kind(second->findings, "BUG")) << second->ending;
    EXPECT_EQ(fail_argument(second->fail), "kmalloc:2:ENOMEM");

    // kstrdup()'s failure ignored: init returns 0 (a note, not a finding).
    const FaultPath* dup = path_of(s, "kstrdup", 1);
    ASSERT_TRUE(dup);
    EXPECT_EQ(dup->init_ret, 0);
    EXPECT_TRUE(dup->findings.empty());
    EXPECT_TRUE(has_kind(dup->notes, "ignored-failure"));

    // register_chrdev() fails: the first object leaks.
    const FaultPath* reg = path_of(s, "register_chrdev", 1);
    ASSERT_TRUE(reg);
    EXPECT_EQ(reg->init_ret, -12);
    ASSERT_TRUE(has_kind(reg->findings, "leak"));
    EXPECT_NE(reg->findings[0].detail.find(" bytes from kmalloc"), std::string::npos)
        << reg->findings[0].detail;

    EXPECT_EQ(s.paths_with_findings(), 2u);
    EXPECT_EQ(s.notes(), 1u);
    nlohmann::json j = fault_scan_json(s, "kmodemu run --lockdep", "errpath.ko");
    EXPECT_EQ(j["summary"]["error_paths"], 4);
    EXPECT_EQ(j["paths"][1]["reproduce"],
              "kmodemu run --lockdep --fail kmalloc:2:ENOMEM errpath.ko");
}

TEST_P(FaultScanTest, CoverageListsTheInitFunction) {
    RunOptions opts;
    opts.budget = 5'000'000;
    opts.coverage = true;
    RunOutcome out = run_module(fx::module(GetParam(), "errpath"), opts);
    ASSERT_EQ(out.ending, "ok");
    ASSERT_TRUE(out.coverage);
    EXPECT_FALSE(out.coverage->blocks.empty());
    std::ostringstream lcov;
    write_lcov(lcov, *out.coverage);
    std::string t = lcov.str();
    EXPECT_NE(t.find("SF:errpath.ko:init_text\n"), std::string::npos) << t;
    EXPECT_NE(t.find(",errpath_init\n"), std::string::npos) << t;
    EXPECT_NE(t.find("FNDA:1,errpath_init\n"), std::string::npos) << t;
    EXPECT_NE(t.find("FNDA:1,errpath_exit\n"), std::string::npos) << t;
    EXPECT_NE(t.find("end_of_record\n"), std::string::npos);

    std::ostringstream drcov;
    write_drcov(drcov, *out.coverage);
    std::string d = drcov.str();
    EXPECT_EQ(d.rfind("DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\n", 0), 0u);
    EXPECT_NE(d.find(", errpath.ko:init_text\n"), std::string::npos) << d;
    size_t bb = d.find("BB Table: ");
    ASSERT_NE(bb, std::string::npos);
    size_t n = std::stoul(d.substr(bb + 10));
    size_t table = d.find('\n', bb) + 1;
    EXPECT_GT(n, 0u);
    EXPECT_EQ(d.size() - table, n * 8);
}

INSTANTIATE_TEST_SUITE_P(Flavours, FaultScanTest,
                         ::testing::Values("arm64", "armhf", "armhf-thumb"));
