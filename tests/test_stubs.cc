// The emulated kernel's stubs do the work of the kernel functions they stand for, and the loader
// frees what it allocates (fixtures/quirks modes 7-13; the oracle cases quirks_current,
// quirks_jiffies, quirks_param_get, quirks_cache, quirks_refcount, quirks_percpu, quirks_taint,
// quirks_unsafe_param and wx_section record what Debian's kernels print for them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "loader/loader.h"
#include "loader/params.h"
#include "tests/fixture_util.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;
using fx::texts;

namespace {

// The kit a fixture flavour is built for (the Thumb-2 flavour runs on the default kernel:
// Debian's armmp kernel is an ARM-mode build).
std::shared_ptr<const KernelProfile> kit_for(const std::string& flavour) {
    std::string dir = flavour == "arm64"   ? KMODEMU_KIT_ARM64
                      : flavour == "armhf" ? KMODEMU_KIT_ARMHF
                                           : "";
    return dir.empty() ? nullptr : KernelProfile::from_kit(dir);
}


Arch arch_of(const std::string& flavour) {
    return flavour == "arm64" ? Arch::arm64 : Arch::arm;
}

// An emulated kernel with the flavour's kit and a loader for it.
struct KitKernel {
    explicit KitKernel(const std::string& flavour)
        : emu(arch_of(flavour)), k(emu, config(flavour)), loader(k) {}
    static KernelConfig config(const std::string& flavour) {
        KernelConfig c;
        c.profile = kit_for(flavour);
        return c;
    }
    Emulator emu;
    Kernel k;
    Loader loader;
};

RunOutcome run_quirks(const std::string& flavour, std::vector<std::string> params) {
    RunOptions opts;
    opts.params = std::move(params);
    opts.budget = 5'000'000;
    opts.profile = kit_for(flavour);
    return run_module(fx::module(flavour, "quirks"), opts);
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing " << path;
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

// The index of `line` in the log (-1 when absent).
long index_of(const RunOutcome& out, const std::string& line) {
    auto t = texts(out);
    auto it = std::find(t.begin(), t.end(), line);
    return it == t.end() ? -1 : it - t.begin();
}

std::string tainted_line(const RunOutcome& out) {
    for (const std::string& l : texts(out))
        if (l.starts_with("CPU: 0 PID: ")) return l;
    return "";
}

class Stubs : public ::testing::TestWithParam<const char*> {
  protected:
    std::string flavour() const { return GetParam(); }
};

}  // namespace

// quirks_current: `current` is the task the reports name, with pid and comm where the kit's
// struct task_struct has them (the module reads them inline).
TEST_P(Stubs, CurrentHasTheCommAndPidReportsName) {
    RunOutcome out = run_quirks(flavour(), {"mode=7"});
    EXPECT_EQ(out.exit_status, 0);
    KernelConfig cfg;
    EXPECT_TRUE(has_line(out, "quirks: comm=" + cfg.comm + " pid>0=1"))
        << ::testing::PrintToString(texts(out));

    Emulator emu(arch_of(flavour()));
    cfg.profile = kit_for(flavour());
    Kernel k(emu, cfg);
    const KernelStructs::Task& tl = k.structs().task;
    int32_t pid = 0;
    emu.read(k.current_task() + tl.pid, &pid, 4);
    EXPECT_EQ(pid, cfg.pid);
    std::string comm;
    ASSERT_TRUE(emu.read_cstring(k.current_task() + tl.comm, tl.comm_len, comm));
    EXPECT_EQ(comm, cfg.comm);
}

// quirks_jiffies: jiffies starts at INITIAL_JIFFIES of the kit's HZ, is the low word of
// jiffies_64 and moves by what msleep() sleeps.
TEST_P(Stubs, JiffiesFollowHzAndMoveWhileSleeping) {
    RunOutcome out = run_quirks(flavour(), {"mode=8"});
    EXPECT_EQ(out.exit_status, 0);
    int hz = kit_for(flavour()) ? kit_for(flavour())->hz
                                : KernelProfile::default_for(arch_of(flavour()))->hz;
    EXPECT_TRUE(has_line(out, "quirks: HZ=" + std::to_string(hz) + " sane=1 moved=1 moved64=1"))
        << ::testing::PrintToString(texts(out));
}

// quirks_param_get: param_get_*() write the value as sysfs shows it and return its length.
TEST_P(Stubs, ParamGetWritesTheValue) {
    RunOutcome out = run_quirks(flavour(), {"mode=9"});
    EXPECT_EQ(out.exit_status, 0);
    std::vector<std::string> t = texts(out);
    auto it = std::find(t.begin(), t.end(), "quirks: param_get_int 4 [-42");
    ASSERT_NE(it, t.end()) << ::testing::PrintToString(t);
    std::vector<std::string> got(it, std::min(t.end(), it + 8));
    std::vector<std::string> want = {
        "quirks: param_get_int 4 [-42", "]", "quirks: param_get_uint 11 [4000000000", "]",
        "quirks: param_get_bool 2 [Y",  "]", "quirks: param_get_charp 5 [text",       "]"};
    EXPECT_EQ(got, want);
}

// quirks_cache: a kmem_cache of 3000-byte objects hands out objects of at least that size.
TEST_P(Stubs, KmemCacheOfAnOddSize) {
    RunOutcome out = run_quirks(flavour(), {"mode=10"});
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "quirks: cache object ksize>=3000 1 last 5a"))
        << ::testing::PrintToString(texts(out));
}

// quirks_refcount: MODULE_REF_BASE plus the loader's reference during init: 1, 2, 1.
TEST_P(Stubs, ModuleReferenceCounts) {
    RunOutcome out = run_quirks(flavour(), {"mode=11"});
    EXPECT_EQ(out.exit_status, 0);
    long a = index_of(out, "quirks: refcount 1");
    long b = index_of(out, "quirks: refcount after get 2");
    long c = index_of(out, "quirks: refcount after put 1");
    EXPECT_TRUE(a >= 0 && b == a + 1 && c == b + 1) << ::testing::PrintToString(texts(out));
}

// A module somebody holds a reference to does not unload (try_stop_module(): EWOULDBLOCK); once
// the reference is put, it does.
TEST_P(Stubs, AReferencedModuleDoesNotUnload) {
    KitKernel kk(flavour());
    Emulator& emu = kk.emu;
    Kernel& k = kk.k;
    Loader& loader = kk.loader;
    emu.set_budget(5'000'000);
    LoadResult r = loader.load(fx::module(flavour(), "quirks"), LoadOptions{});
    ASSERT_EQ(r.err, 0);
    ASSERT_NE(r.module, nullptr);
    uint64_t mod = r.module->this_module;
    EXPECT_EQ(k.call_guest(k.find_export("module_refcount")->address, {mod}), 0u);
    EXPECT_EQ(k.call_guest(k.find_export("try_module_get")->address, {mod}), 1u);
    EXPECT_EQ(k.call_guest(k.find_export("module_refcount")->address, {mod}), 1u);
    EXPECT_EQ(loader.unload(*r.module).err, -EWOULDBLOCK);
    EXPECT_EQ(r.module->state, ModuleState::live);
    k.call_guest(k.find_export("module_put")->address, {mod});
    EXPECT_EQ(loader.unload(*r.module).err, 0);
}

// quirks_percpu, and the benchmark's warm loop: a module with per-cpu data loads, runs and
// unloads again and again in one kernel, each time with a fresh copy of its per-cpu data.
TEST_P(Stubs, PerCpuDataIsFreedOnUnload) {
    KitKernel kk(flavour());
    Emulator& emu = kk.emu;
    Kernel& k = kk.k;
    Loader& loader = kk.loader;
    std::vector<uint8_t> ko = fx::module(flavour(), "quirks");
    LoadOptions lo;
    lo.args = "mode=12";
    for (int i = 0; i < 50; ++i) {
        emu.set_budget(5'000'000);
        size_t before = k.log_lines().size();
        LoadResult r = loader.load(ko, lo);
        ASSERT_EQ(r.err, 0) << "load " << i;
        ASSERT_NE(r.module, nullptr);
        EXPECT_NE(r.module->percpu, 0u);
        k.flush_log();
        std::vector<LogLine> lines(k.log_lines().begin() + before, k.log_lines().end());
        EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                                [](const LogLine& l) { return l.text == "quirks: per-cpu 1"; }))
            << "load " << i;
        ASSERT_EQ(loader.unload(*r.module).err, 0) << "unload " << i;
        // A load that fails once the module is formed (here in parse_args()) frees it too.
        LoadOptions bad;
        bad.args = "mode=x";
        EXPECT_EQ(loader.load(ko, bad).err, -EINVAL) << "failed load " << i;
    }
    EXPECT_TRUE(k.modules.empty());
}

// A module refused at layout time (module_enforce_rwx_sections()) is not said to be unsigned:
// that comes after layout_and_allocate() in load_module().
TEST(StubsLoader, WritableExecutableSectionIsRefusedBeforeTheSignatureNotice) {
    for (std::string flavour : {"arm64", "armhf"}) {  // the variants are made of these two
        RunOptions opts;
        opts.profile = kit_for(flavour);
        RunOutcome out = run_module(
            read_file(std::string(KMODEMU_FIXTURES) + "/" + flavour + "/variants/hello_wx.ko"),
            opts);
        EXPECT_EQ(out.exit_status, ENOEXEC) << flavour;
        std::vector<std::string> t = texts(out);
        ASSERT_EQ(t.size(), 2u) << ::testing::PrintToString(t);
        EXPECT_EQ(t[0], "hello: loading out-of-tree module taints kernel.");
        EXPECT_TRUE(t[1].starts_with("hello: section .text (index ") &&
                    t[1].ends_with(") has invalid WRITE|EXEC flags"))
            << t[1];
    }
}

// The kernel says once that it is tainted by out-of-tree and by unsigned modules (check_modinfo()
// tests the taint first; pr_notice_once()).
TEST_P(Stubs, TaintMessagesComeOnce) {
    KitKernel kk(flavour());
    Emulator& emu = kk.emu;
    Kernel& k = kk.k;
    Loader& loader = kk.loader;
    std::vector<uint8_t> ko = fx::module(flavour(), "hello");
    for (int i = 0; i < 2; ++i) {
        emu.set_budget(5'000'000);
        size_t before = k.log_lines().size();
        LoadResult r = loader.load(ko, LoadOptions{});
        ASSERT_EQ(r.err, 0);
        k.flush_log();
        size_t taint_lines = 0;
        for (size_t j = before; j < k.log_lines().size(); ++j) {
            const std::string& l = k.log_lines()[j].text;
            if (l == "hello: loading out-of-tree module taints kernel." ||
                l.starts_with("hello: module verification failed: "))
                ++taint_lines;
        }
        EXPECT_EQ(taint_lines, i == 0 ? 2u : 0u) << "load " << i;
        EXPECT_EQ(r.module->taints, "OE");
        ASSERT_EQ(loader.unload(*r.module).err, 0);
    }
}

// quirks_taint and quirks_unsafe_param: an unsafe parameter taints the kernel with TAINT_USER,
// which test_taint() and the Tainted: lines show.
TEST_P(Stubs, UnsafeParameterTaintsUser) {
    RunOutcome plain = run_quirks(flavour(), {"mode=13"});
    EXPECT_EQ(plain.exit_status, 0);
    EXPECT_TRUE(has_line(plain, "quirks: tainted user 0"));
    EXPECT_EQ(index_of(plain, "Setting dangerous option danger - tainting kernel"), -1);
    std::string line = tainted_line(plain);
    EXPECT_NE(line.find("Tainted: G           OE"), std::string::npos) << line;

    RunOutcome out = run_quirks(flavour(), {"mode=13", "danger=1"});
    EXPECT_EQ(out.exit_status, 0);
    long notice = index_of(out, "Setting dangerous option danger - tainting kernel");
    long mode = index_of(out, "quirks: mode=13");
    EXPECT_TRUE(notice >= 0 && mode == notice + 1) << ::testing::PrintToString(texts(out));
    EXPECT_TRUE(has_line(out, "quirks: tainted user 1"));
    line = tainted_line(out);
    EXPECT_NE(line.find("Tainted: G     U     OE"), std::string::npos) << line;
}

// The clock: jiffies and jiffies_64 are one counter from INITIAL_JIFFIES; sleeps and delays
// advance it by what they take.
TEST(Clock, DelaysAndSleepsAdvanceJiffies) {
    for (Arch arch : {Arch::arm64, Arch::arm}) {
        Emulator emu(arch);
        Kernel k(emu);
        const Export* j = k.find_export("jiffies");
        const Export* j64 = k.find_export("jiffies_64");
        ASSERT_TRUE(j && j64);
        EXPECT_EQ(j->address, j64->address);
        EXPECT_FALSE(j->is_function);
        int hz = k.config().profile->hz;
        auto now = [&] {
            uint64_t v = 0;
            emu.read(j64->address, &v, 8);
            return v;
        };
        uint64_t start = now();
        EXPECT_EQ(start, uint64_t(uint32_t(-300 * hz)));  // INITIAL_JIFFIES
        // msleep(100): msecs_to_jiffies(100) + 1 jiffies.
        k.call_guest(k.find_export("msleep")->address, {100});
        uint64_t slept = now() - start;
        EXPECT_EQ(slept, uint64_t((100 * hz + 999) / 1000 + 1));
        // One second of busy-waiting, a millisecond at a time: HZ more jiffies.
        uint64_t before = now();
        for (int i = 0; i < 1000; ++i) {
            if (arch == Arch::arm64) {
                k.call_guest(k.find_export("__udelay")->address, {1000});
            } else {
                // udelay() on ARM: arm_delay_ops.udelay.
                uint32_t fn = 0;
                emu.read(k.find_export("arm_delay_ops")->address + k.structs().arm_delay_ops.udelay,
                         &fn, 4);
                k.call_guest(fn, {1000});
            }
        }
        EXPECT_EQ(now() - before, uint64_t(hz));
        // usleep_range(): until the upper bound.
        before = now();
        k.call_guest(k.find_export("usleep_range_state")->address, {1000000 - 1000, 1000000, 2});
        EXPECT_EQ(now() - before, uint64_t(hz));
    }
}

// A kit's layout.env places current's pid and comm (here the default kernel's layout with
// another struct task_struct).
TEST(KitLayout, LayoutEnvPlacesTheTaskFields) {
    std::string kit = KMODEMU_KIT_ARM64;
    ASSERT_FALSE(kit.empty()) << "no arm64 kit (tools/fetch-kernel-kit makes one)";
    char tmpl[] = "/tmp/kmodemu-kit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::filesystem::path dir = tmpl;
    std::filesystem::copy_file(std::filesystem::path(kit) / "kit.env", dir / "kit.env");
    {
        std::ifstream in(std::string(KMODEMU_SOURCE_DIR) +
                         "/kernel_stubs/exports/layout-arm64.env");
        ASSERT_TRUE(in.good());
        std::ofstream out(dir / "layout.env");
        std::string line;
        while (std::getline(in, line))
            if (!line.starts_with("KIT_TASK_")) out << line << "\n";
        out << "KIT_TASK_STRUCT_SIZE=1024\nKIT_TASK_PID=256\nKIT_TASK_TGID=260\n"
               "KIT_TASK_COMM=512\nKIT_TASK_COMM_LEN=16\nKIT_TASK_PREEMPT_COUNT=8\n"
               "KIT_TASK_CRED=600\nKIT_TASK_REAL_CRED=608\nKIT_TASK_STATE=24\n";
    }
    auto p = KernelProfile::read_kit(dir);
    EXPECT_EQ(p->structs.task.size, 1024u);
    EXPECT_EQ(p->structs.task.pid, 256u);
    EXPECT_EQ(p->structs.task.comm, 512u);
    Emulator emu(Arch::arm64);
    KernelConfig cfg;
    cfg.profile = p;
    Kernel k(emu, cfg);
    int32_t pid = 0;
    emu.read(k.current_task() + 256, &pid, 4);
    EXPECT_EQ(pid, cfg.pid);
    std::string comm;
    ASSERT_TRUE(emu.read_cstring(k.current_task() + 512, 16, comm));
    EXPECT_EQ(comm, cfg.comm);
    std::filesystem::remove_all(dir);
}

// Loads a real module of the arm64 kit (lib/ts_kmp.ko uses the data export _ctype, which is not
// implemented; drivers/firmware/efi/efibc.ko the data export efi and the function ucs2_strlen,
// neither implemented) with --auto-stub under `profile` (null: the default).
LoadResult load_kit_module(std::shared_ptr<const KernelProfile> profile, Kernel*& out_kernel,
                           std::unique_ptr<Emulator>& emu, std::unique_ptr<Kernel>& kernel,
                           const std::string& rel = "kernel/lib/ts_kmp.ko") {
    std::string kit = KMODEMU_KIT_ARM64;
    EXPECT_FALSE(kit.empty()) << "no arm64 kit (tools/fetch-kernel-kit makes one)";
    auto env = read_kit_env(kit + "/kit.env").value_or(std::map<std::string, std::string>{});
    std::string ko = env["KIT_MODULES"] + "/" + rel;
    EXPECT_TRUE(std::filesystem::exists(ko)) << "no " << ko;
    emu = std::make_unique<Emulator>(Arch::arm64);
    KernelConfig cfg;
    cfg.profile = std::move(profile);
    kernel = std::make_unique<Kernel>(*emu, cfg);
    out_kernel = kernel.get();
    Loader loader(*kernel);
    emu->set_budget(5'000'000);
    LoadOptions lo;
    lo.auto_stub = true;
    return loader.load(read_file(ko), lo);
}

// --auto-stub: an export the kit's kallsyms does not list as text is data (a zeroed object), not
// a function that returns 0.
TEST(AutoStub, DataExportsBecomeDataObjects) {
    std::unique_ptr<Emulator> emu;
    std::unique_ptr<Kernel> kernel;
    Kernel* k = nullptr;
    LoadResult r = load_kit_module(KernelProfile::from_kit(KMODEMU_KIT_ARM64), k, emu, kernel,
                                   "kernel/drivers/firmware/efi/efibc.ko");
    EXPECT_EQ(r.auto_stub_data, std::vector<std::string>{"efi"});
    const Export* efi = k->find_export("efi");
    ASSERT_NE(efi, nullptr);
    EXPECT_FALSE(efi->is_function);
    EXPECT_TRUE(efi->auto_stub);
    const Export* fn = k->find_export("ucs2_strlen");
    ASSERT_NE(fn, nullptr);
    EXPECT_TRUE(fn->is_function);
    EXPECT_NE(std::find(r.auto_stubs.begin(), r.auto_stubs.end(), "ucs2_strlen"),
              r.auto_stubs.end());
}

// The same without a kit: the default kernel's export list marks the data exports of the kits it
// was made of, so `--auto-stub` makes a data object of `fips_enabled` there too.
TEST(AutoStub, DataExportsOfTheDefaultKernelBecomeDataObjects) {
    auto profile = KernelProfile::default_for(Arch::arm64);
    ASSERT_TRUE(profile->exports.find("fips_enabled"));
    EXPECT_TRUE(profile->exports.find("fips_enabled")->data);
    EXPECT_TRUE(profile->exports.find("system_wq")->data);
    EXPECT_FALSE(profile->exports.find("textsearch_register")->data);
    std::unique_ptr<Emulator> emu;
    std::unique_ptr<Kernel> kernel;
    Kernel* k = nullptr;
    LoadResult r = load_kit_module(nullptr, k, emu, kernel, "kernel/lib/crypto/libdes.ko");
    EXPECT_EQ(r.auto_stub_data, std::vector<std::string>{"fips_enabled"});
    const Export* fips = k->find_export("fips_enabled");
    ASSERT_NE(fips, nullptr);
    EXPECT_FALSE(fips->is_function);
}

// sysfs reads of a module's parameters: each kernel_param's ops->get() writes the value as
// kernel/params.c formats it and returns its length; an array's elements are joined by commas;
// an invbool reads back as it was set (inv=1 stores false, shown as Y).
TEST_P(Stubs, ParamGetOfEveryStandardType) {
    KitKernel kk(flavour());
    Emulator& emu = kk.emu;
    Kernel& k = kk.k;
    Loader& loader = kk.loader;
    emu.set_budget(5'000'000);
    LoadOptions lo;
    lo.args =
        "val=-42 uval=4000000000 lval=-5 ulval=42 sval=-3 usval=65535 bval=200 flag=1 "
        "inv=1 name=abc label=xy arr=5,-6,7";
    LoadResult r = loader.load(fx::module(flavour(), "hello"), lo);
    ASSERT_EQ(r.err, 0);
    const LoadedModule& m = *r.module;
    const KernelStructs::KernelParam& L = k.structs().kernel_param;
    uint64_t buf = k.slab_alloc(4096, 0);
    std::map<std::string, std::pair<int64_t, std::string>> got;
    for (size_t i = 0; i < m.num_kp; ++i) {
        uint64_t kp = m.kp + i * L.size;
        std::string name;
        ASSERT_TRUE(emu.read_cstring(emu.read_word(kp + L.name), 64, name));
        uint64_t ops = emu.read_word(kp + L.ops);
        uint64_t get = emu.read_word(ops + k.structs().kernel_param_ops.get);
        int32_t n = static_cast<int32_t>(k.call_guest(get, {buf, kp}));
        std::string text;
        ASSERT_TRUE(emu.read_cstring(buf, 4096, text));
        got[name] = {n, text};
    }
    std::map<std::string, std::string> want = {
        {"val", "-42\n"}, {"uval", "4000000000\n"}, {"lval", "-5\n"},  {"ulval", "42\n"},
        {"sval", "-3\n"}, {"usval", "65535\n"},     {"bval", "200\n"}, {"flag", "Y\n"},
        {"inv", "Y\n"},   {"name", "abc\n"},        {"label", "xy\n"}, {"arr", "5,-6,7\n"}};
    for (const auto& [name, text] : want) {
        ASSERT_TRUE(got.count(name)) << name;
        EXPECT_EQ(got[name].second, text) << name;
        EXPECT_EQ(got[name].first, static_cast<int64_t>(text.size())) << name;
    }
    EXPECT_EQ(loader.unload(*r.module).err, 0);
}

INSTANTIATE_TEST_SUITE_P(Stubs, Stubs, ::testing::Values("arm64", "armhf", "armhf-thumb"));
