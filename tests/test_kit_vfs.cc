// The VFS core (fs/super.c, fs/namespace.c, fs/fs_context.c, fs/inode.c, fs/dcache.c,
// fs/libfs.c): Debian's modules that mount their internal file systems (configfs through
// simple_pin_fs(), dax through kern_mount() of a pseudo file system) get the real kernel's
// verdicts, and a mount is made, shared, pinned and torn down as the kernel does it.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kernel_stubs/fs/internal.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitVfs, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // configfs_register_subsystem(): simple_pin_fs(), get_tree_single(), new_inode(),
        // d_make_root(), d_alloc_name(), d_add(), d_instantiate(), current_time() (6.12:
        // simple_inode_init_ts(), inode_set_ctime_current()); at unload simple_rmdir(),
        // d_delete(), dput(), simple_release_fs() and kill_litter_super()
        "kernel/drivers/infiniband/core/rdma_cm.ko",
        "kernel/drivers/infiniband/ulp/iser/ib_iser.ko",
        "kernel/drivers/infiniband/ulp/srp/ib_srp.ko",
        "kernel/net/sunrpc/xprtrdma/rpcrdma.ko",
        "kernel/drivers/usb/gadget/libcomposite.ko",
        "kernel/drivers/usb/gadget/function/usb_f_acm.ko",
        "kernel/drivers/usb/gadget/function/usb_f_mass_storage.ko",
        "kernel/drivers/usb/gadget/function/usb_f_fs.ko",
        "kernel/drivers/usb/gadget/legacy/g_ether.ko",
        "kernel/fs/gfs2/gfs2.ko",
        // dax_fs_init(): kern_mount() of init_pseudo()'s file system, its inodes from the
        // module's alloc_inode and inode_init_once(); kern_unmount() and kill_anon_super()
        "kernel/drivers/dax/dax.ko",
        "kernel/drivers/dax/hmem/dax_hmem.ko",
        "kernel/drivers/nvdimm/nd_pmem.ko",
        "kernel/drivers/md/persistent-data/dm-persistent-data.ko",
    });
}

// A file system type whose init_fs_context is init_pseudo(fc, magic) (arm64 code in guest
// memory), killed by kill_anon_super().
struct PseudoFs : fx::KitKernel {
    static constexpr uint64_t code = 0xffff800001000000ull;
    static constexpr uint64_t magic = 0x64646178;
    uint64_t type = 0;
    PseudoFs() {
        emu.map(code, 0x1000, prot_rwx);
        const uint32_t insns[] = {
            0xa9bf7bfd,  // stp x29, x30, [sp, #-16]!
            0x910003fd,  // mov x29, sp
            0x580000c1,  // ldr x1, magic
            0x580000f0,  // ldr x16, init_pseudo
            0xd63f0200,  // blr x16
            0x52800000,  // mov w0, #0
            0xa8c17bfd,  // ldp x29, x30, [sp], #16
            0xd65f03c0,  // ret
        };
        emu.write(code, insns, sizeof(insns));
        uint64_t lits[] = {magic, k.find_export("init_pseudo")->address};
        emu.write(code + sizeof(insns), lits, sizeof(lits));
        type = zeroed(256);
        emu.write_word(type, str("kmodemu-pseudo"));
        emu.write_word(type + s.vfs.file_system_type_init_fs_context, code);
        emu.write_word(type + s.vfs.file_system_type_kill_sb,
                       k.find_export("kill_anon_super")->address);
    }
    uint64_t w(uint64_t a) { return emu.read_word(a); }
    vfs::State& st() { return k.state<vfs::State>(); }
};

TEST(KitVfs, KernMountOfAPseudoFileSystem) {
    PseudoFs f;
    uint64_t mnt = f.call("kern_mount", {f.type});
    ASSERT_FALSE(vfs::is_err(f.k, mnt));
    const KernelStructs::Vfs& v = f.s.vfs;
    uint64_t sb = f.w(mnt + v.vfsmount_mnt_sb), root = f.w(mnt + v.vfsmount_mnt_root);
    EXPECT_EQ(f.w(sb + v.super_block_s_magic), PseudoFs::magic);
    EXPECT_EQ(f.w(sb + v.super_block_s_root), root);
    EXPECT_EQ(f.w(sb + v.super_block_s_type), f.type);
    EXPECT_EQ(f.cstr(sb + v.super_block_s_id), "kmodemu-pseudo");
    uint32_t flags = f.emu.read_u32(sb + v.super_block_s_flags);
    EXPECT_TRUE(flags & v.sb_born);
    EXPECT_TRUE(flags & v.sb_active);
    EXPECT_TRUE(flags & v.sb_nouser);
    EXPECT_EQ(f.emu.read_u32(sb + v.super_block_s_dev), 1u);  // the first unnamed device
    // The root: a directory inode number 1, its mapping its own i_data.
    uint64_t inode = f.w(root + v.dentry_d_inode);
    EXPECT_EQ(f.w(root + v.dentry_d_parent), root);
    EXPECT_EQ(f.w(root + v.dentry_d_sb), sb);
    EXPECT_EQ(f.w(inode + v.inode_i_ino), 1u);
    EXPECT_EQ(f.emu.read_u32(inode + v.inode_i_mode) & 0xffff, 040600u);
    EXPECT_EQ(f.w(inode + v.inode_i_mapping), inode + v.inode_i_data);
    EXPECT_EQ(f.w(inode + v.inode_i_sb), sb);
    EXPECT_EQ(f.emu.read_u32(root + v.dentry_d_flags) & v.dcache_entry_type,
              v.dcache_autodir_type);  // a directory whose i_op has no lookup
    // The super block's root and the mount's hold the dentry.
    EXPECT_EQ(f.emu.read_u32(root + v.dentry_d_lockref + v.lockref_count), 2u);
    // A second kern_mount() makes a second super block (get_tree_nodev()).
    uint64_t mnt2 = f.call("kern_mount", {f.type});
    EXPECT_NE(f.w(mnt2 + v.vfsmount_mnt_sb), sb);
    EXPECT_EQ(f.st().supers.size(), 2u);
    // kern_unmount() ends each: the type's kill_sb, the inodes evicted, the device freed.
    f.call("kern_unmount", {mnt2});
    f.call("kern_unmount", {mnt});
    EXPECT_TRUE(f.st().supers.empty());
    EXPECT_TRUE(f.st().mounts.empty());
    EXPECT_TRUE(f.st().dentries.empty());
    EXPECT_TRUE(f.st().anon_devs.empty());
}

TEST(KitVfs, SimplePinFsMountsOnceAndCountsPins) {
    PseudoFs f;
    uint64_t mount = f.zeroed(8), count = f.zeroed(4);
    EXPECT_EQ(f.call("simple_pin_fs", {f.type, mount, count}), 0u);
    uint64_t mnt = f.w(mount);
    ASSERT_TRUE(mnt);
    EXPECT_EQ(f.call("simple_pin_fs", {f.type, mount, count}), 0u);
    EXPECT_EQ(f.w(mount), mnt);  // the same mount pinned twice
    EXPECT_EQ(f.emu.read_u32(count), 2u);
    EXPECT_EQ(f.st().mounts[mnt].count, 2);
    EXPECT_EQ(f.st().supers.size(), 1u);
    f.call("simple_release_fs", {mount, count});
    EXPECT_EQ(f.w(mount), mnt);
    EXPECT_EQ(f.st().supers.size(), 1u);
    f.call("simple_release_fs", {mount, count});
    EXPECT_EQ(f.w(mount), 0u);  // the last pin forgets the mount and unmounts it
    EXPECT_EQ(f.emu.read_u32(count), 0u);
    EXPECT_TRUE(f.st().supers.empty());
    EXPECT_TRUE(f.st().mounts.empty());
}

TEST(KitVfs, MountErrors) {
    PseudoFs f;
    // vfs_kern_mount(NULL, ...): -EINVAL
    EXPECT_EQ(f.call("vfs_kern_mount", {0, 0, 0, 0}), vfs::err_ptr(f.k, -EINVAL));
    // A type whose init_fs_context fails: its error, nothing left mounted.
    const uint32_t fail[] = {0x12800160, 0xd65f03c0};  // mov w0, #-12; ret
    f.emu.write(PseudoFs::code + 0x100, fail, sizeof(fail));
    f.emu.write_word(f.type + f.s.vfs.file_system_type_init_fs_context, PseudoFs::code + 0x100);
    EXPECT_EQ(f.call("kern_mount", {f.type}), vfs::err_ptr(f.k, -ENOMEM));
    uint64_t mount = f.zeroed(8), count = f.zeroed(4);
    EXPECT_EQ(static_cast<int32_t>(f.call("simple_pin_fs", {f.type, mount, count})), -ENOMEM);
    EXPECT_EQ(f.w(mount), 0u);
    EXPECT_EQ(f.emu.read_u32(count), 0u);
    EXPECT_TRUE(f.st().supers.empty());
}

TEST(KitVfs, DentriesAndInodes) {
    PseudoFs f;
    const KernelStructs::Vfs& v = f.s.vfs;
    uint64_t mnt = f.call("kern_mount", {f.type});
    uint64_t sb = f.w(mnt + v.vfsmount_mnt_sb), root = f.w(mnt + v.vfsmount_mnt_root);
    // A named child holds its parent; its name is inline, or external when long.
    uint64_t d = f.call("d_alloc_name", {root, f.str("child")});
    EXPECT_EQ(f.w(d + v.dentry_d_parent), root);
    EXPECT_EQ(f.emu.read_u32(root + v.dentry_d_lockref + v.lockref_count), 3u);
    EXPECT_EQ(f.cstr(f.w(d + v.dentry_d_name + v.qstr_name)), "child");
    EXPECT_EQ(f.w(d + v.dentry_d_name + v.qstr_name), d + v.dentry_d_iname);
    std::string longname(100, 'x');
    uint64_t d2 = f.call("d_alloc_name", {root, f.str(longname)});
    EXPECT_EQ(f.cstr(f.w(d2 + v.dentry_d_name + v.qstr_name)), longname);
    EXPECT_NE(f.w(d2 + v.dentry_d_name + v.qstr_name), d2 + v.dentry_d_iname);
    f.call("dput", {d2});  // unhashed: killed, the parent's reference dropped
    EXPECT_EQ(f.emu.read_u32(root + v.dentry_d_lockref + v.lockref_count), 3u);
    // A regular file's inode; inc_nlink / drop_nlink.
    uint64_t inode = f.call("new_inode", {sb});
    uint16_t mode = 0100644;
    f.emu.write(inode + v.inode_i_mode, &mode, 2);
    EXPECT_EQ(f.emu.read_u32(inode + v.inode_i_nlink), 1u);
    f.call("inc_nlink", {inode});
    EXPECT_EQ(f.emu.read_u32(inode + v.inode_i_nlink), 2u);
    f.call("drop_nlink", {inode});
    f.call("d_add", {d, inode});  // positive and hashed
    EXPECT_EQ(f.w(d + v.dentry_d_inode), inode);
    EXPECT_EQ(f.emu.read_u32(d + v.dentry_d_flags) & v.dcache_entry_type, v.dcache_regular_type);
    // lockref_get() (the inline dget()) and dput(): a hashed dentry stays cached at 0.
    f.call("lockref_get", {d + v.dentry_d_lockref});
    EXPECT_EQ(f.emu.read_u32(d + v.dentry_d_lockref + v.lockref_count), 2u);
    f.call("dput", {d});
    f.call("dput", {d});
    EXPECT_TRUE(f.st().dentries.count(d));
    EXPECT_EQ(f.emu.read_u32(d + v.dentry_d_lockref + v.lockref_count), 0u);
    // The unmount kills the unused dentry and evicts its inode.
    f.call("kern_unmount", {mnt});
    EXPECT_TRUE(f.st().dentries.empty());
    EXPECT_TRUE(f.st().supers.empty());
}

}  // namespace
