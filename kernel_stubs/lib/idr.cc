// lib/idr.c: ID allocators. The IDs live here, keyed by the guest's struct ida / struct idr;
// the xarray head the inline helpers (ida_is_empty(), idr_is_empty()) read says whether any
// ID is allocated (a non-NULL head, the structure's own address, stands for the tree).
#include <cerrno>
#include <climits>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Idrs : Kernel::SubsystemState {
    std::map<uint64_t, std::map<uint32_t, uint64_t>> ids;  // ida/idr -> id -> pointer (idr)
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

void sync_head(Kernel& k, uint64_t obj, uint64_t head_field) {
    bool any = !k.state<Idrs>().ids[obj].empty();
    k.emu().write_word(obj + head_field, any ? obj : 0);
}

// The lowest free id in [min, max], or -ENOSPC.
int64_t alloc_id(Kernel& k, uint64_t obj, uint64_t min, uint64_t max, uint64_t ptr) {
    auto& used = k.state<Idrs>().ids[obj];
    uint64_t id = min;
    for (auto it = used.lower_bound(static_cast<uint32_t>(min)); it != used.end() && it->first == id;
         ++it)
        ++id;
    if (id > max) return -ENOSPC;
    used[static_cast<uint32_t>(id)] = ptr;
    return static_cast<int64_t>(id);
}

}  // namespace

void register_idr(Kernel& k) {
    const char* sub = "lib/idr";
    // ida_alloc_range(ida, min, max, gfp)
    k.add_function("ida_alloc_range", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t min = uint32_t(c.arg(1)), max = uint32_t(c.arg(2));
        if (int32_t(c.arg(1)) < 0) return ret(-EINVAL);
        if (int32_t(c.arg(2)) < 0) max = INT_MAX;
        int64_t id = alloc_id(k, c.arg(0), min, std::min<uint64_t>(max, INT_MAX), 0);
        sync_head(k, c.arg(0), k.structs().idr.ida_xa_head);
        return ret(id);
    });
    k.add_function("ida_free", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        auto& used = k.state<Idrs>().ids[c.arg(0)];
        int id = int32_t(c.arg(1));
        if (id < 0 || !used.erase(uint32_t(id))) {
            // WARN(1, "ida_free called for id=%d which is not allocated.\n", id)
            k.log(4, "ida_free called for id=" + std::to_string(id) + " which is not allocated.");
            k.diag("ida_free(): the WARN's report is not reproduced");
        }
        sync_head(k, c.arg(0), k.structs().idr.ida_xa_head);
        return 0;
    });
    k.add_function("ida_destroy", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Idrs>().ids.erase(c.arg(0));
        c.emu.write_word(c.arg(0) + c.kernel.structs().idr.ida_xa_head, 0);
        return 0;
    });
    // idr_alloc(idr, ptr, start, end, gfp): an id in [start, end) (end <= 0: up to INT_MAX),
    // from idr_base.
    k.add_function("idr_alloc", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Idr& l = k.structs().idr;
        int32_t start = int32_t(c.arg(2)), end = int32_t(c.arg(3));
        if (start < 0) return ret(-EINVAL);
        uint64_t base = c.emu.read_u32(c.arg(0) + l.idr_base);
        uint64_t max = end > 0 ? uint64_t(end) - 1 : INT_MAX;
        int64_t id = alloc_id(k, c.arg(0), std::max<uint64_t>(start, base), max, c.arg(1));
        sync_head(k, c.arg(0), l.idr_xa_head);
        return ret(id);
    });
    // idr_alloc_cyclic(): from idr_next, wrapping to start.
    k.add_function("idr_alloc_cyclic", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Idr& l = k.structs().idr;
        int32_t start = int32_t(c.arg(2)), end = int32_t(c.arg(3));
        if (start < 0) return ret(-EINVAL);
        uint64_t max = end > 0 ? uint64_t(end) - 1 : INT_MAX;
        uint64_t next = std::max<uint64_t>(c.emu.read_u32(c.arg(0) + l.idr_next), start);
        int64_t id = alloc_id(k, c.arg(0), next, max, c.arg(1));
        if (id == -ENOSPC && next > uint64_t(start)) id = alloc_id(k, c.arg(0), start, max, c.arg(1));
        if (id >= 0) {
            uint32_t n = uint32_t(id + 1);
            c.write(c.arg(0) + l.idr_next, &n, 4);
        }
        sync_head(k, c.arg(0), l.idr_xa_head);
        return ret(id);
    });
    k.add_function("idr_find", sub, [](StubCall& c) -> uint64_t {
        auto& used = c.kernel.state<Idrs>().ids[c.arg(0)];
        auto it = used.find(uint32_t(c.arg(1)));
        return it == used.end() ? 0 : it->second;
    });
    k.add_function("idr_remove", sub, [](StubCall& c) -> uint64_t {
        auto& used = c.kernel.state<Idrs>().ids[c.arg(0)];
        auto it = used.find(uint32_t(c.arg(1)));
        if (it == used.end()) return 0;
        uint64_t p = it->second;
        used.erase(it);
        sync_head(c.kernel, c.arg(0), c.kernel.structs().idr.idr_xa_head);
        return p;
    });
    // idr_get_next(idr, int *nextid): the first entry at or after *nextid.
    k.add_function("idr_get_next", sub, [](StubCall& c) -> uint64_t {
        auto& used = c.kernel.state<Idrs>().ids[c.arg(0)];
        uint32_t from = c.emu.read_u32(c.arg(1));
        for (auto it = used.lower_bound(from); it != used.end(); ++it) {
            if (!it->second) continue;
            uint32_t id = it->first;
            c.write(c.arg(1), &id, 4);
            return it->second;
        }
        return 0;
    });
    // idr_get_next_ul(idr, unsigned long *nextid): the same with an unsigned long.
    k.add_function("idr_get_next_ul", sub, [](StubCall& c) -> uint64_t {
        auto& used = c.kernel.state<Idrs>().ids[c.arg(0)];
        uint64_t from = c.emu.read_word(c.arg(1));
        if (from > UINT32_MAX) return 0;
        for (auto it = used.lower_bound(uint32_t(from)); it != used.end(); ++it) {
            if (!it->second) continue;
            c.emu.write_word(c.arg(1), it->first);
            return it->second;
        }
        return 0;
    });
    // idr_for_each(idr, fn, data): fn(id, ptr, data) for each entry in id order (NULL entries
    // are not visited, as radix_tree_for_each_slot() skips them); the first non-zero return
    // ends the walk and is returned. fn may remove the entry it is given.
    k.add_function("idr_for_each", sub, [](StubCall& c) -> uint64_t {
        uint64_t idr = c.arg(0), fn = c.arg(1), data = c.arg(2);
        int64_t next = 0;
        while (true) {
            auto& used = c.kernel.state<Idrs>().ids[idr];
            auto it = used.lower_bound(static_cast<uint32_t>(next));
            while (it != used.end() && !it->second) ++it;
            if (it == used.end()) return 0;
            next = int64_t(it->first) + 1;
            uint64_t r = c.kernel.call_guest(fn, {it->first, it->second, data});
            if (int32_t(r)) return ret(int32_t(r));
        }
    });
    k.add_function("idr_destroy", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Idrs>().ids.erase(c.arg(0));
        c.emu.write_word(c.arg(0) + c.kernel.structs().idr.idr_xa_head, 0);
        return 0;
    });
    k.add_function("idr_preload", sub, [](StubCall&) -> uint64_t { return 0; });
}

}  // namespace kmodemu
