// The protocol handler tables of net/ipv4/protocol.c (inet_protos[]) and net/ipv6/protocol.c
// (inet6_protos[]): one rule for both, a cmpxchg on the protocol's slot.
#pragma once

#include <cstdint>
#include <map>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// Table: a Kernel::SubsystemState with `std::map<uint8_t, uint64_t> protos` (protocol -> handler,
// 0 for the kernel's own). add(prot, protocol): 0, or -1 for a protocol taken; del(prot,
// protocol): 0, or -1 when prot is not the protocol's handler.
template <class Table>
void register_protocol_table(Kernel& k, const char* sub, const char* add, const char* del) {
    k.add_function(add, sub, [](StubCall& c) -> uint64_t {
        Table& p = c.kernel.state<Table>();
        uint8_t protocol = static_cast<uint8_t>(c.arg(1));
        if (p.protos.count(protocol)) return static_cast<uint64_t>(int64_t(-1));
        p.protos[protocol] = c.arg(0);
        return 0;
    });
    k.add_function(del, sub, [](StubCall& c) -> uint64_t {
        Table& p = c.kernel.state<Table>();
        auto it = p.protos.find(static_cast<uint8_t>(c.arg(1)));
        if (it == p.protos.end() || !it->second || it->second != c.arg(0))
            return static_cast<uint64_t>(int64_t(-1));
        p.protos.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
