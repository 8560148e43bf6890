#include "kernel_stubs/structs.h"

#include <array>
#include <cstdio>
#include <vector>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace kmodemu {

namespace {

// A value as the probe printed it, a signed number (LIST_POISON1 of a 64-bit kernel is
// negative), as the architecture's unsigned long.
uint64_t as_ulong(int64_t v, Arch arch) {
    return static_cast<uint64_t>(v) & arch_info(arch).word_mask();
}

// What every layout must satisfy whatever its source: the fields kmodemu writes lie inside
// their structures.
void check(const KernelStructs& s, Arch arch, const std::string& where) {
    const uint64_t w = arch_info(arch).word_size;
    const KernelStructs::Task& t = s.task;
    if (!t.comm_len || t.pid + 4 > t.size || t.tgid + 4 > t.size || t.comm + t.comm_len > t.size)
        throw std::runtime_error(where + ": offsets outside struct task_struct");
    const KernelStructs::Module& m = s.module;
    if (!m.name_len || m.state + 4 > m.size || m.name + m.name_len > m.size ||
        m.init + w > m.size || m.exit + w > m.size || m.refcnt + 4 > m.size)
        throw std::runtime_error(where + ": offsets outside struct module");
    const KernelStructs::KernelParam& kp = s.kernel_param;
    if (kp.name + w > kp.size || kp.ops + w > kp.size || kp.flags >= kp.size ||
        kp.arg + w > kp.size)
        throw std::runtime_error(where + ": offsets outside struct kernel_param");
    if (s.modversion_info.name >= s.modversion_info.size || !s.bug_entry.size ||
        s.bug_entry.flags + 2 > s.bug_entry.size || s.kmalloc.shift_high >= 32)
        throw std::runtime_error(where + ": implausible values");
}

}  // namespace

KernelStructs KernelStructs::from_env(const std::map<std::string, std::string>& env, Arch arch,
                                      const std::string& where) {
    KernelStructs s{};
    visit(s, [&](std::string_view key, uint64_t& field, std::optional<Arch> only) {
        if (only && *only != arch) return;
        std::string name = "KIT_" + std::string(key);
        auto it = env.find(name);
        if (it == env.end() || it->second.empty())
            throw std::runtime_error(where + " has no " + name +
                                     " (made by an older tools/kit-layout?)");
        const char* text = it->second.c_str();
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(text, &end, 10);
        if (errno || end == text || *end)
            throw std::runtime_error(where + ": " + name + "=" + it->second + " is not a number");
        field = as_ulong(v, arch);
    });
    check(s, arch, where);
    return s;
}

namespace {

KernelStructs from_embedded(const EmbeddedLayout& e, Arch arch) {
    std::map<std::string, std::string> env;
    for (size_t i = 0; i < e.count; ++i)
        env[std::string("KIT_") + e.values[i].key] = std::to_string(e.values[i].value);
    return KernelStructs::from_env(
        env, arch, std::string("kernel_stubs/exports/layout-") + arch_name(arch) + ".env");
}

}  // namespace

const KernelStructs& KernelStructs::defaults(Arch arch, unsigned version) {
    struct Known {
        unsigned version;
        KernelStructs structs;
    };
    static const auto all = [] {
        std::vector<Known> by_arch[2];
        for (Arch a : {Arch::arm64, Arch::arm}) {
            const EmbeddedLayouts& e =
                a == Arch::arm64 ? default_layouts_arm64 : default_layouts_arm;
            for (size_t i = 0; i < e.count; ++i) {
                unsigned major = 0, minor = 0;
                std::sscanf(e.layouts[i].kernel, "%u.%u", &major, &minor);
                by_arch[static_cast<int>(a)].push_back(
                    {(major << 16) | (minor << 8), from_embedded(e.layouts[i], a)});
            }
        }
        return std::to_array(by_arch);
    }();
    const std::vector<Known>& known = all[static_cast<int>(arch)];
    for (const Known& k : known)
        if (k.version == version) return k.structs;
    return known.front().structs;
}

unsigned KernelStructs::default_version(Arch arch, unsigned version) {
    const EmbeddedLayouts& e = arch == Arch::arm64 ? default_layouts_arm64 : default_layouts_arm;
    unsigned first = 0;
    for (size_t i = 0; i < e.count; ++i) {
        unsigned major = 0, minor = 0;
        std::sscanf(e.layouts[i].kernel, "%u.%u", &major, &minor);
        unsigned v = (major << 16) | (minor << 8);
        if (!i) first = v;
        if (v == version) return v;
    }
    return first;
}

}  // namespace kmodemu
