// kernel/sched/wait.c: wait queue heads. No task ever waits on one here (nothing blocks: the
// waiting functions, prepare_to_wait*(), are not implemented), so a wake-up finds the queue
// empty and wakes nobody, as the kernel's would; a queue with entries is a case kmodemu does
// not emulate.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_wait(Kernel& k) {
    const char* sub = "kernel/sched/wait";
    // __init_waitqueue_head(wq_head, name, key): spin_lock_init(), INIT_LIST_HEAD().
    k.add_function("__init_waitqueue_head", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::WaitQueueHead& w = c.kernel.structs().wait_queue_head;
        uint64_t head = c.arg(0) + w.head;
        uint32_t unlocked = 0;
        c.write(c.arg(0) + w.lock, &unlocked, 4);
        c.emu.write_word(head, head);
        c.emu.write_word(head + c.kernel.word(), head);
        return 0;
    });
    // __wake_up(wq_head, mode, nr_exclusive, key) and its variants: the tasks woken (6.12's
    // return value; 6.1's is void).
    k.add_functions({"__wake_up", "__wake_up_sync", "__wake_up_sync_key", "__wake_up_locked",
                     "__wake_up_locked_key"},
                    sub, [](StubCall& c) -> uint64_t {
                        uint64_t head = c.arg(0) + c.kernel.structs().wait_queue_head.head;
                        if (c.emu.read_word(head) != head)
                            c.unimplemented("__wake_up (of a wait queue with entries)");
                        return 0;
                    });
}

}  // namespace kmodemu
