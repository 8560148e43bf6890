// The generic netlink families (net/netlink/genetlink.c), the protocols and protocol families
// (net/core/sock.c, net/socket.c), the connector (drivers/connector), the IP protocol handlers
// and socket type switches (net/ipv4, net/ipv6), netlink notifiers and sock_diag's inet compat:
// Debian's modules that register with them get the real kernel's verdict, and the registries
// refuse what the kernel refuses.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

using fx::has_log;

TEST(KitNet2, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // genl_register_family / genl_unregister_family
        "kernel/drivers/net/team/team.ko",
        "kernel/drivers/net/macsec.ko",
        "kernel/drivers/net/gtp.ko",
        "kernel/fs/smb/server/ksmbd.ko",
        "kernel/net/core/drop_monitor.ko",  // NET_DM: multicast group 1
        "kernel/drivers/scsi/pmcraid.ko",   // its fixed id, GENL_ID_PMCRAID
        // proto_register and sock_register ("NET: Registered PF_* protocol family")
        "kernel/crypto/af_alg.ko",
        "kernel/net/kcm/kcm.ko",
        "kernel/net/bluetooth/bluetooth.ko",
        "kernel/net/ieee802154/ieee802154_socket.ko",
        "kernel/drivers/net/ppp/pppox.ko",
        "kernel/drivers/net/ppp/pptp.ko",
        // cn_add_callback / cn_del_callback
        "kernel/drivers/w1/wire.ko",
        "kernel/drivers/w1/slaves/w1_therm.ko",
        // inet_add_protocol / inet_del_protocol
        "kernel/net/ipv4/gre.ko",
        // sock_diag_register_inet_compat
        "kernel/net/ipv4/inet_diag.ko",
        "kernel/net/ipv4/tcp_diag.ko",
        // netlink_register_notifier
        "kernel/net/nfc/nfc.ko",
    });
}

// The kit's kernel, with its exports called as a module would call them.
struct Net2Kernel {
    explicit Net2Kernel(const char* kit = KMODEMU_KIT_ARM64)
        : emu(Arch::arm64), k(emu, config(kit)) {}
    static KernelConfig config(const char* kit) {
        KernelConfig c;
        c.profile = KernelProfile::from_kit(kit);
        return c;
    }
    int64_t call(const char* name, std::initializer_list<uint64_t> args) {
        Export* e = k.find_export(name);
        EXPECT_TRUE(e) << name;
        unsigned i = 0;
        for (uint64_t a : args)
            emu.set_arg(i++, a);
        StubCall c(k, emu);
        return static_cast<int32_t>(e->fn(c));
    }
    uint64_t zeroed(uint64_t size) { return k.slab_alloc(size, gfp_zero); }
    std::string cstr(uint64_t at) {
        std::string s;
        emu.read_cstring(at, 256, s);
        return s;
    }
    void u8(uint64_t at, uint8_t v) { emu.write(at, &v, 1); }
    Emulator emu;
    Kernel k;
};

TEST(KitNet2, GenericNetlinkFamilies) {
    Net2Kernel n;
    const KernelStructs::Genl& g = n.k.structs().genl;
    uint64_t fn = n.k.find_export("kfree")->address;  // any non-NULL handler
    // A family of `name` with small ops of the given commands (a handler each unless 0xff)
    // and `groups` multicast groups.
    auto family = [&](const char* name, std::initializer_list<unsigned> cmds, unsigned groups) {
        uint64_t f = n.zeroed(512);
        n.emu.write(f + g.name, name, std::strlen(name) + 1);
        uint64_t ops = n.zeroed(g.small_size * 8);
        unsigned i = 0;
        for (unsigned cmd : cmds) {
            uint64_t op = ops + i++ * g.small_size;
            n.u8(op + g.small_cmd, static_cast<uint8_t>(cmd & 0xff));
            if (cmd < 0x100) n.emu.write_word(op + g.small_doit, fn);
        }
        n.emu.write_word(f + g.small_ops, ops);
        n.u8(f + g.n_small_ops, static_cast<uint8_t>(i));
        uint64_t grps = n.zeroed(g.mcgrp_size * 4);
        for (unsigned j = 0; j < groups; ++j)
            n.emu.write(grps + j * g.mcgrp_size + g.mcgrp_name, "grp", 4);
        n.emu.write_word(f + g.mcgrps, grps);
        n.u8(f + g.n_mcgrps, static_cast<uint8_t>(groups));
        return f;
    };
    auto id = [&](uint64_t f) { return static_cast<int32_t>(n.emu.read_u32(f + g.id)); };
    auto offset = [&](uint64_t f) { return n.emu.read_u32(f + g.mcgrp_offset); };
    // genl_validate_ops(): a command without a handler, or one twice.
    EXPECT_EQ(n.call("genl_register_family", {family("kmodemu", {1, 0x102}, 0)}), -EINVAL);
    EXPECT_EQ(n.call("genl_register_family", {family("kmodemu", {1, 1}, 0)}), -EINVAL);
    // Ids from GENL_START_ALLOC; groups from the first free ids (0, 1 and 16-18 are taken).
    uint64_t a = family("kmodemu", {1, 2}, 2);
    EXPECT_EQ(n.call("genl_register_family", {a}), 0);
    EXPECT_EQ(id(a), 19);
    EXPECT_EQ(offset(a), 2u);
    EXPECT_EQ(n.call("genl_register_family", {family("kmodemu", {1}, 0)}), -EEXIST);
    EXPECT_EQ(n.call("genl_register_family", {family("nlctrl", {1}, 0)}), -EEXIST);
    uint64_t b = family("kmodemu2", {1}, 1);
    EXPECT_EQ(n.call("genl_register_family", {b}), 0);
    EXPECT_EQ(id(b), 20);
    EXPECT_EQ(offset(b), 4u);
    // The fixed ids and groups of the families that used them as one another.
    uint64_t pmcraid = family("pmcraid", {1}, 1);
    EXPECT_EQ(n.call("genl_register_family", {pmcraid}), 0);
    EXPECT_EQ(id(pmcraid), 18);
    EXPECT_EQ(offset(pmcraid), 18u);
    uint64_t dm = family("NET_DM", {1}, 1);
    EXPECT_EQ(n.call("genl_register_family", {dm}), 0);
    EXPECT_EQ(id(dm), 21);  // cyclic: after the last id given
    EXPECT_EQ(offset(dm), 1u);
    // Unregistered: its id and groups are free again (the cyclic idr moves on).
    EXPECT_EQ(n.call("genl_unregister_family", {a}), 0);
    EXPECT_EQ(n.call("genl_unregister_family", {a}), -ENOENT);
    uint64_t c = family("kmodemu3", {1}, 2);
    EXPECT_EQ(n.call("genl_register_family", {c}), 0);
    EXPECT_EQ(id(c), 22);
    EXPECT_EQ(offset(c), 2u);
}

TEST(KitNet2, ProtocolsAndFamilies) {
    Net2Kernel n;
    const KernelStructs& s = n.k.structs();
    const KernelStructs::Proto& p = s.proto;
    uint64_t prot = n.zeroed(1024), rsk = n.zeroed(256), tw = n.zeroed(256);
    n.emu.write(prot + p.name, "KMODEMU", 8);
    n.emu.write_u32(prot + p.obj_size, 1000);
    n.emu.write_word(prot + p.rsk_prot, rsk);
    n.emu.write_u32(rsk + p.rsk_obj_size, 200);
    n.emu.write_word(prot + p.twsk_prot, tw);
    n.emu.write_u32(tw + p.tw_obj_size, 100);
    EXPECT_EQ(n.call("proto_register", {prot, 1}), 0);
    uint64_t slab = n.emu.read_word(prot + p.slab);
    ASSERT_TRUE(n.k.slab().cache_size.count(slab));
    EXPECT_EQ(n.k.slab().cache_size[slab], 1024u);       // SLAB_HWCACHE_ALIGN
    EXPECT_EQ(n.emu.read_u32(prot + p.inuse_idx), 17u);  // after the built-in protocols
    EXPECT_EQ(n.k.slab().cache_size.count(n.emu.read_word(rsk + p.rsk_slab)), 1u);
    EXPECT_EQ(n.cstr(n.emu.read_word(rsk + p.rsk_slab_name)), "request_sock_KMODEMU");
    EXPECT_EQ(n.cstr(n.emu.read_word(tw + p.tw_slab_name)), "tw_sock_KMODEMU");
    n.call("proto_unregister", {prot});
    EXPECT_EQ(n.emu.read_word(prot + p.slab), 0u);
    EXPECT_FALSE(n.k.slab().cache_size.count(slab));
    // Memory accounting without its limits.
    n.emu.write_word(prot + p.memory_allocated, n.zeroed(8));
    EXPECT_EQ(n.call("proto_register", {prot, 0}), -EINVAL);
    EXPECT_TRUE(has_log(n.k, "KMODEMU: missing sysctl_mem"));

    // sock_register(): a family taken (PF_INET is built in) is refused but announced.
    uint64_t fam = n.zeroed(64);
    n.emu.write_u32(fam + s.net_protos.family_family, 2);
    EXPECT_EQ(n.call("sock_register", {fam}), -EEXIST);
    EXPECT_TRUE(has_log(n.k, "NET: Registered PF_INET protocol family"));
    n.emu.write_u32(fam + s.net_protos.family_family, static_cast<uint32_t>(s.sock_diag.af_max));
    EXPECT_EQ(n.call("sock_register", {fam}), -ENOBUFS);
    n.emu.write_u32(fam + s.net_protos.family_family, 15);
    EXPECT_EQ(n.call("sock_register", {fam}), 0);
    EXPECT_EQ(n.call("sock_is_registered", {15}), 1);
    n.call("sock_unregister", {15});
    EXPECT_TRUE(has_log(n.k, "NET: Unregistered PF_KEY protocol family"));
    EXPECT_EQ(n.call("sock_is_registered", {15}), 0);
}

TEST(KitNet2, ConnectorAndIpHandlers) {
    Net2Kernel n;
    const KernelStructs::NetProtos& l = n.k.structs().net_protos;
    // The connector: {CN_IDX_PROC, CN_VAL_PROC} is cn_proc's; an id once.
    uint64_t id = n.zeroed(8), fn = n.k.find_export("kfree")->address;
    n.emu.write_u32(id, 1);
    n.emu.write_u32(id + 4, 1);
    EXPECT_EQ(n.call("cn_add_callback", {id, 0, fn}), -EINVAL);
    n.emu.write_u32(id, 3);
    EXPECT_EQ(n.call("cn_add_callback", {id, 0, fn}), 0);
    EXPECT_EQ(n.call("cn_add_callback", {id, 0, fn}), -EINVAL);
    n.call("cn_del_callback", {id});
    EXPECT_EQ(n.call("cn_add_callback", {id, 0, fn}), 0);
    // inet_protos and inet6_protos: TCP is built in; a handler only removes itself.
    uint64_t h = n.zeroed(64), h2 = n.zeroed(64);
    EXPECT_EQ(n.call("inet_add_protocol", {h, 6}), -1);
    EXPECT_EQ(n.call("inet_add_protocol", {h, 47}), 0);
    EXPECT_EQ(n.call("inet_add_protocol", {h2, 47}), -1);
    EXPECT_EQ(n.call("inet_del_protocol", {h2, 47}), -1);
    EXPECT_EQ(n.call("inet_del_protocol", {h, 47}), 0);
    EXPECT_EQ(n.call("inet6_add_protocol", {h, 58}), -1);
    EXPECT_EQ(n.call("inet6_add_protocol", {h, 132}), 0);
    EXPECT_EQ(n.call("inet6_del_protocol", {h, 132}), 0);
    // The socket type switches: a permanent protocol is not overridden.
    auto protosw = [&](uint16_t type, uint16_t protocol) {
        uint64_t p = n.zeroed(128);
        n.emu.write(p + l.protosw_type, &type, 2);
        n.emu.write(p + l.protosw_protocol, &protocol, 2);
        return p;
    };
    n.call("inet_register_protosw", {protosw(1, 6)});
    EXPECT_TRUE(has_log(n.k, "Attempt to override permanent protocol 6"));
    n.call("inet_register_protosw", {protosw(uint16_t(l.sock_max), 6)});
    EXPECT_TRUE(has_log(
        n.k, "Ignoring attempt to register invalid socket type " + std::to_string(l.sock_max)));
    uint64_t sctp = protosw(1, 132);
    n.call("inet_register_protosw", {sctp});
    n.call("inet_unregister_protosw", {sctp});
    EXPECT_EQ(n.call("inet6_register_protosw", {protosw(2, 17)}), -EPERM);
    EXPECT_EQ(n.call("inet6_register_protosw", {protosw(uint16_t(l.sock_max), 6)}), -EINVAL);
    EXPECT_EQ(n.call("inet6_register_protosw", {protosw(1, 132)}), 0);
}

}  // namespace
