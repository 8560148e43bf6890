// net/core/net_namespace.c: per-network-namespace operations. The emulated kernel has one
// namespace, init_net (as a machine that has just booted): registering pernet operations
// assigns their id, allocates their net_generic data in init_net and runs their init on it;
// unregistering runs their exit and frees the data.
#include "kernel_stubs/net/core/net_namespace.h"

#include <cerrno>
#include <map>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Pernet : Kernel::SubsystemState {
    uint64_t init_net = 0;
    unsigned next_id = 0;                    // net_generic_ids, from MIN_PERNET_OPS_ID
    std::map<uint64_t, unsigned> registered;  // struct pernet_operations * -> its id (0: none)
    unsigned gen_len = 0;                     // slots of init_net's net_generic
};

uint64_t word_at(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

// net_assign_generic(): init_net->gen->ptr[id] = data, growing the array when needed.
void assign_generic(Kernel& k, Pernet& p, unsigned id, uint64_t data) {
    const KernelStructs& s = k.structs();
    uint64_t gen_field = p.init_net + s.net.gen;
    uint64_t ng = word_at(k, gen_field);
    if (id >= p.gen_len) {
        unsigned len = std::max(id + 1, p.gen_len * 2);
        uint64_t bigger = k.slab_alloc(s.net.generic_ptr + uint64_t(len) * k.word(), gfp_zero);
        if (ng) {
            std::vector<uint8_t> old(s.net.generic_ptr + uint64_t(p.gen_len) * k.word());
            k.emu().read(ng, old.data(), old.size());
            k.emu().write(bigger, old.data(), old.size());
            k.slab().free(ng);
        }
        uint32_t l = len;
        k.emu().write(bigger, &l, 4);  // s.len
        k.emu().write_word(gen_field, bigger);
        ng = bigger;
        p.gen_len = len;
    }
    k.emu().write_word(ng + s.net.generic_ptr + uint64_t(id) * k.word(), data);
}

}  // namespace

int register_pernet_ops(StubCall& c, uint64_t ops) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    Pernet& p = k.state<Pernet>();
    uint64_t id_p = word_at(k, ops + s.pernet_ops.id);
    uint64_t size = word_at(k, ops + s.pernet_ops.size);
    uint64_t init = word_at(k, ops + s.pernet_ops.init);
    unsigned id = 0;
    if (id_p) {
        id = p.next_id++;
        uint32_t v = id;
        c.write(id_p, &v, 4);
    }
    // ops_init() on init_net.
    uint64_t data = 0;
    if (id_p && size) {
        data = k.slab_alloc(size, gfp_zero);
        if (!data) return -ENOMEM;
        assign_generic(k, p, id, data);
    }
    if (init) {
        int err = static_cast<int32_t>(k.call_guest(init, {p.init_net}));
        if (err) {
            if (data) {
                assign_generic(k, p, id, 0);
                k.slab().free(data);
            }
            return err;
        }
    }
    p.registered[ops] = id_p ? id : 0;
    return 0;
}

void unregister_pernet_ops(StubCall& c, uint64_t ops) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    Pernet& p = k.state<Pernet>();
    auto it = p.registered.find(ops);
    if (it == p.registered.end()) return;
    if (uint64_t exit = word_at(k, ops + s.pernet_ops.exit)) k.call_guest(exit, {p.init_net});
    uint64_t id_p = word_at(k, ops + s.pernet_ops.id);
    if (id_p && word_at(k, ops + s.pernet_ops.size)) {  // ops_free()
        uint64_t ng = word_at(k, p.init_net + s.net.gen);
        uint64_t slot = ng + s.net.generic_ptr + uint64_t(it->second) * k.word();
        k.slab().free(word_at(k, slot));
        k.emu().write_word(slot, 0);
    }
    p.registered.erase(it);
}

void register_net_namespace(Kernel& k) {
    const char* sub = "net/core/net_namespace";
    const KernelStructs& s = k.structs();
    Pernet& p = k.state<Pernet>();
    // init_net, with its net_generic array (MIN_PERNET_OPS_ID: the ids after its header).
    p.init_net = k.add_data("init_net", sub, s.net.size).address;
    p.next_id = static_cast<unsigned>((s.net.generic_size + k.word() - 1) / k.word());
    assign_generic(k, p, p.next_id, 0);
    k.add_functions({"register_pernet_subsys", "register_pernet_device"}, sub,
                    [](StubCall& c) -> uint64_t {
                        return static_cast<uint64_t>(int64_t(register_pernet_ops(c, c.arg(0))));
                    });
    k.add_functions({"unregister_pernet_subsys", "unregister_pernet_device"}, sub,
                    [](StubCall& c) -> uint64_t {
                        unregister_pernet_ops(c, c.arg(0));
                        return 0;
                    });
}

}  // namespace kmodemu
