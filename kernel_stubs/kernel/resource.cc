// kernel/resource.c: the I/O port and memory resource trees. ioport_resource and iomem_resource
// are real struct resources in kernel data, and a region a module requests is linked into them
// as the kernel links it (parent, sibling, child), so that a second request of a busy range
// fails and a release unlinks. The machine's own entries (its RAM, its devices' registers, the
// PCI host bridge's windows) are not in the trees: no module's request here overlaps one.
#include <cstring>

#include "kernel_stubs/kernel/resource.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Resources : Kernel::SubsystemState {
    uint64_t ioport = 0, iomem = 0;
};

// struct resource of the kit: resource_size_t is the size of `start` (end follows it).
struct Res {
    StubCall& c;
    const KernelStructs::Resource& s;
    uint64_t size_t_bytes() const { return s.end - s.start; }
    uint64_t rd(uint64_t r, uint64_t off, uint64_t n) const {
        uint64_t v = 0;
        auto b = c.read(r + off, n);
        std::memcpy(&v, b.data(), n);
        return v;
    }
    void wr(uint64_t r, uint64_t off, uint64_t n, uint64_t v) const { c.write(r + off, &v, n); }
    uint64_t start(uint64_t r) const { return rd(r, s.start, size_t_bytes()); }
    uint64_t end(uint64_t r) const { return rd(r, s.end, size_t_bytes()); }
    uint64_t flags(uint64_t r) const { return rd(r, s.flags, c.kernel.word()); }
    uint64_t ptr(uint64_t r, uint64_t off) const { return rd(r, off, c.kernel.word()); }
    void set_ptr(uint64_t r, uint64_t off, uint64_t v) const { wr(r, off, c.kernel.word(), v); }
};

uint64_t busy_bit(const KernelStructs::Resource& s) { return s.busy & 0xffffffffu; }

// __request_resource(root, new): NULL when linked under root, else the conflicting resource
// (root itself when new does not fit in it).
uint64_t request_resource(const Res& r, uint64_t root, uint64_t res) {
    uint64_t start = r.start(res), end = r.end(res);
    if (end < start || start < r.start(root) || end > r.end(root)) return root;
    uint64_t p = root + r.s.child;
    for (;;) {
        uint64_t tmp = r.ptr(p, 0);
        if (!tmp || r.start(tmp) > end) {
            r.set_ptr(res, r.s.sibling, tmp);
            r.set_ptr(p, 0, res);
            r.set_ptr(res, r.s.parent, root);
            return 0;
        }
        p = tmp + r.s.sibling;
        if (r.end(tmp) < start) continue;
        return tmp;
    }
}

// The arguments after `parent` as resource_size_t: one register each when it is a word.
bool size_args_fit(StubCall& c, const Res& r, const char* fn) {
    if (r.size_t_bytes() != c.kernel.word())
        c.unimplemented(std::string(fn) + " (a resource_size_t wider than a register)");
    return true;
}

uint64_t make_root(Kernel& k, const char* export_name, const char* name, uint64_t end,
                   uint64_t flags) {
    const KernelStructs::Resource& s = k.structs().resource;
    uint64_t n = std::strlen(name) + 1;
    uint64_t str = k.alloc_data(n, 8);
    k.emu().write(str, name, n);
    std::vector<uint8_t> obj(s.size, 0);
    uint64_t sz = s.end - s.start;
    std::memcpy(obj.data() + s.end, &end, sz);
    std::memcpy(obj.data() + s.name, &str, k.word());
    std::memcpy(obj.data() + s.flags, &flags, k.word());
    return k.add_data(export_name, "kernel/resource", obj.size(), obj.data()).address;
}

}  // namespace

uint64_t request_region(StubCall& c, uint64_t parent, uint64_t start, uint64_t n, uint64_t name,
                        uint64_t flags) {
    const KernelStructs::Resource& s = c.kernel.structs().resource;
    Res r{c, s};
    uint64_t res = c.kernel.slab_alloc(s.size, gfp_zero);  // alloc_resource(GFP_KERNEL)
    if (!res) return 0;
    r.set_ptr(res, s.name, name);
    r.wr(res, s.start, r.size_t_bytes(), start);
    r.wr(res, s.end, r.size_t_bytes(), start + n - 1);
    for (;;) {
        uint64_t pflags = r.flags(parent);
        uint64_t f = (pflags & s.type_bits) | busy_bit(s) | flags;
        // resource_ext_type() bits of the parent are never set in these trees.
        r.wr(res, s.flags, c.kernel.word(), f);
        r.wr(res, s.desc, c.kernel.word(), r.rd(parent, s.desc, c.kernel.word()));
        uint64_t conflict = request_resource(r, parent, res);
        if (!conflict) break;
        if (conflict != parent && !(r.flags(conflict) & busy_bit(s))) {
            parent = conflict;
            continue;
        }
        if (r.flags(conflict) & flags & s.muxed)
            c.unimplemented("__request_region (waits for a busy muxed region)");
        c.kernel.slab().free(res);  // free_resource()
        return 0;
    }
    return res;
}

void release_region(StubCall& c, uint64_t parent, uint64_t start, uint64_t n) {
    const KernelStructs::Resource& s = c.kernel.structs().resource;
    Res r{c, s};
    uint64_t end = start + n - 1;
    uint64_t p = parent + s.child;
    for (;;) {
        uint64_t res = r.ptr(p, 0);
        if (!res) break;
        if (r.start(res) <= start && r.end(res) >= end) {
            if (!(r.flags(res) & busy_bit(s))) {
                p = res + s.child;
                continue;
            }
            if (r.start(res) != start || r.end(res) != end) break;
            r.set_ptr(p, 0, r.ptr(res, s.sibling));
            // A muxed region wakes its waiters: none wait here.
            c.kernel.slab().free(res);
            return;
        }
        p = res + s.sibling;
    }
    c.unimplemented("__release_region (a region not requested: the kernel warns)");
}

void register_resource(Kernel& k) {
    const KernelStructs::Resource& s = k.structs().resource;
    Resources& st = k.state<Resources>();
    // ioport_resource: "PCI IO", 0..IO_SPACE_LIMIT; iomem_resource: "PCI mem", 0..-1.
    st.ioport = make_root(k, "ioport_resource", "PCI IO", s.io_space_limit, s.io);
    uint64_t all = s.end - s.start == 8 ? ~uint64_t(0) : 0xffffffffu;
    st.iomem = make_root(k, "iomem_resource", "PCI mem", all, s.mem);

    const char* sub = "kernel/resource";
    // __request_region(parent, start, n, name, flags): a new busy resource of parent's type
    // linked at the deepest non-busy resource that holds it; NULL when it overlaps a busy one.
    k.add_function("__request_region", sub, [](StubCall& c) -> uint64_t {
        size_args_fit(c, Res{c, c.kernel.structs().resource}, "__request_region");
        return request_region(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3),
                              static_cast<uint32_t>(c.arg(4)));
    });
    // __release_region(parent, start, n): the busy resource of exactly that range unlinked and
    // freed, looked for under the non-busy resources that hold it.
    k.add_function("__release_region", sub, [](StubCall& c) -> uint64_t {
        size_args_fit(c, Res{c, c.kernel.structs().resource}, "__release_region");
        release_region(c, c.arg(0), c.arg(1), c.arg(2));
        return 0;
    });
}

}  // namespace kmodemu
