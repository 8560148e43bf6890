// drivers/base/property.c: a device's firmware node and the fwnode handles' references. The
// devices modules create here have no device-tree node; one that has (of_node set) stops the run,
// and so does a real fwnode_handle, whose operations (get/put) are not emulated.
#include "kernel_stubs/drivers/of/of.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_property(Kernel& k) {
    const char* sub = "drivers/base/property";
    // __dev_fwnode(dev) / __dev_fwnode_const(dev) (6.3+; 6.1's dev_fwnode()): the node of
    // dev->of_node (&of_node->fwnode) when there is one, else dev->fwnode.
    k.add_functions({"__dev_fwnode", "__dev_fwnode_const", "dev_fwnode"}, sub,
                    [](StubCall& c) -> uint64_t {
                        const KernelStructs& s = c.kernel.structs();
                        if (uint64_t np = c.emu.read_word(c.arg(0) + s.device.of_node)) {
                            if (!of_machine_node(c.kernel, np))
                                c.unimplemented("dev_fwnode (a device with a device-tree node)");
                            return np + s.device_node.fwnode;
                        }
                        return c.emu.read_word(c.arg(0) + s.device.fwnode);
                    },
                    true);
    // device_get_match_data(dev): the fwnode's device_get_match_data operation; for a node of
    // the machine's tree of_fwnode_device_get_match_data(): of_device_get_match_data(); NULL
    // without a node.
    k.add_function("device_get_match_data", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t dev = c.arg(0);
        uint64_t np = c.emu.read_word(dev + s.device.of_node);
        if (!np) {
            if (c.emu.read_word(dev + s.device.fwnode))
                c.unimplemented("device_get_match_data (a firmware node that is not OF)");
            return 0;
        }
        if (!of_machine_node(k, np))
            c.unimplemented("device_get_match_data (a device-tree node that is not the machine's)");
        uint64_t drv = c.emu.read_word(dev + s.device.driver);
        if (!drv) c.unimplemented("device_get_match_data (a device without a driver)");
        uint64_t m = of_match_device(c, c.emu.read_word(drv + s.of_match.table), dev);
        return m ? c.emu.read_word(m + s.of_match.data) : 0;
    }, true);
    // fwnode_handle_get(fwnode) / fwnode_handle_put(fwnode): the node's get/put operation;
    // nothing for NULL (fwnode_has_op() is false for NULL and error pointers).
    auto null_or_err = [](StubCall& c, uint64_t p) {
        return !p || p >= (c.kernel.word() == 8 ? uint64_t(-4095) : 0xfffff001u);
    };
    k.add_function("fwnode_handle_get", sub, [null_or_err](StubCall& c) -> uint64_t {
        if (null_or_err(c, c.arg(0))) return c.arg(0);
        c.unimplemented("fwnode_handle_get (a firmware node's get operation)");
    }, true);
    k.add_function("fwnode_handle_put", sub, [null_or_err](StubCall& c) -> uint64_t {
        if (null_or_err(c, c.arg(0))) return 0;
        c.unimplemented("fwnode_handle_put (a firmware node's put operation)");
    }, true);
}

}  // namespace kmodemu
