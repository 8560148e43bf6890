// Kernel profiles: the built-in default kernel (no --kernel), whose exports are those of the real
// kernels of kernel_stubs/exports/, and the cache that makes a kit's profile cheap to load.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <sstream>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"
#include "loader/elf_file.h"
#include "tests/fixture_util.h"
#include "tools/report.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;
using fx::texts;
namespace fs = std::filesystem;

namespace {

std::string kit_for(Arch arch) {
    return arch == Arch::arm64 ? KMODEMU_KIT_ARM64 : KMODEMU_KIT_ARMHF;
}

std::string data_file(Arch arch) {
    return std::string(KMODEMU_SOURCE_DIR) + "/kernel_stubs/exports/" + arch_name(arch) + ".txt";
}

// The default kernel's struct layouts (tools/gen-default-layout).
std::string layout_file(Arch arch) {
    return std::string(KMODEMU_SOURCE_DIR) + "/kernel_stubs/exports/layout-" + arch_name(arch) +
           ".env";
}

// Every value of a KernelStructs by its layout.env key (the keys of the architecture).
std::map<std::string, uint64_t> values(const KernelStructs& s, Arch arch) {
    std::map<std::string, uint64_t> out;
    KernelStructs copy = s;
    KernelStructs::visit(copy, [&](std::string_view key, uint64_t& v, std::optional<Arch> only) {
        if (!only || *only == arch) out[std::string(key)] = v;
    });
    return out;
}

// The symbols of a data file: NAME [G|-[D] [NAMESPACE]] per line.
struct DataLine {
    std::string name, ns;
    bool gpl = false, data = false;
};
std::vector<DataLine> read_data_file(Arch arch) {
    std::ifstream in(data_file(arch));
    EXPECT_TRUE(in.good()) << data_file(arch);
    std::vector<DataLine> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream f(line);
        DataLine d;
        std::string flag;
        f >> d.name >> flag >> d.ns;
        d.gpl = flag.starts_with("G");
        d.data = flag.ends_with("D");
        out.push_back(d);
    }
    return out;
}

RunOutcome run(std::vector<uint8_t> bytes, std::shared_ptr<const KernelProfile> profile = nullptr,
               bool auto_stub = false) {
    RunOptions opts;
    opts.budget = 5'000'000;
    opts.profile = std::move(profile);
    opts.auto_stub = auto_stub;
    return run_module(std::move(bytes), opts);
}

std::shared_ptr<const KernelProfile> kit(Arch arch) {
    static std::shared_ptr<const KernelProfile> p[2];
    auto& slot = p[arch == Arch::arm];
    if (!slot) slot = KernelProfile::from_kit(kit_for(arch));
    return slot;
}

bool has_diag(const RunOutcome& out, const std::string& part) {
    for (const std::string& d : out.diagnostics)
        if (d.find(part) != std::string::npos) return true;
    return false;
}

class DefaultProfile : public ::testing::TestWithParam<Arch> {};

}  // namespace

TEST_P(DefaultProfile, ExportsAreTheDataFile) {
    auto p = KernelProfile::default_for(GetParam());
    EXPECT_TRUE(p->generic);
    EXPECT_EQ(p->arch, GetParam());
    std::vector<DataLine> data = read_data_file(GetParam());
    ASSERT_GT(data.size(), 5000u);
    ASSERT_EQ(p->exports.size(), data.size());
    for (size_t i = 0; i < data.size(); ++i) {
        ProfileSymbol s = p->exports[i];
        ASSERT_EQ(s.name, data[i].name) << i;
        EXPECT_EQ(s.gpl_only, data[i].gpl) << s.name;
        EXPECT_EQ(s.data, data[i].data) << s.name;
        EXPECT_EQ(s.ns, data[i].ns) << s.name;
        EXPECT_EQ(s.crc, 0u);
        if (i) {
            EXPECT_LT(p->exports[i - 1].name, s.name);  // sorted: find() is a binary search
        }
        auto found = p->exports.find(data[i].name);
        ASSERT_TRUE(found) << data[i].name;
        EXPECT_EQ(found->name, data[i].name);
    }
    EXPECT_FALSE(p->exports.find("kmodemu_missing_one"));
    EXPECT_FALSE(p->exports.find(""));
    EXPECT_NE(p->kernels.find("6.1.0-"), std::string::npos) << p->kernels;
}

TEST_P(DefaultProfile, IsTheUnionOfTheKitsExports) {
    // Every vmlinux export of the kit is in the default, GPL-only when the kit has it so (the
    // default is GPL-only only where every kernel is) and in its namespace, unless the kernels
    // disagree, where the default asks for none. The default is made of the 6.1 and 6.12 kits.
    auto d = KernelProfile::default_for(GetParam());
    auto k = KernelProfile::read_kit(kit_for(GetParam()));
    size_t ns_dropped = 0;
    for (size_t i = 0; i < k->exports.size(); ++i) {
        ProfileSymbol s = k->exports[i];
        auto in_default = d->exports.find(s.name);
        ASSERT_TRUE(in_default) << s.name;
        if (in_default->gpl_only) {
            EXPECT_TRUE(s.gpl_only) << s.name;
        }
        if (in_default->ns != s.ns) {
            EXPECT_EQ(in_default->ns, "") << s.name;
            ++ns_dropped;
        }
    }
    EXPECT_LT(ns_dropped, 50u);
    EXPECT_GT(d->exports.size(), k->exports.size());
    EXPECT_NE(d->kernels.find(k->release), std::string::npos) << d->kernels;
    EXPECT_NE(d->kernels.find("6.12."), std::string::npos) << d->kernels;
    // The 6.12 names of functions the 6.1 kernels call otherwise.
    for (const char* n : {"__kmalloc_cache_noprof", "__list_add_valid_or_report", "kmalloc_trace"})
        EXPECT_TRUE(d->exports.find(n)) << n;
}

TEST_P(DefaultProfile, StubsNoRealKernelExportsStayInternal) {
    // What kmodemu implements beyond the real kernels' exports (printk, arm64's
    // _raw_spin_*, ARM's __aeabi_uldivmod, ...) may stay in the stub table as internal helpers,
    // but a module importing one fails as on the real kernels.
    Emulator emu(GetParam());
    Kernel kernel(emu);
    ASSERT_TRUE(kernel.config().profile);
    EXPECT_TRUE(kernel.config().profile->generic);
    std::vector<std::string> internal;
    for (const auto& e : kernel.exports())
        if (!kernel.config().profile->exports.find(e->name)) internal.push_back(e->name);
    std::string list;
    for (const std::string& n : internal)
        list += " " + n;
    RecordProperty("internal_stubs", list);
    std::string flavour = GetParam() == Arch::arm64 ? "arm64" : "armhf";
    const std::string slot = "kmodemu_missing_one";  // an import of fixtures/unknown_sym
    size_t tried = 0;
    for (const std::string& n : internal) {
        if (n.size() > slot.size()) continue;
        RunOutcome out = run(fx::rename_import(fx::module(flavour, "unknown_sym"), slot, n));
        EXPECT_EQ(out.exit_status, ENOENT) << n;
        EXPECT_TRUE(has_line(out, "unknown_sym: Unknown symbol " + n + " (err -2)")) << n;
        ++tried;
    }
    EXPECT_GT(tried, 0u);
    EXPECT_FALSE(kernel.config().profile->exports.find("printk"));
    EXPECT_EQ(!kernel.config().profile->exports.find("_raw_spin_lock"), GetParam() == Arch::arm64);
    EXPECT_EQ(!kernel.config().profile->exports.find("__aeabi_uldivmod"), true);
}

// The default kernel's struct layouts are those tools/kit-layout found in its kits (the kits the
// test build is given are the ones kernel_stubs/exports/ names), compiled in from the data file.
TEST_P(DefaultProfile, StructsAreTheLayoutOfItsKits) {
    Arch arch = GetParam();
    auto d = KernelProfile::default_for(arch);
    const KernelStructs& defaults = KernelStructs::defaults(arch);
    EXPECT_EQ(values(d->structs, arch), values(defaults, arch));
    // Every kit the build has (the main one, KMODEMU_KITS) whose release the default kernel
    // names: the default kernel of that version lays its structures out as the kit does.
    std::vector<std::string> kits{kit_for(arch)};
    std::istringstream extra(KMODEMU_KITS);
    for (std::string k; std::getline(extra, k, ':');)
        if (!k.empty()) kits.push_back(k);
    const EmbeddedLayouts& embedded =
        arch == Arch::arm64 ? default_layouts_arm64 : default_layouts_arm;
    ASSERT_GE(embedded.count, 2u);  // 6.1 and 6.12
    size_t matched = 0;
    for (const std::string& dir : kits) {
        auto k = KernelProfile::read_kit(dir);
        if (k->arch != arch) continue;
        bool named = false;
        for (size_t i = 0; i < embedded.count; ++i)
            named |= std::string(embedded.layouts[i].kernel).starts_with(k->release + " ");
        ASSERT_TRUE(named) << k->release << " is not a kit of the default kernel";
        unsigned v = kernel_version(k.get());
        EXPECT_EQ(KernelStructs::default_version(arch, v), v);
        EXPECT_EQ(values(k->structs, arch), values(KernelStructs::defaults(arch, v), arch))
            << k->release;
        auto dv = KernelProfile::default_for(arch, v);
        EXPECT_EQ(kernel_version(dv.get()), v);
        EXPECT_EQ(values(dv->structs, arch), values(k->structs, arch)) << k->release;
        ++matched;
    }
    EXPECT_EQ(matched, embedded.count);
    // The first kernel's is the default kernel's own; an unknown version gets it too.
    EXPECT_EQ(KernelStructs::default_version(arch, 0), kernel_version_code(6, 1));
    EXPECT_EQ(KernelStructs::default_version(arch, kernel_version_code(5, 15)),
              kernel_version_code(6, 1));
    EXPECT_GT(values(defaults, arch).size(), 70u);
}

// Facts of Debian's 6.1 kernels the probe must find (what kmodemu hard-coded before).
TEST_P(DefaultProfile, StructsHaveTheKnownValues) {
    Arch arch = GetParam();
    const KernelStructs& s = KernelStructs::defaults(arch);
    const uint64_t w = arch_info(arch).word_size;
    EXPECT_EQ(s.kernel_param.size, 5 * w);
    EXPECT_EQ(s.kernel_param.ops, 2 * w);
    EXPECT_EQ(s.kernel_param.arg, 4 * w);
    EXPECT_EQ(s.kernel_param_ops.set, w);
    EXPECT_EQ(s.notifier_block.next, w);
    EXPECT_EQ(s.module.state, 0u);
    EXPECT_EQ(s.module.name, 3 * w);
    EXPECT_EQ(s.module.name_len, 64 - w);  // MODULE_NAME_LEN: MAX_PARAM_PREFIX_LEN
    EXPECT_EQ(s.modversion_info.size, 64u);
    EXPECT_EQ(s.list_head.prev, w);
    EXPECT_EQ(s.bug_entry.size, 12u);
    EXPECT_EQ(s.bug_entry.relative, arch == Arch::arm64 ? 1u : 0u);
    EXPECT_EQ(s.module_state.live, 0u);
    EXPECT_EQ(s.module_state.unformed, 3u);
    EXPECT_EQ(s.list_head.poison1, arch == Arch::arm64 ? 0xdead000000000100ull : 0x100u);
    EXPECT_EQ(s.list_head.poison2, arch == Arch::arm64 ? 0xdead000000000122ull : 0x122u);
    EXPECT_EQ(s.blocking_notifier_head.head, arch == Arch::arm64 ? 40u : 24u);
    EXPECT_EQ(s.mutex.wait_list, arch == Arch::arm64 ? 16u : 12u);
    EXPECT_EQ(s.kmalloc.min_size, arch == Arch::arm64 ? 128u : 64u);
}

INSTANTIATE_TEST_SUITE_P(Arch, DefaultProfile, ::testing::Values(Arch::arm64, Arch::arm),
                         [](const auto& info) { return std::string(arch_name(info.param)); });

TEST(DefaultKernel, PrintkIsAnUnknownSymbolAsOnTheRealKernel) {
    // printk() has been a macro around _printk() since 5.15: no arm64 kernel exports printk.
    auto bytes = fx::rename_import(fx::module("arm64", "hello"), "_printk", "printk");
    RunOutcome out = run(bytes);
    EXPECT_EQ(out.exit_status, ENOENT);
    EXPECT_TRUE(has_line(out, "hello: Unknown symbol printk (err -2)"));
    EXPECT_FALSE(out.load.init_ran);
    // The kit's kernel says the same.
    RunOutcome real = run(bytes, kit(Arch::arm64));
    EXPECT_EQ(real.exit_status, ENOENT);
    EXPECT_EQ(texts(out), texts(real));
}

TEST(DefaultKernel, GplOnlyExportsAreRefusedToProprietaryModules) {
    auto d = KernelProfile::default_for(Arch::arm64);
    ASSERT_TRUE(d->exports.find("blocking_notifier_chain_register"));
    EXPECT_TRUE(d->exports.find("blocking_notifier_chain_register")->gpl_only);
    EXPECT_FALSE(d->exports.find("_printk")->gpl_only);
    // hello with MODULE_LICENSE("BSD"): check_exported_symbol() skips the _gpl exports, so
    // resolve_symbol() reports them unknown, as 6.1.0-57-arm64 did under QEMU (tests/oracle).
    for (const char* flavour : {"arm64", "armhf"}) {
        SCOPED_TRACE(flavour);
        std::string path =
            std::string(KMODEMU_FIXTURES) + "/" + flavour + "/variants/hello_license.ko";
        std::ifstream in(path, std::ios::binary);
        ASSERT_TRUE(in.good()) << path;
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
        RunOutcome out = run(bytes);
        EXPECT_EQ(out.exit_status, ENOENT);
        std::vector<std::string> want = {
            "hello: loading out-of-tree module taints kernel.",
            "hello: module license 'BSD' taints kernel.",
            "Disabling lock debugging due to kernel taint",
            "hello: module verification failed: signature and/or required key missing - "
            "tainting kernel",
            "hello: Unknown symbol blocking_notifier_chain_register (err -2)",
            "hello: Unknown symbol blocking_notifier_call_chain (err -2)",
            "hello: Unknown symbol blocking_notifier_chain_unregister (err -2)"};
        EXPECT_EQ(texts(out), want);
    }
}

TEST(DefaultKernel, NoVermagicOrCrcChecks) {
    for (const char* variant : {"hello_vermagic", "hello_crc"}) {
        SCOPED_TRACE(variant);
        std::string path = std::string(KMODEMU_FIXTURES) + "/arm64/variants/" + variant + ".ko";
        std::ifstream in(path, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
        ASSERT_FALSE(bytes.empty()) << path;
        EXPECT_EQ(run(bytes).exit_status, 0);
        EXPECT_NE(run(bytes, kit(Arch::arm64)).exit_status, 0);  // the kit's kernel checks
    }
}

TEST(DefaultKernel, NamespacesAreEnforced) {
    // crypto_cipher_setkey is exported in CRYPTO_INTERNAL; the module does not import it.
    RunOutcome out = run(fx::module("arm64", "ns_missing"));
    EXPECT_EQ(out.exit_status, EINVAL);
    EXPECT_TRUE(has_line(out,
                         "ns_missing: module uses symbol (crypto_cipher_setkey) from namespace "
                         "CRYPTO_INTERNAL, but does not import it."));
    EXPECT_EQ(texts(out), texts(run(fx::module("arm64", "ns_missing"), kit(Arch::arm64))));
}

TEST(DefaultKernel, ExportedButUnimplementedBindsLazilyAndStopsWhenCalled) {
    // A module calling two functions real kernels export but kmodemu does not implement: the
    // kernel resolves both, so the load goes on to init, which calls the first one.
    auto d = KernelProfile::default_for(Arch::arm64);
    Emulator emu(Arch::arm64);
    Kernel kernel(emu);
    const std::string one = "kobject_get_path", two = "kset_find_obj";
    for (const std::string& n : {one, two}) {
        ASSERT_TRUE(d->exports.find(n)) << n;
        ASSERT_FALSE(kernel.find_export(n)) << n << " is implemented now: pick another";
    }
    auto bytes = fx::rename_import(
        fx::rename_import(fx::module("arm64", "unknown_sym"), "kmodemu_missing_one", one),
        "kmodemu_missing_two", two);
    RunOutcome out = run(bytes);
    EXPECT_EQ(out.exit_status, exit_unimplemented);
    EXPECT_EQ(out.ending, "unimplemented");
    EXPECT_EQ(out.load.phase, LoadResult::Phase::init);
    EXPECT_TRUE(out.load.init_ran);
    EXPECT_EQ(out.unimplemented, (std::vector<std::string>{one, two}));
    ASSERT_TRUE(out.unimplemented_call);
    EXPECT_EQ(out.unimplemented_call->function, one);
    EXPECT_EQ(out.unimplemented_call->module, "unknown_sym");
    EXPECT_TRUE(out.unimplemented_call->where.starts_with("unknown_sym_init+0x"))
        << out.unimplemented_call->where;
    EXPECT_TRUE(out.unimplemented_call->where.ends_with(" [unknown_sym]"));
    EXPECT_TRUE(has_diag(out, "exported by the default kernel (6.1.0-"));
    EXPECT_TRUE(has_diag(out, "unknown_sym called " + one +
                                  ", which kmodemu does not implement (from unknown_sym_init+0x"));
    for (const std::string& t : texts(out))
        EXPECT_EQ(t.find("Unknown symbol"), std::string::npos) << t;
    nlohmann::json js = make_report(out, "unknown_sym.ko");
    EXPECT_EQ(js["unimplemented_call"]["function"], one);
    EXPECT_EQ(js["unimplemented_call"]["where"], out.unimplemented_call->where);
    // The kit's kernel too (it also warns that the module has no CRCs for them).
    RunOutcome real = run(bytes, kit(Arch::arm64));
    EXPECT_EQ(real.exit_status, exit_unimplemented);
    EXPECT_EQ(real.unimplemented, out.unimplemented);
    ASSERT_TRUE(real.unimplemented_call);
    EXPECT_EQ(real.unimplemented_call->function, one);
    // --auto-stub pretends them, and only them.
    out = run(bytes, nullptr, true);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.auto_stubs, (std::vector<std::string>{one, two}));
    EXPECT_FALSE(out.unimplemented_call);
}

TEST(DefaultKernel, ArmHelpersTheArmmpKernelDoesNotExportAreUnknown) {
    // 64-bit division compiles to __aeabi_uldivmod/__aeabi_ldivmod, which arch/arm/kernel/
    // armksyms.c does not export: the real armmp kernel refuses arith (tests/oracle).
    for (const char* flavour : {"armhf", "armhf-thumb"}) {
        SCOPED_TRACE(flavour);
        RunOutcome out = run(fx::module(flavour, "arith"));
        EXPECT_EQ(out.exit_status, ENOENT);
        EXPECT_TRUE(has_line(out, "arith: Unknown symbol __aeabi_uldivmod (err -2)"));
        EXPECT_TRUE(has_line(out, "arith: Unknown symbol __aeabi_ldivmod (err -2)"));
    }
}

TEST(DefaultKernel, AcceptsThumb2RelocationsAsAThumb2Kernel) {
    // The default behaves as a CONFIG_THUMB2_KERNEL build; Debian's armmp is not one.
    RunOutcome out = run(fx::module("armhf-thumb", "hello"));
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.kernel, "generic");
    EXPECT_FALSE(kit(Arch::arm)->thumb2_kernel);
    EXPECT_EQ(run(fx::module("armhf-thumb", "hello"), kit(Arch::arm)).exit_status, ENOEXEC);
}

// --- the cache of a kit's profile ---

namespace {

void expect_same(const KernelProfile& a, const KernelProfile& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.release, b.release);
    EXPECT_EQ(a.vermagic, b.vermagic);
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.generic, b.generic);
    EXPECT_EQ(a.modversions, b.modversions);
    EXPECT_EQ(a.thumb2_kernel, b.thumb2_kernel);
    EXPECT_EQ(a.hz, b.hz);
    ASSERT_EQ(a.exports.size(), b.exports.size());
    for (size_t i = 0; i < a.exports.size(); ++i) {
        EXPECT_EQ(a.exports[i].name, b.exports[i].name);
        EXPECT_EQ(a.exports[i].crc, b.exports[i].crc);
        EXPECT_EQ(a.exports[i].gpl_only, b.exports[i].gpl_only);
        EXPECT_EQ(a.exports[i].ns, b.exports[i].ns);
    }
    EXPECT_EQ(a.config.size(), b.config.size());
    EXPECT_EQ(values(a.structs, a.arch), values(b.structs, b.arch));
}

void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A small kit of its own in a temporary directory.
class ProfileCache : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/kmodemu-profile-test.XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir = tmpl;
        fs::create_directories(dir + "/headers");
        fs::create_directories(dir + "/boot");
        write(dir + "/kit.env",
              "KIT_ARCH=arm64\nKIT_RELEASE=6.1.0-99-test\n"
              "KIT_VERMAGIC=\"6.1.0-99-test SMP mod_unload modversions aarch64\"\n"
              "KIT_HEADERS=" +
                  dir + "/headers\nKIT_BOOT=" + dir + "/boot\n");
        write(dir + "/headers/Module.symvers",
              "0x12345678\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n"
              "0x0badcafe\tkfree\tvmlinux\tEXPORT_SYMBOL\t\n"
              "0x00000001\tcrypto_cipher_setkey\tvmlinux\tEXPORT_SYMBOL_GPL\tCRYPTO_INTERNAL\n"
              "0x00000002\tsome_module_func\tdrivers/foo/foo\tEXPORT_SYMBOL\t\n"
              "0xdeadbeef\tblocking_notifier_chain_register\tvmlinux\tEXPORT_SYMBOL_GPL\t\n");
        write(dir + "/boot/config-6.1.0-99-test",
              "# comment\nCONFIG_MODVERSIONS=y\nCONFIG_HZ=100\n# CONFIG_THUMB2_KERNEL is not set\n"
              "CONFIG_LOCALVERSION=\"\"\n");
        // The default kernel's first kernel's section (6.1, as this kit's release).
        std::ifstream in(layout_file(Arch::arm64));
        std::string first;
        int kernels = 0;
        for (std::string line; std::getline(in, line);) {
            if (line.starts_with("# kernel:") && ++kernels > 1) break;
            first += line + "\n";
        }
        write(dir + "/layout.env", first);
        cache = KernelProfile::cache_path(dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string dir, cache;
};

}  // namespace

TEST_F(ProfileCache, IsWrittenOnceThenMapped) {
    EXPECT_FALSE(fs::exists(cache));
    auto a = KernelProfile::from_kit(dir);
    ASSERT_TRUE(fs::exists(cache));
    struct stat s1 {};
    ASSERT_EQ(stat(cache.c_str(), &s1), 0);
    auto b = KernelProfile::from_kit(dir);
    struct stat s2 {};
    ASSERT_EQ(stat(cache.c_str(), &s2), 0);
    EXPECT_EQ(s1.st_ino, s2.st_ino);  // not rewritten
    EXPECT_EQ(s1.st_mtim.tv_nsec, s2.st_mtim.tv_nsec);
    auto parsed = KernelProfile::read_kit(dir);
    expect_same(*a, *parsed);
    expect_same(*b, *parsed);
    EXPECT_EQ(b->release, "6.1.0-99-test");
    EXPECT_EQ(b->kernels, "6.1.0-99-test");
    EXPECT_FALSE(b->generic);
    EXPECT_TRUE(b->modversions);
    EXPECT_FALSE(b->thumb2_kernel);
    EXPECT_EQ(b->hz, 100);
    EXPECT_EQ(b->exports.size(), 4u);  // vmlinux's only
    EXPECT_FALSE(b->exports.find("some_module_func"));
    EXPECT_EQ(b->exports.find("kfree")->crc, 0x0badcafeu);
    EXPECT_TRUE(b->exports.find("crypto_cipher_setkey")->gpl_only);
    EXPECT_EQ(b->exports.find("crypto_cipher_setkey")->ns, "CRYPTO_INTERNAL");
    EXPECT_EQ(b->config.find("CONFIG_HZ"), "100");
    EXPECT_EQ(b->config.find("CONFIG_LOCALVERSION"), "\"\"");
    EXPECT_FALSE(b->config.find("CONFIG_THUMB2_KERNEL"));
}

TEST_F(ProfileCache, StaleWhenASourceChanges) {
    auto a = KernelProfile::from_kit(dir);
    EXPECT_FALSE(a->exports.find("kmalloc"));
    // A different Module.symvers (size and mtime differ).
    write(dir + "/headers/Module.symvers",
          "0x00000003\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n"
          "0x12345678\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n");
    auto b = KernelProfile::from_kit(dir);
    EXPECT_TRUE(b->exports.find("kmalloc"));
    EXPECT_EQ(b->exports.size(), 2u);
    // The config, same size, another mtime.
    write(dir + "/boot/config-6.1.0-99-test",
          "# comment\nCONFIG_MODVERSIONS=y\nCONFIG_HZ=300\n# CONFIG_THUMB2_KERNEL is not set\n"
          "CONFIG_LOCALVERSION=\"\"\n");
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, (dir + "/boot/config-6.1.0-99-test").c_str(), times, 0), 0);
    EXPECT_EQ(KernelProfile::from_kit(dir)->hz, 300);
    // And the one now cached is current.
    expect_same(*KernelProfile::from_kit(dir), *KernelProfile::read_kit(dir));
}

TEST_F(ProfileCache, DamagedCacheIsIgnoredAndRebuilt) {
    KernelProfile::from_kit(dir);
    std::string good = read(cache);
    ASSERT_GT(good.size(), 200u);
    std::vector<std::string> damaged = {
        "",
        "not a cache",
        good.substr(0, good.size() / 2),
        good + "trailing",
        std::string(good.size(), '\0'),
    };
    for (size_t at :
         {size_t(0), size_t(12), size_t(40), size_t(100), good.size() / 2, good.size() - 1}) {
        std::string flipped = good;
        flipped[at] ^= 0x20;
        damaged.push_back(flipped);
    }
    auto parsed = KernelProfile::read_kit(dir);
    for (size_t i = 0; i < damaged.size(); ++i) {
        SCOPED_TRACE(i);
        write(cache, damaged[i]);
        auto p = KernelProfile::from_kit(dir);
        expect_same(*p, *parsed);
        EXPECT_EQ(read(cache), good);  // rebuilt
    }
}

TEST_F(ProfileCache, ReadOnlyKitCachesUnderXdgCacheHome) {
    // A directory where the cache file would go: the kit's cache cannot be written there.
    fs::create_directories(cache);
    std::string xdg = dir + "/xdg";
    const char* old = std::getenv("XDG_CACHE_HOME");
    std::string saved = old ? old : "";
    setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
    auto a = KernelProfile::from_kit(dir);
    std::vector<fs::path> made;
    if (fs::exists(xdg + "/kmodemu"))
        for (const auto& e : fs::directory_iterator(xdg + "/kmodemu"))
            made.push_back(e.path());
    ASSERT_EQ(made.size(), 1u);
    auto mtime = fs::last_write_time(made[0]);
    auto b = KernelProfile::from_kit(dir);
    EXPECT_EQ(fs::last_write_time(made[0]), mtime);  // used, not rewritten
    if (old)
        setenv("XDG_CACHE_HOME", saved.c_str(), 1);
    else
        unsetenv("XDG_CACHE_HOME");
    expect_same(*a, *KernelProfile::read_kit(dir));
    expect_same(*b, *KernelProfile::read_kit(dir));
}

TEST_F(ProfileCache, UnusableKitIsAReadableError) {
    fs::remove(dir + "/headers/Module.symvers");
    try {
        KernelProfile::from_kit(dir);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("Module.symvers"), std::string::npos) << e.what();
    }
    EXPECT_THROW(KernelProfile::from_kit(dir + "/nowhere"), std::runtime_error);
}

// A kit's layout.env must have every key kmodemu reads: one made by an older tools/kit-layout
// (or none) is refused with what to run.
TEST_F(ProfileCache, LayoutEnvLackingAKeyIsAClearError) {
    auto expect_error = [&](const std::string& part) {
        try {
            KernelProfile::from_kit(dir);
            ADD_FAILURE() << "no error";
        } catch (const std::runtime_error& e) {
            std::string what = e.what();
            EXPECT_NE(what.find(part), std::string::npos) << what;
            EXPECT_NE(what.find("tools/kit-layout " + dir + " makes it"), std::string::npos)
                << what;
        }
    };
    std::string all = read(dir + "/layout.env"), without;
    std::istringstream lines(all);
    for (std::string line; std::getline(lines, line);)
        if (!line.starts_with("KIT_MUTEX_WAIT_LIST=")) without += line + "\n";
    ASSERT_LT(without.size(), all.size());
    write(dir + "/layout.env", without);
    expect_error("layout.env has no KIT_MUTEX_WAIT_LIST");
    // The layout.env of kit-layout before every struct came from the kit (and before the task's
    // preempt count was read).
    write(dir + "/layout.env",
          "KIT_TASK_STRUCT_SIZE=4160\nKIT_TASK_PID=1352\nKIT_TASK_TGID=1356\n"
          "KIT_TASK_COMM=1912\nKIT_TASK_COMM_LEN=16\n");
    expect_error("layout.env has no KIT_TASK_PREEMPT_COUNT");
    write(dir + "/layout.env",
          "KIT_TASK_STRUCT_SIZE=4160\nKIT_TASK_PID=1352\nKIT_TASK_TGID=1356\n"
          "KIT_TASK_COMM=1912\nKIT_TASK_COMM_LEN=16\nKIT_TASK_PREEMPT_COUNT=8\n"
          "KIT_TASK_STATE=24\n");
    expect_error("layout.env has no KIT_MODULE_SIZE");
    write(dir + "/layout.env", all + "KIT_MUTEX_OWNER=x\n");
    expect_error("KIT_MUTEX_OWNER=x is not a number");
    fs::remove(dir + "/layout.env");
    expect_error("layout.env is missing");
    write(dir + "/layout.env", all);
    EXPECT_EQ(values(KernelProfile::from_kit(dir)->structs, Arch::arm64),
              values(KernelStructs::defaults(Arch::arm64), Arch::arm64));
}

// Without ARM's own keys an ARM kit is refused; an arm64 kit needs none of them.
TEST(KernelStructs, ArchitectureOnlyKeys) {
    std::map<std::string, std::string> env;
    const EmbeddedLayout& default_layout_arm64 = default_layouts_arm64.layouts[0];
    const EmbeddedLayout& default_layout_arm = default_layouts_arm.layouts[0];
    for (const LayoutValue* v = default_layout_arm64.values;
         v != default_layout_arm64.values + default_layout_arm64.count; ++v)
        env[std::string("KIT_") + v->key] = std::to_string(v->value);
    EXPECT_NO_THROW(KernelStructs::from_env(env, Arch::arm64, "arm64"));
    EXPECT_THROW(KernelStructs::from_env(env, Arch::arm, "arm"), std::runtime_error);
    EXPECT_FALSE(missing_layout_key(std::span(default_layout_arm.values, default_layout_arm.count),
                                    Arch::arm));
    EXPECT_EQ(missing_layout_key(std::span(default_layout_arm64.values, default_layout_arm64.count),
                                 Arch::arm),
              "ARM_DELAY_OPS_SIZE");
}

TEST(ProfileCacheOfTheKits, SameAsParsingTheKit) {
    for (Arch arch : {Arch::arm64, Arch::arm}) {
        SCOPED_TRACE(arch_name(arch));
        auto cached = KernelProfile::from_kit(kit_for(arch));
        auto parsed = KernelProfile::read_kit(kit_for(arch));
        expect_same(*cached, *parsed);
        EXPECT_EQ(cached->config.find("CONFIG_MODVERSIONS"), "y");
        EXPECT_EQ(parsed->config.find("CONFIG_MODVERSIONS"), "y");
    }
}
