// net/sched/cls_api.c: the tc classifiers' registry (tcf_proto_base). No classifier is built
// into Debian's kernels.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Classifiers : Kernel::SubsystemState {
    std::map<uint64_t, std::string> registered;  // struct tcf_proto_ops * -> its kind
};

}  // namespace

void register_tc_classifiers(Kernel& k) {
    const char* sub = "net/sched/cls_api";
    // register_tcf_proto_ops(ops): -EEXIST for a kind taken.
    k.add_function("register_tcf_proto_ops", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TcfOps& l = c.kernel.structs().tcf_ops;
        std::string kind = c.read_cstr(c.arg(0) + l.proto_kind, l.proto_kind_len);
        Classifiers& cl = c.kernel.state<Classifiers>();
        for (const auto& [ops, k2] : cl.registered)
            if (k2 == kind) return static_cast<uint64_t>(-int64_t(EEXIST));
        cl.registered[c.arg(0)] = kind;
        return 0;
    });
    // unregister_tcf_proto_ops(ops): WARN(rc, "unregister tc filter kind(%s) failed %d\n").
    k.add_function("unregister_tcf_proto_ops", sub, [](StubCall& c) -> uint64_t {
        if (!c.kernel.state<Classifiers>().registered.erase(c.arg(0)))
            c.unimplemented(
                "unregister_tcf_proto_ops (of a kind not registered: the kernel "
                "WARNs)");
        return 0;
    });
}

}  // namespace kmodemu
