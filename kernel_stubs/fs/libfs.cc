// fs/libfs.c: the library of simple file systems: pinning an internal mount (simple_pin_fs()),
// the pseudo file systems of init_pseudo(), and the simple directory operations.
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

namespace {

// pseudo_fs_fill_super(): the context's magic, super_operations (else
// simple_super_operations), xattr handlers and dentry operations; a root directory inode
// number 1, mode S_IFDIR | S_IRUSR | S_IWUSR.
int pseudo_fs_fill_super(Kernel& k, uint64_t sb, uint64_t fc) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    uint64_t ctx = word(k, fc + v.fs_context_fs_private);
    // MAX_LFS_FILESIZE: LLONG_MAX (64-bit), ULONG_MAX << PAGE_SHIFT (32-bit)
    int64_t maxbytes = k.word() == 8 ? INT64_MAX : int64_t(0xffffffffull << 12);
    k.emu().write(sb + v.super_block_s_maxbytes, &maxbytes, 8);
    set_word(k, sb + v.super_block_s_blocksize, 4096);
    uint8_t bits = 12;
    k.emu().write(sb + v.super_block_s_blocksize_bits, &bits, 1);
    set_word(k, sb + v.super_block_s_magic, word(k, ctx + v.pseudo_fs_context_magic));
    uint64_t ops = word(k, ctx + v.pseudo_fs_context_ops);
    set_word(k, sb + v.super_block_s_op, ops ? ops : st.simple_sop);
    set_word(k, sb + v.super_block_s_xattr, word(k, ctx + v.pseudo_fs_context_xattr));
    set_u32(k, sb + v.super_block_s_time_gran, 1);
    uint64_t root = new_inode(k, sb);
    if (!root) return -ENOMEM;
    set_word(k, root + v.inode_i_ino, 1);
    uint16_t mode = 0040000 | 0400 | 0200;
    k.emu().write(root + v.inode_i_mode, &mode, 2);
    int64_t sec = 0;
    uint32_t nsec = 0;
    current_time(k, root, sec, nsec);
    set_mtime_ctime(k, root, sec, nsec);
    set_atime(k, root, sec, nsec);
    uint64_t d = d_make_root(k, root);
    set_word(k, sb + v.super_block_s_root, d);
    if (!d) return -ENOMEM;
    set_word(k, sb + v.super_block_s_d_op, word(k, ctx + v.pseudo_fs_context_dops));
    return 0;
}

}  // namespace

// pseudo_fs_get_tree(): get_tree_nodev(fc, pseudo_fs_fill_super).
int pseudo_fs_get_tree(Kernel& k, uint64_t fc) {
    return vfs_get_super(k, fc, Keying::independent,
                         [&](uint64_t sb) { return pseudo_fs_fill_super(k, sb, fc); });
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_libfs(Kernel& k) {
    const char* sub = "fs/libfs";
    using namespace vfs;
    const KernelStructs::Vfs& v = k.structs().vfs;
    State& st = k.state<State>();
    // pseudo_fs_context_ops (its get_tree and free are the emulation's own) and
    // simple_super_operations (whose only method, statfs, nothing calls at module load).
    st.pseudo_ops = k.alloc_data(v.fs_context_operations_get_tree + 4 * k.word());
    st.simple_sop = k.alloc_data(v.super_operations_size);
    // simple_pin_fs(type, &mount, &count): the type mounted (SB_KERNMOUNT) the first time,
    // another reference to the mount and one more pin after.
    k.add_function("simple_pin_fs", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t type = c.arg(0), mount = c.arg(1), count = c.arg(2);
        uint64_t mnt = 0;
        if (!word(k, mount)) {
            mnt = vfs_kern_mount(c, type, uint32_t(layout(k).sb_kernmount), word(k, type), 0);
            if (is_err(k, mnt)) return static_cast<uint64_t>(int64_t(ptr_err(k, mnt)));
            if (!word(k, mount)) set_word(k, mount, mnt);
        }
        uint64_t m = word(k, mount);
        k.state<State>().mounts[m].count++;  // mntget()
        set_u32(k, count, u32(k, count) + 1);
        mntput(k, mnt);
        return 0;
    });
    // simple_release_fs(&mount, &count): one pin less (the mount forgotten at the last), and
    // its reference dropped.
    k.add_function("simple_release_fs", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t mount = c.arg(0), count = c.arg(1);
        uint64_t mnt = word(k, mount);
        uint32_t n = u32(k, count) - 1;
        set_u32(k, count, n);
        if (!n) set_word(k, mount, 0);
        mntput(k, mnt);
        return 0;
    });
    // init_pseudo(fc, magic): a pseudo_fs_context of that magic as fc's private data, its ops
    // pseudo_fs_context_ops, SB_NOUSER. (fc->global, which makes the super block belong to
    // init_user_ns, is moot: insmod's namespace is init_user_ns.)
    k.add_function("init_pseudo", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Vfs& l = layout(k);
        uint64_t fc = c.arg(0);
        uint64_t ctx = k.slab_alloc(l.pseudo_fs_context_size, gfp_zero);
        if (!ctx) return 0;
        set_word(k, ctx + l.pseudo_fs_context_magic, c.arg(1));
        set_word(k, fc + l.fs_context_fs_private, ctx);
        set_word(k, fc + l.fs_context_ops, k.state<State>().pseudo_ops);
        set_u32(k, fc + l.fs_context_sb_flags,
                u32(k, fc + l.fs_context_sb_flags) | uint32_t(l.sb_nouser));
        return ctx;
    });
    // simple_inode_init_ts(inode) (6.7+): atime, mtime and ctime set to current_time(), which
    // is returned.
    k.add_function("simple_inode_init_ts", sub, [](StubCall& c) -> uint64_t {
        uint64_t inode = timespec_arg(c);
        int64_t sec = 0;
        uint32_t nsec = 0;
        current_time(c.kernel, inode, sec, nsec);
        set_mtime_ctime(c.kernel, inode, sec, nsec);
        set_atime(c.kernel, inode, sec, nsec);
        return return_timespec(c, sec, nsec);
    });
    // simple_empty(dentry): no positive hashed child (simple_positive()).
    auto simple_empty = [](Kernel& k, uint64_t d) {
        for (uint64_t ch : k.state<State>().dentries[d].children)
            if (word(k, ch + layout(k).dentry_d_inode) && !d_unhashed(k, ch)) return false;
        return true;
    };
    k.add_function("simple_empty", sub, [simple_empty](StubCall& c) -> uint64_t {
        return simple_empty(c.kernel, c.arg(0));
    });
    // simple_unlink(dir, dentry): the times of both set, a link of the inode dropped, the
    // dentry's pin (from its creation) dropped.
    auto simple_unlink = [](StubCall& c, uint64_t dir, uint64_t d) {
        Kernel& k = c.kernel;
        uint64_t inode = word(k, d + layout(k).dentry_d_inode);
        int64_t sec = 0;
        uint32_t nsec = 0;
        current_time(k, inode, sec, nsec);
        set_mtime_ctime(k, dir, sec, nsec);
        k.emu().write(inode + layout(k).inode_i_ctime_sec, &sec, 8);
        set_u32(k, inode + layout(k).inode_i_ctime_nsec, nsec);
        drop_nlink(c, inode);
        dput(k, d);
    };
    k.add_function("simple_unlink", sub, [simple_unlink](StubCall& c) -> uint64_t {
        simple_unlink(c, c.arg(0), c.arg(1));
        return 0;
    });
    // simple_rmdir(dir, dentry): -ENOTEMPTY unless empty; the directory's own link and the
    // parent's link from it dropped.
    k.add_function("simple_rmdir", sub, [simple_empty, simple_unlink](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t dir = c.arg(0), d = c.arg(1);
        if (!simple_empty(k, d)) return static_cast<uint64_t>(int64_t(-ENOTEMPTY));
        drop_nlink(c, word(k, d + layout(k).dentry_d_inode));
        simple_unlink(c, dir, d);
        drop_nlink(c, dir);
        return 0;
    });
}

}  // namespace kmodemu
