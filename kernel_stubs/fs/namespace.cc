// fs/namespace.c: the kernel's internal mounts (vfs_kern_mount(), kern_mount()), which no mount
// namespace holds. A struct vfsmount of the kit's layout is what modules see (mnt_root, mnt_sb);
// the rest of the kernel's struct mount (its count, its namespace) is kept in vfs::State.
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

namespace {

// vfs_create_mount(): a mount of fc's root (MNT_INTERNAL for SB_KERNMOUNT), holding an active
// reference to the super block and one to the root.
uint64_t vfs_create_mount(Kernel& k, uint64_t fc) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t root = word(k, fc + v.fs_context_root);
    if (!root) return err_ptr(k, -EINVAL);
    uint64_t mnt = k.slab_alloc(v.vfsmount_size, gfp_zero);
    if (!mnt) return err_ptr(k, -ENOMEM);
    if (u32(k, fc + v.fs_context_sb_flags) & v.sb_kernmount)
        set_u32(k, mnt + v.vfsmount_mnt_flags, uint32_t(v.mnt_internal));
    uint64_t sb = word(k, root + v.dentry_d_sb);
    k.state<State>().supers[sb].active++;
    set_word(k, mnt + v.vfsmount_mnt_sb, sb);
    set_word(k, mnt + v.vfsmount_mnt_root, dget(k, root));
    k.state<State>().mounts[mnt] = {};
    return mnt;
}

// fc_mount(): the tree got, the super block's s_umount released, the mount made.
uint64_t fc_mount(StubCall& c, uint64_t fc) {
    Kernel& k = c.kernel;
    int err = vfs_get_tree(c, fc);
    if (err) return err_ptr(k, err);
    uint64_t sb = word(k, word(k, fc + layout(k).fs_context_root) + layout(k).dentry_d_sb);
    up_write_umount(k, sb);
    return vfs_create_mount(k, fc);
}

}  // namespace

// vfs_kern_mount(type, flags, name, data): -EINVAL without a type; the context, its "source"
// and data parsed, the mount made from it.
uint64_t vfs_kern_mount(StubCall& c, uint64_t type, uint32_t flags, uint64_t name, uint64_t data) {
    Kernel& k = c.kernel;
    if (!type) return err_ptr(k, -EINVAL);
    if (data) c.unimplemented("vfs_kern_mount (with mount data)");
    uint64_t fc = fs_context_for_mount(c, type, flags);
    if (is_err(k, fc)) return fc;
    int ret = 0;
    if (name) ret = vfs_parse_source(c, fc, c.read_cstr(name, 4096));
    if (!ret) ret = parse_monolithic_mount_data(k, fc);
    uint64_t mnt = ret ? err_ptr(k, ret) : fc_mount(c, fc);
    put_fs_context(k, fc);
    return mnt;
}

// mntput(): a long-term mount (kern_mount()'s) only loses the count; the last reference of any
// other ends it (cleanup_mnt(): the root and the super block's active reference dropped). The
// kernel defers that to the task's return to user space unless MNT_INTERNAL; the mounts made
// here are all SB_KERNMOUNT's, internal.
void mntput(Kernel& k, uint64_t mnt) {
    if (!mnt) return;
    State& st = k.state<State>();
    auto it = st.mounts.find(mnt);
    if (it == st.mounts.end()) return;
    if (--it->second.count > 0 || it->second.long_term) return;
    const KernelStructs::Vfs& v = layout(k);
    uint64_t root = word(k, mnt + v.vfsmount_mnt_root);
    uint64_t sb = word(k, mnt + v.vfsmount_mnt_sb);
    st.mounts.erase(it);
    dput(k, root);
    deactivate_super(k, sb);
    kfree(k, mnt);
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_namespace(Kernel& k) {
    const char* sub = "fs/namespace";
    k.add_function("vfs_kern_mount", sub, [](StubCall& c) -> uint64_t {
        return vfs::vfs_kern_mount(c, c.arg(0), uint32_t(c.arg(1)), c.arg(2), c.arg(3));
    });
    // kern_mount(type): vfs_kern_mount(type, SB_KERNMOUNT, type->name, NULL), held long-term
    // (MNT_NS_INTERNAL).
    k.add_function("kern_mount", sub, [](StubCall& c) -> uint64_t {
        uint64_t type = c.arg(0);
        uint64_t mnt = vfs::vfs_kern_mount(c, type, uint32_t(vfs::layout(c.kernel).sb_kernmount),
                                           c.emu.read_word(type), 0);
        if (!vfs::is_err(c.kernel, mnt)) c.kernel.state<vfs::State>().mounts[mnt].long_term = true;
        return mnt;
    });
    // kern_unmount(mnt): the long-term hold released (after an RCU grace period), then mntput().
    k.add_function("kern_unmount", sub, [](StubCall& c) -> uint64_t {
        uint64_t mnt = c.arg(0);
        if (!mnt || vfs::is_err(c.kernel, mnt)) return 0;
        auto& mounts = c.kernel.state<vfs::State>().mounts;
        if (auto it = mounts.find(mnt); it != mounts.end()) it->second.long_term = false;
        vfs::mntput(c.kernel, mnt);
        return 0;
    });
    k.add_function("mntget", sub, [](StubCall& c) -> uint64_t {
        auto& mounts = c.kernel.state<vfs::State>().mounts;
        if (auto it = mounts.find(c.arg(0)); it != mounts.end()) it->second.count++;
        return c.arg(0);
    });
    k.add_function("mntput", sub, [](StubCall& c) -> uint64_t {
        vfs::mntput(c.kernel, c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
