// Modules that use modules: several loaded into one kernel (run_modules and the Loader), the
// kernel's resolve_symbol() against module exports, use counts and rmmod's refusals; and the
// module tree of a kit (tools/depmod) against kmod's own depmod.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fixture_util.h"
#include "kernel_stubs/profile.h"
#include "loader/loader.h"
#include "tools/depmod.h"
#include "tools/runner.h"

using namespace kmodemu;
namespace fs = std::filesystem;

namespace {

// build/fixtures/FLAVOUR/DIR/NAME.ko (the deps fixture builds several modules in one directory).
ModuleInput input(const std::string& flavour, const std::string& dir, const std::string& name) {
    std::string path = std::string(KMODEMU_FIXTURES) + "/" + flavour + "/" + dir + "/" + name + ".ko";
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing fixture " << path;
    return {path, std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}), {}};
}

std::vector<std::string> lines(const RunOutcome& out, size_t from, size_t to) {
    std::vector<std::string> v;
    for (size_t i = from; i < to && i < out.log.size(); ++i)
        v.push_back(out.log[i].text);
    return v;
}

class Deps : public ::testing::TestWithParam<std::string> {};

TEST_P(Deps, UserResolvesAgainstTheModuleLoadedBeforeIt) {
    const std::string f = GetParam();
    RunOutcome out =
        run_modules({input(f, "deps", "deps"), input(f, "deps", "deps_user")}, RunOptions{});
    ASSERT_EQ(out.exit_status, 0) << (out.log.empty() ? "" : out.log.back().text);
    ASSERT_EQ(out.steps.size(), 2u);
    EXPECT_EQ(out.steps[0].name, "deps");
    EXPECT_EQ(out.steps[1].name, "deps_user");
    // deps_user changed deps' variable through the relocated import, called both functions and
    // got deps_gpl_add from symbol_get().
    EXPECT_EQ(lines(out, out.steps[1].log_begin, out.steps[1].log_end),
              (std::vector<std::string>{"deps_user: value=42 add=43 twice=42",
                                        "deps_user: symbol_get found"}));
    // rmmod in reverse order: the user first, then deps (which sees the value changed).
    EXPECT_EQ(lines(out, out.load_log_lines, out.log.size()),
              (std::vector<std::string>{"deps_user: exit", "deps: exit value=42"}));
    EXPECT_EQ(out.steps[0].unload_status, 0);
    EXPECT_EQ(out.steps[1].unload_status, 0);
    EXPECT_EQ(out.load.relocations_applied,
              [&] {
                  size_t n = 0;
                  for (auto [t, c] : out.load.relocation_types) n += c;
                  return n;
              }());
    EXPECT_GT(out.load.relocations_applied, 0u);
}

TEST_P(Deps, WithoutItsDependencyEveryImportIsUnknown) {
    RunOutcome out = run_modules({input(GetParam(), "deps", "deps_user")}, RunOptions{});
    EXPECT_EQ(out.exit_status, ENOENT);
    for (const char* s : {"deps_value", "deps_gpl_add", "deps_ns_twice"})
        EXPECT_TRUE(fx::has_line(out, std::string("deps_user: Unknown symbol ") + s + " (err -2)"))
            << s;
}

TEST_P(Deps, RefusalsOfResolveSymbol) {
    const std::string f = GetParam();
    struct Case {
        ModuleInput second;
        int status;
        std::string line;
    };
    std::vector<Case> cases = {
        // A proprietary module does not see GPL-only exports.
        {input(f, "deps_nogpl", "deps_nogpl"), ENOENT,
         "deps_nogpl: Unknown symbol deps_gpl_add (err -2)"},
        // A namespaced export needs MODULE_IMPORT_NS().
        {input(f, "deps", "deps_nons"), EINVAL,
         "deps_nons: module uses symbol (deps_ns_twice) from namespace KMODEMU_DEPS, but does "
         "not import it."},
        // verify_exported_symbols()
        {input(f, "deps_dup", "deps_dup"), ENOEXEC,
         "deps_dup: exports duplicate symbol deps_value (owned by deps)"},
        // A module of that name is loaded already.
        {input(f, "deps", "deps"), EEXIST, ""},
    };
    for (Case& c : cases) {
        SCOPED_TRACE(c.second.path);
        RunOutcome out = run_modules({input(f, "deps", "deps"), std::move(c.second)}, RunOptions{});
        EXPECT_EQ(out.exit_status, c.status);
        EXPECT_EQ(out.steps.size(), 2u);
        EXPECT_EQ(out.failed_dependency, "");  // the last module failed, not a dependency
        if (!c.line.empty()) {
            EXPECT_TRUE(fx::has_line(out, c.line));
        }
    }
}

TEST_P(Deps, AFailingDependencyStopsTheRun) {
    const std::string f = GetParam();
    ModuleInput user = input(f, "deps", "deps_user");
    ModuleInput dep = input(f, "deps", "deps_user");  // needs deps, which is not there
    std::string dep_path = dep.path;
    RunOutcome out = run_modules({std::move(dep), input(f, "hello", "hello")}, RunOptions{});
    EXPECT_EQ(out.exit_status, ENOENT);
    EXPECT_EQ(out.failed_dependency, dep_path);
    EXPECT_EQ(out.steps.size(), 1u);  // hello was not loaded
}

// delete_module(): a module others use is not unloaded (EWOULDBLOCK) until they are gone; the
// use holds a reference on it, which the user's unload drops.
TEST_P(Deps, ModuleInUseIsNotUnloaded) {
    const std::string f = GetParam();
    Arch arch = f == "arm64" ? Arch::arm64 : Arch::arm;
    Emulator emu(arch);
    KernelConfig cfg;
    cfg.profile = KernelProfile::default_for(arch);
    Kernel kernel(emu, cfg);
    Loader loader(kernel);
    LoadResult a = loader.load(input(f, "deps", "deps").bytes, {});
    ASSERT_EQ(a.err, 0);
    LoadResult b = loader.load(input(f, "deps", "deps_user").bytes, {});
    ASSERT_EQ(b.err, 0);
    ASSERT_TRUE(a.module && b.module);
    EXPECT_EQ(b.module->uses, std::vector<LoadedModule*>{a.module});
    EXPECT_EQ(a.module->users, std::vector<LoadedModule*>{b.module});
    EXPECT_EQ(a.module->refcnt, 2);  // MODULE_REF_BASE + the use (symbol_put gave back its own)
    EXPECT_EQ(loader.unload(*a.module).err, -EWOULDBLOCK);
    EXPECT_EQ(a.module->state, ModuleState::live);
    EXPECT_EQ(loader.unload(*b.module).err, 0);
    EXPECT_TRUE(a.module->users.empty());
    EXPECT_EQ(a.module->refcnt, 1);
    EXPECT_EQ(loader.unload(*a.module).err, 0);
    EXPECT_TRUE(kernel.modules.empty());
}

INSTANTIATE_TEST_SUITE_P(Flavours, Deps, ::testing::Values("arm64", "armhf", "armhf-thumb"));

// With a kit's modversions, an import from a module is checked against the owner's __kcrctab
// (check_version()).
TEST(DepsKit, CrcOfAModuleExportIsChecked) {
    auto prof = KernelProfile::from_kit(KMODEMU_KIT_ARM64);
    RunOptions opts;
    opts.profile = prof;
    ModuleInput deps = input("arm64", "deps", "deps");
    RunOutcome good = run_modules({deps, input("arm64", "deps", "deps_user")}, opts);
    EXPECT_EQ(good.exit_status, 0);
    // The owner's CRC of deps_value changed: the user's __versions disagrees.
    ElfFile elf;
    ASSERT_TRUE(elf.open(deps.bytes, Arch::arm64));
    const ElfSection* crcs = elf.find_section("__kcrctab", true);
    ASSERT_NE(crcs, nullptr);
    ASSERT_GE(crcs->hdr.sh_size, 4u);  // deps_value, the only non-GPL export
    deps.bytes[crcs->hdr.sh_offset] ^= 0x5a;
    RunOutcome bad = run_modules({deps, input("arm64", "deps", "deps_user")}, opts);
    EXPECT_EQ(bad.exit_status, EINVAL);
    EXPECT_TRUE(fx::has_line(bad, "deps_user: disagrees about version of symbol deps_value"));
    EXPECT_TRUE(fx::has_line(bad, "deps_user: Unknown symbol deps_value (err -22)"));
}

using fx::kits;

// modules.dep's text: each module's dependencies as listed.
std::map<std::string, std::vector<std::string>> read_dep(std::istream&& in) {
    std::map<std::string, std::vector<std::string>> m;
    for (std::string line; std::getline(in, line);) {
        size_t c = line.find(':');
        std::istringstream rest(line.substr(c + 1));
        auto& v = m[line.substr(0, c)];
        for (std::string d; rest >> d;) v.push_back(d);
    }
    return m;
}

// ModuleTree::scan() computes what kmod's depmod writes, on every module of every kit: the same
// modules, each with the same dependencies, listed in an order modprobe can load them in (each
// dependency after the modules that need it on the line, as depmod lists them).
TEST(ModuleTree, EqualsDepmodOnEveryKit) {
    for (const std::string& kit : kits()) {
        SCOPED_TRACE(kit);
        std::ifstream env(kit + "/kit.env");
        std::string line, moddir, release;
        while (std::getline(env, line)) {
            if (line.starts_with("KIT_MODULES=")) moddir = line.substr(12);
            if (line.starts_with("KIT_RELEASE=")) release = line.substr(12);
        }
        ASSERT_FALSE(moddir.empty());
        fs::path tmp = fs::path(testing::TempDir()) / ("depmod-" + release);
        fs::remove_all(tmp);
        fs::create_directories(tmp / "lib/modules" / release);
        for (const char* f : {"kernel", "modules.order", "modules.builtin",
                              "modules.builtin.modinfo"}) {
            std::string cmd = "cp -al '" + moddir + "/" + f + "' '" + (tmp / "lib/modules" / release).string() +
                              "/' 2>/dev/null || cp -a '" + moddir + "/" + f + "' '" +
                              (tmp / "lib/modules" / release).string() + "/'";
            ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        }
        std::string depmod = "depmod -b '" + tmp.string() + "' " + release;
        ASSERT_EQ(std::system(depmod.c_str()), 0)
            << depmod << " (kmod's depmod: tools/setup installs the kmod package)";
        auto real = read_dep(std::ifstream(tmp / "lib/modules" / release / "modules.dep"));
        ModuleTree tree = ModuleTree::scan(moddir);
        auto ours = read_dep(std::istringstream(tree.modules_dep()));
        EXPECT_GT(real.size(), 3000u);
        EXPECT_EQ(ours.size(), real.size());
        size_t differ = 0;
        for (const auto& [mod, deps] : real) {
            std::set<std::string> a(deps.begin(), deps.end());
            std::set<std::string> b(ours[mod].begin(), ours[mod].end());
            if (a != b && ++differ <= 5) ADD_FAILURE() << mod << ": dependencies differ from depmod's";
            // A valid order: on each line, a module's own dependencies come after it.
            const auto& line_deps = ours[mod];
            for (size_t i = 0; i < line_deps.size(); ++i)
                for (const std::string& dd : tree.deps(line_deps[i])) {
                    auto at = std::find(line_deps.begin(), line_deps.end(), dd);
                    EXPECT_TRUE(at != line_deps.end() && at > line_deps.begin() + i)
                        << mod << ": " << dd << " must follow " << line_deps[i];
                }
        }
        EXPECT_EQ(differ, 0u);
        fs::remove_all(tmp);
    }
}

TEST(ModuleTree, FindsByNameAndGivesModprobeOrder) {
    ModuleTree tree = ModuleTree::of_kit(KMODEMU_KIT_ARM64);
    auto rel = tree.find("snd-pcm");
    ASSERT_TRUE(rel);
    EXPECT_EQ(tree.find("snd_pcm"), rel);
    EXPECT_EQ(tree.find(tree.dir() + "/" + *rel), rel);
    EXPECT_FALSE(tree.find("no_such_module_here"));
    std::vector<std::string> order = tree.load_order(*rel);
    ASSERT_GE(order.size(), 2u);
    EXPECT_EQ(order.back(), *rel);
    // Every module comes after each of its dependencies.
    for (size_t i = 0; i < order.size(); ++i)
        for (const std::string& d : tree.deps(order[i])) {
            auto at = std::find(order.begin(), order.end(), d);
            EXPECT_TRUE(at < order.begin() + i) << d << " before " << order[i];
        }
    EXPECT_EQ(module_name_of_path("kernel/sound/core/snd-pcm.ko.xz"), "snd_pcm");
}

// A kit's real modules with their dependencies, as modprobe loads them: each dependency's
// exports are what resolve the next module's imports (none of them is Unknown).
TEST(ModuleTree, RealModulesLoadWithTheirDependencies) {
    auto prof = KernelProfile::from_kit(KMODEMU_KIT_ARM64);
    ModuleTree tree = ModuleTree::of_kit(KMODEMU_KIT_ARM64);
    auto rel = tree.find("snd-pcm");
    ASSERT_TRUE(rel);
    std::vector<ModuleInput> mods;
    for (const std::string& r : tree.load_order(*rel)) {
        std::ifstream in(tree.dir() + "/" + r, std::ios::binary);
        mods.push_back({r, std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}), {}});
    }
    size_t n = mods.size();
    RunOptions opts;
    opts.profile = prof;
    opts.auto_stub = true;
    RunOutcome out = run_modules(std::move(mods), opts);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.steps.size(), n);
    for (const LogLine& l : out.log)
        EXPECT_EQ(l.text.find("Unknown symbol"), std::string::npos) << l.text;
    RunOutcome alone = run_modules({[&] {
                                       std::ifstream in(tree.dir() + "/" + *rel, std::ios::binary);
                                       return ModuleInput{*rel,
                                                          std::vector<uint8_t>(
                                                              std::istreambuf_iterator<char>(in), {}),
                                                          {}};
                                   }()},
                                   opts);
    EXPECT_EQ(alone.exit_status, ENOENT);
}

}  // namespace
