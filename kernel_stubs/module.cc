// Module reference counting and the module-facing kernel API (kernel/module/main.c).
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_module_api(Kernel& k) {
    const char* sub = "module";
    // module_layout exists for its CRC only (check_modstruct_version()); never called.
    k.add_function("module_layout", sub, [](StubCall&) { return uint64_t(0); });
    // One task, no unloading races: a live or coming module can always be referenced.
    k.add_function("try_module_get", sub, [](StubCall&) { return uint64_t(1); });
    k.add_function("__module_get", sub, [](StubCall&) { return uint64_t(0); });
    k.add_function("module_put", sub, [](StubCall&) { return uint64_t(0); });
}

}  // namespace kmodemu
