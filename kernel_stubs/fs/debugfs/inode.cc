// fs/debugfs/inode.c: debugfs's directories and files, as dentries no module looks into. The
// tree is kept so that a name created twice in one directory fails as in the kernel.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Debugfs : Kernel::SubsystemState {
    struct Node {
        uint64_t parent;  // 0: the root
        std::string name;
        bool dir;
    };
    std::map<uint64_t, Node> nodes;  // dentry -> node
};

bool is_err(Kernel& k, uint64_t p) {
    return p >= (k.word() == 8 ? uint64_t(-4095) : uint64_t(0xfffff001u));
}

// start_creating() + debugfs_create_dir()/__debugfs_create_file(): a new dentry, or
// ERR_PTR(-EEXIST) with the kernel's message when the name is taken, ERR_PTR of the parent's
// error when the parent is one.
uint64_t create(StubCall& c, uint64_t name_p, uint64_t parent, bool dir) {
    Kernel& k = c.kernel;
    if (parent && is_err(k, parent)) return parent;
    Debugfs& fs = k.state<Debugfs>();
    std::string name = c.read_cstr(name_p, 256);
    for (const auto& [d, n] : fs.nodes) {
        if (n.parent != parent || n.name != name) continue;
        std::string pname = parent ? fs.nodes[parent].name : "/";
        if (dir)
            k.log(3, "debugfs: Directory '" + name + "' with parent '" + pname +
                         "' already present!");
        else
            k.log(3, "debugfs: File '" + name + "' in directory '" + pname +
                         "' already present!");
        return static_cast<uint64_t>(int64_t(-EEXIST));
    }
    uint64_t dentry = k.slab_alloc(k.structs().dentry.size, gfp_zero);
    if (!dentry) return static_cast<uint64_t>(int64_t(-ENOMEM));
    fs.nodes[dentry] = {parent, name, dir};
    return dentry;
}

// debugfs_remove() (debugfs_remove_recursive()): the dentry and everything below it.
void remove(Kernel& k, uint64_t dentry) {
    if (!dentry || is_err(k, dentry)) return;
    Debugfs& fs = k.state<Debugfs>();
    if (!fs.nodes.count(dentry)) return;
    std::vector<uint64_t> children;
    for (const auto& [d, n] : fs.nodes)
        if (n.parent == dentry) children.push_back(d);
    for (uint64_t ch : children)
        remove(k, ch);
    fs.nodes.erase(dentry);
    k.slab().free(dentry);
}

}  // namespace

void register_debugfs(Kernel& k) {
    const char* sub = "fs/debugfs";
    k.add_function("debugfs_create_dir", sub, [](StubCall& c) -> uint64_t {
        return create(c, c.arg(0), c.arg(1), true);
    }, true);
    // (name, mode, parent, data, fops)
    k.add_functions({"debugfs_create_file", "debugfs_create_file_unsafe"}, sub,
                    [](StubCall& c) -> uint64_t { return create(c, c.arg(0), c.arg(2), false); },
                    true);
    // debugfs_create_file_size(name, mode, parent, data, fops, file_size): void
    k.add_function("debugfs_create_file_size", sub, [](StubCall& c) -> uint64_t {
        create(c, c.arg(0), c.arg(2), false);
        return 0;
    }, true);
    // The typed files (name, mode, parent, value...): void in 6.1 and 6.12 but for blob
    // (a dentry).
    k.add_functions({"debugfs_create_u8", "debugfs_create_u16", "debugfs_create_u32",
                     "debugfs_create_u64", "debugfs_create_x8", "debugfs_create_x16",
                     "debugfs_create_x32", "debugfs_create_x64", "debugfs_create_size_t",
                     "debugfs_create_atomic_t", "debugfs_create_bool", "debugfs_create_ulong",
                     "debugfs_create_blob", "debugfs_create_u32_array", "debugfs_create_regset32",
                     "debugfs_create_str"},
                    sub,
                    [](StubCall& c) -> uint64_t { return create(c, c.arg(0), c.arg(2), false); },
                    true);
    // debugfs_lookup_and_remove(name, parent)
    k.add_function("debugfs_lookup_and_remove", sub, [](StubCall& c) -> uint64_t {
        Debugfs& fs = c.kernel.state<Debugfs>();
        std::string name = c.read_cstr(c.arg(0), 256);
        for (const auto& [d, n] : fs.nodes)
            if (n.parent == c.arg(1) && n.name == name) {
                remove(c.kernel, d);
                break;
            }
        return 0;
    }, true);
    k.add_function("debugfs_remove", sub, [](StubCall& c) -> uint64_t {
        remove(c.kernel, c.arg(0));
        return 0;
    }, true);
}

}  // namespace kmodemu
