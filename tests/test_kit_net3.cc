// The IPsec transform types and protocol handlers (net/xfrm/xfrm_state.c, net/ipv4/
// xfrm4_protocol.c, net/ipv6/xfrm6_protocol.c), resizable hash tables (lib/rhashtable.c), the
// fragment queues' inet_frags and fqdir (net/ipv4/inet_fragment.c), the bridge's ioctl hook and
// ipv6_mod_enabled(): Debian's modules that use them get the real kernel's verdict, and the
// registries refuse what the kernel refuses.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kernel_stubs/lib/jhash.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitNet3, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // brioctl_set (the bridge's last step; the DSA switches depend on it)
        "kernel/net/bridge/bridge.ko",
        "kernel/net/dsa/tag_trailer.ko",
        "kernel/drivers/net/dsa/mv88e6060.ko",
        // xfrm_register_type (IPPROTO_IPIP) and xfrm4_tunnel_register
        "kernel/net/ipv4/xfrm4_tunnel.ko",
        // xfrm_register_type with xfrm4_protocol_register / xfrm6_protocol_register
        "kernel/net/ipv4/ah4.ko",
        "kernel/net/ipv4/esp4.ko",
        "kernel/net/ipv4/ipcomp.ko",
        "kernel/net/ipv6/ah6.ko",
        "kernel/net/ipv6/esp6.ko",
        // xfrm_register_type_offload with inet_add_offload / inet6_add_offload
        "kernel/net/ipv4/esp4_offload.ko",
        "kernel/net/ipv6/esp6_offload.ko",
        // xfrm_state_flush and xfrm_flush_gc (at the pernet exit of the unload)
        "kernel/net/ipv6/xfrm6_tunnel.ko",
        "kernel/net/ipv6/ipcomp6.ko",
        // xfrm_register_km / xfrm_unregister_km
        "kernel/net/key/af_key.ko",
        "kernel/net/xfrm/xfrm_user.ko",
        // inet_frags_init, fqdir_init (rhashtable_init), fqdir_exit, inet_frags_fini
        "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko",
        "kernel/net/ieee802154/6lowpan/ieee802154_6lowpan.ko",
        "kernel/net/netfilter/xt_TPROXY.ko",
    });
}

TEST(KitNet3, XfrmTypesAndProtocols) {
    fx::KitKernel n;
    const KernelStructs::XfrmType& l = n.s.xfrm_type;
    auto type = [&](uint8_t proto, uint64_t off) {
        uint64_t t = n.zeroed(256);
        n.emu.write(t + off, &proto, 1);
        return t;
    };
    uint64_t esp = type(50, l.proto);
    EXPECT_EQ(int32_t(n.call("xfrm_register_type", {esp, 2})), 0);
    EXPECT_EQ(int32_t(n.call("xfrm_register_type", {esp, 10})), 0);
    // No afinfo for a family other than AF_INET and AF_INET6.
    EXPECT_EQ(int32_t(n.call("xfrm_register_type", {esp, 3})), -EAFNOSUPPORT);
    n.call("xfrm_unregister_type", {esp, 2});
    EXPECT_EQ(int32_t(n.call("xfrm_register_type", {esp, 2})), 0);
    uint64_t off = type(50, l.offload_proto);
    EXPECT_EQ(int32_t(n.call("xfrm_register_type_offload", {off, 2})), 0);
    EXPECT_EQ(int32_t(n.call("xfrm_register_type_offload", {off, 7})), -EAFNOSUPPORT);
    // No security association exists to flush.
    EXPECT_EQ(int32_t(n.call("xfrm_state_flush", {n.k.find_export("init_net")->address, 0, 0, 1})),
              -ESRCH);

    // xfrm4_protocol_register(): ESP, AH and IPComp only; one handler per priority, highest
    // first; the first adds the IP handler of ESP, the last removes it.
    auto handler = [&](int32_t priority) {
        uint64_t h = n.zeroed(64);
        n.emu.write_u32(h + l.v4_priority, static_cast<uint32_t>(priority));
        return h;
    };
    uint64_t a = handler(0), b = handler(10), c = handler(0);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_register", {a, 6})), -EINVAL);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_register", {a, 50})), 0);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_register", {b, 50})), 0);
    EXPECT_EQ(n.emu.read_word(b + l.v4_next), a);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_register", {c, 50})), -EEXIST);
    uint64_t other = n.zeroed(64);  // ESP's IP slot is the xfrm4 handler's
    EXPECT_EQ(int32_t(n.call("inet_add_protocol", {other, 50})), -1);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_deregister", {c, 50})), -ENOENT);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_deregister", {b, 50})), 0);
    EXPECT_EQ(int32_t(n.call("xfrm4_protocol_deregister", {a, 50})), 0);
    EXPECT_EQ(int32_t(n.call("inet_add_protocol", {other, 50})), 0);
}

TEST(KitNet3, OffloadsAndLwtunnels) {
    fx::KitKernel n;
    uint64_t ops = n.zeroed(64), other = n.zeroed(64);
    // TCP's offload is the kernel's; ESP's slot is free once, and only its owner empties it.
    EXPECT_EQ(int32_t(n.call("inet_add_offload", {ops, 6})), -1);
    EXPECT_EQ(int32_t(n.call("inet_add_offload", {ops, 50})), 0);
    EXPECT_EQ(int32_t(n.call("inet_add_offload", {other, 50})), -1);
    EXPECT_EQ(int32_t(n.call("inet_del_offload", {other, 50})), -1);
    EXPECT_EQ(int32_t(n.call("inet_del_offload", {ops, 50})), 0);
    EXPECT_EQ(int32_t(n.call("inet6_add_offload", {ops, 43})), -1);  // the routing header's
    EXPECT_EQ(int32_t(n.call("inet6_add_offload", {ops, 50})), 0);
    // lwtun_encaps[]: IP (2) is the kernel's, XFRM (10) free, 11 out of range.
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_add_ops", {ops, 2})), -1);
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_add_ops", {ops, 11})), -ERANGE);
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_add_ops", {ops, 10})), 0);
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_del_ops", {other, 10})), -1);
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_del_ops", {ops, 10})), 0);
    EXPECT_EQ(int32_t(n.call("lwtunnel_encap_del_ops", {ops, 0})), -ERANGE);
}

TEST(KitNet3, Rhashtables) {
    fx::KitKernel n;
    const KernelStructs::Rhashtable& l = n.s.rhashtable;
    auto params = [&](uint16_t key_len, uint16_t nelem_hint, uint32_t max_size) {
        uint64_t p = n.zeroed(l.params_size);
        n.emu.write(p + l.params_key_len, &key_len, 2);
        n.emu.write(p + l.params_nelem_hint, &nelem_hint, 2);
        n.emu.write_u32(p + l.params_max_size, max_size);
        return p;
    };
    auto nbuckets = [&](uint64_t ht) {
        return n.emu.read_u32(n.emu.read_word(ht + l.tbl) + l.table_nbuckets);
    };
    uint64_t ht = n.zeroed(l.size);
    EXPECT_EQ(int32_t(n.call("rhashtable_init", {ht, params(0, 0, 0)})), -EINVAL);
    // A 6-byte key: jhash, 64 buckets by default.
    EXPECT_EQ(int32_t(n.call("rhashtable_init", {ht, params(6, 0, 0)})), 0);
    EXPECT_EQ(nbuckets(ht), 64u);
    EXPECT_EQ(n.emu.read_u32(ht + l.key_len), 6u);
    EXPECT_EQ(n.emu.read_u32(ht + l.max_elems), 1u << 31);
    uint64_t hashfn = n.emu.read_word(ht + l.p + l.params_hashfn);
    uint64_t key = n.str("abcdef");
    EXPECT_EQ(uint32_t(n.k.call_guest(hashfn, {key, 6, 7})),
              jhash(reinterpret_cast<const uint8_t*>("abcdef"), 6, 7));
    uint64_t tbl = n.emu.read_word(ht + l.tbl);
    n.call("rhashtable_destroy", {ht});
    EXPECT_FALSE(n.k.slab().free(tbl));  // freed already
    // An 8-byte key: rhashtable_jhash2 over 2 words; the hint sizes the table, max_size rounds
    // down to a power of two and bounds the elements.
    EXPECT_EQ(int32_t(n.call("rhashtable_init", {ht, params(8, 100, 1000)})), 0);
    EXPECT_EQ(nbuckets(ht), 256u);
    EXPECT_EQ(n.emu.read_u32(ht + l.key_len), 2u);
    EXPECT_EQ(n.emu.read_u32(ht + l.p + l.params_max_size), 512u);
    EXPECT_EQ(n.emu.read_u32(ht + l.max_elems), 1024u);
    const uint32_t words[2] = {1, 2};
    n.emu.write(key, words, 8);
    hashfn = n.emu.read_word(ht + l.p + l.params_hashfn);
    EXPECT_EQ(uint32_t(n.k.call_guest(hashfn, {key, 2, 3})), jhash2(words, 2, 3));
    n.call("rhashtable_destroy", {ht});
}

TEST(KitNet3, BridgeHookAndIpv6) {
    fx::KitKernel n;
    EXPECT_EQ(n.call("ipv6_mod_enabled", {}) & 1, 1u);
    n.call("brioctl_set", {n.k.find_export("kfree")->address});
    n.call("brioctl_set", {0});
}

}  // namespace
