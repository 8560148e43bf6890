// lib/xarray.c: the out-of-line xarray API. The entries live here, keyed by the guest's struct
// xarray; its xa_head, which xa_empty() reads inline, is non-NULL (the structure's own address,
// standing for the tree) while any index is occupied. An entry stored or inserted as NULL in an
// allocating array, or reserved, occupies its index and reads as NULL (XA_ZERO_ENTRY). Marks
// are kept per entry.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned xa_present = 8;  // XA_PRESENT: the find filter for any entry

struct Xarrays : Kernel::SubsystemState {
    struct Entry {
        uint64_t value = 0;  // 0 with `zero`: XA_ZERO_ENTRY
        bool zero = false;
        unsigned marks = 0;
    };
    std::map<uint64_t, std::map<uint64_t, Entry>> arrays;
};

std::map<uint64_t, Xarrays::Entry>& entries(Kernel& k, uint64_t xa) {
    return k.state<Xarrays>().arrays[xa];
}

uint32_t xa_flags(Kernel& k, uint64_t xa) {
    uint32_t f = 0;
    k.emu().read(xa + k.structs().xarray.flags, &f, 4);
    return f;
}

bool allocating(Kernel& k, uint64_t xa) {
    return xa_flags(k, xa) & k.structs().xarray.track_free;
}

void sync_head(Kernel& k, uint64_t xa) {
    k.emu().write_word(xa + k.structs().xarray.head, entries(k, xa).empty() ? 0 : xa);
}

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// __xa_store(): the old entry (NULL for a zero entry). Storing NULL erases, but reserves the
// index in an allocating array.
uint64_t store(Kernel& k, uint64_t xa, uint64_t index, uint64_t entry) {
    auto& e = entries(k, xa);
    auto it = e.find(index);
    uint64_t old = it == e.end() ? 0 : it->second.value;
    if (entry || allocating(k, xa)) {
        Xarrays::Entry& slot = e[index];
        slot.value = entry;
        slot.zero = !entry;
    } else if (it != e.end()) {
        e.erase(it);
    }
    sync_head(k, xa);
    return old;
}

uint64_t erase(Kernel& k, uint64_t xa, uint64_t index) {
    auto& e = entries(k, xa);
    auto it = e.find(index);
    if (it == e.end()) return 0;
    uint64_t old = it->second.value;
    e.erase(it);
    sync_head(k, xa);
    return old;
}

// The lowest free index in [min, max] (an XA_FLAGS_ALLOC1 array never hands out 0).
bool free_index(Kernel& k, uint64_t xa, uint64_t min, uint64_t max, uint64_t& id) {
    if ((xa_flags(k, xa) & k.structs().xarray.zero_busy) && min == 0) min = 1;
    auto& e = entries(k, xa);
    id = min;
    for (auto it = e.lower_bound(min); it != e.end() && it->first == id; ++it)
        ++id;
    return id <= max && id >= min;
}

// struct xa_limit {u32 max; u32 min;} by value: one register on arm64, two words on ARM.
void limit_of(StubCall& c, unsigned at, uint64_t& min, uint64_t& max) {
    if (c.kernel.word() == 8) {
        max = c.arg(at) & 0xffffffffu;
        min = c.arg(at) >> 32;
    } else {
        max = c.arg(at) & 0xffffffffu;
        min = c.arg(at + 1) & 0xffffffffu;
    }
}

bool matches(const Xarrays::Entry& e, unsigned filter) {
    return filter == xa_present ? true : ((e.marks >> filter) & 1);
}

// xa_find(): the first entry at or after *indexp (after it, for xa_find_after()) up to max
// that the filter admits; *indexp becomes its index.
uint64_t find(StubCall& c, bool after) {
    Kernel& k = c.kernel;
    uint64_t xa = c.arg(0), indexp = c.arg(1), max = c.arg(2);
    unsigned filter = static_cast<unsigned>(c.arg(3));
    uint64_t start = k.emu().read_word(indexp);
    const uint64_t mask = k.word() == 8 ? ~0ull : 0xffffffffull;
    if (after) {
        if (start == mask) return 0;
        ++start;
    }
    auto& e = entries(k, xa);
    for (auto it = e.lower_bound(start); it != e.end() && it->first <= max; ++it) {
        if (it->second.zero || !matches(it->second, filter)) continue;
        k.emu().write_word(indexp, it->first);
        return it->second.value;
    }
    return 0;
}

void mark(Kernel& k, uint64_t xa, uint64_t index, unsigned m, bool set) {
    auto& e = entries(k, xa);
    auto it = e.find(index);
    if (it == e.end() || m >= xa_present) return;
    if (set)
        it->second.marks |= 1u << m;
    else
        it->second.marks &= ~(1u << m);
}

}  // namespace

void register_xarray(Kernel& k) {
    const char* sub = "lib/xarray";
    k.add_function("xa_load", sub, [](StubCall& c) -> uint64_t {
        auto& e = entries(c.kernel, c.arg(0));
        auto it = e.find(c.arg(1));
        return it == e.end() ? 0 : it->second.value;
    });
    // xa_store(xa, index, entry, gfp), __xa_store(): the old entry.
    k.add_functions({"xa_store", "__xa_store"}, sub, [](StubCall& c) -> uint64_t {
        return store(c.kernel, c.arg(0), c.arg(1), c.arg(2));
    });
    k.add_functions({"xa_erase", "__xa_erase"}, sub,
                    [](StubCall& c) -> uint64_t { return erase(c.kernel, c.arg(0), c.arg(1)); });
    // __xa_insert(xa, index, entry, gfp): -EBUSY when the index is occupied.
    k.add_function("__xa_insert", sub, [](StubCall& c) -> uint64_t {
        auto& e = entries(c.kernel, c.arg(0));
        if (e.count(c.arg(1))) return ret(-EBUSY);
        Xarrays::Entry& slot = e[c.arg(1)];
        slot.value = c.arg(2);
        slot.zero = !c.arg(2);
        sync_head(c.kernel, c.arg(0));
        return 0;
    });
    // __xa_alloc(xa, id, entry, limit, gfp): the lowest free index in the limit, or -EBUSY.
    k.add_function("__xa_alloc", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t xa = c.arg(0), min = 0, max = 0, id = 0;
        if (!allocating(k, xa)) return ret(-EINVAL);  // WARN_ON_ONCE(!xa_track_free(xa))
        limit_of(c, 3, min, max);
        if (!free_index(k, xa, min, max, id)) return ret(-EBUSY);
        uint32_t id32 = static_cast<uint32_t>(id);
        c.write(c.arg(1), &id32, 4);
        store(k, xa, id, c.arg(2));
        return 0;
    });
    // __xa_alloc_cyclic(xa, id, entry, limit, next, gfp): from *next, wrapping to the limit's
    // min once; 1 when it wrapped, 0, or -EBUSY.
    k.add_function("__xa_alloc_cyclic", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t xa = c.arg(0), min = 0, max = 0, id = 0;
        if (!allocating(k, xa)) return ret(-EINVAL);
        limit_of(c, 3, min, max);
        unsigned next_at = k.word() == 8 ? 4 : 5;
        uint64_t nextp = c.arg(next_at);
        uint32_t next = 0;
        c.emu.read(nextp, &next, 4);
        int wrapped = 0;
        uint64_t from = std::max<uint64_t>(min, next);
        if (!free_index(k, xa, from, max, id)) {
            if (!free_index(k, xa, min, max, id)) return ret(-EBUSY);
            wrapped = from > min;
        }
        uint32_t id32 = static_cast<uint32_t>(id);
        c.write(c.arg(1), &id32, 4);
        store(k, xa, id, c.arg(2));
        uint32_t n = id32 + 1;
        if (id32 == 0xffffffffu) wrapped = 1;
        c.write(nextp, &n, 4);
        return static_cast<uint64_t>(wrapped);
    });
    k.add_function("xa_find", sub, [](StubCall& c) -> uint64_t { return find(c, false); });
    k.add_function("xa_find_after", sub, [](StubCall& c) -> uint64_t { return find(c, true); });
    k.add_function("xa_destroy", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Xarrays>().arrays.erase(c.arg(0));
        sync_head(c.kernel, c.arg(0));
        return 0;
    });
    k.add_functions({"xa_set_mark", "__xa_set_mark"}, sub, [](StubCall& c) -> uint64_t {
        mark(c.kernel, c.arg(0), c.arg(1), static_cast<unsigned>(c.arg(2)), true);
        return 0;
    });
    k.add_functions({"xa_clear_mark", "__xa_clear_mark"}, sub, [](StubCall& c) -> uint64_t {
        mark(c.kernel, c.arg(0), c.arg(1), static_cast<unsigned>(c.arg(2)), false);
        return 0;
    });
    k.add_function("xa_get_mark", sub, [](StubCall& c) -> uint64_t {
        auto& e = entries(c.kernel, c.arg(0));
        auto it = e.find(c.arg(1));
        unsigned m = static_cast<unsigned>(c.arg(2));
        return it != e.end() && m < xa_present && ((it->second.marks >> m) & 1);
    });
}

}  // namespace kmodemu
