// drivers/dma/dmaengine.c: the DMA engine's client references. The machine has no DMA device
// (no module's dma_async_device_register() is emulated), so dmaengine_get() grabs no channel and
// the rebalance finds none: what remains is the reference count.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct DmaEngine : Kernel::SubsystemState {
    int64_t ref_count = 0;  // dmaengine_ref_count
};

}  // namespace

void register_dmaengine(Kernel& k) {
    const char* sub = "drivers/dma/dmaengine";
    k.add_function("dmaengine_get", sub, [](StubCall& c) -> uint64_t {
        ++c.kernel.state<DmaEngine>().ref_count;
        return 0;
    });
    // dmaengine_put(): BUG_ON(dmaengine_ref_count < 0).
    k.add_function("dmaengine_put", sub, [](StubCall& c) -> uint64_t {
        if (--c.kernel.state<DmaEngine>().ref_count < 0)
            c.unimplemented("dmaengine_put (unbalanced: BUG_ON)");
        return 0;
    });
}

}  // namespace kmodemu
