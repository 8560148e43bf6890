// drivers/hv/hv_common.c: Hyper-V. The machine is no Hyper-V guest (QEMU's virt board):
// hv_is_hyperv_initialized() is false, as the kernel found no hypervisor to initialize.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_hv_common(Kernel& k) {
    if (k.arch() != Arch::arm64) return;  // CONFIG_HYPERV: arm64 and x86 only
    k.add_function(
        "hv_is_hyperv_initialized", "drivers/hv/hv_common", [](StubCall&) -> uint64_t { return 0; },
        true);
}

}  // namespace kmodemu
