// kernel/cred.c: credentials. insmod's task runs as root with init_cred's credentials (uid 0,
// init_user_ns), which current_cred() reads inline; prepare_kernel_cred() copies them and
// override_creds()/revert_creds() swap the task's subjective credentials.
#include <cerrno>
#include <set>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Creds : Kernel::SubsystemState {
    uint64_t init_cred = 0;
    std::set<uint64_t> made;  // prepare_kernel_cred()'s, freed by __put_cred()
};

uint64_t usage(Kernel& k, uint64_t cred) {
    const KernelStructs::Cred& l = k.structs().cred;
    return l.usage_size == 8 ? k.emu().read_word(cred + l.usage) : k.emu().read_u32(cred + l.usage);
}

void set_usage(Kernel& k, uint64_t cred, uint64_t v) {
    const KernelStructs::Cred& l = k.structs().cred;
    k.emu().write(cred + l.usage, &v, l.usage_size == 8 ? 8 : 4);
}

// put_cred(): the last reference frees a credential made here (__put_cred()).
void put_cred(Kernel& k, uint64_t cred) {
    uint64_t u = usage(k, cred);
    if (u > 1) {
        set_usage(k, cred, u - 1);
        return;
    }
    set_usage(k, cred, 0);
    if (k.state<Creds>().made.erase(cred)) k.slab().free(cred);
}

}  // namespace

void register_cred(Kernel& k) {
    const char* sub = "kernel/cred";
    const KernelStructs::Cred& l = k.structs().cred;
    if (!l.size || !k.current_task()) return;
    // init_cred: usage 4 (the kernel's initialiser), every id 0, in init_user_ns.
    Creds& cs = k.state<Creds>();
    cs.init_cred = k.alloc_data(l.size);
    set_usage(k, cs.init_cred, 4);
    if (const Export* ns = k.find_export("init_user_ns"))
        k.emu().write_word(cs.init_cred + l.user_ns, ns->address);
    k.emu().write_word(k.current_task() + l.task_cred, cs.init_cred);
    k.emu().write_word(k.current_task() + l.task_real_cred, cs.init_cred);

    // prepare_kernel_cred(daemon): a copy of the daemon's (or, before 6.2, init's for NULL)
    // credentials with a usage of 1.
    k.add_function("prepare_kernel_cred", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Cred& l = k.structs().cred;
        uint64_t old = c.arg(0) ? c.emu.read_word(c.arg(0) + l.task_cred)
                                : k.state<Creds>().init_cred;
        // init_task (a data object kmodemu does not lay out): init's credentials are init_cred
        const Export* init_task = k.find_export("init_task");
        if (!old && init_task && c.arg(0) == init_task->address) old = k.state<Creds>().init_cred;
        if (!old) c.unimplemented("prepare_kernel_cred (of a task without credentials)");
        uint64_t cred = k.slab_alloc(l.size, 0);
        if (!cred) return 0;
        std::vector<uint8_t> bytes = c.read(old, l.size);
        c.emu.write(cred, bytes.data(), bytes.size());
        set_usage(k, cred, 1);
        k.state<Creds>().made.insert(cred);
        return cred;
    });
    // override_creds(new): the task's subjective credentials become new (a reference taken);
    // the old ones are returned.
    k.add_function("override_creds", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Cred& l = k.structs().cred;
        uint64_t old = c.emu.read_word(k.current_task() + l.task_cred);
        set_usage(k, c.arg(0), usage(k, c.arg(0)) + 1);
        c.emu.write_word(k.current_task() + l.task_cred, c.arg(0));
        return old;
    });
    // revert_creds(old): back to old; the overriding credentials' reference dropped.
    k.add_function("revert_creds", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Cred& l = k.structs().cred;
        uint64_t override = c.emu.read_word(k.current_task() + l.task_cred);
        c.emu.write_word(k.current_task() + l.task_cred, c.arg(0));
        put_cred(k, override);
        return 0;
    });
    // __put_cred(cred): called by the inline put_cred() at a usage of 0.
    k.add_function("__put_cred", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        if (usage(k, c.arg(0))) c.unimplemented("__put_cred (of credentials still in use: BUG)");
        if (c.arg(0) == k.state<Creds>().init_cred || !k.state<Creds>().made.erase(c.arg(0)))
            c.unimplemented("__put_cred (of credentials not made by prepare_kernel_cred)");
        k.slab().free(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
