// net/core/dst_cache.c: a tunnel's per-CPU cache of routes (struct dst_cache { cache, reset_ts }).
// The cache is filled only on transmit (dst_cache_set_ip4/ip6()), which nothing does in the
// emulated kernel: no packet is sent, so every per-CPU entry stays empty.
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// struct dst_cache_pcpu is private to net/core/dst_cache.c ({ refresh_ts, dst, cookie, saddr
// (in6_addr) }, a local_lock since 6.15): no module reads it, so its size is an upper bound.
constexpr uint64_t dst_cache_pcpu_size = 64;

}  // namespace

void register_dst_cache(Kernel& k) {
    const char* sub = "net/core/dst_cache";
    // dst_cache_init(dst_cache, gfp): the per-CPU entries (zeroed), then dst_cache_reset():
    // reset_ts = jiffies. -ENOMEM when the allocation fails.
    k.add_function("dst_cache_init", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const auto& d = k.structs().dst_cache;
        uint64_t cache = k.slab_alloc(dst_cache_pcpu_size, (c.arg(1) & 0xffffffffu) | gfp_zero);
        c.emu.write_word(c.arg(0) + d.cache, cache);
        if (!cache) return static_cast<uint64_t>(int64_t(-ENOMEM));
        c.emu.write_word(c.arg(0) + d.reset_ts, k.state<VirtualClock>().jiffies());
        return 0;
    }, true);
    // dst_cache_destroy(dst_cache): each entry's route released (none is ever cached here),
    // then the per-CPU memory; nothing when init failed (cache NULL).
    k.add_function("dst_cache_destroy", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t cache = c.emu.read_word(c.arg(0) + k.structs().dst_cache.cache);
        if (cache && !k.slab().free(cache))
            k.diag("dst_cache_destroy of a cache that is not allocated: " + hex(cache));
        return 0;
    }, true);
    // dst_cache_reset_now(dst_cache): reset_ts = jiffies and every entry emptied (empty already).
    k.add_function("dst_cache_reset_now", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        c.emu.write_word(c.arg(0) + k.structs().dst_cache.reset_ts,
                         k.state<VirtualClock>().jiffies());
        return 0;
    }, true);
}

}  // namespace kmodemu
