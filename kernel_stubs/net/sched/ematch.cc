// net/sched/ematch.c: the extended matches' registry (ematch_ops), by their numeric kind. No
// ematch is built into Debian's kernels.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Ematches : Kernel::SubsystemState {
    std::map<uint64_t, int32_t> registered;  // struct tcf_ematch_ops * -> its kind
};

}  // namespace

void register_tc_ematches(Kernel& k) {
    const char* sub = "net/sched/ematch";
    // tcf_em_register(ops): -EINVAL without a match callback, -EEXIST for a kind taken.
    k.add_function("tcf_em_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TcfOps& l = c.kernel.structs().tcf_ops;
        uint64_t ops = c.arg(0);
        if (!c.emu.read_word(ops + l.ematch_match)) return static_cast<uint64_t>(-int64_t(EINVAL));
        int32_t kind = static_cast<int32_t>(c.emu.read_u32(ops + l.ematch_kind));
        Ematches& em = c.kernel.state<Ematches>();
        for (const auto& [other, k2] : em.registered)
            if (k2 == kind) return static_cast<uint64_t>(-int64_t(EEXIST));
        em.registered[ops] = kind;
        return 0;
    });
    // tcf_em_unregister(ops): list_del() of the ops.
    k.add_function("tcf_em_unregister", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Ematches>().registered.erase(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
