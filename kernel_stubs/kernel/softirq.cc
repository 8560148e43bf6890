// kernel/softirq.c: bottom halves. local_bh_disable() is inline in modules (it adds
// SOFTIRQ_DISABLE_OFFSET to the current task's preempt count); local_bh_enable() calls
// __local_bh_enable_ip(), which takes it off again. No softirq is ever pending here, so none
// runs at that point.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_softirq(Kernel& k) {
    // __local_bh_enable_ip(ip, cnt): preempt_count -= cnt.
    k.add_function("__local_bh_enable_ip", "kernel/softirq", [](StubCall& c) -> uint64_t {
        uint64_t at = c.kernel.current_task() + c.kernel.structs().task.preempt_count;
        uint32_t count = 0;
        c.emu.read(at, &count, 4);
        count -= static_cast<uint32_t>(c.arg(1));
        c.emu.write(at, &count, 4);
        return 0;
    });
}

}  // namespace kmodemu
