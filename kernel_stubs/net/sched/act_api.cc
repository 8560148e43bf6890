// net/sched/act_api.c: the tc actions' registry (act_base) and the pernet ids of the actions
// (act_pernet_id_list). No action is built into Debian's kernels.
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/net/core/net_namespace.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Actions : Kernel::SubsystemState {
    struct Action {
        std::string kind;
        int32_t id;
    };
    std::map<uint64_t, Action> registered;  // struct tc_action_ops * -> its kind and id
    std::set<uint32_t> pernet_ids;          // act_pernet_id_list
};

int64_t errno_ret(int e) {
    return -int64_t(e);
}

}  // namespace

void register_tc_actions(Kernel& k) {
    const char* sub = "net/sched/act_api";
    // tcf_register_action(act, ops): the ops' callbacks checked, the pernet operations
    // registered (their init runs on init_net), their id listed, then the kind and id must be
    // new (-EEXIST, undoing the rest).
    k.add_function("tcf_register_action", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        const KernelStructs::TcActionOps& l = s.tc_action_ops;
        Emulator& e = c.emu;
        uint64_t act = c.arg(0), ops = c.arg(1);
        if (!e.read_word(act + l.act) || !e.read_word(act + l.dump) || !e.read_word(act + l.init))
            return static_cast<uint64_t>(errno_ret(EINVAL));
        int ret = register_pernet_ops(c, ops);
        if (ret) return static_cast<uint64_t>(int64_t(ret));
        Actions& a = c.kernel.state<Actions>();
        uint64_t id_p = e.read_word(ops + s.pernet_ops.id);
        uint32_t net_id = 0;
        if (id_p) {
            net_id = e.read_u32(id_p);
            if (!a.pernet_ids.insert(net_id).second) {  // tcf_pernet_add_id_list()
                unregister_pernet_ops(c, ops);
                return static_cast<uint64_t>(errno_ret(EEXIST));
            }
        }
        std::string kind = c.read_cstr(act + l.kind, l.kind_len);
        int32_t id = static_cast<int32_t>(e.read_u32(act + l.id));
        for (const auto& [other, o] : a.registered)
            if (o.id == id || o.kind == kind) {
                if (id_p) a.pernet_ids.erase(net_id);
                unregister_pernet_ops(c, ops);
                return static_cast<uint64_t>(errno_ret(EEXIST));
            }
        a.registered[act] = {kind, id};
        return 0;
    });
    // tcf_unregister_action(act, ops): -ENOENT when not registered.
    k.add_function("tcf_unregister_action", sub, [](StubCall& c) -> uint64_t {
        Actions& a = c.kernel.state<Actions>();
        if (!a.registered.erase(c.arg(0))) return static_cast<uint64_t>(errno_ret(ENOENT));
        uint64_t ops = c.arg(1);
        uint64_t id_p = c.emu.read_word(ops + c.kernel.structs().pernet_ops.id);
        unregister_pernet_ops(c, ops);
        if (id_p) a.pernet_ids.erase(c.emu.read_u32(id_p));
        return 0;
    });
}

}  // namespace kmodemu
