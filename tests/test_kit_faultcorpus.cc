// `kmodemu corpus --faults` (tools/corpus_faults.cc) over a handful of real Debian modules of
// the arm64 kit: modules tried and skipped, error paths and their cut, a known finding (the
// address list ipmi_ssif's init leaks when i2c_add_driver() fails) with its reproducer, a
// known ignored failure, clean modules, a kmodemu crash on one path recorded without stopping
// the scan; and select_paths()' choice.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "kernel_stubs/profile.h"
#include "tools/corpus.h"
#include "tools/depmod.h"
#include "tools/faults.h"

using namespace kmodemu;
using namespace kmodemu::corpus;

namespace {

std::string kit() {
    std::string k = KMODEMU_KIT_ARM64;
    EXPECT_FALSE(k.empty()) << "the tests need KMODEMU_KIT_ARM64";
    return k;
}

const ModuleTree& tree() {
    static const ModuleTree t = ModuleTree::of_kit(kit());
    return t;
}

std::vector<Job> jobs_of(const std::vector<std::string>& rels) {
    std::vector<std::string> paths;
    for (const std::string& r : rels)
        paths.push_back(tree().dir() + "/" + r);
    return collect(paths, &tree());
}

Options options() {
    static const std::shared_ptr<const KernelProfile> p = KernelProfile::from_kit(kit());
    Options o;
    o.profile = p;
    o.jobs = 2;
    return o;
}

const json* module_record(const json& report, const std::string& rel) {
    for (const json& m : report["modules"])
        if (m["module"] == rel) return &m;
    return nullptr;
}

const char* const ssif = "kernel/drivers/char/ipmi/ipmi_ssif.ko";
const char* const devintf = "kernel/drivers/char/ipmi/ipmi_devintf.ko";
const char* const rng = "kernel/drivers/char/hw_random/virtio-rng.ko";
const char* const ttyprintk = "kernel/drivers/char/ttyprintk.ko";

}  // namespace

TEST(KitFaultCorpus, ModulesPathsAndAKnownLeak) {
    FaultCorpusOptions fo;
    fo.kit = "KIT";
    json r = fault_corpus(jobs_of({ssif, devintf, rng, ttyprintk}), options(), fo, json::object());
    const json& t = r["totals"];
    EXPECT_EQ(t["modules"], 4);
    // ttyprintk's init calls a function kmodemu lacks: skipped, counted.
    EXPECT_EQ(t["tried"], 3);
    EXPECT_EQ(t["skipped"]["unimplemented"], 1);
    ASSERT_TRUE(module_record(r, ttyprintk));
    EXPECT_EQ((*module_record(r, ttyprintk))["skipped"], "unimplemented");

    // virtio-rng: one fallible call (register_virtio_driver), handled: init returns -ENOMEM.
    const json* m = module_record(r, rng);
    ASSERT_TRUE(m);
    ASSERT_EQ((*m)["paths"].size(), 1u);
    EXPECT_EQ((*m)["paths"][0]["fail"], "register_virtio_driver:1:ENOMEM");
    EXPECT_EQ((*m)["paths"][0]["init_ret"], -12);
    EXPECT_TRUE((*m)["paths"][0]["findings"].empty());
    EXPECT_FALSE((*m)["paths"][0].contains("reproduce"));

    // ipmi_ssif: i2c_add_driver() failing leaks ssif_address_list()'s kcalloc() (init returns
    // rv without freeing ssif_i2c_driver.address_list); platform_driver_register()'s failure
    // is ignored (pr_err and go on): a note.
    m = module_record(r, ssif);
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)["calls"], 3);
    EXPECT_EQ((*m)["paths_cut"], 0);
    bool leak = false, note = false;
    for (const json& p : (*m)["paths"]) {
        if (p["fail"] == "i2c_register_driver:1:ENOMEM") {
            EXPECT_EQ(p["init_ret"], -12);
            ASSERT_EQ(p["findings"].size(), 1u);
            EXPECT_EQ(p["findings"][0]["kind"], "leak");
            leak = true;
            EXPECT_EQ(p["reproduce"],
                      "kmodemu run --lockdep --kernel KIT --budget 20000000 --time-limit 5 "
                      "--fail i2c_register_driver:1:ENOMEM kernel/drivers/char/ipmi/ipmi_ssif.ko");
        }
        if (p["fail"] == "platform_driver_register:1:ENOMEM") {
            EXPECT_EQ(p["init_ret"], 0);
            ASSERT_EQ(p["notes"].size(), 1u);
            EXPECT_EQ(p["notes"][0]["kind"], "ignored-failure");
            note = true;
        }
    }
    EXPECT_TRUE(leak);
    EXPECT_TRUE(note);

    // The distinct findings: the leak, by its allocation's site.
    bool found = false;
    for (const json& f : r["findings"])
        if (f["kind"] == "leak" && f["where"] == "init_ipmi_ssif+0x12c [ipmi_ssif]") {
            found = true;
            EXPECT_EQ(f["module"], ssif);
            EXPECT_EQ(f["paths"], 1);
            EXPECT_NE(f["reproduce"].get<std::string>().find("i2c_register_driver:1:ENOMEM"),
                      std::string::npos);
        }
    EXPECT_TRUE(found) << r["findings"].dump(1);
    EXPECT_EQ(t["paths_internal"], 0);
    EXPECT_GE(t["error_paths"].get<int>(), 3 + 1 + 4);
}

TEST(KitFaultCorpus, MaxPathsCutsAndCounts) {
    FaultCorpusOptions fo;
    fo.max_paths = 2;
    json r = fault_corpus(jobs_of({devintf}), options(), fo, json::object());
    const json* m = module_record(r, devintf);
    ASSERT_TRUE(m);
    size_t calls = (*m)["calls"].get<size_t>();
    ASSERT_GT(calls, 2u);
    EXPECT_EQ((*m)["paths"].size(), 2u);
    EXPECT_EQ((*m)["paths_cut"], calls - 2);
    EXPECT_EQ(r["totals"]["paths_cut"], calls - 2);
}

TEST(KitFaultCorpus, AWorkerCrashOnAPathIsRecordedAndTheScanGoesOn) {
    Options o = options();
    // kmodemu "crashes" on one error path of ipmi_ssif's.
    o.worker_hook = [](const Job& j) {
        if (j.fail && j.fail->function == "i2c_register_driver") {
            signal(SIGSEGV, SIG_DFL);  // the sanitizer build's handler would exit instead
            raise(SIGSEGV);
        }
    };
    json r = fault_corpus(jobs_of({ssif, rng}), o, {}, json::object());
    EXPECT_EQ(r["totals"]["paths_internal"], 1);
    const json* m = module_record(r, ssif);
    ASSERT_TRUE(m);
    for (const json& p : (*m)["paths"])
        if (p["fail"] == "i2c_register_driver:1:ENOMEM") {
            EXPECT_EQ(p["ending"], "internal");
            EXPECT_NE(p["detail"].get<std::string>().find("SIGSEGV"), std::string::npos);
        }
    // The other paths ran.
    EXPECT_EQ((*module_record(r, rng))["paths"][0]["init_ret"], -12);
}

TEST(KitFaultCorpus, SelectPathsTakesACallPerSiteFirst) {
    std::vector<FallibleCall> calls;
    auto call = [&](const char* f, uint64_t nth, const char* where) {
        FallibleCall c;
        c.function = f;
        c.nth = nth;
        c.where = where;
        calls.push_back(c);
    };
    call("kmalloc", 1, "a+0x10");
    call("kmalloc", 2, "a+0x10");
    call("kmalloc", 3, "a+0x10");
    call("kstrdup", 1, "a+0x20");
    call("kmalloc", 4, "b+0x8");
    EXPECT_EQ(select_paths(calls, 0), (std::vector<size_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(select_paths(calls, 5), (std::vector<size_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(select_paths(calls, 3), (std::vector<size_t>{0, 3, 4}));
    EXPECT_EQ(select_paths(calls, 4), (std::vector<size_t>{0, 1, 3, 4}));
    EXPECT_EQ(finding_location("128 bytes from kmalloc (__kmalloc) at init_x+0x12c/0x1000 [x]"),
              "init_x+0x12c [x]");
    EXPECT_EQ(finding_location("pc : __memset+0xc8/0x188"), "__memset+0xc8");
    EXPECT_EQ(finding_location("kernel BUG at mm/slub.c:379!"), "");
}

// The cleanups the kernel's own error paths make are no findings: device_register() and
// kobject_init_and_add() fail after initialising their object (fixed_phy's mdiobus_free() puts
// it; iscsi_register_transport()'s put_device()), and what an error path frees with kfree_rcu()
// is freed by the grace period do_init_module() waits for (bridge's llc sap, macvtap's
// major_info, drop_monitor's per-device stats).
TEST(KitFaultCorpus, TheKernelsOwnCleanupsAreNoFindings) {
    json r =
        fault_corpus(jobs_of({"kernel/drivers/net/phy/fixed_phy.ko",
                              "kernel/drivers/net/macvtap.ko", "kernel/net/core/drop_monitor.ko"}),
                     options(), {}, json::object());
    EXPECT_EQ(r["totals"]["tried"], 3);
    EXPECT_GE(r["totals"]["error_paths"].get<int>(), 6);
    EXPECT_EQ(r["totals"]["findings"], 0) << r["findings"].dump(1);
    bool put = false, rcu = false;
    for (const json& m : r["modules"])
        for (const json& p : m["paths"]) {
            put |= p["fail"] == "device_register:1:ENOMEM";
            rcu |= p["fail"] == "class_register:1:ENOMEM" ||
                   p["fail"] == "genl_register_family:1:ENOMEM";
        }
    EXPECT_TRUE(put);
    EXPECT_TRUE(rcu);
}
