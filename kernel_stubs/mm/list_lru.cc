// mm/list_lru.c: the LRU lists that shrinkers scan (nfsv4's xattr cache, binder's pages). The
// machine has one memory node (nr_node_ids is 1 on QEMU's virt board without a NUMA layout),
// so a list has one struct list_lru_node. Items reach a list only through list_lru_add(),
// which modules call later than init; the emulated machine is never short of memory, so no
// shrinker walks them.
#include <cerrno>
#include <set>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t nr_node_ids = 1;
constexpr uint64_t gfp_kernel = 0xcc0;        // GFP_KERNEL
constexpr uint32_t xa_flags_lock_irq = 1;  // XA_FLAGS_LOCK_IRQ

struct ListLrus : Kernel::SubsystemState {
    std::set<uint64_t> memcg_aware;  // list_lru_register()'s list: the memcg-aware lists
};

uint64_t node_of(StubCall& c, uint64_t lru, uint64_t nid) {
    const auto& l = c.kernel.structs().list_lru;
    return c.emu.read_word(lru + l.node) + nid * l.node_size;
}

}  // namespace

void register_list_lru(Kernel& k) {
    const char* sub = "mm/list_lru";
    // __list_lru_init(lru, memcg_aware, key, shrinker): shrinker_id from the shrinker (-1
    // without one), the nodes (kcalloc(nr_node_ids): -ENOMEM), each node's list empty,
    // memcg_init_list_lru() (memcg_aware and, when set, its xarray), list_lru_register().
    k.add_function("__list_lru_init", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const auto& l = k.structs().list_lru;
        uint64_t lru = c.arg(0), shrinker = c.arg(3);
        bool memcg_aware = c.arg(1) & 1;
        uint32_t id = shrinker ? c.emu.read_u32(shrinker + l.shrinker_id_of_shrinker) : ~0u;
        c.emu.write_u32(lru + l.shrinker_id, id);
        uint64_t nodes = k.slab_alloc(nr_node_ids * l.node_size, gfp_kernel | gfp_zero);
        c.emu.write_word(lru + l.node, nodes);
        if (!nodes) return static_cast<uint64_t>(int64_t(-ENOMEM));
        for (uint64_t i = 0; i < nr_node_ids; ++i) {
            uint64_t list = nodes + i * l.node_size + l.node_lru;  // list_lru_one.list first
            c.emu.write_word(list, list);
            c.emu.write_word(list + k.word(), list);
        }
        uint8_t aware = memcg_aware;
        c.emu.write(lru + l.memcg_aware, &aware, 1);
        if (memcg_aware) {
            c.emu.write_u32(lru + l.xa + k.structs().xarray.flags, xa_flags_lock_irq);
            k.state<ListLrus>().memcg_aware.insert(lru);
        }
        return 0;
    }, true);
    // list_lru_destroy(lru): nothing when not initialized or destroyed already (node NULL);
    // else unregistered, the nodes freed, node = NULL and shrinker_id = -1.
    k.add_function("list_lru_destroy", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const auto& l = k.structs().list_lru;
        uint64_t lru = c.arg(0);
        uint64_t nodes = c.emu.read_word(lru + l.node);
        if (!nodes) return 0;
        k.state<ListLrus>().memcg_aware.erase(lru);
        k.slab().free(nodes);
        c.emu.write_word(lru + l.node, 0);
        c.emu.write_u32(lru + l.shrinker_id, ~0u);
        return 0;
    }, true);
    // list_lru_count_node(lru, nid): the node's nr_items.
    k.add_function("list_lru_count_node", sub, [](StubCall& c) -> uint64_t {
        const auto& l = c.kernel.structs().list_lru;
        return c.emu.read_word(node_of(c, c.arg(0), c.arg(1)) + l.node_nr_items);
    }, true);
    // list_lru_count_one(lru, nid, memcg): the items of the memcg's list on the node; the
    // root cgroup's (or none) is the node's own list, the only one items reach here.
    k.add_function("list_lru_count_one", sub, [](StubCall& c) -> uint64_t {
        const auto& l = c.kernel.structs().list_lru;
        return c.emu.read_word(node_of(c, c.arg(0), c.arg(1)) + l.node_lru + l.one_nr_items);
    }, true);
}

}  // namespace kmodemu
