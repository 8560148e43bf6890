// fs/nfs_common/nfs_ssc.c: the table through which nfsd reaches the NFS client's server-to-server
// copy operations (CONFIG_NFS_V4_2_SSC_HELPER): nfs and nfsv4 fill in their slot at init.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// (un)register into one slot of nfs_ssc_client_tbl: unregistering ops that are not the
// registered ones leaves the slot alone.
uint64_t set_slot(StubCall& c, uint64_t field, bool reg) {
    const Export* tbl = c.kernel.find_export("nfs_ssc_client_tbl");
    if (!tbl) c.unimplemented("nfs_ssc_client_tbl (not exported by this kernel)");
    uint64_t slot = tbl->address + field;
    if (reg)
        c.emu.write_word(slot, c.arg(0));
    else if (c.emu.read_word(slot) == c.arg(0))
        c.emu.write_word(slot, 0);
    return 0;
}

}  // namespace

void register_nfs_ssc(Kernel& k) {
    const char* sub = "fs/nfs_common/nfs_ssc";
    const KernelStructs::NfsSscClientOpsTbl& l = k.structs().nfs_ssc_client_ops_tbl;
    if (!l.size) return;
    k.add_data("nfs_ssc_client_tbl", sub, l.size, nullptr, true);
    k.add_function("nfs42_ssc_register", sub, [](StubCall& c) -> uint64_t {
        return set_slot(c, c.kernel.structs().nfs_ssc_client_ops_tbl.nfs4_ops, true);
    }, true);
    k.add_function("nfs42_ssc_unregister", sub, [](StubCall& c) -> uint64_t {
        return set_slot(c, c.kernel.structs().nfs_ssc_client_ops_tbl.nfs4_ops, false);
    }, true);
    k.add_function("nfs_ssc_register", sub, [](StubCall& c) -> uint64_t {
        return set_slot(c, c.kernel.structs().nfs_ssc_client_ops_tbl.nfs_ops, true);
    }, true);
    k.add_function("nfs_ssc_unregister", sub, [](StubCall& c) -> uint64_t {
        return set_slot(c, c.kernel.structs().nfs_ssc_client_ops_tbl.nfs_ops, false);
    }, true);
}

}  // namespace kmodemu
