// fs/inode.c: inodes of the kit's size (or of the file system's alloc_inode), initialised by
// inode_init_always() as modules then read them inline, kept on their super block's list until
// evicted. Inodes are never hashed here (no iget of an inode number is emulated), so the last
// iput() of one evicts it unless the file system's drop_inode keeps it cached.
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

namespace {

// inode_init_always(): the fields a new inode starts with.
void inode_init_always(Kernel& k, uint64_t sb, uint64_t inode) {
    const KernelStructs::Vfs& v = layout(k);
    const State& st = k.state<State>();
    set_word(k, inode + v.inode_i_sb, sb);
    uint8_t bits = static_cast<uint8_t>(k.emu().read_u32(sb + v.super_block_s_blocksize_bits));
    k.emu().write(inode + v.inode_i_blkbits, &bits, 1);
    set_u32(k, inode + v.inode_i_flags, 0);
    set_u32(k, inode + v.inode_i_count, 1);
    set_word(k, inode + v.inode_i_op, st.empty_iops);
    set_word(k, inode + v.inode_i_fop, st.no_open_fops);
    set_word(k, inode + v.inode_i_ino, 0);
    set_u32(k, inode + v.inode_i_nlink, 1);
    uint16_t opflags = 0;
    k.emu().write(inode + v.inode_i_opflags, &opflags, 2);
    uint64_t zero = 0;
    k.emu().write(inode + v.inode_i_size, &zero, 8);
    set_u32(k, inode + v.inode_i_rdev, 0);
    uint64_t mapping = inode + v.inode_i_data;
    const Export* aops = k.find_export("empty_aops");
    set_word(k, mapping + v.address_space_a_ops, aops ? aops->address : 0);
    set_word(k, mapping + v.address_space_host, inode);
    set_word(k, inode + v.inode_i_private, 0);
    set_word(k, inode + v.inode_i_mapping, mapping);
}

// destroy_inode(): s_op->destroy_inode, then (after an RCU grace period in the kernel)
// s_op->free_inode, or free_inode_nonrcu() when the file system has neither.
void destroy_inode(Kernel& k, uint64_t inode, uint64_t sop) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t destroy = sop ? word(k, sop + v.super_operations_destroy_inode) : 0;
    uint64_t free = sop ? word(k, sop + v.super_operations_free_inode) : 0;
    if (destroy) {
        k.call_guest(destroy, {inode});
        if (!free) return;
    }
    if (free)
        k.call_guest(free, {inode});
    else
        kfree(k, inode);
}

// evict(): off the super block's list, s_op->evict_inode (else the page cache, empty, and
// clear_inode()), then destroyed.
void evict(Kernel& k, uint64_t inode) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t sb = word(k, inode + v.inode_i_sb);
    uint64_t sop = word(k, sb + v.super_block_s_op);
    k.state<State>().supers[sb].inodes.erase(inode);
    if (uint64_t ev = sop ? word(k, sop + v.super_operations_evict_inode) : 0)
        k.call_guest(ev, {inode});
    else
        set_u32(k, inode + v.inode_i_state, uint32_t(v.i_freeing | v.i_clear));
    destroy_inode(k, inode, sop);
}

uint64_t wall_ns(Kernel& k) {
    // ktime_get_coarse_real_ts64() of kernel/time/timekeeping.cc
    const Export* e = k.find_export("ktime_get_coarse_real_ts64");
    uint64_t ts = k.slab_alloc(16, gfp_zero);
    k.call_guest(e->address, {ts});
    int64_t sec = 0;
    uint64_t nsec = 0;
    k.emu().read(ts, &sec, 8);
    k.emu().read(ts + 8, &nsec, k.word());
    kfree(k, ts);
    return uint64_t(sec) * 1000000000ull + (nsec & 0xffffffffu);
}

}  // namespace

uint64_t new_inode(Kernel& k, uint64_t sb) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t sop = word(k, sb + v.super_block_s_op);
    uint64_t alloc = sop ? word(k, sop + v.super_operations_alloc_inode) : 0;
    // alloc_inode(): the file system's, else inode_cachep (inode_init_once() as constructor)
    uint64_t inode = alloc ? k.call_guest(alloc, {sb}) : k.slab_alloc(v.inode_size, gfp_zero);
    if (k.word() == 4) inode &= 0xffffffffu;
    if (!inode) return 0;
    inode_init_always(k, sb, inode);
    set_u32(k, inode + v.inode_i_state, 0);            // new_inode_pseudo()
    k.state<State>().supers[sb].inodes.insert(inode);  // inode_sb_list_add()
    return inode;
}

// iput(): the last reference runs iput_final(): s_op->drop_inode (else generic_drop_inode(),
// true for an unhashed inode) decides; an inode kept while the super block is active stays
// cached on its list, any other is evicted.
void iput(Kernel& k, uint64_t inode) {
    if (!inode) return;
    const KernelStructs::Vfs& v = layout(k);
    uint32_t count = u32(k, inode + v.inode_i_count);
    set_u32(k, inode + v.inode_i_count, count - 1);
    if (count != 1) return;
    uint64_t sb = word(k, inode + v.inode_i_sb);
    uint64_t sop = word(k, sb + v.super_block_s_op);
    uint64_t drop_fn = sop ? word(k, sop + v.super_operations_drop_inode) : 0;
    bool drop = drop_fn ? static_cast<int32_t>(k.call_guest(drop_fn, {inode})) != 0 : true;
    if (!drop && (u32(k, sb + v.super_block_s_flags) & v.sb_active)) return;
    set_u32(k, inode + v.inode_i_state, u32(k, inode + v.inode_i_state) | uint32_t(v.i_freeing));
    evict(k, inode);
}

// evict_inodes(): the inodes nobody holds (cached by drop_inode) are evicted at unmount.
void evict_inodes(Kernel& k, uint64_t sb) {
    const KernelStructs::Vfs& v = layout(k);
    std::set<uint64_t> inodes = k.state<State>().supers[sb].inodes;
    for (uint64_t inode : inodes) {
        if (u32(k, inode + v.inode_i_count)) continue;
        set_u32(k, inode + v.inode_i_state,
                u32(k, inode + v.inode_i_state) | uint32_t(v.i_freeing));
        evict(k, inode);
    }
}

// current_time(): ktime_get_coarse_real_ts64() through timestamp_truncate(): clamped to the
// super block's s_time_min..s_time_max, nanoseconds to its s_time_gran.
void current_time(Kernel& k, uint64_t inode, int64_t& sec, uint32_t& nsec) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t ns = wall_ns(k);
    sec = int64_t(ns / 1000000000ull);
    nsec = uint32_t(ns % 1000000000ull);
    uint64_t sb = word(k, inode + v.inode_i_sb);
    if (!sb) return;
    int64_t tmin = 0, tmax = 0;
    k.emu().read(sb + v.super_block_s_time_min, &tmin, 8);
    k.emu().read(sb + v.super_block_s_time_max, &tmax, 8);
    uint32_t gran = u32(k, sb + v.super_block_s_time_gran);
    if (sec < tmin) sec = tmin, nsec = 0;
    if (sec > tmax) sec = tmax, nsec = 0;
    if (gran == 1000000000)
        nsec = 0;
    else if (gran > 1)
        nsec -= nsec % gran;
}

void set_mtime_ctime(Kernel& k, uint64_t inode, int64_t sec, uint32_t nsec) {
    const KernelStructs::Vfs& v = layout(k);
    k.emu().write(inode + v.inode_i_mtime_sec, &sec, 8);
    k.emu().write(inode + v.inode_i_ctime_sec, &sec, 8);
    set_u32(k, inode + v.inode_i_mtime_nsec, nsec);
    set_u32(k, inode + v.inode_i_ctime_nsec, nsec);
}

void set_atime(Kernel& k, uint64_t inode, int64_t sec, uint32_t nsec) {
    const KernelStructs::Vfs& v = layout(k);
    k.emu().write(inode + v.inode_i_atime_sec, &sec, 8);
    set_u32(k, inode + v.inode_i_atime_nsec, nsec);
}

uint64_t timespec_arg(StubCall& c) {
    return c.arg(c.kernel.word() == 4 ? 1 : 0);
}

uint64_t return_timespec(StubCall& c, int64_t sec, uint32_t nsec) {
    if (c.kernel.word() == 4) {
        uint64_t ret = c.arg(0);
        c.write(ret, &sec, 8);
        c.write(ret + 8, &nsec, 4);
        return ret;
    }
    c.emu.set_arg(1, nsec);
    return static_cast<uint64_t>(sec);
}

// drop_nlink(): the kernel WARNs at an inode with no links.
void drop_nlink(StubCall& c, uint64_t inode) {
    uint64_t at = inode + layout(c.kernel).inode_i_nlink;
    uint32_t n = u32(c.kernel, at);
    if (!n) c.unimplemented("drop_nlink (an inode with no links: the kernel WARNs)");
    set_u32(c.kernel, at, n - 1);
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_inode(Kernel& k) {
    const char* sub = "fs/inode";
    const KernelStructs::Vfs& v = k.structs().vfs;
    vfs::State& st = k.state<vfs::State>();
    // empty_iops and no_open_fops: static operations with no method.
    st.empty_iops = k.alloc_data(v.inode_operations_size);
    st.no_open_fops = k.alloc_data(v.file_operations_size);
    k.add_function("new_inode", sub,
                   [](StubCall& c) -> uint64_t { return vfs::new_inode(c.kernel, c.arg(0)); });
    k.add_function("iput", sub, [](StubCall& c) -> uint64_t {
        vfs::iput(c.kernel, c.arg(0));
        return 0;
    });
    // inode_init_once(): the constructor of inode caches, a zeroed inode (its lists, locks and
    // page-cache tree in their empty states, which are zeroes for the emulated locking).
    k.add_function("inode_init_once", sub, [](StubCall& c) -> uint64_t {
        std::vector<uint8_t> zero(vfs::layout(c.kernel).inode_size);
        c.write(c.arg(0), zero.data(), zero.size());
        return 0;
    });
    // free_inode_nonrcu(): back to inode_cachep.
    k.add_function("free_inode_nonrcu", sub, [](StubCall& c) -> uint64_t {
        vfs::kfree(c.kernel, c.arg(0));
        return 0;
    });
    // clear_inode(): I_FREEING | I_CLEAR (no pages, buffers or writeback to wait for).
    k.add_function("clear_inode", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Vfs& l = vfs::layout(c.kernel);
        vfs::set_u32(c.kernel, c.arg(0) + l.inode_i_state, uint32_t(l.i_freeing | l.i_clear));
        return 0;
    });
    k.add_function("generic_delete_inode", sub, [](StubCall&) -> uint64_t { return 1; });
    // inc_nlink() / set_nlink() / clear_nlink() (s_remove_count, which only remount read-only
    // reads, is not kept).
    k.add_function("inc_nlink", sub, [](StubCall& c) -> uint64_t {
        uint64_t at = c.arg(0) + vfs::layout(c.kernel).inode_i_nlink;
        vfs::set_u32(c.kernel, at, vfs::u32(c.kernel, at) + 1);
        return 0;
    });
    k.add_function("drop_nlink", sub, [](StubCall& c) -> uint64_t {
        vfs::drop_nlink(c, c.arg(0));
        return 0;
    });
    k.add_function("set_nlink", sub, [](StubCall& c) -> uint64_t {
        vfs::set_u32(c.kernel, c.arg(0) + vfs::layout(c.kernel).inode_i_nlink, uint32_t(c.arg(1)));
        return 0;
    });
    k.add_function("clear_nlink", sub, [](StubCall& c) -> uint64_t {
        vfs::set_u32(c.kernel, c.arg(0) + vfs::layout(c.kernel).inode_i_nlink, 0);
        return 0;
    });
    // current_time(inode): the inode's super block's time, returned as a struct timespec64.
    k.add_function("current_time", sub, [](StubCall& c) -> uint64_t {
        int64_t sec = 0;
        uint32_t nsec = 0;
        vfs::current_time(c.kernel, vfs::timespec_arg(c), sec, nsec);
        return vfs::return_timespec(c, sec, nsec);
    });
    // inode_set_ctime_current(inode) (6.6+): the ctime set to current_time(), and returned.
    k.add_function("inode_set_ctime_current", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Vfs& l = vfs::layout(c.kernel);
        uint64_t inode = vfs::timespec_arg(c);
        int64_t sec = 0;
        uint32_t nsec = 0;
        vfs::current_time(c.kernel, inode, sec, nsec);
        c.write(inode + l.inode_i_ctime_sec, &sec, 8);
        vfs::set_u32(c.kernel, inode + l.inode_i_ctime_nsec, nsec);
        return vfs::return_timespec(c, sec, nsec);
    });
    // get_next_ino(): CPU 0's batch of LAST_INO_BATCH numbers from the shared counter, never 0.
    k.add_function("get_next_ino", sub, [](StubCall& c) -> uint64_t {
        vfs::State& s = c.kernel.state<vfs::State>();
        constexpr uint32_t batch = 1024;
        uint32_t res = s.last_ino;
        if ((res & (batch - 1)) == 0) {
            s.shared_last_ino += batch;
            res = s.shared_last_ino - batch;
        }
        res++;
        if (!res) res++;
        s.last_ino = res;
        return res;
    });
    // iunique(sb, max_reserved): the next number above max_reserved (no inode is hashed).
    k.add_function("iunique", sub, [](StubCall& c) -> uint64_t {
        vfs::State& s = c.kernel.state<vfs::State>();
        uint32_t max_reserved = uint32_t(c.arg(1));
        if (s.iunique_counter <= max_reserved) s.iunique_counter = max_reserved + 1;
        return s.iunique_counter++;
    });
}

}  // namespace kmodemu
