// fs/fs_context.c: the file system context a mount is made from. alloc_fs_context() runs the
// type's init_fs_context (the module's code), which sets fc->ops; the parameters kmodemu's
// callers pass are the kernel's own internal mounts' ("source" = the type's name, no data).
#include <cerrno>

#include "kernel_stubs/fs/internal.h"
#include "kernel_stubs/slab.h"

namespace kmodemu::vfs {

void kfree(Kernel& k, uint64_t p) {
    if (p) k.slab().free(p);
}

uint64_t kstrdup(Kernel& k, const std::string& s) {
    uint64_t p = k.slab_alloc(s.size() + 1, gfp_zero);
    if (p) k.emu().write(p, s.data(), s.size());
    return p;
}

// fs_context_for_mount(type, sb_flags) = alloc_fs_context(type, NULL, sb_flags, 0,
// FS_CONTEXT_FOR_MOUNT): the context in init_net and init_user_ns (insmod's namespaces), then
// the type's init_fs_context; ERR_PTR of its error.
uint64_t fs_context_for_mount(StubCall& c, uint64_t type, uint32_t sb_flags) {
    Kernel& k = c.kernel;
    const KernelStructs::Vfs& v = layout(k);
    uint64_t fc = k.slab_alloc(v.fs_context_size, gfp_zero);
    if (!fc) return err_ptr(k, -ENOMEM);
    set_u32(k, fc + v.fs_context_sb_flags, sb_flags);  // purpose FS_CONTEXT_FOR_MOUNT is 0
    set_word(k, fc + v.fs_context_fs_type, type);
    if (const Export* net = k.find_export("init_net"))
        set_word(k, fc + v.fs_context_net_ns, net->address);
    if (const Export* ns = k.find_export("init_user_ns"))
        set_word(k, fc + v.fs_context_user_ns, ns->address);
    uint64_t init = word(k, type + v.file_system_type_init_fs_context);
    if (!init) {
        kfree(k, fc);
        c.unimplemented(
            "alloc_fs_context (a file system without init_fs_context: "
            "legacy_init_fs_context)");
    }
    int ret = static_cast<int32_t>(k.call_guest(init, {fc}));
    if (ret < 0) {
        put_fs_context(k, fc);
        return err_ptr(k, ret);
    }
    k.state<State>().need_free.insert(fc);
    return fc;
}

// put_fs_context(): the root and its super block's active reference dropped, ops->free when the
// context was initialised, the source string and the context freed.
void put_fs_context(Kernel& k, uint64_t fc) {
    const KernelStructs::Vfs& v = layout(k);
    State& st = k.state<State>();
    if (uint64_t root = word(k, fc + v.fs_context_root)) {
        uint64_t sb = word(k, root + v.dentry_d_sb);
        dput(k, root);
        set_word(k, fc + v.fs_context_root, 0);
        deactivate_super(k, sb);
    }
    uint64_t ops = word(k, fc + v.fs_context_ops);
    if (st.need_free.erase(fc) && ops) {
        if (ops == st.pseudo_ops) {  // pseudo_fs_free()
            kfree(k, word(k, fc + v.fs_context_fs_private));
        } else if (uint64_t free = word(k, ops + v.fs_context_operations_free)) {
            k.call_guest(free, {fc});
        }
    }
    kfree(k, word(k, fc + v.fs_context_source));
    kfree(k, fc);
}

// vfs_parse_fs_string(fc, "source", name): no security module and no sb flag of that name; the
// file system's parse_param first when it has one, else vfs_parse_fs_param_source().
int vfs_parse_source(StubCall& c, uint64_t fc, const std::string& name) {
    Kernel& k = c.kernel;
    const KernelStructs::Vfs& v = layout(k);
    uint64_t ops = word(k, fc + v.fs_context_ops);
    if (ops && ops != k.state<State>().pseudo_ops &&
        word(k, ops + v.fs_context_operations_parse_param))
        c.unimplemented("vfs_parse_fs_param (a file system's parse_param of \"source\")");
    if (word(k, fc + v.fs_context_source)) {
        // invalf(fc, "VFS: Multiple sources"): logged to the context's log only.
        return -EINVAL;
    }
    uint64_t s = kstrdup(k, name);
    if (!s) return -ENOMEM;
    set_word(k, fc + v.fs_context_source, s);
    return 0;
}

// parse_monolithic_mount_data(fc, NULL): the file system's parse_monolithic, else
// generic_parse_monolithic(), which has nothing to parse.
int parse_monolithic_mount_data(Kernel& k, uint64_t fc) {
    const KernelStructs::Vfs& v = layout(k);
    uint64_t ops = word(k, fc + v.fs_context_ops);
    if (!ops || ops == k.state<State>().pseudo_ops) return 0;
    uint64_t fn = word(k, ops + v.fs_context_operations_parse_monolithic);
    if (!fn) return 0;
    return static_cast<int32_t>(k.call_guest(fn, {fc, 0}));
}

// vfs_get_tree(): -EBUSY when fc has a root already; the file system's get_tree, which must
// set fc->root; its super block is then born (SB_BORN).
int vfs_get_tree(StubCall& c, uint64_t fc) {
    Kernel& k = c.kernel;
    const KernelStructs::Vfs& v = layout(k);
    if (word(k, fc + v.fs_context_root)) return -EBUSY;
    uint64_t ops = word(k, fc + v.fs_context_ops);
    int err;
    if (ops == k.state<State>().pseudo_ops) {
        err = pseudo_fs_get_tree(k, fc);
    } else {
        uint64_t get_tree = ops ? word(k, ops + v.fs_context_operations_get_tree) : 0;
        if (!get_tree)
            c.unimplemented("vfs_get_tree (a context without get_tree: the kernel oopses)");
        err = static_cast<int32_t>(k.call_guest(get_tree, {fc}));
    }
    if (err < 0) return err;
    uint64_t root = word(k, fc + v.fs_context_root);
    if (!root) c.unimplemented("vfs_get_tree (get_tree did not set fc->root: the kernel BUG()s)");
    uint64_t sb = word(k, root + v.dentry_d_sb);
    set_u32(k, sb + v.super_block_s_flags,
            u32(k, sb + v.super_block_s_flags) | uint32_t(v.sb_born));
    return 0;
}

}  // namespace kmodemu::vfs

namespace kmodemu {

void register_fs_context(Kernel& k) {
    const char* sub = "fs/fs_context";
    k.add_function("fs_context_for_mount", sub, [](StubCall& c) -> uint64_t {
        return vfs::fs_context_for_mount(c, c.arg(0), uint32_t(c.arg(1)));
    });
    k.add_function("put_fs_context", sub, [](StubCall& c) -> uint64_t {
        vfs::put_fs_context(c.kernel, c.arg(0));
        return 0;
    });
    k.add_function("vfs_get_tree", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(vfs::vfs_get_tree(c, c.arg(0))));
    });
}

}  // namespace kmodemu
