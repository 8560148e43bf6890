#include "kernel_stubs/profile.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kmodemu {

namespace {

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
    std::string cfg_path = need(env, "KIT_BOOT", dir + "/kit.env") + "/config-" + p->release;
    std::ifstream cfg(cfg_path);
    if (!cfg) throw std::runtime_error("cannot read " + cfg_path);
    std::string line;
    while (std::getline(cfg, line)) {
        if (!line.starts_with("CONFIG_")) continue;
        size_t eq = line.find('=');
        if (eq != std::string::npos) p->config[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto has = [&](const char* k) { return p->config.count(k) && p->config[k] == "y"; };
    p->modversions = has("CONFIG_MODVERSIONS");
    p->thumb2_kernel = has("CONFIG_THUMB2_KERNEL");
    if (p->config.count("CONFIG_HZ")) p->hz = std::stoi(p->config["CONFIG_HZ"]);

    // Module.symvers: crc <TAB> symbol <TAB> module <TAB> export type <TAB> namespace.
    std::string symvers = need(env, "KIT_HEADERS", dir + "/kit.env") + "/Module.symvers";
    std::ifstream sv(symvers);
    if (!sv) throw std::runtime_error("cannot read " + symvers);
    while (std::getline(sv, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string field;
        while (std::getline(ss, field, '\t'))
            f.push_back(field);
        if (f.size() < 4 || f[2] != "vmlinux") continue;
        ProfileSymbol s;
        s.crc = static_cast<uint32_t>(std::stoul(f[0], nullptr, 16));
        s.gpl_only = f[3] == "EXPORT_SYMBOL_GPL";
        if (f.size() > 4) s.ns = f[4];
        p->exports[f[1]] = s;
    }
    if (p->exports.empty()) throw std::runtime_error(symvers + " lists no vmlinux exports");
    return p;
}

}  // namespace kmodemu
