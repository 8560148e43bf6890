// net/ipv4/inet_fragment.c: the fragment queue machinery that IPv4, IPv6, nf_defrag_ipv6 and
// 6LoWPAN share. A struct inet_frags holds the queues' cache and a reference per namespace
// directory (struct fqdir, whose rhashtable holds the queues); its completion is completed when
// the last reference goes, which inet_frags_fini() waits for. No packet is received here, so the
// tables stay empty.
#include <cerrno>
#include <stdexcept>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/workqueue.h"
#include "kernel_stubs/lib/rhashtable.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct InetFragments : Kernel::SubsystemState {
    uint64_t fqdir_work_fn = 0;
};

uint64_t ret(int v) {
    return static_cast<uint64_t>(int64_t(v));
}

uint64_t fn_of(Kernel& k, const char* name) {
    const Export* e = k.find_export(name);
    if (!e) throw std::logic_error(std::string("net/ipv4/inet_fragment: no ") + name);
    return e->address;
}

// refcount_dec_and_test(&f->refcnt), then complete(&f->completion) for the last reference.
void put_frags(Kernel& k, uint64_t f) {
    const KernelStructs::InetFrags& l = k.structs().inet_frags;
    uint32_t r = k.emu().read_u32(f + l.refcnt);
    k.emu().write_u32(f + l.refcnt, r - 1);
    if (r == 1) k.call_guest(fn_of(k, "complete"), {f + l.completion});
}

}  // namespace

void register_inet_fragment(Kernel& k) {
    const char* sub = "net/ipv4/inet_fragment";
    // fqdir_work_fn(work) (with fqdir_free_fn(), which runs it a second later after
    // rcu_barrier(): not told apart here): the empty table destroyed, the reference on the
    // inet_frags dropped, the fqdir freed. The kernel's own function, not an export.
    k.state<InetFragments>().fqdir_work_fn =
        k.add_function("fqdir_work_fn", sub, [](StubCall& c) -> uint64_t {
             Kernel& k = c.kernel;
             const KernelStructs::InetFrags& l = k.structs().inet_frags;
             uint64_t fqdir = c.arg(0) - l.fqdir_destroy_work;
             uint64_t ht = fqdir + l.fqdir_rhashtable;
             const KernelStructs::Rhashtable& r = k.structs().rhashtable;
             uint64_t tbl = k.emu().read_word(ht + r.tbl);
             uint32_t n = k.emu().read_u32(tbl + r.table_nbuckets);
             for (uint32_t i = 0; i < n; ++i)
                 if (k.emu().read_word(tbl + r.table_buckets + uint64_t(i) * k.word()))
                     c.unimplemented("fqdir_work_fn (fragment queues left: inet_frags_free_cb)");
             rhashtable_free_and_destroy(c, ht, 0, 0);
             put_frags(k, k.emu().read_word(fqdir + l.fqdir_f));
             k.slab().free(fqdir);
             return 0;
         }).address;
    // inet_frags_init(f): the queues' cache (named f->frags_cache_name, of f->qsize bytes), one
    // reference, the completion not done.
    k.add_function("inet_frags_init", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        Emulator& e = k.emu();
        const KernelStructs::InetFrags& l = k.structs().inet_frags;
        uint64_t f = c.arg(0);
        uint64_t cache =
            kmem_cache_create(c, e.read_word(f + l.cache_name), e.read_u32(f + l.qsize), 0, 0);
        e.write_word(f + l.cachep, cache);
        if (!cache) return ret(-ENOMEM);
        e.write_u32(f + l.refcnt, 1);
        // init_completion(): done = 0, and the wait queue's empty task_list (struct completion
        // { unsigned int done; struct swait_queue_head wait; }).
        e.write_u32(f + l.completion, 0);
        uint64_t wait = f + l.completion + k.word();  // after done, aligned as a pointer
        uint64_t list = wait + k.structs().swait_queue_head.task_list;
        e.write_word(list, list);
        e.write_word(list + k.word(), list);
        return 0;
    });
    // inet_frags_fini(f): drops the initial reference, waits until the directories' references
    // are gone too, destroys the cache.
    k.add_function("inet_frags_fini", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::InetFrags& l = k.structs().inet_frags;
        uint64_t f = c.arg(0);
        put_frags(k, f);
        k.call_guest(fn_of(k, "wait_for_completion"), {f + l.completion});
        k.call_guest(fn_of(k, "kmem_cache_destroy"), {k.emu().read_word(f + l.cachep)});
        k.emu().write_word(f + l.cachep, 0);
        return 0;
    });
    // fqdir_init(fqdirp, f, net): a zeroed fqdir of f and net, its rhashtable made with
    // f->rhash_params, a reference on f.
    k.add_function("fqdir_init", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        Emulator& e = k.emu();
        const KernelStructs::InetFrags& l = k.structs().inet_frags;
        uint64_t f = c.arg(1);
        uint64_t fqdir = k.slab_alloc(l.fqdir_size, gfp_zero);
        if (!fqdir) return ret(-ENOMEM);
        e.write_word(fqdir + l.fqdir_f, f);
        e.write_word(fqdir + l.fqdir_net, c.arg(2));
        int res = rhashtable_init(c, fqdir + l.fqdir_rhashtable, f + l.rhash_params);
        if (res < 0) {
            k.slab().free(fqdir);
            return ret(res);
        }
        e.write_u32(f + l.refcnt, e.read_u32(f + l.refcnt) + 1);
        e.write_word(c.arg(0), fqdir);
        return 0;
    });
    // fqdir_exit(fqdir): fqdir_work_fn queued on system_wq.
    k.add_function("fqdir_exit", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t work = c.arg(0) + k.structs().inet_frags.fqdir_destroy_work;
        init_kernel_work(k, work, k.state<InetFragments>().fqdir_work_fn);
        schedule_kernel_work(k, work);
        return 0;
    });
}

}  // namespace kmodemu
