// mm/mmu_notifier.c: no address space of a process is ever bound to a notifier here.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_mmu_notifier(Kernel& k) {
    // mmu_notifier_synchronize(): synchronize_srcu() of the notifiers' SRCU, on which no
    // callback is ever queued (mmu_notifier_put() of a registered notifier would queue one).
    k.add_function(
        "mmu_notifier_synchronize", "mm/mmu_notifier", [](StubCall&) -> uint64_t { return 0; },
        true);
}

}  // namespace kmodemu
