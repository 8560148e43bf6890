#include "tools/depmod.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "loader/decompress.h"
#include "loader/elf_file.h"

namespace kmodemu {

namespace fs = std::filesystem;

namespace {

bool is_module_file(const std::string& name) {
    for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
        if (name.size() > std::strlen(ext) && name.ends_with(ext)) return true;
    return false;
}

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What depmod reads of one module: the symbols it exports (a `__ksymtab_NAME` symbol per
// EXPORT_SYMBOL*) and the ones it needs (undefined in its symbol table).
struct ModuleSymbols {
    std::vector<std::string> exports, imports;
    bool ok = false;
};

ModuleSymbols read_symbols(const fs::path& p) {
    ModuleSymbols out;
    Decompressed d = decompress_module(read_file(p));
    if (d.err) return out;
    std::optional<Arch> arch = ElfFile::sniff_arch(d.bytes);
    if (!arch) return out;
    ElfFile elf;
    if (!elf.open(std::move(d.bytes), *arch)) return out;
    for (size_t i = 1; i < elf.num_symbols(); ++i) {
        std::string_view n = elf.symbol_name(i);
        if (n.empty()) continue;
        if (elf.symbol(i).st_shndx == SHN_UNDEF)
            out.imports.emplace_back(n);
        else if (n.starts_with("__ksymtab_"))
            out.exports.emplace_back(n.substr(10));
    }
    out.ok = true;
    return out;
}

}  // namespace

std::string module_name_of_path(const std::string& path) {
    std::string base = fs::path(path).filename().string();
    for (const char* ext : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"})
        if (base.ends_with(ext)) {
            base.resize(base.size() - std::strlen(ext));
            break;
        }
    std::replace(base.begin(), base.end(), '-', '_');
    return base;
}

// depmod's work (kmod's tools/depmod.c): every module's imports resolved against the other
// modules' exports (the kernel's own are not listed), the dependencies closed transitively,
// each line listing a module's dependencies in the reverse of the order they load in.
ModuleTree ModuleTree::scan(const std::string& moddir) {
    ModuleTree t;
    t.dir_ = moddir;
    std::vector<std::string> paths;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(moddir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && is_module_file(it->path().filename().string()))
            paths.push_back(fs::relative(it->path(), moddir).generic_string());
    }
    if (ec) throw std::runtime_error("cannot read " + moddir + ": " + ec.message());
    std::sort(paths.begin(), paths.end());
    std::vector<ModuleSymbols> syms(paths.size());
    std::map<std::string, size_t> exporter;  // symbol -> first module (in path order) exporting it
    for (size_t i = 0; i < paths.size(); ++i) {
        syms[i] = read_symbols(fs::path(moddir) / paths[i]);
        for (const std::string& e : syms[i].exports)
            exporter.emplace(e, i);
    }
    std::vector<std::set<size_t>> direct(paths.size());
    for (size_t i = 0; i < paths.size(); ++i)
        for (const std::string& s : syms[i].imports)
            if (auto it = exporter.find(s); it != exporter.end() && it->second != i)
                direct[i].insert(it->second);
    // Load order of each module's dependencies: depth first, dependencies before the modules
    // that need them, siblings in path order; a cycle (which the kernel cannot load either) is
    // cut where it closes.
    for (size_t i = 0; i < paths.size(); ++i) {
        std::vector<size_t> order;
        std::vector<int> mark(paths.size(), 0);
        std::function<void(size_t)> visit = [&](size_t m) {
            if (mark[m]) return;
            mark[m] = 1;
            for (size_t d : direct[m])
                visit(d);
            order.push_back(m);
        };
        for (size_t d : direct[i])
            visit(d);
        std::vector<std::string>& line = t.deps_[paths[i]];
        for (auto it = order.rbegin(); it != order.rend(); ++it)
            if (*it != i) line.push_back(paths[*it]);
    }
    t.order_ = paths;
    for (const std::string& p : paths)
        t.by_name_.emplace(module_name_of_path(p), p);
    return t;
}

ModuleTree ModuleTree::open(const std::string& moddir) {
    std::ifstream in(fs::path(moddir) / "modules.dep");
    if (!in) return scan(moddir);
    ModuleTree t;
    t.dir_ = moddir;
    std::string line;
    while (std::getline(in, line)) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string path = line.substr(0, colon);
        std::istringstream rest(line.substr(colon + 1));
        std::vector<std::string>& deps = t.deps_[path];
        for (std::string d; rest >> d;)
            deps.push_back(d);
        t.order_.push_back(path);
        t.by_name_.emplace(module_name_of_path(path), path);
    }
    return t;
}

ModuleTree ModuleTree::of_kit(const std::string& kit_dir) {
    std::ifstream env(fs::path(kit_dir) / "kit.env");
    std::string line, moddir;
    while (std::getline(env, line))
        if (line.starts_with("KIT_MODULES=")) moddir = line.substr(12);
    if (moddir.empty()) throw std::runtime_error(kit_dir + ": no KIT_MODULES in kit.env");
    fs::path dep = fs::path(moddir) / "modules.dep";
    if (fs::exists(dep)) return open(moddir);
    ModuleTree t = scan(moddir);
    // Written once, atomically: workers of a corpus run may race to it.
    fs::path tmp = dep;
    tmp += ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp);
        out << t.modules_dep();
        if (!out) return t;  // a read-only kit: computed again next time
    }
    std::error_code ec;
    fs::rename(tmp, dep, ec);
    if (ec) fs::remove(tmp, ec);
    return t;
}

std::vector<std::string> ModuleTree::modules() const {
    std::vector<std::string> v = order_;
    std::sort(v.begin(), v.end());
    return v;
}

std::optional<std::string> ModuleTree::find(const std::string& name_or_path) const {
    if (deps_.count(name_or_path)) return name_or_path;
    std::error_code ec;
    if (fs::exists(name_or_path, ec)) {
        fs::path rel = fs::relative(fs::weakly_canonical(name_or_path, ec),
                                    fs::weakly_canonical(dir_, ec), ec);
        if (!ec && deps_.count(rel.generic_string())) return rel.generic_string();
        return std::nullopt;
    }
    if (name_or_path.find('/') != std::string::npos) return std::nullopt;
    std::string n = name_or_path;
    std::replace(n.begin(), n.end(), '-', '_');
    if (auto it = by_name_.find(n); it != by_name_.end()) return it->second;
    return std::nullopt;
}

const std::vector<std::string>& ModuleTree::deps(const std::string& rel) const {
    static const std::vector<std::string> none;
    auto it = deps_.find(rel);
    return it != deps_.end() ? it->second : none;
}

std::vector<std::string> ModuleTree::load_order(const std::string& rel) const {
    // modprobe (kmod_module_get_probe_list()): each dependency's own dependencies first. The
    // line lists them in the reverse of their load order.
    const std::vector<std::string>& d = deps(rel);
    std::vector<std::string> order(d.rbegin(), d.rend());
    order.push_back(rel);
    return order;
}

std::string ModuleTree::modules_dep() const {
    std::string out;
    for (const std::string& p : order_) {
        out += p + ":";
        for (const std::string& d : deps(p))
            out += " " + d;
        out += "\n";
    }
    return out;
}

}  // namespace kmodemu
