// drivers/gpio/gpiolib.c: GPIO consumers. A descriptor is found through its device's firmware
// node (device tree, ACPI, 6.12's software nodes) or, failing that, the board's lookup tables
// (gpiod_find()). The emulated machine's devices are the ones modules create, without firmware
// nodes, and no lookup table is added (gpiod_add_lookup_table() is not emulated: a module adding
// one stops the run), so every lookup ends with -ENOENT as the kernel's does for such a device:
// an optional GPIO is NULL, a required one the error. The consumer functions given NULL (an
// absent optional GPIO) do nothing, as VALIDATE_DESC() has them do; kmodemu never hands out a
// real descriptor, so any other pointer stops the run.
#include "kernel_stubs/drivers/gpio/gpiolib.h"

#include <cerrno>

#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace gpio {

bool is_err(Kernel& k, uint64_t p) {
    return p >= (k.word() == 8 ? uint64_t(-4095) : 0xfffff001u);
}

uint64_t err_ptr(Kernel& k, int err) {
    uint64_t v = static_cast<uint64_t>(int64_t(err));
    return k.word() == 8 ? v : (v & 0xffffffffu);
}

// gpiod_get_index(): dev_fwnode(dev) (of_node's, else fwnode) decides the firmware lookup
// (of_find_gpio(), acpi_find_gpio(), swnode_find_gpio()); without one, gpiod_find() searches
// the lookup tables for the device's name, and there are none: ERR_PTR(-ENOENT) (its dev_dbg()s
// print nothing). 6.12's gpiod_find_and_request() takes the same course.
uint64_t gpiod_get_index(StubCall& c, uint64_t dev, uint64_t /*con_id*/, uint64_t /*idx*/) {
    Kernel& k = c.kernel;
    const KernelStructs::Device& d = k.structs().device;
    if (dev && (c.emu.read_word(dev + d.of_node) || c.emu.read_word(dev + d.fwnode)))
        c.unimplemented("gpiod_get_index (a device with a firmware node: its GPIO properties)");
    return err_ptr(k, -ENOENT);
}

}  // namespace gpio

namespace {

using gpio::err_ptr;
using gpio::is_err;

// validate_desc(): 0 for NULL (the caller returns 0 or nothing), an error pointer is warned
// about and is the result; a descriptor kmodemu did not hand out stops the run.
int validate_desc(StubCall& c, uint64_t desc, const char* func) {
    Kernel& k = c.kernel;
    if (!desc) return 0;
    if (is_err(k, desc)) {
        int err = static_cast<int>(k.word() == 8 ? int64_t(desc) : int32_t(uint32_t(desc)));
        k.log(4, std::string(func) + ": invalid GPIO (errorpointer)");
        return err;
    }
    c.unimplemented(std::string(func) + " (a GPIO descriptor)");
}

uint64_t ret(Kernel& k, int v) {
    return err_ptr(k, v);
}

}  // namespace

void register_gpiolib(Kernel& k) {
    const char* sub = "drivers/gpio/gpiolib";
    // gpiod_get(dev, con_id, flags) = gpiod_get_index(dev, con_id, 0, flags).
    k.add_function("gpiod_get", sub, [](StubCall& c) -> uint64_t {
        return gpio::gpiod_get_index(c, c.arg(0), c.arg(1), 0);
    }, true);
    k.add_function("gpiod_get_index", sub, [](StubCall& c) -> uint64_t {
        return gpio::gpiod_get_index(c, c.arg(0), c.arg(1), c.arg(2));
    }, true);
    // gpiod_get_optional() / gpiod_get_index_optional(): NULL for -ENOENT (gpiod_not_found()).
    auto optional = [](StubCall& c, uint64_t desc) -> uint64_t {
        return desc == err_ptr(c.kernel, -ENOENT) ? 0 : desc;
    };
    k.add_function("gpiod_get_optional", sub, [optional](StubCall& c) -> uint64_t {
        return optional(c, gpio::gpiod_get_index(c, c.arg(0), c.arg(1), 0));
    }, true);
    k.add_function("gpiod_get_index_optional", sub, [optional](StubCall& c) -> uint64_t {
        return optional(c, gpio::gpiod_get_index(c, c.arg(0), c.arg(1), c.arg(2)));
    }, true);
    // gpiod_put(desc): if (desc) gpiod_free(desc).
    k.add_function("gpiod_put", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0)) c.unimplemented("gpiod_put (a GPIO descriptor)");
        return 0;
    }, true);

    // The consumer functions that validate their descriptor (VALIDATE_DESC() /
    // VALIDATE_DESC_VOID()): for NULL they do nothing and return 0.
    for (const char* name :
         {"gpiod_set_value", "gpiod_set_value_cansleep", "gpiod_set_raw_value",
          "gpiod_set_raw_value_cansleep", "gpiod_get_value", "gpiod_get_value_cansleep",
          "gpiod_get_raw_value", "gpiod_get_raw_value_cansleep", "gpiod_direction_input",
          "gpiod_direction_output", "gpiod_direction_output_raw", "gpiod_set_consumer_name",
          "gpiod_cansleep", "gpiod_is_active_low", "gpiod_get_direction"}) {
        k.add_function(name, sub, [name](StubCall& c) -> uint64_t {
            return ret(c.kernel, validate_desc(c, c.arg(0), name));
        }, true);
    }
    // gpiod_to_irq(desc): -EINVAL for NULL or an error pointer (no VALIDATE_DESC: it must not
    // return 0).
    k.add_function("gpiod_to_irq", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0) || is_err(c.kernel, c.arg(0))) return ret(c.kernel, -EINVAL);
        c.unimplemented("gpiod_to_irq (a GPIO descriptor)");
    }, true);
}

}  // namespace kmodemu
