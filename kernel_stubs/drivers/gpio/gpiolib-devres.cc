// drivers/gpio/gpiolib-devres.c: the managed GPIO lookups. A descriptor found would be put on
// the device's resources (devm_gpiod_release()); the lookup of kernel_stubs/drivers/gpio/
// gpiolib.cc finds none, so its error (or, for the optional ones, NULL) is returned and nothing
// is managed, as devm_gpiod_get_index() does for an error.
#include <cerrno>

#include "kernel_stubs/drivers/gpio/gpiolib.h"

namespace kmodemu {

void register_gpiolib_devres(Kernel& k) {
    const char* sub = "drivers/gpio/gpiolib-devres";
    // devm_gpiod_get_index(dev, con_id, idx, flags): gpiod_get_index()'s error as it is.
    k.add_function("devm_gpiod_get", sub, [](StubCall& c) -> uint64_t {
        return gpio::gpiod_get_index(c, c.arg(0), c.arg(1), 0);
    }, true);
    k.add_function("devm_gpiod_get_index", sub, [](StubCall& c) -> uint64_t {
        return gpio::gpiod_get_index(c, c.arg(0), c.arg(1), c.arg(2));
    }, true);
    // devm_gpiod_get_index_optional(): NULL for -ENOENT (gpiod_not_found()).
    auto optional = [](StubCall& c, uint64_t desc) -> uint64_t {
        return desc == gpio::err_ptr(c.kernel, -ENOENT) ? 0 : desc;
    };
    k.add_function("devm_gpiod_get_optional", sub, [optional](StubCall& c) -> uint64_t {
        return optional(c, gpio::gpiod_get_index(c, c.arg(0), c.arg(1), 0));
    }, true);
    k.add_function("devm_gpiod_get_index_optional", sub, [optional](StubCall& c) -> uint64_t {
        return optional(c, gpio::gpiod_get_index(c, c.arg(0), c.arg(1), c.arg(2)));
    }, true);
    // devm_gpiod_put(dev, desc): WARN_ON(devres_release(...)) for a descriptor the device does
    // not manage; no descriptor is ever managed here.
    k.add_function("devm_gpiod_put", sub, [](StubCall& c) -> uint64_t {
        c.unimplemented("devm_gpiod_put (a GPIO descriptor)");
    }, true);
}

}  // namespace kmodemu
