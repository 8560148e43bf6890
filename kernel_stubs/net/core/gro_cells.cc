// net/core/gro_cells.c: a tunnel device's per-CPU receive cells (struct gro_cells { cells }).
// Each struct gro_cell (private to gro_cells.c: an skb queue and a NAPI instance) would be
// added to the device's NAPI list and enabled; the emulated kernel receives no packet and
// polls no NAPI, so a cell is zeroed memory the module never reads, and the NAPI instances
// are not modelled.
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// struct gro_cell { struct sk_buff_head napi_skbs; struct napi_struct napi; }: an upper bound
// of its size (napi_struct is about 400 bytes on 64-bit kernels).
constexpr uint64_t gro_cell_size = 1024;
constexpr uint64_t gfp_kernel_zero = 0xcc0 | gfp_zero;  // GFP_KERNEL | __GFP_ZERO

}  // namespace

void register_gro_cells(Kernel& k) {
    const char* sub = "net/core/gro_cells";
    // gro_cells_init(gcells, dev): -ENOMEM when the per-CPU cells cannot be allocated.
    k.add_function("gro_cells_init", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t cells = k.slab_alloc(gro_cell_size, gfp_kernel_zero);
        c.emu.write_word(c.arg(0) + k.structs().gro_cells.cells, cells);
        return cells ? 0 : static_cast<uint64_t>(int64_t(-ENOMEM));
    });
    // gro_cells_destroy(gcells): nothing when there are no cells; else each cell's NAPI disabled
    // and deleted, its queue purged (empty), the cells freed and gcells->cells = NULL.
    k.add_function("gro_cells_destroy", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t at = c.arg(0) + k.structs().gro_cells.cells;
        uint64_t cells = c.emu.read_word(at);
        if (!cells) return 0;
        if (!k.slab().free(cells)) k.diag("gro_cells_destroy of cells not allocated: " + hex(cells));
        c.emu.write_word(at, 0);
        return 0;
    });
}

}  // namespace kmodemu
