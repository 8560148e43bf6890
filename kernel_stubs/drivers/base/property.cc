// drivers/base/property.c: a device's firmware node and the fwnode handles' references. The
// devices modules create here have no device-tree node; one that has (of_node set) stops the run,
// and so does a real fwnode_handle, whose operations (get/put) are not emulated.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_property(Kernel& k) {
    const char* sub = "drivers/base/property";
    // __dev_fwnode(dev) / __dev_fwnode_const(dev) (6.3+; 6.1's dev_fwnode()): the node of
    // dev->of_node (&of_node->fwnode) when there is one, else dev->fwnode.
    k.add_functions({"__dev_fwnode", "__dev_fwnode_const", "dev_fwnode"}, sub,
                    [](StubCall& c) -> uint64_t {
                        const KernelStructs::Device& d = c.kernel.structs().device;
                        if (c.emu.read_word(c.arg(0) + d.of_node))
                            c.unimplemented("dev_fwnode (a device with a device-tree node)");
                        return c.emu.read_word(c.arg(0) + d.fwnode);
                    },
                    true);
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
