// kernel/workqueue.c: workqueues as objects modules hold. No work runs yet (queueing work is
// not implemented, and a module that queues stops there, saying so).
#include <cerrno>
#include <set>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

// struct workqueue_struct is private to kernel/workqueue.c: modules only hold the pointer.
constexpr uint64_t workqueue_object_size = 256;

struct Workqueues : Kernel::SubsystemState {
    std::set<uint64_t> live;
};

}  // namespace

void register_workqueue(Kernel& k) {
    const char* sub = "kernel/workqueue";
    // alloc_workqueue(fmt, flags, max_active, ...): a workqueue, or NULL when out of memory.
    k.add_function("alloc_workqueue", sub, [](StubCall& c) -> uint64_t {
        uint64_t wq = c.kernel.slab_alloc(workqueue_object_size, gfp_zero);
        if (wq) c.kernel.state<Workqueues>().live.insert(wq);
        return wq;
    });
    k.add_function("destroy_workqueue", sub, [](StubCall& c) -> uint64_t {
        if (c.kernel.state<Workqueues>().live.erase(c.arg(0))) c.kernel.slab().free(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
