// drivers/base/devres.c: managed device resources. A resource is the data that devres_alloc()
// hands out (a kmalloc'ed object; the kernel's struct devres_node header before it is the
// kernel's own business and lives here), added to its device's list; the device's unbinding
// (a failed probe, remove) and its release free them last added first, calling each one's
// release. Groups (devres_open_group()) mark a stretch of the list.
#include <algorithm>
#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace drivers {

namespace {

struct Node {
    uint64_t data = 0;     // the resource (devres->data), or a group's id
    uint64_t release = 0;  // dr_release_t; 0 for a group marker
    bool kmalloc = false;  // devm_kmalloc(): its release is devm_kmalloc_release() (nothing)
    bool group_open = false, group_close = false;
};

struct Devres : Kernel::SubsystemState {
    std::map<uint64_t, std::vector<Node>> lists;  // device -> its resources, in add order
    std::map<uint64_t, Node> unadded;             // allocated, not yet added
    uint64_t kmalloc_release = 0;                 // devm_kmalloc_release()
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// alloc_dr(): the data of a new resource, zeroed only when the caller's flags have __GFP_ZERO.
uint64_t alloc_dr(Kernel& k, uint64_t release, uint64_t size, uint64_t gfp) {
    uint64_t p = k.slab_alloc(size ? size : 1, gfp);
    if (!p) return 0;
    Node n;
    n.data = p;
    n.release = release;
    k.state<Devres>().unadded[p] = n;
    return p;
}

void add(Kernel& k, uint64_t dev, uint64_t data) {
    Devres& d = k.state<Devres>();
    auto it = d.unadded.find(data);
    Node n = it == d.unadded.end() ? Node{data, 0} : it->second;
    if (it != d.unadded.end()) d.unadded.erase(it);
    d.lists[dev].push_back(n);
}

// Releases (release(dev, data), then kfree) the nodes, last first.
void release_nodes(StubCall& c, uint64_t dev, std::vector<Node> nodes) {
    Kernel& k = c.kernel;
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
        if (it->group_open || it->group_close) continue;
        if (it->release && !it->kmalloc) k.call_guest(it->release, {dev, it->data});
        k.slab().free(it->data);
    }
}

// find_dr(): the last node of dev with that release whose match(dev, data, match_data) agrees.
int find(StubCall& c, uint64_t dev, uint64_t release, uint64_t match, uint64_t match_data) {
    auto& list = c.kernel.state<Devres>().lists[dev];
    for (int i = int(list.size()) - 1; i >= 0; --i) {
        Node& n = list[size_t(i)];
        if (n.group_open || n.group_close || n.release != release) continue;
        if (match && !c.kernel.call_guest(match, {dev, n.data, match_data})) continue;
        return i;
    }
    return -1;
}

}  // namespace

uint64_t devres_alloc_node(Kernel& k, uint64_t release, uint64_t size) {
    return alloc_dr(k, release, size, gfp_zero);
}

void devres_add_node(Kernel& k, uint64_t dev, uint64_t data) {
    add(k, dev, data);
}

void devres_free_node(Kernel& k, uint64_t data) {
    if (k.state<Devres>().unadded.erase(data)) k.slab().free(data);
}

uint64_t devm_kstrdup_node(Kernel& k, uint64_t dev, const std::string& s) {
    uint64_t p = alloc_dr(k, 0, s.size() + 1, 0);
    if (!p) return 0;
    k.state<Devres>().unadded[p].kmalloc = true;
    k.emu().write(p, s.c_str(), s.size() + 1);
    add(k, dev, p);
    return p;
}

bool devres_destroy_node(Kernel& k, uint64_t dev, uint64_t release,
                         const std::function<bool(uint64_t data)>& match) {
    auto& list = k.state<Devres>().lists[dev];
    for (size_t i = list.size(); i-- > 0;) {
        Node& n = list[i];
        if (n.group_open || n.group_close || n.release != release || !match(n.data)) continue;
        uint64_t data = n.data;
        list.erase(list.begin() + long(i));
        k.slab().free(data);
        return true;
    }
    return false;
}

bool devres_present(Kernel& k, uint64_t dev) {
    auto& lists = k.state<Devres>().lists;
    auto it = lists.find(dev);
    return it != lists.end() && !it->second.empty();
}

void devres_release_all(StubCall& c, uint64_t dev) {
    Devres& d = c.kernel.state<Devres>();
    auto it = d.lists.find(dev);
    if (it == d.lists.end()) return;
    std::vector<Node> nodes = std::move(it->second);
    d.lists.erase(it);
    release_nodes(c, dev, nodes);
}

}  // namespace drivers

using namespace drivers;

void register_devres(Kernel& k) {
    const char* sub = "drivers/base/devres";
    // devm_kmalloc_release(): nothing (the kernel's own function, not an export).
    k.state<Devres>().kmalloc_release =
        k.add_function("devm_kmalloc_release", sub, [](StubCall&) -> uint64_t { return 0; })
            .address;
    // __devres_alloc_node(release, size, gfp, nid, name) (6.1; 6.12 too): the data of a resource
    // not yet added.
    k.add_function("__devres_alloc_node", sub, [](StubCall& c) -> uint64_t {
        return alloc_dr(c.kernel, c.arg(0), c.arg(1), c.arg(2));
    }, true);
    // devres_free(res): a resource never added, freed.
    k.add_function("devres_free", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0)) return 0;
        if (!c.kernel.state<Devres>().unadded.erase(c.arg(0)))
            c.unimplemented("devres_free (a resource on a device's list: BUG_ON)");
        c.kernel.slab().free(c.arg(0));
        return 0;
    }, true);
    k.add_function("devres_add", sub, [](StubCall& c) -> uint64_t {
        add(c.kernel, c.arg(0), c.arg(1));
        return 0;
    }, true);
    // devres_find(dev, release, match, match_data): the data, or NULL.
    k.add_function("devres_find", sub, [](StubCall& c) -> uint64_t {
        int i = find(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3));
        return i < 0 ? 0 : c.kernel.state<Devres>().lists[c.arg(0)][size_t(i)].data;
    }, true);
    // devres_remove(): off the list, not freed; devres_destroy(): -ENOENT or off and freed
    // (release not called; the kernel WARNs if not found and the callers say so);
    // devres_release(): off, released and freed.
    k.add_function("devres_remove", sub, [](StubCall& c) -> uint64_t {
        int i = find(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3));
        if (i < 0) return 0;
        auto& list = c.kernel.state<Devres>().lists[c.arg(0)];
        Node n = list[size_t(i)];
        list.erase(list.begin() + i);
        c.kernel.state<Devres>().unadded[n.data] = n;
        return n.data;
    }, true);
    k.add_function("devres_destroy", sub, [](StubCall& c) -> uint64_t {
        int i = find(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3));
        if (i < 0) return ret(-ENOENT);
        auto& list = c.kernel.state<Devres>().lists[c.arg(0)];
        uint64_t data = list[size_t(i)].data;
        list.erase(list.begin() + i);
        c.kernel.slab().free(data);
        return 0;
    }, true);
    k.add_function("devres_release", sub, [](StubCall& c) -> uint64_t {
        int i = find(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3));
        if (i < 0) return ret(-ENOENT);
        auto& list = c.kernel.state<Devres>().lists[c.arg(0)];
        Node n = list[size_t(i)];
        list.erase(list.begin() + i);
        release_nodes(c, c.arg(0), {n});
        return 0;
    }, true);

    // devm_kmalloc(dev, size, gfp): a managed kmalloc (ZERO_SIZE_PTR for size 0).
    auto kmalloc = [](StubCall& c, uint64_t dev, uint64_t size, uint64_t gfp) -> uint64_t {
        if (!size) return zero_size_ptr;
        uint64_t p = alloc_dr(c.kernel, 0, size, gfp);
        if (!p) return 0;
        c.kernel.state<Devres>().unadded[p].kmalloc = true;
        add(c.kernel, dev, p);
        return p;
    };
    k.add_function("devm_kmalloc", sub, [kmalloc](StubCall& c) -> uint64_t {
        return kmalloc(c, c.arg(0), c.arg(1), c.arg(2));
    }, true);
    // devm_kfree(dev, p): a managed allocation of dev freed; WARN_ON if it is none.
    k.add_function("devm_kfree", sub, [](StubCall& c) -> uint64_t {
        uint64_t p = c.arg(1);
        if (p <= zero_size_ptr) return 0;  // ZERO_OR_NULL_PTR, or kernel .rodata (kstrdup_const)
        auto& list = c.kernel.state<Devres>().lists[c.arg(0)];
        for (size_t i = list.size(); i-- > 0;)
            if (list[i].kmalloc && list[i].data == p) {
                list.erase(list.begin() + long(i));
                c.kernel.slab().free(p);
                return 0;
            }
        c.unimplemented("devm_kfree (not a managed allocation of the device: WARN_ON)");
    }, true);
    k.add_function("devm_kmemdup", sub, [kmalloc](StubCall& c) -> uint64_t {
        uint64_t p = kmalloc(c, c.arg(0), c.arg(2), c.arg(3));
        if (p && p != zero_size_ptr) {
            std::vector<uint8_t> b = c.read(c.arg(1), c.arg(2));
            c.write(p, b.data(), b.size());
        }
        return p;
    }, true);
    k.add_function("devm_kstrdup", sub, [kmalloc](StubCall& c) -> uint64_t {
        if (!c.arg(1)) return 0;
        std::string s = c.read_cstr(c.arg(1));
        uint64_t p = kmalloc(c, c.arg(0), s.size() + 1, c.arg(2));
        if (p) c.write(p, s.c_str(), s.size() + 1);
        return p;
    }, true);
    // devm_kasprintf(dev, gfp, fmt, ...)
    k.add_function("devm_kasprintf", sub, [kmalloc](StubCall& c) -> uint64_t {
        std::string s = format_guest_args(c, c.arg(2), 3);
        uint64_t p = kmalloc(c, c.arg(0), s.size() + 1, c.arg(1));
        if (p) c.write(p, s.c_str(), s.size() + 1);
        return p;
    }, true);
}

}  // namespace kmodemu
