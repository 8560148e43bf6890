#include "kernel_stubs/profile.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace kmodemu {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string text(static_cast<size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

// Calls f(line) for each line of text (no allocation per line).
template <class F>
void for_each_line(std::string_view text, F f) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::map<std::string, std::string> read_env(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path +
                                 " (not a kit made by tools/fetch-kernel-kit?)");
    std::map<std::string, std::string> env;
    std::string line;
    while (std::getline(in, line)) {
        size_t eq = line.find('=');
        if (eq == std::string::npos || line.starts_with("#")) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);  // kit.env is also sourced by scripts
        env[line.substr(0, eq)] = value;
    }
    return env;
}

std::string need(const std::map<std::string, std::string>& env, const std::string& key,
                 const std::string& where) {
    auto it = env.find(key);
    if (it == env.end() || it->second.empty()) throw std::runtime_error(where + " has no " + key);
    return it->second;
}

}  // namespace

bool same_magic(const std::string& amagic, const std::string& bmagic, bool has_crcs) {
    if (has_crcs) {
        size_t a = amagic.find(' '), b = bmagic.find(' ');
        std::string as = a == std::string::npos ? "" : amagic.substr(a);
        std::string bs = b == std::string::npos ? "" : bmagic.substr(b);
        return as == bs;
    }
    return amagic == bmagic;
}

std::shared_ptr<KernelProfile> KernelProfile::from_kit(const std::string& dir) {
    auto env = read_env(dir + "/kit.env");
    auto p = std::make_shared<KernelProfile>();
    p->generic = false;
    std::string arch = need(env, "KIT_ARCH", dir + "/kit.env");
    if (arch == "arm64")
        p->arch = Arch::arm64;
    else if (arch == "armhf")
        p->arch = Arch::arm;
    else
        throw std::runtime_error("unknown KIT_ARCH " + arch);
    p->release = need(env, "KIT_RELEASE", dir + "/kit.env");
    p->name = p->release;
    p->vermagic = need(env, "KIT_VERMAGIC", dir + "/kit.env (made by an older fetch-kernel-kit?)");

    // The kernel's configuration.
    std::string cfg = slurp(need(env, "KIT_BOOT", dir + "/kit.env") + "/config-" + p->release);
    for_each_line(cfg, [&](std::string_view line) {
        if (!line.starts_with("CONFIG_")) return;
        size_t eq = line.find('=');
        if (eq != std::string_view::npos)
            p->config.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    });
    auto has = [&](const char* k) {
        auto it = p->config.find(k);
        return it != p->config.end() && it->second == "y";
    };
    p->modversions = has("CONFIG_MODVERSIONS");
    p->thumb2_kernel = has("CONFIG_THUMB2_KERNEL");
    if (auto it = p->config.find("CONFIG_HZ"); it != p->config.end()) p->hz = std::stoi(it->second);

    // Module.symvers: crc <TAB> symbol <TAB> module <TAB> export type <TAB> namespace.
    std::string symvers_path = need(env, "KIT_HEADERS", dir + "/kit.env") + "/Module.symvers";
    std::string symvers = slurp(symvers_path);
    p->exports.reserve(16384);
    for_each_line(symvers, [&](std::string_view line) {
        std::string_view f[5];
        size_t n = 0;
        while (n < 5) {
            size_t tab = line.find('\t');
            f[n++] = line.substr(0, tab);
            if (tab == std::string_view::npos) break;
            line.remove_prefix(tab + 1);
        }
        if (n < 4 || f[2] != "vmlinux") return;
        ProfileSymbol sym;
        sym.crc = static_cast<uint32_t>(std::strtoul(std::string(f[0]).c_str(), nullptr, 16));
        sym.gpl_only = f[3] == "EXPORT_SYMBOL_GPL";
        if (n > 4) sym.ns = std::string(f[4]);
        p->exports.emplace(std::string(f[1]), std::move(sym));
    });
    if (p->exports.empty()) throw std::runtime_error(symvers_path + " lists no vmlinux exports");
    return p;
}

}  // namespace kmodemu
