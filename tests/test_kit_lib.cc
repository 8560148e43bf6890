// lib/rbtree.c, lib/idr.c's walk, security/keys' key types, net/core's drop reason subsystems
// and 6.12's rtnetlink handler arrays: Debian's modules that use them get the real kernel's
// verdict, and the red-black tree is the kernel's (its invariants hold after every insert and
// erase, on both word sizes).
#include <gtest/gtest.h>

#include <cerrno>
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernel_stubs/real_kernel.h"
#include "tests/fixture_util.h"
#include "tests/kit_kernel.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitLib, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // rb_first, rb_next, rb_insert_color, rb_erase (dm-bufio's client trees)
        "kernel/drivers/md/dm-bufio.ko.xz",
        "kernel/drivers/md/dm-crypt.ko.xz",
        // drop_reasons_register_subsys (mac80211 and its drivers)
        "kernel/net/mac80211/mac80211.ko.xz",
        "kernel/drivers/net/wireless/admtek/adm8211.ko.xz",
        // __rtnl_register_many / __rtnl_unregister_many
        "kernel/net/phonet/phonet.ko.xz",
        // idr_for_each
        "kernel/net/l2tp/l2tp_core.ko.xz",
        "kernel/net/l2tp/l2tp_eth.ko.xz",
        // register_key_type, key_revoke, unregister_key_type
        "kernel/drivers/nvme/common/nvme-keyring.ko.xz",
        // _ctype (team's mode names checked with isalpha())
        "kernel/drivers/net/team/team_mode_roundrobin.ko",
        // prepare_kernel_cred, override_creds, revert_creds, filp_open ("db_root: cannot open")
        "kernel/drivers/target/target_core_mod.ko",
        "kernel/net/dns_resolver/dns_resolver.ko",
        // nfs_ssc_register
        "kernel/fs/nfs/nfs.ko",
        // load_nls of a table not loaded: NULL, so -EINVAL from init
        "kernel/fs/nls/nls_euc-jp.ko",
        "kernel/fs/nls/nls_koi8-ru.ko",
        // load_nls("utf8") NULL, then load_nls_default(): the built-in table
        "kernel/fs/smb/client/cifs.ko",
        // dst_cache_init and gro_cells_init of the fallback tunnel devices
        "kernel/net/ipv4/ipip.ko",
        "kernel/net/ipv4/ip_gre.ko",
        "kernel/net/ipv4/ip_vti.ko",
        "kernel/net/ipv6/sit.ko",
        // register_quota_format / unregister_quota_format
        "kernel/fs/quota/quota_v1.ko",
        "kernel/fs/quota/quota_v2.ko",
        "kernel/fs/ocfs2/ocfs2.ko",
        // __list_lru_init / list_lru_destroy (memcg-aware and not)
        "kernel/fs/nfs/nfsv4.ko",
        "kernel/drivers/android/binder_linux.ko",
        // __ipv6_addr_type, in6addr_any (IPv6 tunnels' fallback devices)
        "kernel/net/ipv6/ip6_tunnel.ko",
        "kernel/net/ipv6/ip6_vti.ko",
        // tasklet_setup (ifb's queues)
        "kernel/drivers/net/ifb.ko",
        // fb_modesetting_disabled (6.12's fbdev drivers)
        "kernel/drivers/video/fbdev/s3fb.ko.xz",
        "kernel/drivers/video/fbdev/tdfxfb.ko.xz",
        // alloc_cpumask_var_node (6.12)
        "kernel/drivers/infiniband/ulp/isert/ib_isert.ko.xz",
    });
}

// __ipv6_addr_type(): the kernel's IPV6_ADDR_* type and scope bits for each kind of address.
TEST(KitLib, Ipv6AddrTypeClassifiesAsTheKernel) {
    fx::KitKernel kk;
    auto type = [&](std::initializer_list<uint8_t> head, std::initializer_list<uint8_t> tail) {
        uint8_t a[16] = {};
        std::copy(head.begin(), head.end(), a);
        std::copy(tail.begin(), tail.end(), a + 16 - tail.size());
        uint64_t p = kk.zeroed(16);
        kk.emu.write(p, a, 16);
        return kk.call("__ipv6_addr_type", {p}) & 0xffffffffu;
    };
    constexpr uint64_t unicast = 0x1, multicast = 0x2, loopback = 0x10, linklocal = 0x20,
                       mapped = 0x1000;
    constexpr uint64_t scope_link = 0x02 << 16, scope_global = 0x0e << 16;
    EXPECT_EQ(type({}, {}), 0u);                                              // ::
    EXPECT_EQ(type({}, {1}), loopback | unicast | scope_link);                // ::1
    EXPECT_EQ(type({0xfe, 0x80}, {1}), linklocal | unicast | scope_link);     // fe80::1
    EXPECT_EQ(type({0xff, 0x02}, {1}), multicast | linklocal | scope_link);  // ff02::1
    EXPECT_EQ(type({}, {0xff, 0xff, 1, 2, 3, 4}), mapped | scope_global);     // ::ffff:1.2.3.4
    EXPECT_EQ(type({0x20, 0x01, 0x0d, 0xb8}, {1}), unicast | scope_global);   // 2001:db8::1
    uint64_t lo = kk.k.find_export("in6addr_loopback")->address;
    EXPECT_EQ(kk.call("__ipv6_addr_type", {lo}) & 0xffffffffu, loopback | unicast | scope_link);
}

// load_nls() finds a registered table by charset or alias with a reference on its module;
// load_nls_default() falls back on the built-in "default" table, Latin-1 both ways.
TEST(KitLib, NlsTablesAreFoundByCharsetOrAlias) {
    fx::KitKernel kk;
    const auto& n = kk.s.nls;
    uint64_t t = kk.zeroed(n.size);
    kk.emu.write_word(t + n.charset, kk.str("cp437"));
    kk.emu.write_word(t + n.alias, kk.str("ibm437"));
    EXPECT_EQ(kk.call("load_nls", {kk.str("cp437")}), 0u);
    EXPECT_EQ(kk.call("__register_nls", {t, 0}), 0u);
    EXPECT_EQ(kk.call("load_nls", {kk.str("cp437")}), t);
    EXPECT_EQ(kk.call("load_nls", {kk.str("ibm437")}), t);
    EXPECT_EQ(int64_t(kk.call("__register_nls", {t, 0})), -EBUSY);
    EXPECT_EQ(kk.call("unregister_nls", {t}), 0u);
    EXPECT_EQ(int64_t(kk.call("unregister_nls", {t})), -EINVAL);

    uint64_t d = kk.call("load_nls_default", {});
    ASSERT_NE(d, 0u);
    EXPECT_EQ(kk.cstr(kk.emu.read_word(d + n.charset)), "default");
    uint64_t out = kk.zeroed(8);
    uint64_t uni2char = kk.emu.read_word(d + n.uni2char);
    EXPECT_EQ(kk.k.call_guest(uni2char, {0xe9, out, 1}), 1u);
    EXPECT_EQ(kk.emu.read_u32(out) & 0xff, 0xe9u);
    EXPECT_EQ(int64_t(kk.k.call_guest(uni2char, {0x20ac, out, 1})), -EINVAL);
    EXPECT_EQ(int64_t(kk.k.call_guest(uni2char, {0x41, out, 0})), -ENAMETOOLONG);
    uint64_t lower = kk.emu.read_word(d + n.charset2lower);
    uint8_t l = 0;
    kk.emu.read(lower + 'Q', &l, 1);
    EXPECT_EQ(l, 'q');
}

// A tree of guest rb_nodes keyed on the host side, linked as rb_link_node() links them.
struct GuestTree {
    fx::KitKernel& kk;
    const KernelStructs::RbNode& n = kk.s.rb_node;
    uint64_t root = kk.zeroed(kk.k.word() * 2);  // struct rb_root_cached
    std::map<uint64_t, int> key;                 // node -> key

    uint64_t w(uint64_t a) { return kk.emu.read_word(a); }
    uint64_t left(uint64_t x) { return w(x + n.left); }
    uint64_t right(uint64_t x) { return w(x + n.right); }
    uint64_t parent(uint64_t x) { return w(x + n.parent_color) & ~uint64_t(3); }
    bool black(uint64_t x) { return w(x + n.parent_color) & 1; }

    uint64_t insert(int k) {
        uint64_t node = kk.zeroed(kk.k.word() * 3);
        key[node] = k;
        uint64_t link = root, par = 0;
        while (uint64_t cur = w(link)) {
            par = cur;
            link = k < key[cur] ? cur + n.left : cur + n.right;
        }
        kk.emu.write_word(node + n.parent_color, par);  // rb_link_node(): red, parent
        kk.emu.write_word(link, node);
        kk.call("rb_insert_color", {node, root});
        return node;
    }
    // The red-black invariants below x; returns the black height.
    int check(uint64_t x, uint64_t par, int lo, int hi) {
        if (!x) return 1;
        EXPECT_EQ(parent(x), par);
        EXPECT_GE(key[x], lo);
        EXPECT_LE(key[x], hi);
        if (!black(x)) {
            EXPECT_TRUE(!left(x) || black(left(x))) << "red node with a red child";
            EXPECT_TRUE(!right(x) || black(right(x))) << "red node with a red child";
        }
        int l = check(left(x), x, lo, key[x]), r = check(right(x), x, key[x], hi);
        EXPECT_EQ(l, r) << "black heights differ";
        return l + (black(x) ? 1 : 0);
    }
    void check_all() {
        uint64_t top = w(root);
        if (top) {
            EXPECT_TRUE(black(top)) << "red root";
        }
        check(top, 0, INT32_MIN, INT32_MAX);
        // in order both ways, as rb_first/rb_next and rb_last/rb_prev walk it
        std::vector<int> fwd, back;
        for (uint64_t x = kk.call("rb_first", {root}); x; x = kk.call("rb_next", {x}))
            fwd.push_back(key[x]);
        for (uint64_t x = kk.call("rb_last", {root}); x; x = kk.call("rb_prev", {x}))
            back.insert(back.begin(), key[x]);
        std::vector<int> want;
        for (const auto& [node, k] : key) want.push_back(k);
        std::sort(want.begin(), want.end());
        EXPECT_EQ(fwd, want);
        EXPECT_EQ(back, want);
        // post-order: every node after both its children
        std::map<uint64_t, int> seen;
        int i = 0;
        for (uint64_t x = kk.call("rb_first_postorder", {root}); x;
             x = kk.call("rb_next_postorder", {x})) {
            if (left(x)) {
                EXPECT_TRUE(seen.count(left(x)));
            }
            if (right(x)) {
                EXPECT_TRUE(seen.count(right(x)));
            }
            seen[x] = i++;
        }
        EXPECT_EQ(seen.size(), key.size());
    }
};

void rbtree_holds(const char* kit) {
    fx::KitKernel kk(kit);
    GuestTree t{kk};
    std::mt19937 rng(7);
    std::vector<uint64_t> nodes;
    for (int i = 0; i < 300; i++) {
        nodes.push_back(t.insert(static_cast<int>(rng() % 1000)));
        if (i % 50 == 0) t.check_all();
    }
    t.check_all();
    std::shuffle(nodes.begin(), nodes.end(), rng);
    for (size_t i = 0; i < nodes.size(); i++) {
        kk.call("rb_erase", {nodes[i], t.root});
        t.key.erase(nodes[i]);
        if (i % 25 == 0 || t.key.size() < 5) t.check_all();
    }
    EXPECT_EQ(kk.emu.read_word(t.root), 0u);
    EXPECT_EQ(kk.call("rb_first", {t.root}), 0u);
}

TEST(KitLib, RbtreeKeepsTheKernelsInvariantsArm64) { rbtree_holds(KMODEMU_KIT_ARM64); }
TEST(KitLib, RbtreeKeepsTheKernelsInvariantsArm) { rbtree_holds(KMODEMU_KIT_ARMHF); }

TEST(KitLib, RbReplaceNodeTakesTheVictimsPlace) {
    fx::KitKernel kk;
    GuestTree t{kk};
    uint64_t a = t.insert(1), b = t.insert(2), c = t.insert(3);
    (void)a;
    (void)c;
    uint64_t repl = kk.zeroed(kk.k.word() * 3);
    kk.call("rb_replace_node", {b, repl, t.root});
    t.key[repl] = 2;
    t.key.erase(b);
    t.check_all();
}

TEST(KitLib, KeyTypeNamesAreUnique) {
    fx::KitKernel kk;
    uint64_t t1 = kk.zeroed(kk.s.key.size), t2 = kk.zeroed(kk.s.key.size);
    kk.emu.write_word(t1 + kk.s.key.type_name, kk.str("psk"));
    kk.emu.write_word(t2 + kk.s.key.type_name, kk.str("psk"));
    EXPECT_EQ(kk.call("register_key_type", {t1}), 0u);
    EXPECT_TRUE(kk.logged("Key type psk registered"));
    EXPECT_EQ(int64_t(kk.call("register_key_type", {t2})), -EEXIST);
    kk.call("unregister_key_type", {t1});
    EXPECT_TRUE(kk.logged("Key type psk unregistered"));
    EXPECT_EQ(kk.call("register_key_type", {t2}), 0u);
}

}  // namespace

namespace {

// A guest that polls jiffies until they change (raid6's calibration does): time passes with the
// instructions it executes, so the loop ends, and each run of it ends at the same count.
TEST(KitLib, JiffiesMoveWhileTheGuestPolls) {
    fx::KitKernel kk;
    const uint64_t code = kk.k.layout().modules;
    const uint32_t loop[] = {
        0xf9400001,  // ldr x1, [x0]
        0xf9400002,  // 1: ldr x2, [x0]
        0xeb02003f,  // cmp x1, x2
        0x54ffffc0,  // b.eq 1b
        0xaa0203e0,  // mov x0, x2
        0xd65f03c0,  // ret
    };
    kk.emu.map(code, 4096, prot_rx);
    kk.emu.write(code, loop, sizeof loop);
    const Export* jiffies = kk.k.find_export("jiffies");
    ASSERT_TRUE(jiffies);
    uint64_t j0 = kk.emu.read_word(jiffies->address);
    uint64_t before = kk.emu.instructions_executed();
    EXPECT_EQ(kk.k.call_guest(code, {jiffies->address}), j0 + 1);
    uint64_t spent = kk.emu.instructions_executed() - before;
    // a jiffy (4 ms at HZ 250) is 40,000 instructions of a 10 MIPS virtual CPU, counted in
    // steps of 4096
    EXPECT_GE(spent, 40000u - 4096u);
    EXPECT_LE(spent, 40000u + 4096u);
}

// _ctype is the kernel's own table: byte for byte the one in the kit's image (6.12 arm64 keeps
// every symbol in kallsyms).
TEST(KitLib, CtypeIsTheKernelsTable) {
    bool compared = false;
    for (const std::string& kit : fx::kits()) {
        fx::KitKernel kk(kit.c_str());
        const Kallsyms* ks = kk.k.real().kallsyms();
        if (!ks) continue;
        std::optional<KernelSymbol> sym = ks->find("_ctype");
        if (!sym) continue;
        std::optional<std::string_view> real = ks->code(sym->addr, 256);
        ASSERT_TRUE(real) << kit;
        const Export* e = kk.k.find_export("_ctype");
        ASSERT_TRUE(e);
        std::string ours(256, '\0');
        kk.emu.read(e->address, ours.data(), ours.size());
        EXPECT_EQ(ours, std::string(*real)) << kit;
        compared = true;
    }
    EXPECT_TRUE(compared) << "no kit's kallsyms has _ctype";
}

}  // namespace

namespace {

// match_token() as lib/parser.c matches: literal text, %s (with a width), %d/%u/%x/%o; the
// terminating entry (NULL pattern) matches anything. The substrings match_int/match_strdup read.
TEST(KitLib, MatchTokenMatchesAsTheKernel) {
    for (const char* kit : {KMODEMU_KIT_ARM64, KMODEMU_KIT_ARMHF}) {
        fx::KitKernel kk(kit);
        const KernelStructs::MatchToken& l = kk.s.match_token;
        const char* patterns[] = {"size=%u", "name=%3s", "mode=%o", "ro", "val=%d", nullptr};
        uint64_t table = kk.zeroed(l.size * 6);
        for (int i = 0; i < 6; i++) {
            uint32_t token = uint32_t(10 + i);
            kk.emu.write(table + i * l.size + l.token, &token, 4);
            kk.emu.write_word(table + i * l.size + l.pattern, patterns[i] ? kk.str(patterns[i]) : 0);
        }
        uint64_t args = kk.zeroed(2 * kk.k.word() * l.max_opt_args);
        auto token = [&](const char* s) { return int32_t(kk.call("match_token", {kk.str(s), table, args})); };
        EXPECT_EQ(token("size=42"), 10) << kit;
        uint64_t out = kk.zeroed(8);
        EXPECT_EQ(kk.call("match_int", {args, out}), 0u);
        EXPECT_EQ(kk.emu.read_u32(out), 42u);
        EXPECT_EQ(token("size=x"), 15);  // %u needs a digit: the terminator's token
        EXPECT_EQ(token("name=abc"), 11);
        EXPECT_EQ(kk.cstr(kk.call("match_strdup", {args})), "abc");
        EXPECT_EQ(token("name=abcdef"), 15);  // %3s takes three; the rest must match too
        EXPECT_EQ(token("mode=0755"), 12);
        EXPECT_EQ(kk.call("match_octal", {args, out}), 0u);
        EXPECT_EQ(kk.emu.read_u32(out), 0755u);
        EXPECT_EQ(token("ro"), 13);
        EXPECT_EQ(token("rw"), 15);
        EXPECT_EQ(token("val=-7"), 14);
        EXPECT_EQ(kk.call("match_int", {args, out}), 0u);
        EXPECT_EQ(int32_t(kk.emu.read_u32(out)), -7);
    }
}

}  // namespace
