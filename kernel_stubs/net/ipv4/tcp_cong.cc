// net/ipv4/tcp_cong.c: the TCP congestion controls' registry (tcp_cong_list), keyed by the
// jhash of their name. The kernel has reno, and Debian builds cubic in
// (CONFIG_TCP_CONG_CUBIC=y).
#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/lib/jhash.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr size_t tcp_ca_name_max = 16;  // TCP_CA_NAME_MAX (the name[] of the ops)
constexpr uint32_t tcp_ca_unspec = 0;   // TCP_CA_UNSPEC

// ca->key = jhash(ca->name, sizeof(ca->name), strlen(ca->name)), of the name[] as it is.
uint32_t ca_key(const uint8_t (&name)[tcp_ca_name_max]) {
    return jhash(name, tcp_ca_name_max,
                 uint32_t(strnlen(reinterpret_cast<const char*>(name), tcp_ca_name_max)));
}

struct CongestionControls : Kernel::SubsystemState {
    std::map<uint32_t, uint64_t> by_key;  // key -> struct tcp_congestion_ops * (0: built in)
    CongestionControls() {
        for (const char* n : {"reno", "cubic"}) {
            uint8_t name[tcp_ca_name_max] = {};
            std::memcpy(name, n, std::strlen(n));
            by_key[ca_key(name)] = 0;
        }
    }
};

}  // namespace

void register_tcp_cong(Kernel& k) {
    const char* sub = "net/ipv4/tcp_cong";
    // tcp_register_congestion_control(ca): tcp_validate_congestion_control(), then the key must
    // be new.
    k.add_function("tcp_register_congestion_control", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TcpCongestionOps& l = c.kernel.structs().tcp_congestion_ops;
        Emulator& e = c.emu;
        uint64_t ca = c.arg(0);
        uint8_t name[tcp_ca_name_max];
        std::vector<uint8_t> raw = c.read(ca + l.name, tcp_ca_name_max);
        std::memcpy(name, raw.data(), tcp_ca_name_max);
        std::string text(reinterpret_cast<const char*>(name),
                         strnlen(reinterpret_cast<const char*>(name), tcp_ca_name_max));
        if (!e.read_word(ca + l.ssthresh) || !e.read_word(ca + l.undo_cwnd) ||
            !(e.read_word(ca + l.cong_avoid) || e.read_word(ca + l.cong_control))) {
            c.kernel.log(3, "TCP: " + text + " does not implement required ops");
            return static_cast<uint64_t>(-int64_t(EINVAL));
        }
        uint32_t key = ca_key(name);
        c.write(ca + l.key, &key, 4);
        CongestionControls& cc = c.kernel.state<CongestionControls>();
        if (key == tcp_ca_unspec || cc.by_key.count(key)) {
            c.kernel.log(5, "TCP: " + text + " already registered or non-unique key");
            return static_cast<uint64_t>(-int64_t(EEXIST));
        }
        cc.by_key[key] = ca;  // pr_debug("%s registered\n"): not printed
        return 0;
    });
    // tcp_unregister_congestion_control(ca): list_del_rcu() of the ops.
    k.add_function("tcp_unregister_congestion_control", sub, [](StubCall& c) -> uint64_t {
        CongestionControls& cc = c.kernel.state<CongestionControls>();
        for (auto it = cc.by_key.begin(); it != cc.by_key.end(); ++it)
            if (it->second && it->second == c.arg(0)) {
                cc.by_key.erase(it);
                break;
            }
        return 0;
    });
}

}  // namespace kmodemu
