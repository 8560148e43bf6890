// net/core/sock.c: the protocols' registry (proto_list) and their slab caches. A booted Debian
// kernel has its built-in protocols registered (UNIX, NETLINK, PACKET, TCP, UDP, UDP-Lite, RAW,
// PING, MPTCP, their IPv6 kinds, XDP): they hold in-use indices, as in the list below.
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned proto_inuse_nr = 64;  // PROTO_INUSE_NR
constexpr uint64_t slab_hwcache_align = 0x2000;
constexpr uint64_t slab_account = 0x04000000;

// The protocols built into Debian's kernels, in the order their init registers them (each
// takes the next in-use index).
constexpr const char* builtin_protos[] = {
    "UNIX",      "UNIX-STREAM", "NETLINK",  "PACKET",  "TCP",   "UDP",
    "RAW",       "PING",        "UDP-Lite", "MPTCP",   "TCPv6", "UDPv6",
    "UDPLITEv6", "RAWv6",       "PINGv6",   "MPTCPv6", "XDP",
};

struct Protos : Kernel::SubsystemState {
    std::set<unsigned> inuse{};           // proto_inuse_idx
    std::map<uint64_t, unsigned> protos;  // proto_list: struct proto * -> its index
    Protos() {
        for (unsigned i = 0; i < std::size(builtin_protos); ++i)
            inuse.insert(i);
    }
};

uint64_t ret(int v) {
    return static_cast<uint64_t>(int64_t(v));
}

// kasprintf(GFP_KERNEL, "<prefix>%s", name) in the kernel's heap.
uint64_t slab_name(StubCall& c, const std::string& text) {
    uint64_t p = c.kernel.slab_alloc(text.size() + 1, 0);
    if (p) c.emu.write(p, text.c_str(), text.size() + 1);
    return p;
}

// The cache of a request_sock_ops or timewait_sock_ops: "<prefix><name>", its object size.
bool sub_cache(StubCall& c, uint64_t ops, uint64_t name_f, uint64_t size_f, uint64_t slab_f,
               const std::string& prefix, const std::string& name, uint32_t slab_flags,
               const char* what) {
    uint64_t n = slab_name(c, prefix + name);
    if (!n) return false;
    c.emu.write_word(ops + name_f, n);
    uint64_t s =
        kmem_cache_create(c, n, c.emu.read_u32(ops + size_f), 0, slab_account | slab_flags);
    c.emu.write_word(ops + slab_f, s);
    if (!s) {
        c.kernel.log(2, name + ": Can't create " + what + " SLAB cache!");
        return false;
    }
    return true;
}

}  // namespace

void register_sock_proto(Kernel& k) {
    const char* sub = "net/core/sock";
    // proto_register(prot, alloc_slab): a protocol with memory accounting needs its sysctl_mem
    // and per_cpu_fw_alloc (-EINVAL); with alloc_slab its sock cache ("<name>"), its request
    // sock cache ("request_sock_<name>") and its timewait cache ("tw_sock_<name>") are made;
    // then the first free in-use index (-ENOSPC when only the last is left) and proto_list.
    k.add_function("proto_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Proto& p = c.kernel.structs().proto;
        Emulator& e = c.emu;
        uint64_t prot = c.arg(0);
        std::string name = c.read_cstr(prot + p.name, 32);
        if (e.read_word(prot + p.memory_allocated) && !e.read_word(prot + p.sysctl_mem)) {
            c.kernel.log(3, name + ": missing sysctl_mem");
            return ret(-EINVAL);
        }
        if (e.read_word(prot + p.memory_allocated) && !e.read_word(prot + p.per_cpu_fw_alloc)) {
            c.kernel.log(3, name + ": missing per_cpu_fw_alloc");
            return ret(-EINVAL);
        }
        uint32_t slab_flags = e.read_u32(prot + p.slab_flags);
        if (static_cast<uint32_t>(c.arg(1))) {
            uint64_t s = kmem_cache_create(c, prot + p.name, e.read_u32(prot + p.obj_size), 0,
                                           slab_hwcache_align | slab_account | slab_flags);
            e.write_word(prot + p.slab, s);
            if (!s) {
                c.kernel.log(2, name + ": Can't create sock SLAB cache!");
                return ret(-ENOBUFS);
            }
            uint64_t rsk = e.read_word(prot + p.rsk_prot), tw = e.read_word(prot + p.twsk_prot);
            if (rsk && !sub_cache(c, rsk, p.rsk_slab_name, p.rsk_obj_size, p.rsk_slab,
                                  "request_sock_", name, slab_flags, "request sock"))
                c.unimplemented("proto_register (its request sock cache not made)");
            if (tw && !sub_cache(c, tw, p.tw_slab_name, p.tw_obj_size, p.tw_slab, "tw_sock_", name,
                                 slab_flags, "timewait sock"))
                c.unimplemented("proto_register (its timewait sock cache not made)");
        }
        // assign_proto_idx()
        Protos& ps = c.kernel.state<Protos>();
        unsigned idx = 0;
        while (ps.inuse.count(idx))
            ++idx;
        if (idx > proto_inuse_nr - 1) idx = proto_inuse_nr;
        e.write_u32(prot + p.inuse_idx, idx);
        if (idx >= proto_inuse_nr - 1) {
            c.kernel.log(3, "PROTO_INUSE_NR exhausted");
            c.unimplemented("proto_register (PROTO_INUSE_NR exhausted: its caches freed)");
        }
        ps.inuse.insert(idx);
        ps.protos[prot] = idx;
        return 0;
    });
    // proto_unregister(prot): off proto_list, its index freed, its caches destroyed.
    k.add_function("proto_unregister", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::Proto& p = c.kernel.structs().proto;
        Emulator& e = c.emu;
        uint64_t prot = c.arg(0);
        Protos& ps = c.kernel.state<Protos>();
        auto it = ps.protos.find(prot);
        if (it == ps.protos.end())
            c.unimplemented("proto_unregister (of a protocol not registered)");
        ps.inuse.erase(it->second);
        ps.protos.erase(it);
        Kernel::Slab& sl = c.kernel.slab();
        auto destroy = [&](uint64_t field) {
            uint64_t s = e.read_word(field);
            if (s && sl.cache_size.erase(s)) sl.free(s);
            e.write_word(field, 0);
        };
        destroy(prot + p.slab);
        if (uint64_t rsk = e.read_word(prot + p.rsk_prot)) {
            destroy(rsk + p.rsk_slab);
            sl.free(e.read_word(rsk + p.rsk_slab_name));
            e.write_word(rsk + p.rsk_slab_name, 0);
        }
        if (uint64_t tw = e.read_word(prot + p.twsk_prot)) {
            destroy(tw + p.tw_slab);
            sl.free(e.read_word(tw + p.tw_slab_name));
            e.write_word(tw + p.tw_slab_name, 0);
        }
        return 0;
    });
}

}  // namespace kmodemu
