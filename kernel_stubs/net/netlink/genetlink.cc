// net/netlink/genetlink.c: the generic netlink families (genl_fam_idr) and the multicast group
// ids they are given (mc_groups). A booted kernel has nlctrl (GENL_ID_CTRL, its group "notify"
// at GENL_ID_CTRL) and Debian's quota netlink VFS_DQUOT (GENL_ID_VFS_DQUOT, its group at the same
// number); the other families built into Debian's kernels (taskstats, thermal, devlink, ethtool,
// ...) are not modelled, so the ids and group offsets a module's family gets are those of a
// kernel without them (no module's init can tell: they only address messages). No user space
// listens: the controller's events (genl_ctrl_event()) reach nobody.
#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// include/uapi/linux/genetlink.h
constexpr int genl_id_ctrl = 16;  // NLMSG_MIN_TYPE
constexpr int genl_id_vfs_dquot = 17;
constexpr int genl_id_pmcraid = 18;
constexpr int genl_start_alloc = 19;
constexpr int genl_max_id = 1023;
constexpr unsigned genl_namsiz = 16;
constexpr uint8_t genl_cmd_cap_do = 0x02;
constexpr uint8_t genl_cmd_cap_dump = 0x04;

struct Genl : Kernel::SubsystemState {
    std::map<int, uint64_t> families;      // genl_fam_idr: id -> struct genl_family *
    std::map<int, std::string> names;      // the families' names (nlctrl's and VFS_DQUOT's: no
                                           // struct genl_family of theirs is modelled)
    int idr_next = genl_id_vfs_dquot + 1;  // idr_alloc_cyclic()'s next id
    // mc_group_start: 0 (invalid), 1 (drop monitor), GENL_ID_CTRL, GENL_ID_VFS_DQUOT and
    // GENL_ID_PMCRAID are taken.
    std::set<int> mc_groups{0, 1, genl_id_ctrl, genl_id_vfs_dquot, genl_id_pmcraid};
    bool genl_mutex_held = false;
    Genl() {
        names[genl_id_ctrl] = "nlctrl";
        names[genl_id_vfs_dquot] = "VFS_DQUOT";
    }
};

uint8_t read_u8(StubCall& c, uint64_t addr) {
    uint8_t v = 0;
    c.emu.read(addr, &v, 1);
    return v;
}

int64_t err(int e) {
    return -int64_t(e);
}

// One command as genl_op_iter_next() yields it: its do and dump halves' flags and validate.
struct Cmd {
    uint8_t cmd = 0, flags = 0, validate_do = 0, validate_dump = 0;
};

// genl_validate_ops(): every command has a do or a dump handler, commands are unique, and (6.2+)
// the split ops come sorted, do before dump. The cases the kernel WARN()s about are not drawn.
int validate_ops(StubCall& c, uint64_t family) {
    const KernelStructs::Genl& g = c.kernel.structs().genl;
    Emulator& e = c.emu;
    unsigned n_ops = read_u8(c, family + g.n_ops), n_small = read_u8(c, family + g.n_small_ops);
    unsigned n_split = g.split_size ? read_u8(c, family + g.n_split_ops) : 0;
    uint64_t ops = e.read_word(family + g.ops), small = e.read_word(family + g.small_ops);
    uint64_t split = g.split_size ? e.read_word(family + g.split_ops) : 0;
    if ((n_ops && !ops) || (n_small && !small) || (n_split && !split))
        c.unimplemented("genl_register_family (ops missing: WARN_ON)");
    std::vector<Cmd> cmds;
    // Full and small ops: genl_cmd_full_to_split() of each, for do and for dump.
    auto legacy = [&](uint64_t op, uint64_t doit, uint64_t dumpit, uint64_t cmd,
                      uint64_t validate) {
        Cmd x;
        x.cmd = read_u8(c, op + cmd);
        uint8_t v = read_u8(c, op + validate);
        if (e.read_word(op + doit)) {
            x.flags |= genl_cmd_cap_do;
            x.validate_do = v;
        }
        if (e.read_word(op + dumpit)) {
            x.flags |= genl_cmd_cap_dump;
            x.validate_dump = v;
        }
        cmds.push_back(x);
    };
    for (unsigned i = 0; i < n_ops; ++i)
        legacy(ops + i * g.ops_size, g.ops_doit, g.ops_dumpit, g.ops_cmd, g.ops_validate);
    for (unsigned i = 0; i < n_small; ++i)
        legacy(small + i * g.small_size, g.small_doit, g.small_dumpit, g.small_cmd,
               g.small_validate);
    // Split ops: genl_op_from_split(), a do op and the dump op after it make one command.
    auto split_flags = [&](unsigned i) {
        return read_u8(c, split + i * g.split_size + g.split_flags);
    };
    auto split_u8 = [&](unsigned i, uint64_t f) {
        return read_u8(c, split + i * g.split_size + f);
    };
    for (unsigned i = 0; i < n_split;) {
        Cmd x;
        unsigned cnt = 0;
        if (split_flags(i) & genl_cmd_cap_do) {
            x.cmd |= split_u8(i, g.split_cmd);
            x.flags |= split_flags(i);
            x.validate_do = split_u8(i, g.split_validate);
            ++cnt;
        }
        if (i + cnt < n_split && (split_flags(i + cnt) & genl_cmd_cap_dump)) {
            x.cmd |= split_u8(i + cnt, g.split_cmd);
            x.flags |= split_flags(i + cnt);
            x.validate_dump = split_u8(i + cnt, g.split_validate);
            ++cnt;
        }
        if (!cnt) c.unimplemented("genl_register_family (a split op neither do nor dump: WARN_ON)");
        cmds.push_back(x);
        i += cnt;
    }
    uint8_t resv_start_op = read_u8(c, family + g.resv_start_op);
    for (size_t i = 0; i < cmds.size(); ++i) {
        if (!(cmds[i].flags & (genl_cmd_cap_do | genl_cmd_cap_dump))) return -EINVAL;
        if (cmds[i].cmd >= resv_start_op && (cmds[i].validate_do || cmds[i].validate_dump))
            c.unimplemented("genl_register_family (validation flags past resv_start_op: WARN_ON)");
        for (size_t j = i + 1; j < cmds.size(); ++j)
            if (cmds[i].cmd == cmds[j].cmd) return -EINVAL;
    }
    // The split ops' own order (each one do or dump; by command; a command's do, then its dump,
    // with the same flags): every refusal here comes with a WARN_ON().
    for (unsigned s = 0; s < n_split; ++s) {
        uint8_t caps = split_flags(s) & (genl_cmd_cap_do | genl_cmd_cap_dump);
        bool bad = caps != genl_cmd_cap_do && caps != genl_cmd_cap_dump;
        if (s && !bad) {
            uint8_t a = split_u8(s - 1, g.split_cmd), b = split_u8(s, g.split_cmd);
            if (a > b) bad = true;
            if (a == b) {
                uint8_t fa = split_flags(s - 1), fb = split_flags(s);
                bad = split_u8(s - 1, g.split_internal_flags) !=
                          split_u8(s, g.split_internal_flags) ||
                      ((fa ^ fb) & ~(genl_cmd_cap_do | genl_cmd_cap_dump)) ||
                      !((fa & genl_cmd_cap_do) && (fb & genl_cmd_cap_dump));
            }
        }
        if (bad) c.unimplemented("genl_register_family (split ops out of order: WARN_ON)");
    }
    return 0;
}

// genl_allocate_reserve_groups(): the first run of n free group ids.
int reserve_groups(Genl& gs, int n) {
    int id = 0;
    for (;;) {
        while (gs.mc_groups.count(id))
            ++id;
        int i = id;
        while (i < id + n && !gs.mc_groups.count(i))
            ++i;
        if (i == id + n) break;
        id = i;
    }
    for (int i = id; i < id + n; ++i)
        gs.mc_groups.insert(i);
    return id;
}

// genl_validate_assign_mc_groups(): the groups' names checked (WARN_ON), their first id given
// as the family's mcgrp_offset. The netlink sockets' group bitmaps then grow, which can fail
// only for want of memory.
void assign_mc_groups(StubCall& c, Genl& gs, uint64_t family, const std::string& name, int id) {
    const KernelStructs::Genl& g = c.kernel.structs().genl;
    int n = read_u8(c, family + g.n_mcgrps);
    if (!n) return;
    uint64_t grps = c.emu.read_word(family + g.mcgrps);
    for (int i = 0; i < n; ++i) {
        std::vector<uint8_t> grp_name = c.read(grps + i * g.mcgrp_size + g.mcgrp_name, genl_namsiz);
        bool terminated = false;
        for (uint8_t ch : grp_name)
            terminated = terminated || ch == 0;
        if (grp_name[0] == 0 || !terminated)
            c.unimplemented("genl_register_family (a multicast group without a name: WARN_ON)");
    }
    int first;
    if (name == "NET_DM" || id == genl_id_vfs_dquot || id == genl_id_pmcraid) {
        // The families that used their id (drop monitor: 1) as their only group.
        if (n != 1) c.unimplemented("genl_register_family (" + name + " with groups: BUG_ON)");
        first = name == "NET_DM" ? 1 : id;
    } else {
        first = reserve_groups(gs, n);
    }
    c.emu.write_u32(family + g.mcgrp_offset, static_cast<uint32_t>(first));
}

}  // namespace

void register_genetlink(Kernel& k) {
    const char* sub = "net/netlink/genetlink";
    // genl_lock() / genl_unlock(): genl_mutex. One task runs here: taking it twice would
    // deadlock, which kmodemu reports instead.
    k.add_function("genl_lock", sub, [](StubCall& c) -> uint64_t {
        Genl& gs = c.kernel.state<Genl>();
        if (gs.genl_mutex_held) c.unimplemented("genl_lock (held: the task would deadlock)");
        gs.genl_mutex_held = true;
        return 0;
    });
    k.add_function("genl_unlock", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Genl>().genl_mutex_held = false;
        return 0;
    });
    // genl_register_family(family): validated, a new name (-EEXIST), an id from the idr
    // (GENL_START_ALLOC..GENL_MAX_ID, cyclic; pmcraid and VFS_DQUOT their fixed ones), the
    // multicast groups; the family is then announced to the controller's listeners.
    k.add_function("genl_register_family", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Genl& g = c.kernel.structs().genl;
        uint64_t family = c.arg(0);
        int ret = validate_ops(c, family);
        if (ret) return static_cast<uint64_t>(int64_t(ret));
        Genl& gs = c.kernel.state<Genl>();
        std::string name = c.read_cstr(family + g.name, genl_namsiz);
        for (const auto& [id, other] : gs.names)
            if (other == name) return static_cast<uint64_t>(err(EEXIST));
        int start = genl_start_alloc, end = genl_max_id;
        if (name == "pmcraid") start = end = genl_id_pmcraid;
        if (name == "VFS_DQUOT") start = end = genl_id_vfs_dquot;
        // idr_alloc_cyclic(): from the id after the last one given, then from start.
        int id = -1;
        for (int from : {std::max(start, gs.idr_next), start}) {
            for (int i = from; i <= end && id < 0; ++i)
                if (!gs.names.count(i)) id = i;
            if (id >= 0) break;
        }
        if (id < 0) {
            c.emu.write_u32(family + g.id, static_cast<uint32_t>(-ENOSPC));
            return static_cast<uint64_t>(err(ENOSPC));
        }
        gs.idr_next = id + 1;
        c.emu.write_u32(family + g.id, static_cast<uint32_t>(id));
        assign_mc_groups(c, gs, family, name, id);
        gs.families[id] = family;
        gs.names[id] = name;
        return 0;
    });
    // genl_unregister_family(family): -ENOENT when its id is not registered; its multicast
    // groups are freed (but the drop monitor's 1) and its id removed.
    k.add_function("genl_unregister_family", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Genl& g = c.kernel.structs().genl;
        uint64_t family = c.arg(0);
        Genl& gs = c.kernel.state<Genl>();
        int id = static_cast<int32_t>(c.emu.read_u32(family + g.id));
        auto it = gs.families.find(id);
        if (it == gs.families.end()) {
            if (gs.names.count(id))
                c.unimplemented("genl_unregister_family (of a family built into the kernel)");
            return static_cast<uint64_t>(err(ENOENT));
        }
        int n = read_u8(c, family + g.n_mcgrps);
        int offset = static_cast<int>(c.emu.read_u32(family + g.mcgrp_offset));
        for (int i = 0; i < n; ++i)
            if (offset + i != 1) gs.mc_groups.erase(offset + i);
        gs.families.erase(it);
        gs.names.erase(id);
        return 0;
    });
}

}  // namespace kmodemu
