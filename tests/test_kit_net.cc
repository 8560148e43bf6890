// The networking registries of the emulated kernel (net/core/dev.c's netdevice notifiers and
// the loopback device they are told about, net/core/rtnetlink.c's link kinds, net/sched's
// qdiscs, actions, classifiers and ematches, net/ipv4/tcp_cong.c, lib/textsearch.c): Debian's
// modules that register with them get the real kernel's verdict, and the registries refuse
// what the kernel refuses.
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

TEST(KitNet, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // register_netdevice_notifier (NETDEV_REGISTER and NETDEV_UP of lo replayed)
        "kernel/drivers/net/macvlan.ko",
        "kernel/net/core/failover.ko",
        "kernel/net/ipv4/udp_tunnel.ko",
        "kernel/net/netfilter/xt_TEE.ko",
        "kernel/drivers/net/ethernet/qlogic/qede/qede.ko",
        // rtnl_link_register, __rtnl_link_register, rtnl_is_locked
        "kernel/drivers/net/can/dev/can-dev.ko",
        "kernel/drivers/net/tun.ko",
        "kernel/drivers/net/veth.ko",
        "kernel/drivers/net/wwan/wwan.ko",
        "kernel/drivers/net/nlmon.ko",
        // register_qdisc
        "kernel/net/sched/sch_cake.ko",
        "kernel/net/sched/sch_ingress.ko",
        "kernel/net/sched/sch_fq.ko",
        "kernel/net/sched/sch_cbs.ko",
        // tcf_register_action
        "kernel/net/sched/act_gact.ko",
        "kernel/net/sched/act_mirred.ko",
        // register_tcf_proto_ops
        "kernel/net/sched/cls_u32.ko",
        "kernel/net/sched/cls_basic.ko",
        // tcf_em_register
        "kernel/net/sched/em_meta.ko",
        "kernel/net/sched/em_text.ko",
        // tcp_register_congestion_control
        "kernel/net/ipv4/tcp_bic.ko",
        "kernel/net/ipv4/tcp_nv.ko",
        // textsearch_register
        "kernel/lib/ts_bm.ko",
        "kernel/lib/ts_kmp.ko",
        // nf_register_sockopt
        "kernel/net/bridge/netfilter/ebtables.ko",
        "kernel/net/netfilter/ipset/ip_set.ko",
        "kernel/net/netfilter/ipset/ip_set_hash_ip.ko",
        // sock_diag_register
        "kernel/net/netlink/netlink_diag.ko",
        "kernel/net/unix/unix_diag.ko",
        // dev_add_pack
        "kernel/net/llc/llc.ko",
        "kernel/net/802/stp.ko",
        // make_kuid on init_net's user namespace (init_user_ns)
        "kernel/net/netfilter/x_tables.ko",
    });
}

// The arm64 kit's kernel, with its exports called as a module would call them.
struct NetKernel {
    NetKernel() : emu(Arch::arm64), k(emu, config()) {}
    static KernelConfig config() {
        KernelConfig c;
        c.profile = KernelProfile::from_kit(KMODEMU_KIT_ARM64);
        return c;
    }
    int64_t call(const char* name, std::initializer_list<uint64_t> args) {
        Export* e = k.find_export(name);
        EXPECT_TRUE(e) << name;
        unsigned i = 0;
        for (uint64_t a : args)
            emu.set_arg(i++, a);
        StubCall c(k, emu);
        return static_cast<int64_t>(e->fn(c));
    }
    uint64_t zeroed(uint64_t size) { return k.slab_alloc(size, gfp_zero); }
    void word(uint64_t at, uint64_t v) { emu.write_word(at, v); }
    Emulator emu;
    Kernel k;
};

TEST(KitNet, QdiscRegistry) {
    NetKernel n;
    const KernelStructs::QdiscOps& l = n.k.structs().qdisc_ops;
    uint64_t fn = n.k.find_export("kfree")->address;  // any non-NULL callback
    auto qdisc = [&](const char* id) {
        uint64_t ops = n.zeroed(256);
        n.emu.write(ops + l.id, id, std::strlen(id) + 1);
        return ops;
    };
    uint64_t a = qdisc("kmodemu_q"), b = qdisc("kmodemu_q");
    EXPECT_EQ(n.call("register_qdisc", {a}), 0);
    // The noop callbacks of noop_qdisc_ops were given.
    EXPECT_EQ(n.emu.read_word(a + l.enqueue), n.k.find_export("noop_enqueue")->address);
    EXPECT_EQ(n.emu.read_word(a + l.peek), n.k.find_export("noop_dequeue")->address);
    EXPECT_EQ(n.call("register_qdisc", {b}), -EEXIST);
    EXPECT_EQ(n.call("register_qdisc", {qdisc("pfifo")}), -EEXIST);  // built in
    uint64_t c = qdisc("kmodemu_q2");
    n.word(c + l.dequeue, fn);  // a dequeue without a peek
    EXPECT_EQ(n.call("register_qdisc", {c}), -EINVAL);
    EXPECT_EQ(n.call("unregister_qdisc", {a}), 0);
    EXPECT_EQ(n.call("register_qdisc", {b}), 0);
}

TEST(KitNet, CongestionControlRegistry) {
    NetKernel n;
    const KernelStructs::TcpCongestionOps& l = n.k.structs().tcp_congestion_ops;
    uint64_t fn = n.k.find_export("kfree")->address;
    auto ca = [&](const char* name, bool complete) {
        uint64_t ops = n.zeroed(512);
        n.emu.write(ops + l.name, name, std::strlen(name) + 1);
        if (complete) {
            n.word(ops + l.ssthresh, fn);
            n.word(ops + l.undo_cwnd, fn);
            n.word(ops + l.cong_avoid, fn);
        }
        return ops;
    };
    EXPECT_EQ(n.call("tcp_register_congestion_control", {ca("kmodemu", false)}), -EINVAL);
    EXPECT_TRUE(has_log(n.k, "TCP: kmodemu does not implement required ops"));
    uint64_t a = ca("kmodemu", true);
    EXPECT_EQ(n.call("tcp_register_congestion_control", {a}), 0);
    EXPECT_NE(n.emu.read_u32(a + l.key), 0u);
    EXPECT_EQ(n.call("tcp_register_congestion_control", {ca("kmodemu", true)}), -EEXIST);
    EXPECT_EQ(n.call("tcp_register_congestion_control", {ca("cubic", true)}), -EEXIST);
    EXPECT_TRUE(has_log(n.k, "TCP: cubic already registered or non-unique key"));
    n.call("tcp_unregister_congestion_control", {a});
    EXPECT_EQ(n.call("tcp_register_congestion_control", {ca("kmodemu", true)}), 0);
}

TEST(KitNet, LinkKindRegistry) {
    NetKernel n;
    const KernelStructs::RtnlLinkOps& l = n.k.structs().rtnl_link_ops;
    uint64_t kind = n.zeroed(16);
    n.emu.write(kind, "kmodemu", 8);
    auto link = [&](bool setup) {
        uint64_t ops = n.zeroed(512);
        n.word(ops + l.kind, kind);
        if (setup) n.word(ops + l.setup, n.k.find_export("kfree")->address);
        return ops;
    };
    uint64_t a = link(true);
    EXPECT_EQ(n.call("rtnl_link_register", {a}), 0);
    // Ops that make devices get unregister_netdevice_queue as their dellink.
    EXPECT_EQ(n.emu.read_word(a + l.dellink),
              n.k.find_export("unregister_netdevice_queue")->address);
    EXPECT_EQ(n.call("rtnl_link_register", {link(false)}), -EEXIST);
    n.call("rtnl_link_unregister", {a});
    uint64_t b = link(false);
    EXPECT_EQ(n.call("rtnl_link_register", {b}), 0);
    EXPECT_EQ(n.emu.read_word(b + l.dellink), 0u);
}

TEST(KitNet, TcRegistriesRefuseDuplicates) {
    NetKernel n;
    const KernelStructs& s = n.k.structs();
    uint64_t fn = n.k.find_export("kfree")->address;
    // register_tcf_proto_ops: by kind.
    auto cls = [&] {
        uint64_t ops = n.zeroed(512);
        n.emu.write(ops + s.tcf_ops.proto_kind, "kmodemu", 8);
        return ops;
    };
    uint64_t c = cls();
    EXPECT_EQ(n.call("register_tcf_proto_ops", {c}), 0);
    EXPECT_EQ(n.call("register_tcf_proto_ops", {cls()}), -EEXIST);
    // tcf_em_register: a match is needed; by kind.
    auto em = [&](bool match) {
        uint64_t ops = n.zeroed(256);
        uint32_t kind = 1000;
        n.emu.write(ops + s.tcf_ops.ematch_kind, &kind, 4);
        if (match) n.word(ops + s.tcf_ops.ematch_match, fn);
        return ops;
    };
    EXPECT_EQ(n.call("tcf_em_register", {em(false)}), -EINVAL);
    EXPECT_EQ(n.call("tcf_em_register", {em(true)}), 0);
    EXPECT_EQ(n.call("tcf_em_register", {em(true)}), -EEXIST);
    // textsearch_register: complete ops; by name.
    uint64_t name = n.zeroed(16);
    n.emu.write(name, "kmodemu", 8);
    auto ts = [&] {
        uint64_t ops = n.zeroed(256);
        n.word(ops + s.ts_ops.name, name);
        for (uint64_t f :
             {s.ts_ops.init, s.ts_ops.find, s.ts_ops.get_pattern, s.ts_ops.get_pattern_len})
            n.word(ops + f, fn);
        return ops;
    };
    uint64_t t = ts();
    EXPECT_EQ(n.call("textsearch_register", {t}), 0);
    EXPECT_EQ(n.call("textsearch_register", {ts()}), -EEXIST);
    EXPECT_EQ(n.call("textsearch_unregister", {t}), 0);
    EXPECT_EQ(n.call("textsearch_unregister", {t}), -ENOENT);
}

TEST(KitNet, SockoptRangesAndDiagFamiliesAreExclusive) {
    NetKernel n;
    const KernelStructs& s = n.k.structs();
    auto sockopt = [&](uint8_t pf, int32_t set_min, int32_t set_max) {
        uint64_t ops = n.zeroed(256);
        n.emu.write(ops + s.nf_sockopt_ops.pf, &pf, 1);
        n.emu.write(ops + s.nf_sockopt_ops.set_optmin, &set_min, 4);
        n.emu.write(ops + s.nf_sockopt_ops.set_optmax, &set_max, 4);
        return ops;
    };
    uint64_t a = sockopt(2, 64, 70);
    EXPECT_EQ(n.call("nf_register_sockopt", {a}), 0);
    EXPECT_EQ(n.call("nf_register_sockopt", {sockopt(2, 69, 72)}), -EBUSY);
    EXPECT_EQ(n.call("nf_register_sockopt", {sockopt(2, 70, 72)}), 0);   // [min, max)
    EXPECT_EQ(n.call("nf_register_sockopt", {sockopt(10, 64, 70)}), 0);  // another family
    n.call("nf_unregister_sockopt", {a});
    EXPECT_EQ(n.call("nf_register_sockopt", {sockopt(2, 69, 70)}), 0);
    auto diag = [&](uint8_t family) {
        uint64_t h = n.zeroed(64);
        n.emu.write(h + s.sock_diag.family, &family, 1);
        return h;
    };
    uint64_t d = diag(16);
    EXPECT_EQ(n.call("sock_diag_register", {d}), 0);
    EXPECT_EQ(n.call("sock_diag_register", {diag(16)}), -EBUSY);
    EXPECT_EQ(n.call("sock_diag_register", {diag(uint8_t(s.sock_diag.af_max))}), -EINVAL);
    n.call("sock_diag_unregister", {d});
    EXPECT_EQ(n.call("sock_diag_register", {diag(16)}), 0);
}

// The initial user namespace maps ids to themselves; init_net belongs to it.
TEST(KitNet, InitialUserNamespaceIsTheIdentity) {
    NetKernel n;
    uint64_t ns = n.k.find_export("init_user_ns")->address;
    EXPECT_EQ(
        n.emu.read_word(n.k.find_export("init_net")->address + n.k.structs().user_ns.net_user_ns),
        ns);
    EXPECT_EQ(n.call("make_kuid", {ns, 1000}), 1000);
    EXPECT_EQ(n.call("from_kgid", {ns, 0}), 0);
    EXPECT_EQ(n.call("from_kuid_munged", {ns, 0xffffffff}), 65534);
}

// init_net has lo on its device list, as a booted machine does.
TEST(KitNet, InitNetListsTheLoopbackDevice) {
    NetKernel n;
    const KernelStructs& s = n.k.structs();
    uint64_t init_net = n.k.find_export("init_net")->address;
    uint64_t head = init_net + s.net_device.net_dev_base_head;
    uint64_t node = n.emu.read_word(head + s.list_head.next);
    ASSERT_NE(node, head);
    EXPECT_EQ(n.emu.read_word(node + s.list_head.next), head);
    uint64_t lo = node - s.net_device.dev_list;
    char name[3] = {};
    n.emu.read(lo + s.net_device.name, name, 3);
    EXPECT_STREQ(name, "lo");
    EXPECT_EQ(n.emu.read_u32(lo + s.net_device.ifindex), 1u);
    EXPECT_EQ(n.emu.read_word(lo + s.net_device.nd_net), init_net);
}

}  // namespace
