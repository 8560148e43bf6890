// The IPsec protocol handler chains of net/ipv4/xfrm4_protocol.c (ESP, AH and IPComp over IPv4)
// and net/ipv6/xfrm6_protocol.c (over IPv6): one rule for both. Each protocol's chain is sorted
// by priority, highest first (handler->next written as the kernel links it); the first handler
// of a protocol adds the kernel's own struct net_protocol (esp4_protocol, ...) of it to the IP
// protocol table, the last one removes it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace xfrm_protocol {

constexpr uint8_t ipproto_esp = 50, ipproto_ah = 51, ipproto_comp = 108;

struct Chains {
    std::map<uint8_t, std::vector<uint64_t>> handlers;  // protocol -> handlers, chain order
    std::map<uint8_t, uint64_t> netproto;               // protocol -> the kernel's net_protocol
};

inline uint64_t ret(int v) {
    return static_cast<uint64_t>(int64_t(v));
}

// xfrm4_protocol_register(handler, protocol) / xfrm6_protocol_register(): -EINVAL for a protocol
// other than ESP, AH and IPComp, -EEXIST for a priority already in the chain, -EAGAIN (with the
// kernel's message) when the protocol's IP handler cannot be added.
inline int add(StubCall& c, Chains& ch, uint64_t next_off, uint64_t prio_off, const char* add_fn,
               const std::string& fn_name) {
    uint64_t handler = c.arg(0);
    uint8_t protocol = static_cast<uint8_t>(c.arg(1));
    if (protocol != ipproto_esp && protocol != ipproto_ah && protocol != ipproto_comp)
        return -EINVAL;
    Kernel& k = c.kernel;
    uint64_t& np = ch.netproto[protocol];
    if (!np) np = k.alloc_data(8 * k.word(), 16);  // the kernel's own struct net_protocol
    std::vector<uint64_t>& chain = ch.handlers[protocol];
    bool add_netproto = chain.empty();
    int32_t priority = static_cast<int32_t>(k.emu().read_u32(handler + prio_off));
    size_t at = 0;
    int ret = 0;
    for (; at < chain.size(); ++at) {
        int32_t p = static_cast<int32_t>(k.emu().read_u32(chain[at] + prio_off));
        if (p < priority) break;
        if (p == priority) {
            ret = -EEXIST;
            break;
        }
    }
    if (!ret) {
        k.emu().write_word(handler + next_off, at < chain.size() ? chain[at] : 0);
        if (at) k.emu().write_word(chain[at - 1] + next_off, handler);
        chain.insert(chain.begin() + static_cast<long>(at), handler);
    }
    if (add_netproto) {
        const Export* e = k.find_export(add_fn);
        if (!e) throw std::logic_error(std::string("xfrm protocols: no ") + add_fn);
        if (k.call_guest(e->address, {np, protocol})) {
            k.log(3, fn_name + ": can't add protocol");
            ret = -EAGAIN;
        }
    }
    return ret;
}

// xfrm4_protocol_deregister(handler, protocol) / xfrm6_protocol_deregister(): -ENOENT for a
// handler not in the chain; the IP handler removed once the chain is empty (-EAGAIN, with the
// kernel's message, when that fails).
inline int del(StubCall& c, Chains& ch, uint64_t next_off, const char* del_fn,
               const std::string& fn_name) {
    uint64_t handler = c.arg(0);
    uint8_t protocol = static_cast<uint8_t>(c.arg(1));
    if (protocol != ipproto_esp && protocol != ipproto_ah && protocol != ipproto_comp)
        return -EINVAL;
    Kernel& k = c.kernel;
    std::vector<uint64_t>& chain = ch.handlers[protocol];
    int ret = -ENOENT;
    for (size_t i = 0; i < chain.size(); ++i)
        if (chain[i] == handler) {
            if (i)
                k.emu().write_word(chain[i - 1] + next_off, k.emu().read_word(handler + next_off));
            chain.erase(chain.begin() + static_cast<long>(i));
            ret = 0;
            break;
        }
    if (chain.empty()) {
        const Export* e = k.find_export(del_fn);
        if (!e) throw std::logic_error(std::string("xfrm protocols: no ") + del_fn);
        if (static_cast<int32_t>(k.call_guest(e->address, {ch.netproto[protocol], protocol})) < 0) {
            k.log(3, fn_name + ": can't remove protocol");
            ret = -EAGAIN;
        }
    }
    if (const Export* s = k.find_export("synchronize_net")) k.call_guest(s->address, {});
    return ret;
}

}  // namespace xfrm_protocol

}  // namespace kmodemu
