// fs/super.c: super blocks. A super block of the kit's size is made by sget_fc() (the types'
// instances kept in vfs::State), filled by the file system's fill_super (the module's code),
// and killed by the type's kill_sb when its last active reference goes.
#include <algorithm>
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

namespace {

void down_write_umount(Kernel& k, uint64_t sb) {
    const KernelStructs::RwSemaphore& rw = k.structs().rwsem;
    uint64_t s = sb + layout(k).super_block_s_umount;
    k.emu().write_word(s + rw.count, 1);  // RWSEM_WRITER_LOCKED (kernel_stubs/locking.cc)
    k.emu().write_word(s + rw.owner, k.current_task());
}

// alloc_super(): zeroed, s_umount held for writing, one reference and one active reference;
// no backing device (noop_backing_dev_info), the default limits and an empty
// super_operations.
uint64_t alloc_super(Kernel& k, uint64_t type, uint32_t flags, uint64_t user_ns) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    uint64_t s = k.slab_alloc(v.super_block_size, gfp_zero);
    if (!s) return 0;
    set_word(k, s + v.super_block_s_user_ns, user_ns);
    const KernelStructs::ListHead& lh = k.structs().list_head;
    uint64_t wl = s + v.super_block_s_umount + k.structs().rwsem.wait_list;
    set_word(k, wl + lh.next, wl);
    set_word(k, wl + lh.prev, wl);
    down_write_umount(k, s);
    if (const Export* bdi = k.find_export("noop_backing_dev_info"))
        set_word(k, s + v.super_block_s_bdi, bdi->address);
    set_u32(k, s + v.super_block_s_flags, flags);
    // MAX_NON_LFS, 1 s granularity, TIME64_MIN..TIME64_MAX
    set_word(k, s + v.super_block_s_maxbytes, 0x7fffffff);
    set_word(k, s + v.super_block_s_op, st.default_sop);
    set_u32(k, s + v.super_block_s_time_gran, 1000000000);
    int64_t tmin = INT64_MIN, tmax = INT64_MAX;
    k.emu().write(s + v.super_block_s_time_min, &tmin, 8);
    k.emu().write(s + v.super_block_s_time_max, &tmax, 8);
    State::Super sup;
    sup.type = type;
    st.supers[s] = sup;
    return s;
}

// __put_super(): the last reference frees it (after an RCU grace period in the kernel).
void put_super(Kernel& k, uint64_t sb) {
    State& st = k.state<State>();
    auto it = st.supers.find(sb);
    if (it == st.supers.end() || --it->second.count > 0) return;
    st.supers.erase(it);
    kfree(k, sb);
}

// get_anon_bdev(): the lowest free minor of major 0 from 1 (unnamed_dev_ida).
int get_anon_bdev(Kernel& k, uint32_t& dev) {
    State& st = k.state<State>();
    uint32_t n = 1;
    while (st.anon_devs.count(n))
        ++n;
    if (n >= (1u << k.structs().minorbits)) return -EMFILE;
    st.anon_devs.insert(n);
    dev = n;  // MKDEV(0, n)
    return 0;
}

void free_anon_bdev(Kernel& k, uint32_t dev) {
    k.state<State>().anon_devs.erase(dev & ((1u << k.structs().minorbits) - 1));
}

// generic_shutdown_super(): with a root, the dcache shrunk, SB_ACTIVE cleared, the unused
// inodes evicted, s_op->put_super; the super block leaves its type's instances and s_umount
// is released.
void generic_shutdown_super(StubCall& c, uint64_t sb) {
    Kernel& k = c.kernel;
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    if (word(k, sb + v.super_block_s_root)) {
        shrink_dcache_for_umount(&c, k, sb);
        set_u32(k, sb + v.super_block_s_flags,
                u32(k, sb + v.super_block_s_flags) & ~uint32_t(v.sb_active));
        evict_inodes(k, sb);
        uint64_t sop = word(k, sb + v.super_block_s_op);
        if (uint64_t put = sop ? word(k, sop + v.super_operations_put_super) : 0)
            k.call_guest(put, {sb});
        if (!st.supers[sb].inodes.empty())
            c.unimplemented(
                "generic_shutdown_super (busy inodes after unmount: the kernel "
                "reports data corruption)");
    }
    st.instances.erase(std::remove(st.instances.begin(), st.instances.end(), sb),
                       st.instances.end());
    up_write_umount(k, sb);
}

void kill_anon_super(StubCall& c, uint64_t sb) {
    uint32_t dev = u32(c.kernel, sb + layout(c.kernel).super_block_s_dev);
    generic_shutdown_super(c, sb);
    free_anon_bdev(c.kernel, dev);
}

}  // namespace

void up_write_umount(Kernel& k, uint64_t sb) {
    const KernelStructs::RwSemaphore& rw = k.structs().rwsem;
    uint64_t s = sb + layout(k).super_block_s_umount;
    k.emu().write_word(s + rw.count, 0);
    k.emu().write_word(s + rw.owner, 0);
}

// deactivate_locked_super(): the last active reference runs the type's kill_sb and drops the
// super block; another only releases s_umount.
void deactivate_locked_super(Kernel& k, uint64_t sb) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    State::Super& s = st.supers[sb];
    if (--s.active == 0) {
        uint64_t type = word(k, sb + v.super_block_s_type);
        if (!type) type = s.type;
        uint64_t kill = word(k, type + v.file_system_type_kill_sb);
        k.call_guest(kill, {sb});
        put_super(k, sb);
    } else {
        up_write_umount(k, sb);
    }
}

// deactivate_super(): an active reference dropped, the last one under s_umount.
void deactivate_super(Kernel& k, uint64_t sb) {
    State::Super& s = k.state<State>().supers[sb];
    if (s.active > 1) {
        s.active--;
        return;
    }
    down_write_umount(k, sb);
    deactivate_locked_super(k, sb);
}

// vfs_get_super(): sget_fc() with the keying's test (one super block of the type; the one whose
// s_fs_info is fc->s_fs_info; always a new one) and set_anon_super_fc(), then fill_super for a
// new one (SB_ACTIVE once filled); fc->root is a reference to its root.
int vfs_get_super(Kernel& k, uint64_t fc, Keying keying,
                  const std::function<int(uint64_t sb)>& fill) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    uint64_t type = word(k, fc + v.fs_context_fs_type);
    uint64_t key = word(k, fc + v.fs_context_s_fs_info);
    if (keying != Keying::independent) {
        for (uint64_t old : st.instances) {
            if (st.supers[old].type != type) continue;
            if (keying == Keying::keyed && word(k, old + v.super_block_s_fs_info) != key) continue;
            // grab_super(): a born super block with active references is shared, s_umount held.
            if (!(u32(k, old + v.super_block_s_flags) & v.sb_born) || st.supers[old].active <= 0)
                continue;
            st.supers[old].active++;
            down_write_umount(k, old);
            set_word(k, fc + v.fs_context_root, dget(k, word(k, old + v.super_block_s_root)));
            return 0;
        }
    }
    uint64_t sb = alloc_super(k, type, u32(k, fc + v.fs_context_sb_flags),
                              word(k, fc + v.fs_context_user_ns));
    if (!sb) return -ENOMEM;
    set_word(k, sb + v.super_block_s_fs_info, key);
    uint32_t dev = 0;
    if (int err = get_anon_bdev(k, dev)) {  // set_anon_super()
        st.supers.erase(sb);                // destroy_unused_super()
        kfree(k, sb);
        return err;
    }
    set_u32(k, sb + v.super_block_s_dev, dev);
    set_word(k, fc + v.fs_context_s_fs_info, 0);
    set_word(k, sb + v.super_block_s_type, type);
    std::string id;
    k.emu().read_cstring(word(k, type), v.super_block_s_id_len - 1, id);
    k.emu().write(sb + v.super_block_s_id, id.c_str(), id.size() + 1);
    st.instances.insert(st.instances.begin(), sb);
    if (!word(k, sb + v.super_block_s_root)) {
        int err = fill(sb);
        if (err) {
            deactivate_locked_super(k, sb);
            return err;
        }
        set_u32(k, sb + v.super_block_s_flags,
                u32(k, sb + v.super_block_s_flags) | uint32_t(v.sb_active));
    }
    set_word(k, fc + v.fs_context_root, dget(k, word(k, sb + v.super_block_s_root)));
    return 0;
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_super(Kernel& k) {
    const char* sub = "fs/super";
    const KernelStructs::Vfs& v = k.structs().vfs;
    // alloc_super()'s default_op: a static, empty super_operations.
    k.state<vfs::State>().default_sop = k.alloc_data(v.super_operations_size);
    auto get_tree = [](vfs::Keying keying) {
        return [keying](StubCall& c) -> uint64_t {
            uint64_t fc = c.arg(0), fill = c.arg(1);
            Kernel& k = c.kernel;
            if (keying == vfs::Keying::keyed)  // get_tree_keyed(): fc->s_fs_info = key
                vfs::set_word(k, fc + vfs::layout(k).fs_context_s_fs_info, c.arg(2));
            int err = vfs::vfs_get_super(k, fc, keying, [&](uint64_t sb) {
                return static_cast<int>(static_cast<int32_t>(k.call_guest(fill, {sb, fc})));
            });
            return static_cast<uint64_t>(int64_t(err));
        };
    };
    k.add_function("get_tree_single", sub, get_tree(vfs::Keying::single));
    k.add_function("get_tree_nodev", sub, get_tree(vfs::Keying::independent));
    k.add_function("get_tree_keyed", sub, get_tree(vfs::Keying::keyed));
    k.add_function("kill_anon_super", sub, [](StubCall& c) -> uint64_t {
        vfs::kill_anon_super(c, c.arg(0));
        return 0;
    });
    // kill_litter_super(): the dentries pinned by the file system (d_genocide()) let go first.
    k.add_function("kill_litter_super", sub, [](StubCall& c) -> uint64_t {
        uint64_t sb = c.arg(0);
        if (uint64_t root = vfs::word(c.kernel, sb + vfs::layout(c.kernel).super_block_s_root))
            vfs::d_genocide(c.kernel, root);
        vfs::kill_anon_super(c, sb);
        return 0;
    });
    k.add_function("deactivate_super", sub, [](StubCall& c) -> uint64_t {
        vfs::deactivate_super(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("deactivate_locked_super", sub, [](StubCall& c) -> uint64_t {
        vfs::deactivate_locked_super(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("get_anon_bdev", sub, [](StubCall& c) -> uint64_t {
        uint32_t dev = 0;
        int err = vfs::get_anon_bdev(c.kernel, dev);
        if (!err) vfs::set_u32(c.kernel, c.arg(0), dev);
        return static_cast<uint64_t>(int64_t(err));
    });
    k.add_function("free_anon_bdev", sub, [](StubCall& c) -> uint64_t {
        vfs::free_anon_bdev(c.kernel, uint32_t(c.arg(0)));
        return 0;
    });
}

}  // namespace kmodemu
