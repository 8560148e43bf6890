// kernel/sched/swait.c: simple wait queues.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_swait(Kernel& k) {
    // __init_swait_queue_head(q, name, key): raw_spin_lock_init(&q->lock) (the lock, which is
    // all of the head before task_list, unlocked: zero) and INIT_LIST_HEAD(&q->task_list); the
    // lockdep class is CONFIG_LOCKDEP's, which the kernel has not.
    k.add_function("__init_swait_queue_head", "kernel/sched/swait", [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        uint64_t q = c.arg(0);
        std::vector<uint8_t> zero(s.swait_queue_head.task_list, 0);
        if (!zero.empty()) c.write(q, zero.data(), zero.size());
        uint64_t list = q + s.swait_queue_head.task_list;
        c.emu.write_word(list + s.list_head.next, list);
        c.emu.write_word(list + s.list_head.prev, list);
        return 0;
    });
}

}  // namespace kmodemu
