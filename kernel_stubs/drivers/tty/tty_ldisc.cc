// drivers/tty/tty_ldisc.c: the table of line disciplines (tty_ldiscs[NR_LDISCS]), where the
// kernel's n_tty is N_TTY from boot. Registering a number puts the ops there (replacing any),
// unregistering empties it. No tty is opened here, so no discipline is ever attached.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct TtyLdiscs : Kernel::SubsystemState {
    std::map<int64_t, uint64_t> ldiscs;  // tty_ldiscs[]: number -> struct tty_ldisc_ops *
};

}  // namespace

void register_tty_ldisc(Kernel& k) {
    const char* sub = "drivers/tty/tty_ldisc";
    // tty_register_ldisc(new_ldisc): -EINVAL for a number outside [N_TTY, NR_LDISCS).
    k.add_function("tty_register_ldisc", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TtyLdisc& t = c.kernel.structs().tty_ldisc;
        int64_t num = int32_t(c.emu.read_u32(c.arg(0) + t.ops_num));
        if (num < int64_t(t.n_tty) || num >= int64_t(t.nr_ldiscs))
            return static_cast<uint64_t>(int64_t(-EINVAL));
        c.kernel.state<TtyLdiscs>().ldiscs[num] = c.arg(0);
        return 0;
    });
    // tty_unregister_ldisc(ldisc): tty_ldiscs[ldisc->num] = NULL.
    k.add_function("tty_unregister_ldisc", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TtyLdisc& t = c.kernel.structs().tty_ldisc;
        int64_t num = int32_t(c.emu.read_u32(c.arg(0) + t.ops_num));
        c.kernel.state<TtyLdiscs>().ldiscs.erase(num);
        return 0;
    });
}

}  // namespace kmodemu
