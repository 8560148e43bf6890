// Typed auto-stubs: prototypes from the BTF of Debian's arm64 kernel images, and the compiled-in
// table made from them; a pretended pointer-returning function returns a zeroed object of its
// pointee's size, never NULL.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "emulator/emulator.h"
#include "kernel_stubs/btf.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "tests/fixture_util.h"
#include "tools/report.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

std::unique_ptr<KernelBtf> kit_btf() {
    auto env = read_kit_env(std::string(KMODEMU_KIT_ARM64) + "/kit.env");
    EXPECT_TRUE(env);
    if (!env) return nullptr;
    return KernelBtf::from_file((*env)["KIT_BOOT"] + "/vmlinuz-" + (*env)["KIT_RELEASE"]);
}

}  // namespace

TEST(Btf, TheArm64KitsImageCarriesItsPrototypes) {
    auto btf = kit_btf();
    ASSERT_TRUE(btf) << "no BTF found in the arm64 kit's image";
    EXPECT_GT(btf->types(), 50000u);
    // struct kset *kset_create_and_add(...); void kfree(const void *); int
    // platform_driver_register-like functions; void *__kmalloc(size_t, gfp_t).
    auto kset = btf->function("kset_create_and_add");
    ASSERT_TRUE(kset);
    EXPECT_EQ(kset->ret, Prototype::Ret::pointer);
    EXPECT_GT(kset->pointee_size, 64u);  // struct kset: a kobject and more
    auto kfree = btf->function("kfree");
    ASSERT_TRUE(kfree);
    EXPECT_EQ(kfree->ret, Prototype::Ret::void_);
    auto reg = btf->function("__platform_driver_register");
    ASSERT_TRUE(reg);
    EXPECT_EQ(reg->ret, Prototype::Ret::integer);
    auto km = btf->function("__kmalloc");
    ASSERT_TRUE(km);
    EXPECT_EQ(*km, (Prototype{Prototype::Ret::pointer, 0}));  // void *
    EXPECT_FALSE(btf->function("kmodemu_missing_one"));
    // Per-CPU variables are BTF VARs with their sizes.
    EXPECT_FALSE(btf->variable_size("kmodemu_missing_one"));
}

TEST(Btf, TheCompiledInTableAgreesWithTheKitsBtfOnPointers) {
    auto btf = kit_btf();
    ASSERT_TRUE(btf);
    size_t compared = 0, pointers = 0;
    btf->for_each_function([&](std::string_view name, Prototype p) {
        auto d = default_prototype(name);
        if (!d) return;  // not exported
        ++compared;
        if (p.ret == Prototype::Ret::pointer) {
            ++pointers;
            EXPECT_EQ(d->ret, Prototype::Ret::pointer) << name;
        }
    });
    EXPECT_GT(compared, 5000u);
    EXPECT_GT(pointers, 500u);
    EXPECT_FALSE(default_prototype("kmodemu_missing_one"));
}

TEST(Btf, PrototypeTextRoundTrips) {
    for (Prototype p :
         {Prototype{Prototype::Ret::void_, 0}, Prototype{Prototype::Ret::integer, 0},
          Prototype{Prototype::Ret::pointer, 0}, Prototype{Prototype::Ret::pointer, 784}})
        EXPECT_EQ(Prototype::parse(p.str()), p) << p.str();
    EXPECT_FALSE(Prototype::parse("ptr x"));
    EXPECT_FALSE(Prototype::parse("long"));
    EXPECT_FALSE(KernelBtf::from_image("no btf here"));
}

TEST(AutoStub, APointerFunctionReturnsAFreshZeroedObjectOfThePointeesSize) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const Export& e = k.add_auto_stub("kset_find_obj", Prototype{Prototype::Ret::pointer, 64});
    const Export& v = k.add_auto_stub("kmodemu_void_ptr", Prototype{Prototype::Ret::pointer, 0});
    const Export& i = k.add_auto_stub("kmodemu_int", Prototype{Prototype::Ret::integer, 0});
    uint64_t a = k.call_guest(e.address, {0, 0});
    uint64_t b = k.call_guest(e.address, {0, 0});
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    EXPECT_NE(a, b);
    EXPECT_GE(k.slab().ksize(a), 64u);  // a kmalloc object (arm64: 128-byte minimum)
    std::vector<uint8_t> zero(64, 0);
    std::vector<uint8_t> got(64, 0xff);
    emu.read(a, got.data(), got.size());
    EXPECT_EQ(got, zero);
    uint64_t page = k.call_guest(v.address, {});
    EXPECT_EQ(k.slab().ksize(page), 0x1000u);
    EXPECT_EQ(k.call_guest(i.address, {}), 0u);
    EXPECT_EQ(e.calls, 2u);
    EXPECT_TRUE(e.auto_stub);
}

TEST(AutoStub, ARunReportsWhatEachPretendedFunctionReturns) {
    // unknown_sym's init returns missing_one() + missing_two(2); renamed to a void function and
    // an int one the kernels export, both pretended, init returns 0.
    auto bytes = fx::rename_import(
        fx::rename_import(fx::module("arm64", "unknown_sym"), "kmodemu_missing_one",
                          "sysfs_notify"),
        "kmodemu_missing_two", "get_unused_fd_flags");
    RunOptions opts;
    opts.auto_stub = true;
    opts.profile = KernelProfile::from_kit(KMODEMU_KIT_ARM64);
    RunOutcome out = run_module(bytes, opts);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.auto_stubs,
              (std::vector<std::string>{"sysfs_notify", "get_unused_fd_flags"}));
    EXPECT_EQ(out.auto_stub_returns["sysfs_notify"], "0 (void)");
    EXPECT_EQ(out.auto_stub_returns["get_unused_fd_flags"], "0");
    nlohmann::json js = make_report(out, "unknown_sym.ko");
    EXPECT_EQ(js["auto_stub_returns"]["get_unused_fd_flags"], "0");
    EXPECT_EQ(out.calls["get_unused_fd_flags"], 1u);
    // A pointer: kset_find_obj returns a struct kobject *.
    auto ptr = fx::rename_import(fx::module("arm64", "unknown_sym"), "kmodemu_missing_one",
                                 "kset_find_obj");
    out = run_module(ptr, opts);
    EXPECT_TRUE(out.auto_stub_returns["kset_find_obj"].starts_with("a zeroed object of "))
        << out.auto_stub_returns["kset_find_obj"];
}

// A real Debian 6.12 module, compressed as Debian ships it (.ko.xz), on its own kernel's kit
// (KMODEMU_KITS): `fips_enabled` is data, and since that kernel lists data in kallsyms
// (CONFIG_KALLSYMS_ALL) its zeroed object has the kernel's size for it, 8 bytes (an int, and
// the padding up to the next symbol).
TEST(AutoStub, DataObjectsHaveTheKernelsSizeWhereKallsymsListsData) {
    std::string kit;
    std::istringstream extra(KMODEMU_KITS);
    for (std::string k; std::getline(extra, k, ':');)
        if (k.find("arm64") != std::string::npos) kit = k;
    ASSERT_FALSE(kit.empty()) << "no arm64 6.12 kit in KMODEMU_KITS";
    auto env = read_kit_env(kit + "/kit.env");
    ASSERT_TRUE(env);
    std::string ko = (*env)["KIT_MODULES"] + "/kernel/lib/crypto/libdes.ko.xz";
    std::ifstream in(ko, std::ios::binary);
    ASSERT_TRUE(in.good()) << ko;
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    RunOptions opts;
    opts.auto_stub = true;
    opts.profile = KernelProfile::from_kit(kit);
    RunOutcome out = run_module(bytes, opts);
    EXPECT_EQ(out.compression, "xz");
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.load.auto_stub_data, std::vector<std::string>{"fips_enabled"});
    bool said = false;
    for (const std::string& d : out.diagnostics)
        said |= d.find("fips_enabled is data in 6.12") != std::string::npos &&
                d.find("a zeroed object of 8 bytes (the kernel's size, from kallsyms") !=
                    std::string::npos;
    EXPECT_TRUE(said);
}
