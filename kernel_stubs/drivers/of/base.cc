// drivers/of/base.c and drivers/of/property.c: the machine's device-tree nodes (those of the
// devices declared with --device), their properties and matching against of_device_id tables.
// The nodes are the only ones there are: a node pointer that is none of them (one a module made)
// stops the run, and so do the functions that walk the whole tree (of_find_*_node()), which
// would find the real machine's other nodes.
#include <strings.h>
#include <algorithm>
#include <cerrno>
#include <climits>

#include "kernel_stubs/drivers/base/machine.h"
#include "kernel_stubs/drivers/of/of.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

std::string cstr(Kernel& k, uint64_t p) {
    std::string out;
    if (p) k.emu().read_cstring(p, 4096, out);
    return out;
}

// A node argument: NULL as the function treats it, a machine node, or the end of the run.
bool node_arg(StubCall& c, uint64_t np, const char* fn) {
    if (!np) return false;
    if (!of_machine_node(c.kernel, np))
        c.unimplemented(std::string(fn) + " (a device-tree node that is not the machine's)");
    return true;
}

// The strings of a property's value (of_prop_next_string()).
std::vector<std::string> prop_strings(Kernel& k, uint64_t prop) {
    const KernelStructs::DeviceNode& n = k.structs().device_node;
    std::vector<std::string> out;
    if (!prop) return out;
    uint32_t len = k.emu().read_u32(prop + n.prop_length);
    uint64_t v = word(k, prop + n.prop_value);
    std::vector<char> b(len);
    if (len) k.emu().read(v, b.data(), len);
    for (size_t at = 0; at < b.size();) {
        size_t end = std::find(b.begin() + long(at), b.end(), '\0') - b.begin();
        out.emplace_back(b.data() + at, end - at);
        at = end + 1;
    }
    return out;
}

// of_node_name_eq(np, name): the node's name up to its '@' equals name.
bool node_name_eq(Kernel& k, uint64_t np, const std::string& name) {
    std::string n = cstr(k, word(k, np + k.structs().device_node.name));
    return n.substr(0, n.find('@')) == name;
}

// __of_device_is_compatible(device, compat, type, name): INT_MAX/2 - 4 * (the index of the
// node's first compatible string equal to compat, ignoring case), + 2 for the type, + 1 for the
// name; 0 when one of those given does not match. The machine's nodes have no device_type.
int device_is_compatible(Kernel& k, uint64_t np, const std::string& compat, const std::string& type,
                         const std::string& name) {
    int score = 0;
    if (!compat.empty()) {
        std::vector<std::string> cs = prop_strings(k, of_find_property(k, np, "compatible"));
        for (size_t i = 0; i < cs.size(); ++i)
            if (strcasecmp(cs[i].c_str(), compat.c_str()) == 0) {
                score = INT_MAX / 2 - int(i << 2);
                break;
            }
        if (!score) return 0;
    }
    if (!type.empty()) return 0;  // __of_node_is_type(): no "device_type" property
    if (!name.empty()) {
        if (!node_name_eq(k, np, name)) return 0;
        score++;
    }
    return score;
}

}  // namespace

bool of_machine_node(Kernel& k, uint64_t np) {
    if (!np) return false;
    for (const MachineState::Device& d : k.state<MachineState>().devices)
        if (d.np == np) return true;
    return false;
}

uint64_t of_find_property(Kernel& k, uint64_t np, const std::string& name) {
    const KernelStructs::DeviceNode& n = k.structs().device_node;
    for (uint64_t pp = word(k, np + n.properties); pp; pp = word(k, pp + n.prop_next))
        if (cstr(k, word(k, pp + n.prop_name)) == name) return pp;  // of_prop_cmp(): strcmp
    return 0;
}

// __of_match_node(): the entry with the best score; the table ends at an entry whose name,
// type and compatible are all empty.
uint64_t of_match_node(StubCall& c, uint64_t matches, uint64_t np) {
    Kernel& k = c.kernel;
    const KernelStructs::OfMatch& m = k.structs().of_match;
    if (!matches || !np) return 0;
    uint64_t best = 0;
    int best_score = 0;
    for (uint64_t e = matches;; e += m.size) {
        std::string name = c.read_cstr(e + m.name, m.name_len);
        std::string type = c.read_cstr(e + m.type, m.name_len);
        std::string compat = c.read_cstr(e + m.compatible, m.compatible_len);
        if (name.empty() && type.empty() && compat.empty()) break;
        int score = device_is_compatible(k, np, compat, type, name);
        if (score > best_score) {
            best = e;
            best_score = score;
        }
    }
    return best;
}

uint64_t of_match_device(StubCall& c, uint64_t matches, uint64_t dev) {
    uint64_t np = dev ? word(c.kernel, dev + c.kernel.structs().device.of_node) : 0;
    if (!matches || !node_arg(c, np, "of_match_device")) return 0;
    return of_match_node(c, matches, np);
}

void register_of(Kernel& k) {
    const char* sub = "drivers/of";
    // of_device_is_compatible(device, compat): the score (0: not compatible).
    k.add_function("of_device_is_compatible", sub, [](StubCall& c) -> uint64_t {
        if (!node_arg(c, c.arg(0), "of_device_is_compatible")) return 0;
        return ret(device_is_compatible(c.kernel, c.arg(0), c.read_cstr(c.arg(1), 256), "", ""));
    });
    k.add_function("of_match_node", sub, [](StubCall& c) -> uint64_t {
        if (!node_arg(c, c.arg(1), "of_match_node")) return 0;
        return of_match_node(c, c.arg(0), c.arg(1));
    });
    // of_find_property(np, name, lenp): the property (its length at *lenp), or NULL.
    k.add_function("of_find_property", sub, [](StubCall& c) -> uint64_t {
        if (!node_arg(c, c.arg(0), "of_find_property")) return 0;
        uint64_t pp = of_find_property(c.kernel, c.arg(0), c.read_cstr(c.arg(1), 256));
        if (pp && c.arg(2)) {
            uint32_t len = c.emu.read_u32(pp + c.kernel.structs().device_node.prop_length);
            c.write(c.arg(2), &len, 4);
        }
        return pp;
    });
    // of_get_property(np, name, lenp): the property's value, or NULL.
    k.add_function("of_get_property", sub, [](StubCall& c) -> uint64_t {
        if (!node_arg(c, c.arg(0), "of_get_property")) return 0;
        const KernelStructs::DeviceNode& n = c.kernel.structs().device_node;
        uint64_t pp = of_find_property(c.kernel, c.arg(0), c.read_cstr(c.arg(1), 256));
        if (pp && c.arg(2)) {
            uint32_t len = c.emu.read_u32(pp + n.prop_length);
            c.write(c.arg(2), &len, 4);
        }
        return pp ? word(c.kernel, pp + n.prop_value) : 0;
    });
    // of_property_read_string(np, propname, out_string) (drivers/of/property.c): -EINVAL
    // without the property, -ENODATA when empty, -EILSEQ without its NUL.
    k.add_function(
        "of_property_read_string", sub,
        [](StubCall& c) -> uint64_t {
            if (!node_arg(c, c.arg(0), "of_property_read_string")) return ret(-EINVAL);
            const KernelStructs::DeviceNode& n = c.kernel.structs().device_node;
            uint64_t pp = of_find_property(c.kernel, c.arg(0), c.read_cstr(c.arg(1), 256));
            if (!pp) return ret(-EINVAL);
            uint32_t len = c.emu.read_u32(pp + n.prop_length);
            uint64_t v = word(c.kernel, pp + n.prop_value);
            if (!len || !v) return ret(-ENODATA);
            std::vector<uint8_t> b = c.read(v, len);
            if (std::find(b.begin(), b.end(), 0) == b.end()) return ret(-EILSEQ);
            c.emu.write_word(c.arg(2), v);
            return 0;
        },
        true);
    // of_property_read_variable_u{8,16,32,64}_array(np, propname, out, sz_min, sz_max)
    // (drivers/of/property.c): the big-endian cells, as many as the property has between
    // sz_min and sz_max (0: exactly sz_min); -EINVAL without it, -ENODATA when empty,
    // -EOVERFLOW when too short or long; else the count.
    const std::pair<const char*, unsigned> arrays[] = {{"of_property_read_variable_u8_array", 1},
                                                       {"of_property_read_variable_u16_array", 2},
                                                       {"of_property_read_variable_u32_array", 4},
                                                       {"of_property_read_variable_u64_array", 8}};
    for (auto [name, elem] : arrays) {
        k.add_function(
            name, sub,
            [elem, name](StubCall& c) -> uint64_t {
                if (!node_arg(c, c.arg(0), name)) return ret(-EINVAL);
                const KernelStructs::DeviceNode& n = c.kernel.structs().device_node;
                uint64_t pp = of_find_property(c.kernel, c.arg(0), c.read_cstr(c.arg(1), 256));
                uint64_t sz_min = c.arg(3), sz_max = c.arg(4);
                if (!pp) return ret(-EINVAL);
                uint32_t len = c.emu.read_u32(pp + n.prop_length);
                uint64_t v = word(c.kernel, pp + n.prop_value);
                if (!v) return ret(-ENODATA);
                if (len < sz_min * elem || (sz_max && len > sz_max * elem)) return ret(-EOVERFLOW);
                uint64_t count = sz_max ? len / elem : sz_min;
                std::vector<uint8_t> b = c.read(v, count * elem);
                std::vector<uint8_t> out(b.size());
                for (uint64_t i = 0; i < count; ++i)
                    for (unsigned j = 0; j < elem; ++j)
                        out[i * elem + j] = b[i * elem + elem - 1 - j];  // be*_to_cpup()
                c.write(c.arg(2), out.data(), out.size());
                return count;
            },
            true);
    }
    // of_alias_get_id(np, stem): the machine's tree has no /aliases: -ENODEV.
    k.add_function(
        "of_alias_get_id", sub,
        [](StubCall& c) -> uint64_t {
            node_arg(c, c.arg(0), "of_alias_get_id");
            return ret(-ENODEV);
        },
        true);
    // of_node_get(node) / of_node_put(node) (CONFIG_OF_DYNAMIC): the node's kobject's count; the
    // nodes of the machine's tree, made at boot, are never freed.
    k.add_function("of_node_get", sub, [](StubCall& c) -> uint64_t {
        node_arg(c, c.arg(0), "of_node_get");
        return c.arg(0);
    });
    k.add_function("of_node_put", sub, [](StubCall& c) -> uint64_t {
        node_arg(c, c.arg(0), "of_node_put");
        return 0;
    });

    // drivers/of/device.c: of_match_device(matches, dev); of_device_get_match_data(dev): the
    // data of the bound driver's best matching entry (NULL for none).
    k.add_function("of_match_device", sub,
                   [](StubCall& c) -> uint64_t { return of_match_device(c, c.arg(0), c.arg(1)); });
    k.add_function("of_device_get_match_data", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs& s = k.structs();
        uint64_t drv = word(k, c.arg(0) + s.device.driver);
        if (!drv) c.unimplemented("of_device_get_match_data (a device without a driver)");
        uint64_t m = of_match_device(c, word(k, drv + s.of_match.table), c.arg(0));
        return m ? word(k, m + s.of_match.data) : 0;
    });
}

}  // namespace kmodemu
