// fs/proc/generic.c: /proc entries as modules make them (proc_mkdir(), proc_create*()). Entries
// are kept by parent and name so that removing works as in the kernel; the kernel's own
// directories (/proc/net, /proc/driver, ...) are taken as there. Nothing reads them here.
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

// struct proc_dir_entry is private to fs/proc (fs/proc/internal.h): modules hold pointers.
constexpr uint64_t pde_object_size = 256;

struct Procfs : Kernel::SubsystemState {
    struct Entry {
        uint64_t parent;
        std::string name;
    };
    std::map<uint64_t, Entry> entries;
    uint64_t find(uint64_t parent, const std::string& name) const {
        for (const auto& [p, e] : entries)
            if (e.parent == parent && e.name == name) return p;
        return 0;
    }
};

// proc_register(): NULL (after the kernel's WARN, which kmodemu reports as a diagnostic) when
// the name is taken in its directory.
uint64_t create(StubCall& c, uint64_t name_p, uint64_t parent) {
    Kernel& k = c.kernel;
    Procfs& fs = k.state<Procfs>();
    std::string name = c.read_cstr(name_p, 256);
    if (fs.find(parent, name)) {
        std::string dir = parent ? fs.entries[parent].name : "";
        k.log(4, "proc_dir_entry '" + dir + "/" + name + "' already registered");
        k.diag("proc_register(): the WARN's report is not reproduced");
        return 0;
    }
    uint64_t pde = k.slab_alloc(pde_object_size, gfp_zero);
    if (pde) fs.entries[pde] = {parent, name};
    return pde;
}

void remove_tree(Kernel& k, uint64_t pde) {
    Procfs& fs = k.state<Procfs>();
    std::vector<uint64_t> children;
    for (const auto& [p, e] : fs.entries)
        if (e.parent == pde) children.push_back(p);
    for (uint64_t ch : children)
        remove_tree(k, ch);
    if (fs.entries.erase(pde)) k.slab().free(pde);
}

}  // namespace

void register_procfs(Kernel& k) {
    const char* sub = "fs/proc";
    // (name, parent)
    k.add_function("proc_mkdir", sub, [](StubCall& c) { return create(c, c.arg(0), c.arg(1)); });
    // (name, mode, parent, ...)
    // _proc_mkdir(name, mode, parent, data, force_lookup) is 6.1's proc_mkdir_data().
    k.add_functions(
        {"proc_mkdir_mode", "proc_mkdir_data", "_proc_mkdir", "proc_create", "proc_create_data",
         "proc_create_seq_private", "proc_create_single_data", "proc_create_net_data",
         "proc_create_net_single", "proc_create_net_data_write", "proc_create_net_single_write"},
        sub, [](StubCall& c) { return create(c, c.arg(0), c.arg(2)); });
    // proc_symlink(name, parent, dest)
    k.add_function("proc_symlink", sub, [](StubCall& c) { return create(c, c.arg(0), c.arg(1)); });
    k.add_functions({"proc_set_size", "proc_set_user"}, sub,
                    [](StubCall&) -> uint64_t { return 0; });
    k.add_function("proc_remove", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0)) remove_tree(c.kernel, c.arg(0));
        return 0;
    });
    // remove_proc_entry(name, parent) / remove_proc_subtree(name, parent)
    k.add_function("remove_proc_entry", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(0), 256);
        uint64_t pde = c.kernel.state<Procfs>().find(c.arg(1), name);
        if (!pde) {
            c.kernel.log(4, "name '" + name + "'");
            c.kernel.diag("remove_proc_entry(): the WARN's report is not reproduced");
            return 0;
        }
        remove_tree(c.kernel, pde);
        return 0;
    });
    k.add_function("remove_proc_subtree", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(0), 256);
        uint64_t pde = c.kernel.state<Procfs>().find(c.arg(1), name);
        if (!pde) return static_cast<uint64_t>(int64_t(-ENOENT));
        remove_tree(c.kernel, pde);
        return 0;
    });
}

}  // namespace kmodemu
