// net/sched/sch_api.c: the queueing disciplines' registry (qdisc_base). The kernel's own are
// registered at boot (pktsched_init(): pfifo_fast, pfifo, bfifo, pfifo_head_drop, mq,
// noqueue), and Debian builds fq_codel in (CONFIG_NET_SCH_FQ_CODEL=y); a module's qdisc of one
// of those names is refused as there. No device is given a qdisc here, so only the registry is
// modelled.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Qdiscs : Kernel::SubsystemState {
    std::map<std::string, uint64_t> by_id;  // Qdisc_ops id -> struct Qdisc_ops * (0: built in)
    Qdiscs() {
        for (const char* id :
             {"pfifo_fast", "pfifo", "bfifo", "pfifo_head_drop", "mq", "noqueue", "fq_codel"})
            by_id[id] = 0;
    }
};

}  // namespace

void register_qdiscs(Kernel& k) {
    const char* sub = "net/sched/sch_api";
    // net/sched/sch_generic.c's noop_enqueue() and noop_dequeue(), which register_qdisc() gives
    // a qdisc that has none (through noop_qdisc_ops): internal, reached only through a qdisc,
    // which no device has here.
    uint64_t noop_enqueue =
        k.add_function("noop_enqueue", "net/sched/sch_generic", [](StubCall& c) -> uint64_t {
             c.unimplemented("noop_enqueue (a packet through a qdisc)");
         }).address;
    uint64_t noop_dequeue =
        k.add_function("noop_dequeue", "net/sched/sch_generic", [](StubCall& c) -> uint64_t {
             c.unimplemented("noop_dequeue (a packet through a qdisc)");
         }).address;

    // register_qdisc(qops): -EEXIST for an id taken, -EINVAL for incomplete ops.
    k.add_function("register_qdisc", sub, [noop_enqueue, noop_dequeue](StubCall& c) -> uint64_t {
        const KernelStructs::QdiscOps& l = c.kernel.structs().qdisc_ops;
        Emulator& e = c.emu;
        uint64_t qops = c.arg(0);
        std::string id = c.read_cstr(qops + l.id, l.id_len);
        Qdiscs& q = c.kernel.state<Qdiscs>();
        if (q.by_id.count(id)) return static_cast<uint64_t>(int64_t(-EEXIST));
        if (!e.read_word(qops + l.enqueue)) e.write_word(qops + l.enqueue, noop_enqueue);
        if (!e.read_word(qops + l.peek)) {
            if (e.read_word(qops + l.dequeue)) return static_cast<uint64_t>(int64_t(-EINVAL));
            e.write_word(qops + l.peek, noop_dequeue);
        }
        if (!e.read_word(qops + l.dequeue)) e.write_word(qops + l.dequeue, noop_dequeue);
        if (uint64_t cops = e.read_word(qops + l.cl_ops)) {
            if (!e.read_word(cops + l.cl_find) || !e.read_word(cops + l.cl_walk) ||
                !e.read_word(cops + l.cl_leaf))
                return static_cast<uint64_t>(int64_t(-EINVAL));
            if (e.read_word(cops + l.cl_tcf_block) &&
                !(e.read_word(cops + l.cl_bind_tcf) && e.read_word(cops + l.cl_unbind_tcf)))
                return static_cast<uint64_t>(int64_t(-EINVAL));
        }
        e.write_word(qops + l.next, 0);
        q.by_id[id] = qops;
        return 0;
    });
    // unregister_qdisc(qops): WARN(err, "unregister qdisc(%s) failed\n") when not registered.
    k.add_function("unregister_qdisc", sub, [](StubCall& c) -> uint64_t {
        Qdiscs& q = c.kernel.state<Qdiscs>();
        for (auto it = q.by_id.begin(); it != q.by_id.end(); ++it)
            if (it->second && it->second == c.arg(0)) {
                c.emu.write_word(c.arg(0) + c.kernel.structs().qdisc_ops.next, 0);
                q.by_id.erase(it);
                return 0;
            }
        c.unimplemented("unregister_qdisc (of a qdisc not registered: the kernel WARNs)");
    });
}

}  // namespace kmodemu
