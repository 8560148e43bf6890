// The module tree of a kernel as kmod's depmod and modprobe see it: every module file under
// lib/modules/<release> (plain or compressed), its dependencies computed from the exports and
// imports of each (modules.dep), and the order modprobe loads a module in.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kmodemu {

class ModuleTree {
  public:
    // The tree of a kit (its KIT_MODULES): modules.dep when the tree has one, else computed as
    // depmod would and written there (a freshly unpacked kit has none).
    static ModuleTree of_kit(const std::string& kit_dir);
    // Reads DIR/modules.dep when present, else computes it (nothing is written).
    static ModuleTree open(const std::string& moddir);
    // Computes the dependencies from the module files under DIR (depmod's work).
    static ModuleTree scan(const std::string& moddir);

    const std::string& dir() const { return dir_; }
    // Every module, by its path relative to dir() (kernel/fs/foo/foo.ko), sorted.
    std::vector<std::string> modules() const;
    // A module by name ("snd-pcm" and "snd_pcm" are the same, as modprobe has it), by a path
    // relative to dir(), or by a path naming a file of the tree; nullopt when none.
    std::optional<std::string> find(const std::string& name_or_path) const;
    // modprobe's order: the dependencies (deepest first), then the module itself.
    std::vector<std::string> load_order(const std::string& rel) const;
    // The module's line of modules.dep: its dependencies as depmod lists them.
    const std::vector<std::string>& deps(const std::string& rel) const;
    // modules.dep's text (depmod's format: "path: dep dep ...", in depmod's order).
    std::string modules_dep() const;

  private:
    std::string dir_;
    std::vector<std::string> order_;                      // modules.dep line order
    std::map<std::string, std::vector<std::string>> deps_;
    std::map<std::string, std::string> by_name_;         // module name with '_' → path
};

// A module's name from its file name, as modprobe has it: basename without .ko[.xz|.zst|.gz],
// with '-' as '_'.
std::string module_name_of_path(const std::string& path);

}  // namespace kmodemu
