// fs/sysfs/group.c, file.c and symlink.c: the names of a kobject's sysfs directory. A file,
// group directory or link whose name is taken fails with -EEXIST after sysfs_warn_dup()'s
// message, as kernfs refuses it; nothing is ever read or written through them here.
#include <cerrno>
#include <map>
#include <set>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/lib/kobject.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct SysfsNames : Kernel::SubsystemState {
    std::map<std::pair<uint64_t, std::string>, std::set<std::string>> dirs;  // (kobj, subdir)
};

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string cstr(Kernel& k, uint64_t p) {
    std::string s;
    if (p) k.emu().read_cstring(p, 256, s);
    return s;
}

int take(Kernel& k, uint64_t kobj, const std::string& dir, const std::string& name) {
    if (!k.state<SysfsNames>().dirs[{kobj, dir}].insert(name).second) {
        k.log(4, "sysfs: cannot create duplicate filename '" + kobject_path(k, kobj) +
                     (dir.empty() ? "" : "/" + dir) + "/" + name + "'");
        k.diag("sysfs_warn_dup(): the kernel's dump_stack() is not reproduced");
        return -EEXIST;
    }
    return 0;
}

void drop(Kernel& k, uint64_t kobj, const std::string& dir, const std::string& name) {
    k.state<SysfsNames>().dirs[{kobj, dir}].erase(name);
}

// The attributes of a group that it shows: is_visible() says which (0: hidden).
std::vector<std::string> group_files(StubCall& c, uint64_t kobj, uint64_t grp) {
    Kernel& k = c.kernel;
    const KernelStructs::Sysfs& s = k.structs().sysfs;
    std::vector<std::string> out;
    uint64_t visible = word(k, grp + s.group_is_visible);
    if (uint64_t attrs = word(k, grp + s.group_attrs))
        for (uint64_t i = 0;; ++i) {
            uint64_t a = word(k, attrs + i * k.word());
            if (!a) break;
            if (visible && !(k.call_guest(visible, {kobj, a, i}) & 0xffff)) continue;
            out.push_back(cstr(k, word(k, a + s.attr_name)));
        }
    if (uint64_t bins = word(k, grp + s.group_bin_attrs))
        for (uint64_t i = 0;; ++i) {
            uint64_t b = word(k, bins + i * k.word());
            if (!b) break;
            out.push_back(cstr(k, word(k, b + s.bin_attr_attr + s.attr_name)));
        }
    return out;
}

// internal_create_group(): the group's directory (when named), then its files; what was made
// is removed again when one fails.
int create_group(StubCall& c, uint64_t kobj, uint64_t grp) {
    Kernel& k = c.kernel;
    if (!kobj || !grp) return -EINVAL;
    std::string dir = cstr(k, word(k, grp + k.structs().sysfs.group_name));
    if (!dir.empty())
        if (int err = take(k, kobj, "", dir)) return err;
    std::vector<std::string> made;
    for (const std::string& f : group_files(c, kobj, grp)) {
        if (int err = take(k, kobj, dir, f)) {
            for (const std::string& m : made)
                drop(k, kobj, dir, m);
            if (!dir.empty()) drop(k, kobj, "", dir);
            return err;
        }
        made.push_back(f);
    }
    return 0;
}

void remove_group(StubCall& c, uint64_t kobj, uint64_t grp) {
    Kernel& k = c.kernel;
    if (!kobj || !grp) return;
    std::string dir = cstr(k, word(k, grp + k.structs().sysfs.group_name));
    if (!dir.empty()) {
        k.state<SysfsNames>().dirs.erase({kobj, dir});
        drop(k, kobj, "", dir);
        return;
    }
    for (const std::string& f : group_files(c, kobj, grp))
        drop(k, kobj, "", f);
}

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

}  // namespace

void register_sysfs(Kernel& k) {
    const char* sub = "fs/sysfs";
    k.add_function(
        "sysfs_create_group", sub,
        [](StubCall& c) -> uint64_t { return ret(create_group(c, c.arg(0), c.arg(1))); }, true);
    // sysfs_create_groups(kobj, groups): each of a NULL-terminated array; on an error the
    // groups made are removed.
    k.add_function(
        "sysfs_create_groups", sub,
        [](StubCall& c) -> uint64_t {
            uint64_t groups = c.arg(1);
            if (!groups) return 0;
            for (uint64_t i = 0;; ++i) {
                uint64_t g = word(c.kernel, groups + i * c.kernel.word());
                if (!g) return 0;
                if (int err = create_group(c, c.arg(0), g)) {
                    while (i--)
                        remove_group(c, c.arg(0), word(c.kernel, groups + i * c.kernel.word()));
                    return ret(err);
                }
            }
        },
        true);
    k.add_function(
        "sysfs_remove_group", sub,
        [](StubCall& c) -> uint64_t {
            remove_group(c, c.arg(0), c.arg(1));
            return 0;
        },
        true);
    k.add_function(
        "sysfs_remove_groups", sub,
        [](StubCall& c) -> uint64_t {
            if (uint64_t groups = c.arg(1))
                for (uint64_t i = 0;; ++i) {
                    uint64_t g = word(c.kernel, groups + i * c.kernel.word());
                    if (!g) break;
                    remove_group(c, c.arg(0), g);
                }
            return 0;
        },
        true);
    // sysfs_create_file_ns(kobj, attr, ns)
    k.add_function(
        "sysfs_create_file_ns", sub,
        [](StubCall& c) -> uint64_t {
            if (!c.arg(0) || !c.arg(1)) return ret(-EINVAL);
            std::string name =
                cstr(c.kernel, word(c.kernel, c.arg(1) + c.kernel.structs().sysfs.attr_name));
            return ret(take(c.kernel, c.arg(0), "", name));
        },
        true);
    k.add_function(
        "sysfs_remove_file_ns", sub,
        [](StubCall& c) -> uint64_t {
            if (c.arg(0) && c.arg(1))
                drop(c.kernel, c.arg(0), "",
                     cstr(c.kernel, word(c.kernel, c.arg(1) + c.kernel.structs().sysfs.attr_name)));
            return 0;
        },
        true);
    // sysfs_create_link(kobj, target, name)
    k.add_function(
        "sysfs_create_link", sub,
        [](StubCall& c) -> uint64_t {
            return ret(take(c.kernel, c.arg(0), "", c.read_cstr(c.arg(2))));
        },
        true);
    k.add_function(
        "sysfs_remove_link", sub,
        [](StubCall& c) -> uint64_t {
            drop(c.kernel, c.arg(0), "", c.read_cstr(c.arg(1)));
            return 0;
        },
        true);
}

}  // namespace kmodemu
