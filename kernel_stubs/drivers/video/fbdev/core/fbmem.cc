// drivers/video/fbdev/core/fbmem.c: fb_modesetting_disabled(drvname), true (with the kernel's
// warning) when the command line said "nomodeset". The oracle's command line does not (see
// kernel_stubs/drivers/gpu/drm/drm_nomodeset.cc), so every driver may set modes.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_fbmem(Kernel& k) {
    k.add_function("fb_modesetting_disabled", "drivers/video/fbdev/core/fbmem",
                   [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
