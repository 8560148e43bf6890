// lib/rhashtable.c: resizable hash tables. Lookups and the fast paths of insertion and removal
// are inline in the modules (include/linux/rhashtable.h), so the table is laid out in guest
// memory as the kernel lays it out: struct rhashtable with its parameters, and its struct
// bucket_table of empty buckets (INIT_RHT_NULLS_HEAD() is NULL: the nulls marker is derived
// from the bucket's address). The kernel's default hash functions, jhash() and
// rhashtable_jhash2(), are functions of the emulated kernel that modules may call through
// ht->p.hashfn. Resizing (rht_deferred_worker(), which a module's insertion schedules past 75%
// of the buckets) is not emulated: that work stops the run when it runs.
#include "kernel_stubs/lib/rhashtable.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/workqueue.h"
#include "kernel_stubs/lib/jhash.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint32_t hash_min_size = 4;       // HASH_MIN_SIZE
constexpr uint32_t hash_default_size = 64;  // HASH_DEFAULT_SIZE

struct Rhashtables : Kernel::SubsystemState {
    uint64_t jhash = 0, jhash2 = 0, deferred_worker = 0;  // the kernel's own functions
};

const KernelStructs::Rhashtable& L(Kernel& k) {
    return k.structs().rhashtable;
}

uint16_t read_u16(Kernel& k, uint64_t a) {
    uint16_t v = 0;
    k.emu().read(a, &v, 2);
    return v;
}

void write_u16(Kernel& k, uint64_t a, uint16_t v) {
    k.emu().write(a, &v, 2);
}

uint32_t roundup_pow_of_two(uint32_t v) {
    return v <= 1 ? 1 : std::bit_ceil(v);
}

uint32_t rounddown_pow_of_two(uint32_t v) {
    return v ? std::bit_floor(v) : 0;
}

// get_random_u32() of drivers/char/random.c (the seeded generator of the run).
uint32_t random_u32(StubCall& c) {
    Export* e = c.kernel.find_export("get_random_u32");
    return e ? static_cast<uint32_t>(e->fn(c)) : 0;
}

// bucket_table_alloc(ht, nbuckets, GFP_KERNEL): the header, then the buckets, zeroed.
uint64_t bucket_table_alloc(StubCall& c, uint32_t nbuckets) {
    Kernel& k = c.kernel;
    const KernelStructs::Rhashtable& l = L(k);
    uint64_t tbl = k.slab_alloc(l.table_buckets + uint64_t(nbuckets) * k.word(), gfp_zero);
    if (!tbl) return 0;
    k.emu().write_u32(tbl + l.table_nbuckets, nbuckets);
    uint64_t walkers = tbl + l.table_walkers;  // INIT_LIST_HEAD(&tbl->walkers)
    k.emu().write_word(walkers, walkers);
    k.emu().write_word(walkers + k.word(), walkers);
    k.emu().write_u32(tbl + l.table_hash_rnd, random_u32(c));
    return tbl;
}

}  // namespace

int rhashtable_init(StubCall& c, uint64_t ht, uint64_t params) {
    Kernel& k = c.kernel;
    Emulator& e = k.emu();
    const KernelStructs::Rhashtable& l = L(k);
    Rhashtables& st = k.state<Rhashtables>();
    uint16_t key_len = read_u16(k, params + l.params_key_len);
    uint64_t obj_hashfn = e.read_word(params + l.params_obj_hashfn);
    uint64_t obj_cmpfn = e.read_word(params + l.params_obj_cmpfn);
    if ((!key_len && !obj_hashfn) || (obj_hashfn && !obj_cmpfn)) return -EINVAL;
    std::vector<uint8_t> zero(l.size);
    e.write(ht, zero.data(), zero.size());
    uint64_t mutex = ht + l.mutex + k.structs().mutex.wait_list;  // mutex_init()
    e.write_word(mutex, mutex);
    e.write_word(mutex + k.word(), mutex);
    std::vector<uint8_t> p(l.params_size);
    e.read(params, p.data(), p.size());
    uint64_t hp = ht + l.p;
    e.write(hp, p.data(), p.size());
    if (uint16_t min = read_u16(k, params + l.params_min_size))
        write_u16(k, hp + l.params_min_size, static_cast<uint16_t>(roundup_pow_of_two(min)));
    uint32_t max_elems = 1u << 31;
    if (uint32_t max = e.read_u32(params + l.params_max_size)) {
        uint32_t rounded = rounddown_pow_of_two(max);
        e.write_u32(hp + l.params_max_size, rounded);
        if (rounded < max_elems / 2) max_elems = rounded * 2;
    }
    e.write_u32(ht + l.max_elems, max_elems);
    uint16_t min_size = std::max<uint16_t>(read_u16(k, hp + l.params_min_size), hash_min_size);
    write_u16(k, hp + l.params_min_size, min_size);
    // rounded_hashtable_size()
    uint32_t size = hash_default_size;
    if (uint16_t hint = read_u16(k, hp + l.params_nelem_hint))
        size = roundup_pow_of_two(uint32_t(hint) * 4 / 3);
    size = std::max<uint32_t>(size, min_size);
    uint32_t ht_key_len = key_len;
    if (!e.read_word(params + l.params_hashfn)) {
        uint64_t fn = st.jhash;
        if (!(ht_key_len & 3)) {
            ht_key_len /= 4;
            fn = st.jhash2;
        }
        e.write_word(hp + l.params_hashfn, fn);
    }
    e.write_u32(ht + l.key_len, ht_key_len);
    uint64_t tbl = bucket_table_alloc(c, size);
    if (!tbl) c.unimplemented("rhashtable_init (the retry with __GFP_NOFAIL)");
    e.write_word(ht + l.tbl, tbl);
    init_kernel_work(k, ht + l.run_work, st.deferred_worker);
    return 0;
}

void rhashtable_free_and_destroy(StubCall& c, uint64_t ht, uint64_t free_fn, uint64_t arg) {
    Kernel& k = c.kernel;
    Emulator& e = k.emu();
    const KernelStructs::Rhashtable& l = L(k);
    // cancel_work_sync(&ht->run_work): a resize scheduled and not run would be cancelled.
    if (e.read_word(ht + l.run_work + k.structs().work.data) & 1)
        c.unimplemented("rhashtable_free_and_destroy (a resize still pending)");
    uint64_t tbl = e.read_word(ht + l.tbl);
    uint32_t n = e.read_u32(tbl + l.table_nbuckets);
    bool rhlist = c.read(ht + l.rhlist, 1)[0] != 0;
    uint16_t head_offset = read_u16(k, ht + l.p + l.params_head_offset);
    for (uint32_t i = 0; free_fn && i < n; ++i) {
        // rht_ptr_exclusive(): the bucket without its lock bit; the chain ends at the nulls
        // marker (an odd value).
        uint64_t pos = e.read_word(tbl + l.table_buckets + uint64_t(i) * k.word()) & ~uint64_t(1);
        while (pos && !(pos & 1)) {
            uint64_t next = e.read_word(pos);  // rhash_head.next
            if (rhlist) {
                // struct rhlist_head { struct rhash_head rhead; struct rhlist_head *next; }
                uint64_t list = e.read_word(pos + k.word());
                k.call_guest(free_fn, {pos - head_offset, arg});
                while (list) {
                    uint64_t lnext = e.read_word(list + k.word());
                    k.call_guest(free_fn, {list - head_offset, arg});
                    list = lnext;
                }
            } else {
                k.call_guest(free_fn, {pos - head_offset, arg});
            }
            pos = next;
        }
    }
    k.slab().free(tbl);  // bucket_table_free(); no future_tbl without a resize
    e.write_word(ht + l.tbl, 0);
}

void register_rhashtable(Kernel& k) {
    const char* sub = "lib/rhashtable";
    Rhashtables& st = k.state<Rhashtables>();
    // jhash(key, length, initval) and rhashtable_jhash2(key, length, seed): the kernel's own
    // functions rhashtable_init() points ht->p.hashfn at (not exports).
    st.jhash = k.add_function("jhash", sub, [](StubCall& c) -> uint64_t {
                    uint32_t len = static_cast<uint32_t>(c.arg(1));
                    std::vector<uint8_t> key = c.read(c.arg(0), len);
                    return jhash(key.data(), len, static_cast<uint32_t>(c.arg(2)));
                }).address;
    st.jhash2 = k.add_function("rhashtable_jhash2", sub, [](StubCall& c) -> uint64_t {
                     uint32_t len = static_cast<uint32_t>(c.arg(1));
                     std::vector<uint8_t> raw = c.read(c.arg(0), uint64_t(len) * 4);
                     std::vector<uint32_t> key(len);
                     std::copy(raw.begin(), raw.end(), reinterpret_cast<uint8_t*>(key.data()));
                     return jhash2(key.data(), len, static_cast<uint32_t>(c.arg(2)));
                 }).address;
    // rht_deferred_worker(): the table's resize, not emulated.
    st.deferred_worker = k.add_function("rht_deferred_worker", sub, [](StubCall& c) -> uint64_t {
                              c.unimplemented("rht_deferred_worker (a resize of a hash table)");
                          }).address;
    // rhashtable_init(ht, params) (6.12: rhashtable_init_noprof)
    k.add_functions(
        {"rhashtable_init", "rhashtable_init_noprof"}, sub,
        [](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(int64_t(rhashtable_init(c, c.arg(0), c.arg(1))));
        },
        true);
    // rhltable_init(hlt, params): the same, then hlt->ht.rhlist = true.
    k.add_functions(
        {"rhltable_init", "rhltable_init_noprof"}, sub,
        [](StubCall& c) -> uint64_t {
            int err = rhashtable_init(c, c.arg(0), c.arg(1));
            if (!err) {
                uint8_t one = 1;
                c.write(c.arg(0) + L(c.kernel).rhlist, &one, 1);
            }
            return static_cast<uint64_t>(int64_t(err));
        },
        true);
    // rhashtable_free_and_destroy(ht, free_fn, arg): free_fn on every entry, then the table.
    k.add_function(
        "rhashtable_free_and_destroy", sub,
        [](StubCall& c) -> uint64_t {
            rhashtable_free_and_destroy(c, c.arg(0), c.arg(1), c.arg(2));
            return 0;
        },
        true);
    // rhashtable_destroy(ht): rhashtable_free_and_destroy(ht, NULL, NULL).
    k.add_function(
        "rhashtable_destroy", sub,
        [](StubCall& c) -> uint64_t {
            rhashtable_free_and_destroy(c, c.arg(0), 0, 0);
            return 0;
        },
        true);
}

}  // namespace kmodemu
