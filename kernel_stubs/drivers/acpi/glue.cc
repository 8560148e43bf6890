// drivers/acpi/glue.c and the acpi_disabled flag: the emulated machine boots from a device tree
// (as QEMU's virt machine with -kernel does), so ACPI is disabled (arm64's
// acpi_boot_table_init() calls disable_acpi() without ACPI tables).
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

void register_acpi(Kernel& k) {
    const KernelProfile* prof = k.config().profile.get();
    if (!prof || !prof->exports.find("acpi_disabled")) return;
    const char* sub = "drivers/acpi";
    int32_t disabled = 1;
    k.add_data("acpi_disabled", sub, sizeof disabled, &disabled);
    // register_acpi_bus_type(): -ENODEV while acpi_disabled; unregister: 0.
    k.add_function("register_acpi_bus_type", sub, [](StubCall&) -> uint64_t {
        return static_cast<uint64_t>(int64_t(-ENODEV));
    });
    k.add_function("unregister_acpi_bus_type", sub, [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
