// lib/xarray.c: the xarray functions. kmodemu keeps no xarray trees (the ID allocators of
// lib/idr.c keep their IDs themselves): what is emulated is an xarray with no entry, or with a
// single entry at index 0 held in its head.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

void register_xarray(Kernel& k) {
    // xa_destroy(xa): frees the tree's nodes and empties the array (xa_head = NULL). A node
    // (xa_is_node(): an internal entry, (entry & 3) == 2, above 4096) is a tree kmodemu did
    // not make.
    k.add_function("xa_destroy", "lib/xarray", [](StubCall& c) -> uint64_t {
        uint64_t head = c.arg(0) + c.kernel.structs().xarray.head;
        uint64_t entry = c.emu.read_word(head);
        if ((entry & 3) == 2 && entry > 4096)
            c.unimplemented("xa_destroy (of an xarray with nodes)");
        c.emu.write_word(head, 0);
        return 0;
    });
}

}  // namespace kmodemu
