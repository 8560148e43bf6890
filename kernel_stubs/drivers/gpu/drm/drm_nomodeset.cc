// drivers/gpu/drm/drm_nomodeset.c (6.1) and drivers/video/nomodeset.c (6.12): whether the
// command line said "nomodeset" (only firmware framebuffers then). The oracle's command line
// does not.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_drm_nomodeset(Kernel& k) {
    k.add_functions({"drm_firmware_drivers_only", "video_firmware_drivers_only"},
                    "drivers/gpu/drm/drm_nomodeset", [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
