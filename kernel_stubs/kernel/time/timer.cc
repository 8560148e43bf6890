// kernel/time/timer.c: timer_list set-up and removal. Arming a timer (add_timer(),
// mod_timer()) is not implemented yet: a module that arms one stops there. A timer that was
// never armed is not pending (its entry.pprev is NULL), so removing it does nothing and
// returns 0, as in the kernel.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_timers(Kernel& k) {
    const char* sub = "kernel/time/timer";
    // init_timer_key(timer, func, flags, name, key): do_init_timer(); the CPU (0) is in the
    // flags' low bits.
    k.add_function("init_timer_key", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TimerList& t = c.kernel.structs().timer_list;
        uint64_t timer = c.arg(0);
        c.emu.write_word(timer + t.pprev, 0);
        c.emu.write_word(timer + t.function, c.arg(1));
        uint32_t flags = uint32_t(c.arg(2));
        c.write(timer + t.flags, &flags, 4);
        return 0;
    });
    // timer_delete() (6.1's del_timer()), timer_delete_sync(), try_to_del_timer_sync(),
    // timer_shutdown_sync(): whether the timer was pending; one that is cannot be here.
    k.add_functions({"timer_delete", "timer_delete_sync", "try_to_del_timer_sync",
                     "timer_shutdown_sync"},
                    sub, [](StubCall& c) -> uint64_t {
                        const KernelStructs::TimerList& t = c.kernel.structs().timer_list;
                        if (c.emu.read_word(c.arg(0) + t.pprev))
                            c.unimplemented("removing a pending timer (timers are not armed)");
                        return 0;
                    });
}

}  // namespace kmodemu
