// drivers/base/regmap/regmap.c: register maps. Making one (regmap_init*(), devm_regmap_init*())
// is not emulated, so a run that asks for one stops there; until then no device has a regmap.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_regmap(Kernel& k) {
    // dev_get_regmap(dev, name): the device's regmap of that name, found among its managed
    // resources: none was ever made, so NULL.
    k.add_function(
        "dev_get_regmap", "drivers/base/regmap/regmap", [](StubCall&) -> uint64_t { return 0; },
        true);
}

}  // namespace kmodemu
