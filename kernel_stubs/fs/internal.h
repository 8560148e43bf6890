// fs/internal.h: what the files of the emulated VFS core share (fs/super.c, fs/namespace.c,
// fs/fs_context.c, fs/inode.c, fs/dcache.c, fs/libfs.c). The objects live in guest memory, laid
// out as the kit's kernel lays them out (KernelStructs::Vfs), since modules read and write their
// fields inline; what the kernel keeps in fields no module reads (the super blocks of a type,
// the dcache's tree and hash, the mounts' counts) is kept here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu::vfs {

struct State : Kernel::SubsystemState {
    struct Super {
        uint64_t type = 0;
        int count = 1;              // s_count
        int active = 1;             // s_active
        std::set<uint64_t> inodes;  // s_inodes
    };
    std::map<uint64_t, Super> supers;  // super_block * ->
    std::vector<uint64_t> instances;   // the types' fs_supers, newest first
    struct Dentry {
        std::vector<uint64_t> children;  // d_subdirs, newest first
        bool hashed = false;
    };
    std::map<uint64_t, Dentry> dentries;  // dentry * ->
    struct Mount {
        int count = 1;           // mnt_count
        bool long_term = false;  // mnt_ns set: kern_mount()'s MNT_NS_INTERNAL
    };
    std::map<uint64_t, Mount> mounts;  // vfsmount * ->
    std::set<uint64_t> need_free;      // fs_contexts whose ops->free is due (fc->need_free)
    std::set<uint32_t> anon_devs;      // unnamed_dev_ida
    uint64_t pseudo_ops = 0;           // pseudo_fs_context_ops (fs/libfs.c)
    uint64_t empty_iops = 0, no_open_fops = 0, default_sop = 0, simple_sop = 0;
    uint32_t last_ino = 0, shared_last_ino = 0;  // get_next_ino()
    uint32_t iunique_counter = 0;
};

inline const KernelStructs::Vfs& layout(Kernel& k) {
    return k.structs().vfs;
}
inline uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}
inline void set_word(Kernel& k, uint64_t a, uint64_t v) {
    k.emu().write_word(a, v);
}
inline uint32_t u32(Kernel& k, uint64_t a) {
    return k.emu().read_u32(a);
}
inline void set_u32(Kernel& k, uint64_t a, uint32_t v) {
    k.emu().write_u32(a, v);
}
inline uint64_t err_ptr(Kernel& k, int err) {
    return static_cast<uint64_t>(int64_t(err)) & (k.word() == 8 ? ~uint64_t(0) : 0xffffffffu);
}
inline bool is_err(Kernel& k, uint64_t p) {
    return p >= (k.word() == 8 ? uint64_t(-4095) : uint64_t(0xfffff001u));
}
inline int ptr_err(Kernel& k, uint64_t p) {
    return k.word() == 8 ? int(int64_t(p)) : int(int32_t(uint32_t(p)));
}
void kfree(Kernel& k, uint64_t p);
uint64_t kstrdup(Kernel& k, const std::string& s);

// fs/inode.c
uint64_t new_inode(Kernel& k, uint64_t sb);
void iput(Kernel& k, uint64_t inode);
void evict_inodes(Kernel& k, uint64_t sb);
// current_time(): the coarse wall clock truncated to the super block's granularity.
void current_time(Kernel& k, uint64_t inode, int64_t& sec, uint32_t& nsec);
void set_mtime_ctime(Kernel& k, uint64_t inode, int64_t sec, uint32_t nsec);
void set_atime(Kernel& k, uint64_t inode, int64_t sec, uint32_t nsec);
// A function of one pointer argument returning a struct timespec64: in x0:x1 on arm64; on ARM
// in memory at the address the caller passes in r0 (AAPCS: a composite larger than a word),
// the argument then in r1.
uint64_t timespec_arg(StubCall& c);
uint64_t return_timespec(StubCall& c, int64_t sec, uint32_t nsec);
void drop_nlink(StubCall& c, uint64_t inode);

// fs/dcache.c
uint64_t d_alloc_anon(Kernel& k, uint64_t sb);
uint64_t d_make_root(Kernel& k, uint64_t inode);
uint64_t dget(Kernel& k, uint64_t dentry);
void dput(Kernel& k, uint64_t dentry);
void d_drop(Kernel& k, uint64_t dentry);
bool d_unhashed(Kernel& k, uint64_t dentry);
void d_genocide(Kernel& k, uint64_t root);
void shrink_dcache_for_umount(StubCall* c, Kernel& k, uint64_t sb);

// fs/super.c
enum class Keying { single, keyed, independent };
// vfs_get_super(): the super block of fc (sget_fc()), filled by `fill` when new.
int vfs_get_super(Kernel& k, uint64_t fc, Keying keying,
                  const std::function<int(uint64_t sb)>& fill);
void deactivate_super(Kernel& k, uint64_t sb);
void deactivate_locked_super(Kernel& k, uint64_t sb);
void up_write_umount(Kernel& k, uint64_t sb);

// fs/fs_context.c
uint64_t fs_context_for_mount(StubCall& c, uint64_t type, uint32_t sb_flags);
void put_fs_context(Kernel& k, uint64_t fc);
int vfs_parse_source(StubCall& c, uint64_t fc, const std::string& name);
int parse_monolithic_mount_data(Kernel& k, uint64_t fc);
int vfs_get_tree(StubCall& c, uint64_t fc);

// fs/libfs.c
int pseudo_fs_get_tree(Kernel& k, uint64_t fc);

// fs/namespace.c
uint64_t vfs_kern_mount(StubCall& c, uint64_t type, uint32_t flags, uint64_t name, uint64_t data);
void mntput(Kernel& k, uint64_t mnt);

}  // namespace kmodemu::vfs
