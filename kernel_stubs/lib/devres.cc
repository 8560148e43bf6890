// lib/devres.c: managed I/O mappings (devm_ioremap*(), devm_ioremap_resource(), devm_iounmap())
// and kernel/resource.c's managed regions (__devm_request_region(), __devm_release_region()).
// Each is a devres of the device whose release (devm_ioremap_release(): iounmap();
// devm_region_release(): __release_region()) runs when the device's resources are released.
#include <cerrno>
#include <cstdio>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/drivers/base/machine.h"
#include "kernel_stubs/kernel/resource.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct IoDevres : Kernel::SubsystemState {
    uint64_t ioremap_release = 0;  // devm_ioremap_release()
    uint64_t region_release = 0;   // devm_region_release()
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

// resource_size_t fields of struct resource.
uint64_t res_field(Kernel& k, uint64_t r, uint64_t off) {
    const KernelStructs::Resource& rs = k.structs().resource;
    uint64_t v = 0;
    k.emu().read(r + off, &v, rs.end - rs.start);
    return v;
}

// %pR of a memory resource: "[mem 0x09000000-0x09000fff]" (resource_string(), the width of
// resource_size_t in digits), flags as " flags 0x.." only for other types.
std::string res_string(Kernel& k, uint64_t r) {
    if (!r) return "(null)";
    const KernelStructs::Resource& rs = k.structs().resource;
    int digits = int(rs.end - rs.start) * 2;
    uint64_t type = word(k, r + rs.flags) & rs.type_bits;
    std::string kind = type == rs.mem   ? "mem"
                       : type == rs.io  ? "io"
                       : type == rs.irq ? "irq"
                                        : "??? ";
    char b[96];
    if (type == rs.irq)
        std::snprintf(b, sizeof b, "[%s %#llx]", kind.c_str(),
                      (unsigned long long)res_field(k, r, rs.start));
    else
        std::snprintf(b, sizeof b, "[%s %#0*llx-%#0*llx]", kind.c_str(), digits + 2,
                      (unsigned long long)res_field(k, r, rs.start), digits + 2,
                      (unsigned long long)res_field(k, r, rs.end));
    return b;
}

// __devm_ioremap(dev, offset, size, type): a devres holding the mapping.
uint64_t devm_ioremap(StubCall& c, uint64_t dev, uint64_t offset, uint64_t size) {
    Kernel& k = c.kernel;
    uint64_t ptr = drivers::devres_alloc_node(k, k.state<IoDevres>().ioremap_release, k.word());
    if (!ptr) return 0;
    uint64_t addr = size && offset + size - 1 >= offset ? machine_ioremap(k, offset, size) : 0;
    if (addr) {
        k.emu().write_word(ptr, addr);
        drivers::devres_add_node(k, dev, ptr);
    } else {
        drivers::devres_free_node(k, ptr);
    }
    return addr;
}

// __devm_request_region(dev, parent, start, n, name): a devres of the region (parent, start,
// n) requested with __request_region(); NULL when busy.
uint64_t devm_request_region(StubCall& c, uint64_t dev, uint64_t parent, uint64_t start, uint64_t n,
                             uint64_t name) {
    Kernel& k = c.kernel;
    uint64_t dr = drivers::devres_alloc_node(k, k.state<IoDevres>().region_release, 3 * k.word());
    if (!dr) return 0;
    k.emu().write_word(dr, parent);
    k.emu().write_word(dr + k.word(), start);
    k.emu().write_word(dr + 2 * k.word(), n);
    uint64_t res = request_region(c, parent, start, n, name, 0);
    if (res)
        drivers::devres_add_node(k, dev, dr);
    else
        drivers::devres_free_node(k, dr);
    return res;
}

}  // namespace

namespace drivers {

// __devm_ioremap_resource(dev, res, DEVM_IOREMAP)
uint64_t devm_ioremap_resource(StubCall& c, uint64_t dev, uint64_t res) {
    Kernel& k = c.kernel;
    const KernelStructs::Resource& rs = k.structs().resource;
    if (!res || (word(k, res + rs.flags) & rs.type_bits) != rs.mem) {
        dev_printk(k, 3, dev, "invalid resource " + res_string(k, res));
        return ret(-EINVAL);
    }
    if (rs.end - rs.start != k.word())
        c.unimplemented("devm_ioremap_resource (a resource_size_t wider than a register)");
    uint64_t start = res_field(k, res, rs.start);
    uint64_t size = res_field(k, res, rs.end) - start + 1;
    std::string pretty = dev_name(k, dev);
    if (uint64_t n = word(k, res + rs.name)) {
        std::string name;
        k.emu().read_cstring(n, 256, name);
        pretty += " " + name;  // devm_kasprintf(dev, GFP_KERNEL, "%s %s", dev_name(dev), name)
    }
    uint64_t pretty_name = devm_kstrdup_node(k, dev, pretty);
    if (!pretty_name) {
        dev_printk(k, 3, dev, "can't generate pretty name for resource " + res_string(k, res));
        return ret(-ENOMEM);
    }
    uint64_t iomem = k.find_export("iomem_resource")->address;
    if (!devm_request_region(c, dev, iomem, start, size, pretty_name)) {
        dev_printk(k, 3, dev, "can't request region for resource " + res_string(k, res));
        return ret(-EBUSY);
    }
    uint64_t dest = devm_ioremap(c, dev, start, size);
    if (!dest) c.unimplemented("devm_ioremap_resource (ioremap failed)");
    return dest;
}

}  // namespace drivers

void register_lib_devres(Kernel& k) {
    const char* sub = "lib/devres";
    IoDevres& st = k.state<IoDevres>();
    // devm_ioremap_release(dev, res): iounmap(*(void __iomem **)res).
    st.ioremap_release = k.add_function("devm_ioremap_release", sub, [](StubCall& c) -> uint64_t {
                              machine_iounmap(c.kernel, word(c.kernel, c.arg(1)));
                              return 0;
                          }).address;
    // devm_region_release(dev, res): __release_region(parent, start, n).
    st.region_release =
        k.add_function("devm_region_release", sub, [](StubCall& c) -> uint64_t {
             Kernel& k = c.kernel;
             uint64_t r = c.arg(1);
             release_region(c, word(k, r), word(k, r + k.word()), word(k, r + 2 * k.word()));
             return 0;
         }).address;
    k.add_functions(
        {"devm_ioremap", "devm_ioremap_uc", "devm_ioremap_wc", "devm_ioremap_np"}, sub,
        [](StubCall& c) -> uint64_t { return devm_ioremap(c, c.arg(0), c.arg(1), c.arg(2)); });
    k.add_function("devm_ioremap_resource", sub, [](StubCall& c) -> uint64_t {
        return drivers::devm_ioremap_resource(c, c.arg(0), c.arg(1));
    });
    k.add_function("__devm_request_region", "kernel/resource", [](StubCall& c) -> uint64_t {
        return devm_request_region(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4));
    });
}

}  // namespace kmodemu
