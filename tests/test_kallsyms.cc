// The real kernels' own symbol tables (kernel_stubs/real_kernel.h) in every kit: Debian's 6.1
// kernels and, from KMODEMU_KITS, its 6.12 backports, whose scripts/kallsyms.c lays the tables
// out in another order (and, on arm64, lists the data symbols too: CONFIG_KALLSYMS_ALL). Read
// against tools/kit-kallsyms, which decodes only the names, from the token table back.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixture_util.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/real_kernel.h"

using namespace kmodemu;

namespace {

using fx::kits;

struct Kit {
    std::string dir;
    std::shared_ptr<const KernelProfile> profile;
    std::unique_ptr<RealKernel> real;
    std::map<std::string, std::string> env;
};

// The kit at `dir` and its real kernel (a failure when it is not a kit).
std::unique_ptr<Kit> open_kit(const std::string& dir) {
    auto env = read_kit_env(dir + "/kit.env");
    EXPECT_TRUE(env) << "no kit at '" << dir << "'";
    if (!env) return nullptr;
    auto kit = std::make_unique<Kit>();
    kit->dir = dir;
    kit->profile = KernelProfile::from_kit(dir);
    kit->real = std::make_unique<RealKernel>(kit->profile, kit->profile->arch);
    kit->env = *env;
    return kit;
}

// What tools/kit-kallsyms prints for the kit's kernel: "TYPE NAME" lines.
std::vector<std::string> kit_kallsyms(const Kit& kit) {
    std::string image = kit.env.at("KIT_BOOT") + "/vmlinuz-" + kit.env.at("KIT_RELEASE");
    std::string cmd = "'" KMODEMU_SOURCE_DIR "/tools/kit-kallsyms' '" + image + "'";
    std::vector<std::string> lines;
    std::unique_ptr<FILE, int (*)(FILE*)> out(::popen(cmd.c_str(), "r"), ::pclose);
    EXPECT_TRUE(out) << cmd;
    if (!out) return lines;
    std::array<char, 4096> buf;
    std::string line;
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), out.get())) {
        line += buf.data();
        if (line.ends_with('\n')) {
            line.pop_back();
            lines.push_back(std::move(line));
            line.clear();
        }
    }
    EXPECT_EQ(::pclose(out.release()), 0) << cmd;
    return lines;
}

}  // namespace

// Both layouts on both architectures: a kit before 6.4 (Debian's 6.1) and one since (6.12).
TEST(KitKallsyms, KitsOfBothLayouts) {
    std::map<std::pair<Arch, bool>, std::string> seen;  // (arch, 6.4 or later) -> kit
    for (const std::string& dir : kits()) {
        auto kit = open_kit(dir);
        ASSERT_TRUE(kit);
        unsigned major = 0, minor = 0;
        ASSERT_EQ(std::sscanf(kit->profile->release.c_str(), "%u.%u", &major, &minor), 2) << dir;
        seen[{kit->profile->arch, major > 6 || (major == 6 && minor >= 4)}] = dir;
    }
    for (Arch arch : {Arch::arm64, Arch::arm}) {
        EXPECT_TRUE(seen.count({arch, false})) << arch_name(arch) << ": no kit before 6.4";
        EXPECT_TRUE(seen.count({arch, true}))
            << arch_name(arch) << ": no kit of 6.4 or later (KMODEMU_KITS: the 6.12 kits)";
    }
}

// Every symbol, in the tables' order, with its type, as tools/kit-kallsyms decodes them.
TEST(KitKallsyms, ReadsWhatKitKallsymsReads) {
    for (const std::string& dir : kits()) {
        auto kit = open_kit(dir);
        ASSERT_TRUE(kit);
        const Kallsyms* ks = kit->real->kallsyms();
        ASSERT_TRUE(ks) << dir;
        std::vector<std::string> want = kit_kallsyms(*kit);
        ASSERT_EQ(ks->size(), want.size()) << dir;
        size_t differ = 0;
        for (size_t i = 0; i < want.size(); ++i) {
            std::string got = std::string(1, ks->type(i)) + " " + ks->name(i);
            if (got != want[i] && differ++ < 5) ADD_FAILURE() << dir << ": " << i << ": " << got;
        }
        EXPECT_EQ(differ, 0u) << dir;
        for (size_t i = 1; i < ks->size(); ++i)
            ASSERT_LE(ks->address(i - 1), ks->address(i)) << dir << ": " << ks->name(i);
    }
}

// Functions by name, type and placement, and the kernel's text where their code is.
TEST(KitKallsyms, FindsWellKnownFunctions) {
    for (const std::string& dir : kits()) {
        auto kit = open_kit(dir);
        ASSERT_TRUE(kit);
        const Kallsyms* ks = kit->real->kallsyms();
        ASSERT_TRUE(ks) << dir;
        for (const char* name : {"kfree", "_printk", "__memset"}) {
            auto fn = ks->find(name);
            ASSERT_TRUE(fn) << dir << ": " << name;
            EXPECT_EQ(fn->type, 'T') << dir << ": " << name;
            EXPECT_GT(fn->size, 0u) << dir << ": " << name;
            EXPECT_LT(fn->size, 0x4000u) << dir << ": " << name;
            EXPECT_TRUE(ks->code(fn->addr, fn->size)) << dir << ": " << name;
        }
        // memset: a weak alias of __memset, named by the first of the address's aliases.
        auto memset = ks->find("memset"), inner = ks->find("__memset");
        ASSERT_TRUE(memset) << dir;
        EXPECT_EQ(memset->type, 'W') << dir;
        EXPECT_EQ(memset->addr, inner->addr) << dir;
        EXPECT_EQ(memset->name, inner->name) << dir;
        // usercopy_abort(): pr_emerg() (a call of _printk), then BUG() right after the call.
        auto abort = ks->find("usercopy_abort");
        ASSERT_TRUE(abort) << dir;
        auto bug = ks->bug_in(*abort, kit->profile->structs.bug_entry);
        ASSERT_TRUE(bug) << dir;
        EXPECT_EQ(bug->file, "mm/usercopy.c") << dir;
        EXPECT_GE(bug->addr, abort->addr) << dir;
        EXPECT_LT(bug->addr, abort->addr + abort->size) << dir;
        auto ret = ks->return_address("usercopy_abort", "_printk");
        ASSERT_TRUE(ret) << dir;
        EXPECT_EQ(*ret, bug->addr) << dir;
        EXPECT_TRUE(ks->image()) << dir;
    }
}

// With CONFIG_KALLSYMS_ALL (Debian's arm64 6.12) data symbols are listed, sized up to the next
// symbol; without, only text (and the few symbols in its range).
TEST(KitKallsyms, ListsDataWithKallsymsAll) {
    size_t with_all = 0;
    for (const std::string& dir : kits()) {
        auto kit = open_kit(dir);
        ASSERT_TRUE(kit);
        const Kallsyms* ks = kit->real->kallsyms();
        ASSERT_TRUE(ks) << dir;
        auto ctype = ks->find("_ctype");
        if (kit->profile->config.find("CONFIG_KALLSYMS_ALL") != "y") {
            EXPECT_FALSE(ctype) << dir;
            continue;
        }
        ++with_all;
        ASSERT_TRUE(ctype) << dir;
        EXPECT_TRUE(ctype->type == 'D' || ctype->type == 'R') << dir << ": " << ctype->type;
        EXPECT_EQ(ctype->size, 256u) << dir;
        // lib/ctype.c: _ctype[0] is _C (a control character), _ctype[' '] is _S|_SP.
        auto bytes = ks->code(ctype->addr, ctype->size);
        ASSERT_TRUE(bytes) << dir;
        EXPECT_EQ((*bytes)[0], 0x08) << dir;
        EXPECT_EQ((*bytes)[' '], static_cast<char>(0x20 | 0x80)) << dir;
        auto jiffies = ks->find("jiffies");
        ASSERT_TRUE(jiffies) << dir;
        EXPECT_TRUE(jiffies->type == 'D' || jiffies->type == 'B') << dir << ": " << jiffies->type;
    }
    EXPECT_GE(with_all, 1u) << "no kit with CONFIG_KALLSYMS_ALL (Debian's arm64 6.12)";
}

// enum fortify_func of 6.9+ include/linux/fortify-string.h: EACH_FORTIFY_FUNC()'s names in order,
// up to the line that ends the macro.
TEST(KitHeaders, ParsesFortifyFuncs) {
    const char* h =
        "#define FORTIFY_REASON_DIR(r)\t((r) & 1)\n"
        "#define EACH_FORTIFY_FUNC(macro)\t\\\n"
        "\tmacro(strncpy),\t\t\t\\\n"
        "\tmacro(memchr_inv),\t\t\\\n"
        "\tmacro(UNKNOWN),\n"
        "\n"
        "#define MAKE_FORTIFY_FUNC(func)\tFORTIFY_FUNC_##func\n"
        "enum fortify_func { EACH_FORTIFY_FUNC(MAKE_FORTIFY_FUNC) };\n"
        "void f(void) { macro(not_this); }\n";
    EXPECT_EQ(parse_fortify_funcs(h),
              (std::vector<std::string>{"strncpy", "memchr_inv", "UNKNOWN"}));
    EXPECT_TRUE(parse_fortify_funcs("void fortify_panic(const char *name);\n").empty());
}

// The kits' own list: 6.12's names memcpy as FORTIFY_FUNC_memcpy (8), ends with UNKNOWN; 6.1,
// whose fortify_panic() takes the name, has none.
TEST(KitHeaders, FortifyFuncsOfTheKits) {
    for (const std::string& dir : kits()) {
        auto kit = open_kit(dir);
        if (!kit) continue;
        const std::vector<std::string>& funcs = kit->real->fortify_funcs();
        if (!kernel_since(kit->profile.get(), 6, 9)) {
            EXPECT_TRUE(funcs.empty()) << dir;
            continue;
        }
        ASSERT_EQ(funcs.size(), 17u) << dir;
        EXPECT_EQ(funcs[8], "memcpy") << dir;
        EXPECT_EQ(funcs.back(), "UNKNOWN") << dir;
    }
}
