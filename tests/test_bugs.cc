// Where a module misbehaves, the emulated kernel does what Debian's kernels do
// (fixtures/quirks): %pV formats its nested format; CONFIG_DEBUG_LIST with
// CONFIG_BUG_ON_DATA_CORRUPTION makes list corruption a BUG() in lib/list_debug.c (a WARN()
// without it); SLUB with CONFIG_SLAB_FREELIST_HARDENED BUG()s on a double free of the head of a
// cache's freelist, and misses the others.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "tests/fixture_util.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;
using fx::texts;

namespace {

RunOutcome run_quirks(const std::string& flavour, const std::string& mode,
                      std::shared_ptr<const KernelProfile> profile = nullptr) {
    RunOptions opts;
    opts.params = {mode};
    opts.budget = 5'000'000;
    opts.auto_stub = true;  // the fixture's other modes call functions these tests do not need
    opts.profile = std::move(profile);
    return run_module(fx::module(flavour, "quirks"), opts);
}

// The lines from the first one that starts with `prefix` on (empty when there is none).
std::vector<std::string> from(const RunOutcome& out, const std::string& prefix) {
    std::vector<std::string> t = texts(out);
    auto it = std::find_if(t.begin(), t.end(),
                           [&](const std::string& l) { return l.starts_with(prefix); });
    return std::vector<std::string>(it, t.end());
}

// The pc line of the oops names `fn` (arm64 "pc : ", ARM "PC is at ").
bool pc_in(const RunOutcome& out, const std::string& fn) {
    for (const std::string& l : texts(out))
        if (l.starts_with("pc : " + fn + "+") || l.starts_with("PC is at " + fn + "+")) return true;
    return false;
}

// The call trace from the frame of `fn` on, as one string (arm64: a frame a line; ARM:
// "fn from caller+off/size").
std::string trace_from(const RunOutcome& out, const std::string& fn) {
    std::string s;
    for (const std::string& l : from(out, " " + fn)) {
        if (!l.starts_with(" ")) break;
        s += l + "\n";
    }
    return s;
}

class Quirks : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(Quirks, PercentVFormatsTheNestedFormatAndVaList) {
    RunOutcome out = run_quirks(GetParam(), "mode=1");
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "quirks: said <42-nested-z>"));
}

TEST_P(Quirks, ListAddCorruptionIsABugInListAddValid) {
    RunOutcome out = run_quirks(GetParam(), "mode=2");
    EXPECT_EQ(out.exit_status, exit_oops);
    std::vector<std::string> t = from(out, "list_add corruption. ");
    ASSERT_GE(t.size(), 4u);
    // list_add(&b, &head) after a.prev = &b: next (= &a)->prev is &b, not prev (= &head).
    unsigned long long prev = 0, was = 0, next = 0;
    ASSERT_EQ(std::sscanf(t[0].c_str(),
                          "list_add corruption. next->prev should be prev (%llx), but was %llx. "
                          "(next=%llx).",
                          &prev, &was, &next),
              3)
        << t[0];
    EXPECT_NE(prev, was);
    EXPECT_EQ(t[1], "------------[ cut here ]------------");
    EXPECT_EQ(t[2], "kernel BUG at lib/list_debug.c:27!");
    EXPECT_TRUE(t[3].starts_with("Internal error: Oops - BUG: ")) << t[3];
    EXPECT_TRUE(pc_in(out, "__list_add_valid"));
    // The module's caller follows the kernel function in the call trace.
    EXPECT_NE(trace_from(out, "__list_add_valid").find("list_corruption+"), std::string::npos)
        << trace_from(out, "__list_add_valid");
    EXPECT_FALSE(has_line(out, "quirks: list survived"));
}

TEST_P(Quirks, ListDelTwiceIsABugInListDelEntryValid) {
    RunOutcome out = run_quirks(GetParam(), "mode=3");
    EXPECT_EQ(out.exit_status, exit_oops);
    std::vector<std::string> t = from(out, "list_del corruption, ");
    ASSERT_GE(t.size(), 3u);
    // list_del() left LIST_POISON1 in next: POISON_POINTER_DELTA + 0x100.
    EXPECT_TRUE(t[0].ends_with(std::string(GetParam()) == "arm64"
                                   ? "->next is LIST_POISON1 (dead000000000100)"
                                   : "->next is LIST_POISON1 (00000100)"))
        << t[0];
    EXPECT_EQ(t[2], "kernel BUG at lib/list_debug.c:53!");
    EXPECT_TRUE(pc_in(out, "__list_del_entry_valid"));
    EXPECT_NE(trace_from(out, "__list_del_entry_valid").find("list_corruption+"),
              std::string::npos);
}

TEST_P(Quirks, DoubleKfreeIsABugInKmemCacheFree) {
    RunOutcome out = run_quirks(GetParam(), "mode=4");
    EXPECT_EQ(out.exit_status, exit_oops);
    std::vector<std::string> t = from(out, "------------[ cut here ]------------");
    ASSERT_GE(t.size(), 2u);
    EXPECT_EQ(t[1], "kernel BUG at mm/slub.c:419!");
    EXPECT_TRUE(pc_in(out, "__kmem_cache_free"));
    std::string trace = trace_from(out, "__kmem_cache_free");
    EXPECT_NE(trace.find("quirks_init+"), std::string::npos) << trace;
    // arm64's kfree() calls __kmem_cache_free(), armmp's tail-calls it.
    EXPECT_EQ(trace.find("\n kfree+") != std::string::npos, std::string(GetParam()) == "arm64")
        << trace;
    EXPECT_FALSE(has_line(out, "quirks: double free survived"));
}

INSTANTIATE_TEST_SUITE_P(Bugs, Quirks, ::testing::Values("arm64", "armhf", "armhf-thumb"));

// Without CONFIG_BUG_ON_DATA_CORRUPTION, CHECK_DATA_CORRUPTION() WARNs and the list operation is
// skipped; without CONFIG_SLAB_FREELIST_HARDENED the double free goes unnoticed. The arm64 kit
// with those two options taken out of its configuration.
TEST(Bugs, WithoutTheHardeningOptionsListCorruptionWarnsAndDoubleFreeGoesOn) {
    namespace fs = std::filesystem;
    std::string kit = KMODEMU_KIT_ARM64;
    ASSERT_FALSE(kit.empty()) << "no arm64 kit (tools/fetch-kernel-kit makes one)";
    fs::path dir = fs::temp_directory_path() / ("kmodemu-test-kit-" + std::to_string(::getpid()));
    fs::create_directories(dir / "boot");
    std::ifstream env_in(kit + "/kit.env");
    std::ofstream env_out(dir / "kit.env");
    std::string line, release;
    while (std::getline(env_in, line)) {
        if (line.starts_with("KIT_RELEASE=")) release = line.substr(12);
        if (line.starts_with("KIT_BOOT=")) {
            std::ifstream cfg_in(line.substr(9) + "/config-" + release);
            ASSERT_TRUE(cfg_in.good());
            std::ofstream cfg_out(dir / "boot" / ("config-" + release));
            for (std::string c; std::getline(cfg_in, c);)
                if (!c.starts_with("CONFIG_BUG_ON_DATA_CORRUPTION=") &&
                    !c.starts_with("CONFIG_SLAB_FREELIST_HARDENED="))
                    cfg_out << c << "\n";
            line = "KIT_BOOT=" + (dir / "boot").string();
        }
        env_out << line << "\n";
    }
    env_out.close();
    fs::copy_file(fs::path(kit) / "layout.env", dir / "layout.env");
    std::shared_ptr<const KernelProfile> prof = KernelProfile::read_kit(dir.string());
    fs::remove_all(dir);

    RunOutcome out = run_quirks("arm64", "mode=2", prof);
    EXPECT_EQ(out.exit_status, 0);
    std::vector<std::string> t = from(out, "------------[ cut here ]------------");
    ASSERT_GE(t.size(), 3u);
    // __warn_printk() prints the message, then __warn() the WARNING line.
    EXPECT_TRUE(t[1].starts_with("list_add corruption. next->prev should be prev (")) << t[1];
    EXPECT_TRUE(t[2].starts_with("WARNING: CPU: 0 PID: ") &&
                t[2].find(" at lib/list_debug.c:27 __list_add_valid+") != std::string::npos)
        << t[2];
    EXPECT_TRUE(has_line(out, "quirks: list survived"));

    out = run_quirks("arm64", "mode=4", prof);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "quirks: double free survived"));
    EXPECT_TRUE(from(out, "kernel BUG at ").empty());
}

// The freelist model behind the double-free check: the last object of a cache freed is its
// freelist's head.
TEST(Bugs, SlubCatchesADoubleFreeOnlyAtTheFreelistHead) {
    using R = Kernel::Slab::FreeResult;
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    Kernel::Slab& s = k.slab();
    uint64_t a = s.alloc(32, 0), b = s.alloc(32, 0);
    EXPECT_EQ(s.free_object(a, true), R::freed);
    EXPECT_EQ(s.free_object(a, true), R::caught);
    EXPECT_EQ(s.free_object(a, false), R::missed);  // without the hardening: linked in again
    EXPECT_EQ(s.alloc(32, 0), a);
    EXPECT_EQ(s.alloc(32, 0), a);  // handed out twice, as from the kernel's corrupted freelist
    EXPECT_EQ(s.free_object(a, true), R::freed);
    EXPECT_EQ(s.free_object(b, true), R::freed);
    EXPECT_EQ(s.free_object(a, true), R::missed);  // b is on top: SLUB does not see it
    EXPECT_EQ(s.alloc(32, 0), a);
    EXPECT_EQ(s.alloc(32, 0), b);
    EXPECT_EQ(s.alloc(32, 0), a);
    // Another cache's head does not count; pages of kmalloc_large() are not a slab cache.
    uint64_t c = s.alloc(1000, 0);
    EXPECT_EQ(s.free_object(c, true), R::freed);
    EXPECT_EQ(s.free_object(a, true), R::freed);
    EXPECT_EQ(s.free_object(c, true), R::caught);
    uint64_t big = s.alloc(100000, 0);
    EXPECT_EQ(s.free_object(big, true), R::freed);
    EXPECT_EQ(s.free_object(big, true), R::unknown);
    EXPECT_EQ(s.free_object(a + 8, true), R::unknown);
}
