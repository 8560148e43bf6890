// net/core/skbuff.c: the drop reason subsystems' name lists (drop_reasons_by_subsys[], 6.6+),
// which drop monitors and tracing read; mac80211 and openvswitch register theirs; the purge of an
// empty sk_buff queue.
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/rcu/rcu.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct DropReasons : Kernel::SubsystemState {
    std::vector<uint64_t> by_subsys;  // struct drop_reason_list * per subsystem
};

// The subsystem's slot, after drop_reasons_register_subsys()'s check: the core's own list
// (SKB_DROP_REASON_SUBSYS_CORE, 0) and numbers beyond SKB_DROP_REASON_SUBSYS_NUM are the
// kernel's WARN("invalid subsystem %d\n"), not emulated.
uint64_t& slot(StubCall& c, const char* fn) {
    uint64_t num = c.kernel.structs().skb_drop_reason_subsys_num;
    int64_t subsys = c.iarg(0);
    if (subsys <= 0 || static_cast<uint64_t>(subsys) >= num)
        c.unimplemented(std::string(fn) + " (an invalid subsystem: the kernel's WARN)");
    DropReasons& d = c.kernel.state<DropReasons>();
    d.by_subsys.resize(num);
    return d.by_subsys[static_cast<size_t>(subsys)];
}

// The list also in the exported array, when a module of this run imports it.
void publish(StubCall& c, uint64_t list) {
    if (const Export* e = c.kernel.find_export("drop_reasons_by_subsys"); e && !e->is_function)
        c.emu.write_word(e->address + uint64_t(c.iarg(0)) * c.kernel.word(), list);
}

}  // namespace

void register_skbuff(Kernel& k) {
    const char* sub = "net/core/skbuff";
    // drop_reasons_register_subsys(subsys, list): RCU_INIT_POINTER(drop_reasons_by_subsys[subsys],
    // list); the list is static in the module.
    k.add_function("drop_reasons_register_subsys", sub, [](StubCall& c) -> uint64_t {
        slot(c, "drop_reasons_register_subsys") = c.arg(1);
        publish(c, c.arg(1));
        return 0;
    }, true);
    // drop_reasons_unregister_subsys(subsys): the slot cleared, then synchronize_rcu().
    k.add_function("drop_reasons_unregister_subsys", sub, [](StubCall& c) -> uint64_t {
        slot(c, "drop_reasons_unregister_subsys") = 0;
        publish(c, 0);
        rcu_synchronize(c.kernel);
        return 0;
    }, true);
    // skb_queue_purge(list) (6.1; since 6.8 the inline skb_queue_purge() calls
    // skb_queue_purge_reason(list, reason)): skb_dequeue() and kfree_skb() until the queue is
    // empty. struct sk_buff_head begins with next (its list of the same layout as sk_buff's
    // first two fields), which points at the head itself when the queue is empty: then nothing
    // happens. The emulated kernel has no sk_buffs to free; a queue holding some is not emulated.
    k.add_functions({"skb_queue_purge", "skb_queue_purge_reason"}, sub,
                    [](StubCall& c) -> uint64_t {
                        uint64_t list = c.arg(0);
                        if (c.emu.read_word(list) != list)
                            c.unimplemented("skb_queue_purge (a queue holding sk_buffs)");
                        return 0;
                    });
}

}  // namespace kmodemu
