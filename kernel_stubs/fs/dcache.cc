// fs/dcache.c: dentries of the kit's size and layout (d_name, d_inode, d_parent, d_sb, d_fsdata,
// d_flags and d_lockref as modules read them inline); each dentry's children and whether it is
// hashed are kept in vfs::State. The reference count is d_lockref.count, which modules' inline
// dget() (lockref_get()) raises.
#include <algorithm>
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

namespace {

uint64_t count_at(Kernel& k, uint64_t d) {
    return d + layout(k).dentry_d_lockref + k.structs().vfs.lockref_count;
}
int32_t d_count(Kernel& k, uint64_t d) {
    return static_cast<int32_t>(u32(k, count_at(k, d)));
}
void set_count(Kernel& k, uint64_t d, int32_t n) {
    set_u32(k, count_at(k, d), static_cast<uint32_t>(n));
}
uint32_t flags(Kernel& k, uint64_t d) {
    return u32(k, d + layout(k).dentry_d_flags);
}
void set_flags(Kernel& k, uint64_t d, uint32_t f) {
    set_u32(k, d + layout(k).dentry_d_flags, f);
}

// d_set_d_op(): the DCACHE_OP_* flags of the methods the operations have.
void d_set_d_op(Kernel& k, uint64_t d, uint64_t op) {
    const KernelStructs::Vfs& v = layout(k);
    set_word(k, d + v.dentry_d_op, op);
    if (!op) return;
    uint32_t f = flags(k, d);
    const std::pair<uint64_t, uint64_t> bits[] = {
        {v.dentry_operations_d_hash, v.dcache_op_hash},
        {v.dentry_operations_d_compare, v.dcache_op_compare},
        {v.dentry_operations_d_revalidate, v.dcache_op_revalidate},
        {v.dentry_operations_d_weak_revalidate, v.dcache_op_weak_revalidate},
        {v.dentry_operations_d_delete, v.dcache_op_delete},
        {v.dentry_operations_d_prune, v.dcache_op_prune},
        {v.dentry_operations_d_real, v.dcache_op_real},
    };
    for (auto [field, bit] : bits)
        if (word(k, op + field)) f |= uint32_t(bit);
    set_flags(k, d, f);
}

// d_flags_for_inode(): the entry type of a positive dentry.
uint32_t d_flags_for_inode(Kernel& k, uint64_t inode) {
    const KernelStructs::Vfs& v = layout(k);
    if (!inode) return uint32_t(v.dcache_miss_type);
    uint32_t mode = k.emu().read_u32(inode + v.inode_i_mode) & 0xffff;
    uint64_t iop = word(k, inode + v.inode_i_op);
    uint16_t opflags = 0;
    k.emu().read(inode + v.inode_i_opflags, &opflags, 2);
    uint32_t add = uint32_t(v.dcache_regular_type);
    constexpr uint32_t s_ifmt = 0170000, s_ifdir = 0040000, s_ifreg = 0100000;
    if ((mode & s_ifmt) == s_ifdir) {
        add = uint32_t(v.dcache_directory_type);
        if (!(opflags & v.iop_lookup)) {
            if (!word(k, iop + v.inode_operations_lookup))
                add = uint32_t(v.dcache_autodir_type);
            else
                opflags |= uint16_t(v.iop_lookup);
        }
    } else {
        bool symlink = false;
        if (!(opflags & v.iop_nofollow)) {
            if (word(k, iop + v.inode_operations_get_link)) {
                add = uint32_t(v.dcache_symlink_type);
                symlink = true;
            } else {
                opflags |= uint16_t(v.iop_nofollow);
            }
        }
        if (!symlink && (mode & s_ifmt) != s_ifreg) add = uint32_t(v.dcache_special_type);
    }
    k.emu().write(inode + v.inode_i_opflags, &opflags, 2);
    if (u32(k, inode + v.inode_i_flags) & v.s_automount) add |= uint32_t(v.dcache_need_automount);
    return add;
}

// __d_set_inode_and_type()
void set_inode_and_type(Kernel& k, uint64_t d, uint64_t inode) {
    const KernelStructs::Vfs& v = layout(k);
    uint32_t type = d_flags_for_inode(k, inode);
    set_word(k, d + v.dentry_d_inode, inode);
    set_flags(k, d, (flags(k, d) & ~uint32_t(v.dcache_entry_type)) | type);
}

// dentry_unlink_inode(): the dentry made negative, its inode let go by d_op->d_iput or iput().
void dentry_unlink_inode(Kernel& k, uint64_t d) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t inode = word(k, d + v.dentry_d_inode);
    set_flags(k, d, flags(k, d) & ~uint32_t(v.dcache_entry_type));
    set_word(k, d + v.dentry_d_inode, 0);
    uint64_t op = word(k, d + v.dentry_d_op);
    if (uint64_t diput = op ? word(k, op + v.dentry_operations_d_iput) : 0)
        k.call_guest(diput, {d, inode});
    else
        iput(k, inode);
}

// __d_alloc(): a dentry of sb named `name` (the inline name when it fits, else an external
// name: a struct external_name, its count then the characters), one reference, its own
// parent, the super block's s_d_op, d_op->d_init.
uint64_t d_alloc_named(Kernel& k, uint64_t sb, const std::string* name, uint32_t hash) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t d = k.slab_alloc(k.structs().dentry.size, gfp_zero);
    if (!d) return 0;
    std::string n = name ? *name : "/";
    uint64_t dname = d + v.dentry_d_iname;
    if (name && n.size() > v.dentry_d_iname_len - 1) {
        uint64_t ext = k.slab_alloc(2 * k.word() + n.size() + 1, gfp_zero);
        if (!ext) {
            kfree(k, d);
            return 0;
        }
        set_u32(k, ext, 1);
        dname = ext + 2 * k.word();
    }
    k.emu().write(dname, n.c_str(), n.size() + 1);
    uint64_t qstr = d + v.dentry_d_name;
    set_u32(k, qstr + v.qstr_hash, name ? hash : 0);
    set_u32(k, qstr + v.qstr_len, uint32_t(n.size()));
    set_word(k, qstr + v.qstr_name, dname);
    set_count(k, d, 1);
    set_word(k, d + v.dentry_d_parent, d);
    set_word(k, d + v.dentry_d_sb, sb);
    k.state<State>().dentries[d] = {};
    d_set_d_op(k, d, word(k, sb + v.super_block_s_d_op));
    uint64_t op = word(k, d + v.dentry_d_op);
    if (uint64_t init = op ? word(k, op + v.dentry_operations_d_init) : 0) {
        if (static_cast<int32_t>(k.call_guest(init, {d}))) {
            k.state<State>().dentries.erase(d);
            if (dname != d + v.dentry_d_iname) kfree(k, dname - 2 * k.word());
            kfree(k, d);
            return 0;
        }
    }
    return d;
}

// d_alloc(parent, name): a child of parent, which it holds a reference to.
uint64_t d_alloc(Kernel& k, uint64_t parent, const std::string& name, uint32_t hash) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t d = d_alloc_named(k, word(k, parent + v.dentry_d_sb), &name, hash);
    if (!d) return 0;
    dget(k, parent);
    set_word(k, d + v.dentry_d_parent, parent);
    auto& ch = k.state<State>().dentries[parent].children;
    ch.insert(ch.begin(), d);
    return d;
}

// __dentry_kill(): unhashed, d_prune, off its parent's list, its inode let go, d_release, freed;
// the parent (whose reference it held) is returned unless the dentry is a root.
uint64_t dentry_kill(Kernel& k, uint64_t d) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    uint64_t parent = word(k, d + v.dentry_d_parent);
    if (parent == d) parent = 0;
    uint64_t op = word(k, d + v.dentry_d_op);
    d_drop(k, d);
    if (flags(k, d) & v.dcache_op_prune)
        k.call_guest(word(k, op + v.dentry_operations_d_prune), {d});
    if (parent) {
        auto& ch = st.dentries[parent].children;
        ch.erase(std::remove(ch.begin(), ch.end(), d), ch.end());
    }
    if (word(k, d + v.dentry_d_inode)) dentry_unlink_inode(k, d);
    if (uint64_t rel = op ? word(k, op + v.dentry_operations_d_release) : 0) k.call_guest(rel, {d});
    set_count(k, d, -128);  // lockref_mark_dead()
    uint64_t dname = word(k, d + v.dentry_d_name + v.qstr_name);
    if (dname != d + v.dentry_d_iname) kfree(k, dname - 2 * k.word());
    st.dentries.erase(d);
    kfree(k, d);
    return parent;
}

// Hash of a name for the dcache: the kernel's hash_name() mixes in the parent's address; the
// emulated dcache looks names up by their text, so any hash does.
uint32_t name_hash(const std::string& s) {
    uint32_t h = 0;
    for (unsigned char ch : s)
        h = (h + (uint32_t(ch) << 4) + (ch >> 4)) * 11;
    return h;
}

void walk(Kernel& k, uint64_t d, const std::function<void(uint64_t)>& f) {
    std::vector<uint64_t> ch = k.state<State>().dentries[d].children;
    for (uint64_t c : ch)
        walk(k, c, f);
    f(d);
}

}  // namespace

uint64_t dget(Kernel& k, uint64_t d) {
    if (d) set_count(k, d, d_count(k, d) + 1);
    return d;
}

bool d_unhashed(Kernel& k, uint64_t d) {
    auto& ds = k.state<State>().dentries;
    auto it = ds.find(d);
    return it == ds.end() || !it->second.hashed;
}

void d_drop(Kernel& k, uint64_t d) {
    auto& ds = k.state<State>().dentries;
    if (auto it = ds.find(d); it != ds.end()) it->second.hashed = false;
}

// dput(): the last reference kills the dentry unless it is kept cached (retain_dentry(): hashed,
// and d_op->d_delete, if any, says keep), then its parent loses the reference it held.
void dput(Kernel& k, uint64_t d) {
    const KernelStructs::Vfs& v = layout(k);
    while (d) {
        int32_t n = d_count(k, d) - 1;
        set_count(k, d, n);
        if (n > 0) return;
        bool retain = !d_unhashed(k, d);
        if (retain && (flags(k, d) & v.dcache_op_delete)) {
            uint64_t op = word(k, d + v.dentry_d_op);
            if (static_cast<int32_t>(k.call_guest(word(k, op + v.dentry_operations_d_delete), {d})))
                retain = false;
        }
        if (retain) return;
        d = dentry_kill(k, d);
    }
}

uint64_t d_alloc_anon(Kernel& k, uint64_t sb) {
    return d_alloc_named(k, sb, nullptr, 0);
}

// d_make_root(): an anonymous dentry for the root inode (the inode put when none can be made).
uint64_t d_make_root(Kernel& k, uint64_t inode) {
    if (!inode) return 0;
    uint64_t d = d_alloc_anon(k, word(k, inode + layout(k).inode_i_sb));
    if (d)
        set_inode_and_type(k, d, inode);
    else
        iput(k, inode);
    return d;
}

// d_genocide(): every hashed positive dentry below root loses one reference, once
// (DCACHE_GENOCIDE): the pins a litter file system took.
void d_genocide(Kernel& k, uint64_t root) {
    const KernelStructs::Vfs& v = layout(k);
    std::vector<uint64_t> below;
    walk(k, root, [&](uint64_t d) {
        if (d != root) below.push_back(d);
    });
    for (uint64_t d : below) {
        if (d_unhashed(k, d) || !word(k, d + v.dentry_d_inode)) continue;
        if (flags(k, d) & v.dcache_genocide) continue;
        set_flags(k, d, flags(k, d) | uint32_t(v.dcache_genocide));
        set_count(k, d, d_count(k, d) - 1);
    }
}

// shrink_dcache_for_umount(): the root detached from the super block, the unused dentries
// below it killed; one still in use is a kernel BUG report; then the root dropped.
void shrink_dcache_for_umount(StubCall* c, Kernel& k, uint64_t sb) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t root = word(k, sb + v.super_block_s_root);
    set_word(k, sb + v.super_block_s_root, 0);
    std::vector<uint64_t> order;
    walk(k, root, [&](uint64_t d) {
        if (d != root) order.push_back(d);
    });
    for (uint64_t d : order) {
        if (!k.state<State>().dentries.count(d) || d_count(k, d) != 0) continue;
        uint64_t parent = dentry_kill(k, d);
        if (parent) set_count(k, parent, d_count(k, parent) - 1);
    }
    if (!k.state<State>().dentries[root].children.empty() && c)
        c->unimplemented(
            "shrink_dcache_for_umount (a dentry still in use: the kernel reports "
            "a BUG)");
    d_drop(k, root);
    dput(k, root);
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_dcache(Kernel& k) {
    const char* sub = "fs/dcache";
    using namespace vfs;
    k.add_function("d_make_root", sub,
                   [](StubCall& c) -> uint64_t { return d_make_root(c.kernel, c.arg(0)); });
    k.add_function("d_alloc_anon", sub,
                   [](StubCall& c) -> uint64_t { return d_alloc_anon(c.kernel, c.arg(0)); });
    // d_alloc(parent, const struct qstr *name)
    k.add_function("d_alloc", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Vfs& v = layout(c.kernel);
        uint64_t q = c.arg(1);
        uint32_t len = u32(c.kernel, q + v.qstr_len);
        auto bytes = c.read(word(c.kernel, q + v.qstr_name), len);
        return d_alloc(c.kernel, c.arg(0), std::string(bytes.begin(), bytes.end()),
                       u32(c.kernel, q + v.qstr_hash));
    });
    // d_alloc_name(parent, name): the name hashed for the parent, then d_alloc().
    k.add_function("d_alloc_name", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(1), 4096);
        return d_alloc(c.kernel, c.arg(0), name, name_hash(name));
    });
    // d_instantiate(dentry, inode): the dentry made positive (still unhashed).
    k.add_function("d_instantiate", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(1)) set_inode_and_type(c.kernel, c.arg(0), c.arg(1));
        return 0;
    });
    // d_add(dentry, inode): positive when inode is given, and hashed.
    k.add_function("d_add", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(1)) set_inode_and_type(c.kernel, c.arg(0), c.arg(1));
        c.kernel.state<State>().dentries[c.arg(0)].hashed = true;
        return 0;
    });
    k.add_functions({"d_drop", "__d_drop"}, sub, [](StubCall& c) -> uint64_t {
        d_drop(c.kernel, c.arg(0));
        return 0;
    });
    // d_delete(): the only user's dentry is made negative (its inode let go), any other is
    // unhashed.
    k.add_function("d_delete", sub, [](StubCall& c) -> uint64_t {
        uint64_t d = c.arg(0);
        if (d_count(c.kernel, d) == 1)
            dentry_unlink_inode(c.kernel, d);
        else
            d_drop(c.kernel, d);
        return 0;
    });
    k.add_function("dput", sub, [](StubCall& c) -> uint64_t {
        dput(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("d_genocide", sub, [](StubCall& c) -> uint64_t {
        d_genocide(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("always_delete_dentry", sub, [](StubCall&) -> uint64_t { return 1; });
}

}  // namespace kmodemu
