// The machine's declared devices (kernel_stubs/drivers/base/machine.h): made at "boot" as
// drivers/of/platform.c makes the platform devices of a device tree (of_platform_device_create():
// a struct device_node with its "compatible" property, the device's memory and interrupt
// resources, the node's "<address>.<name>" as the device's name), and their registers, reached
// through ioremap() (arch/arm64/mm/ioremap.c, arch/arm/mm/ioremap.c).
#include "kernel_stubs/drivers/base/machine.h"

#include <cerrno>
#include <cstring>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/kernel/time/clock.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

std::optional<uint64_t> parse_number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    try {
        size_t used = 0;
        uint64_t v = std::stoull(s, &used, 0);
        if (used != s.size() || s[0] == '-' || s[0] == '+') return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t at = 0;
    for (;;) {
        size_t n = s.find(sep, at);
        out.push_back(s.substr(at, n == std::string::npos ? std::string::npos : n - at));
        if (n == std::string::npos) return out;
        at = n + 1;
    }
}

uint64_t page_size(const Kernel&) {
    return 0x1000;
}

}  // namespace

std::optional<DeviceSpec> parse_device_spec(const std::string& s, std::string& error) {
    DeviceSpec d;
    d.text = s;
    // BUS:NAME, then KEY=VALUE fields; "id=VENDOR:DEVICE" has a colon of its own.
    std::vector<std::string> parts = split(s, ':');
    if (parts.size() < 2 || parts[0].empty() || parts[1].empty() ||
        parts[1].find('=') != std::string::npos) {
        error = "'" + s + "': expected BUS:NAME[:key=value...]";
        return std::nullopt;
    }
    d.bus = parts[0];
    d.name = parts[1];
    if (d.bus != "platform") {
        error = "'" + s + "': bus '" + d.bus + "' is not emulated (only platform devices)";
        return std::nullopt;
    }
    for (size_t i = 2; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        size_t eq = p.find('=');
        if (eq == std::string::npos) {
            error = "'" + s + "': '" + p + "' is not key=value";
            return std::nullopt;
        }
        std::string key = p.substr(0, eq), value = p.substr(eq + 1);
        if (key == "compatible" && !value.empty()) {
            d.compatible = value;
        } else if (key == "addr" && parse_number(value)) {
            d.addr = parse_number(value);
        } else if (key == "id" && i + 1 < parts.size() && parse_number(value) &&
                   parse_number(parts[i + 1])) {
            d.vendor = uint32_t(*parse_number(value));
            d.device = uint32_t(*parse_number(parts[++i]));
        } else if (key == "mmio") {
            std::vector<std::string> bs = split(value, '+');
            std::optional<uint64_t> base = bs.size() == 2 ? parse_number(bs[0]) : std::nullopt;
            std::optional<uint64_t> size = bs.size() == 2 ? parse_number(bs[1]) : std::nullopt;
            if (!base || !size || !*size || *base + *size < *base) {
                error = "'" + s + "': mmio=BASE+SIZE, e.g. mmio=0x9000000+0x1000";
                return std::nullopt;
            }
            d.mmio_base = *base;
            d.mmio_size = *size;
        } else if (key == "irq" && parse_number(value) && *parse_number(value) > 0 &&
                   *parse_number(value) < 0x80000000u) {
            d.irq = unsigned(*parse_number(value));
        } else {
            error = "'" + s + "': bad or unknown field '" + p + "'";
            return std::nullopt;
        }
    }
    if (d.vendor || d.addr) {
        error = "'" + s + "': id= is for pci devices, addr= for i2c devices";
        return std::nullopt;
    }
    return d;
}

std::optional<MmioValueSpec> parse_mmio_value(const std::string& s, std::string& error) {
    size_t eq = s.find('=');
    MmioValueSpec m;
    std::optional<uint64_t> addr =
        eq == std::string::npos ? std::nullopt : parse_number(s.substr(0, eq));
    if (!addr) {
        error = "'" + s + "': expected ADDR=VALUE[,VALUE...]";
        return std::nullopt;
    }
    m.addr = *addr;
    for (const std::string& v : split(s.substr(eq + 1), ',')) {
        std::optional<uint64_t> n = parse_number(v);
        if (!n) {
            error = "'" + s + "': '" + v + "' is not a number";
            return std::nullopt;
        }
        m.values.push_back(*n);
    }
    return m;
}

std::optional<IrqRaise> parse_irq_raise(const std::string& s, std::string& error) {
    size_t at = s.find('@');
    std::optional<uint64_t> irq =
        at == std::string::npos ? std::nullopt : parse_number(s.substr(0, at));
    std::optional<uint64_t> ms =
        at == std::string::npos ? std::nullopt : parse_number(s.substr(at + 1));
    if (!irq || !ms || !*irq || *irq >= 0x80000000u) {
        error = "'" + s + "': expected N@MS (interrupt line N, at MS virtual milliseconds)";
        return std::nullopt;
    }
    return IrqRaise{unsigned(*irq), *ms};
}

namespace {

MachineState::Device* device_at(MachineState& m, uint64_t phys) {
    for (MachineState::Device& d : m.devices)
        if (d.spec.mmio_size && phys >= d.spec.mmio_base &&
            phys - d.spec.mmio_base < d.spec.mmio_size)
            return &d;
    return nullptr;
}

// A read of `size` bytes at phys: the next of the preset values of that register, else the
// bytes last written (0 where none was).
uint64_t register_read(MachineState& m, uint64_t phys, unsigned size) {
    if (auto it = m.mmio_values.find(phys); it != m.mmio_values.end()) {
        size_t& n = m.mmio_reads_done[phys];
        uint64_t v = it->second[std::min(n, it->second.size() - 1)];
        ++n;
        return size >= 8 ? v : v & ((uint64_t(1) << (size * 8)) - 1);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i)
        if (auto b = m.registers.find(phys + i); b != m.registers.end())
            v |= uint64_t(b->second) << (8 * i);
    return v;
}

void register_write(MachineState& m, uint64_t phys, unsigned size, uint64_t value) {
    for (unsigned i = 0; i < size; ++i)
        m.registers[phys + i] = uint8_t(value >> (8 * i));
}

// A zeroed object of kernel memory (the kernel's boot-time allocations: unflatten_device_tree()'s
// memblock memory, of_device_alloc()'s kcalloc()).
uint64_t zalloc(Kernel& k, uint64_t size) {
    return k.slab_alloc(size, gfp_zero);
}

uint64_t string(Kernel& k, const std::string& s) {
    uint64_t p = zalloc(k, s.size() + 1);
    k.emu().write(p, s.c_str(), s.size() + 1);
    return p;
}

void write_field(Kernel& k, uint64_t at, uint64_t size, uint64_t v) {
    k.emu().write(at, &v, size);
}

// The device-tree node of a declared device: name, full_name "name@address" (with registers),
// its fwnode's operations the OF ones, and one property, "compatible".
uint64_t make_node(Kernel& k, const DeviceSpec& spec) {
    const KernelStructs::DeviceNode& n = k.structs().device_node;
    uint64_t np = zalloc(k, n.size);
    char addr[32];
    std::snprintf(addr, sizeof addr, "%llx", (unsigned long long)spec.mmio_base);
    std::string full = spec.mmio_size ? spec.name + "@" + addr : spec.name;
    k.emu().write_word(np + n.name, string(k, spec.name));
    k.emu().write_word(np + n.full_name, string(k, full));
    if (const Export* ops = k.find_export("of_fwnode_ops"))
        k.emu().write_word(np + n.fwnode + n.fwnode_ops, ops->address);
    uint64_t prop = zalloc(k, n.prop_size);
    k.emu().write_word(prop + n.prop_name, string(k, "compatible"));
    k.emu().write_u32(prop + n.prop_length, uint32_t(spec.compatible.size() + 1));
    k.emu().write_word(prop + n.prop_value, string(k, spec.compatible));
    k.emu().write_word(np + n.properties, prop);
    return np;
}

}  // namespace

void declare_machine(Kernel& k, const std::vector<DeviceSpec>& devices,
                     const std::vector<MmioValueSpec>& values) {
    MachineState& m = k.state<MachineState>();
    for (const MmioValueSpec& v : values)
        m.mmio_values[v.addr] = v.values;
    StubCall c(k, k.emu());
    const KernelStructs& s = k.structs();
    const KernelStructs::Resource& rs = s.resource;
    for (const DeviceSpec& spec : devices) {
        MachineState::Device d;
        d.spec = spec;
        if (!spec.compatible.empty()) d.np = make_node(k, spec);
        // of_device_alloc(): the memory resource, then the interrupt's, named by the node.
        unsigned num = (spec.mmio_size ? 1 : 0) + (spec.irq ? 1 : 0);
        uint64_t res = num ? zalloc(k, rs.size * num) : 0;
        uint64_t rname =
            d.np ? k.emu().read_word(d.np + s.device_node.full_name) : string(k, spec.name);
        uint64_t r = res;
        uint64_t sz = rs.end - rs.start;  // resource_size_t
        if (spec.mmio_size) {
            write_field(k, r + rs.start, sz, spec.mmio_base);
            write_field(k, r + rs.end, sz, spec.mmio_base + spec.mmio_size - 1);
            k.emu().write_word(r + rs.name, rname);
            k.emu().write_word(r + rs.flags, rs.mem);
            r += rs.size;
        }
        if (spec.irq) {
            write_field(k, r + rs.start, sz, *spec.irq);
            write_field(k, r + rs.end, sz, *spec.irq);
            k.emu().write_word(r + rs.name, rname);
            k.emu().write_word(r + rs.flags, rs.irq);
        }
        // of_device_make_bus_id(): "<address>.<node name>" for a node with registers.
        char addr[32];
        std::snprintf(addr, sizeof addr, "%llx.", (unsigned long long)spec.mmio_base);
        std::string dev_name = d.np && spec.mmio_size ? addr + spec.name : spec.name;
        m.devices.push_back(d);
        uint64_t pdev = drivers::declare_platform_device(c, dev_name, d.np, res, num);
        m.devices.back().dev = pdev + s.platform_device.dev;
    }
}

namespace {

bool next_irq_event(Kernel& k, uint64_t& at) {
    auto& q = k.state<IrqRaises>().pending;
    if (q.empty()) return false;
    at = q.begin()->first;
    return true;
}

void fire_irq_event(Kernel& k) {
    auto& q = k.state<IrqRaises>().pending;
    auto it = q.begin();
    unsigned irq = it->second;
    q.erase(it);
    if (raise_irq(k, irq))
        for (MachineState::Device& d : k.state<MachineState>().devices)
            if (d.spec.irq == irq) ++d.irqs;
}

}  // namespace

void arm_irq_raises(Kernel& k, const std::vector<IrqRaise>& raises) {
    uint64_t now = k.state<VirtualClock>().ns;
    IrqRaises& st = k.state<IrqRaises>();
    for (const IrqRaise& r : raises)
        st.pending.emplace(now + r.ms * 1000000, r.irq);
    Deferred& d = k.state<Deferred>();
    d.next_event = next_irq_event;
    d.fire_event = fire_irq_event;
}

std::vector<DeviceOutcome> machine_outcome(Kernel& k) {
    std::vector<DeviceOutcome> out;
    drivers::DriverModel& dm = k.state<drivers::DriverModel>();
    for (const MachineState::Device& d : k.state<MachineState>().devices) {
        DeviceOutcome o;
        o.spec = d.spec.text;
        o.name = d.dev ? drivers::dev_name(k, d.dev) : "";
        if (auto it = dm.last_driver.find(d.dev); it != dm.last_driver.end()) {
            o.driver = it->second;
            o.probed = true;
        }
        o.mmio_reads = d.reads;
        o.mmio_writes = d.writes;
        o.irqs = d.irqs;
        out.push_back(o);
    }
    return out;
}

uint64_t machine_ioremap(Kernel& k, uint64_t phys, uint64_t size) {
    if (!size) return 0;
    MachineState& m = k.state<MachineState>();
    uint64_t page = page_size(k);
    uint64_t first = phys & ~(page - 1);
    uint64_t len = ((phys + size + page - 1) & ~(page - 1)) - first;
    if (!m.next_va)
        // The vmalloc area where ioremap() finds its ranges (after the modules' area).
        m.next_va = k.word() == 8 ? 0xffff800080000000ull : 0xf0000000u;
    auto w = std::make_unique<MachineState::Window>();
    w->va = m.next_va;
    w->phys = first;
    w->size = len;
    m.next_va += len + page;  // a guard page between areas, as get_vm_area() leaves
    MachineState::Window* win = w.get();
    Emulator::MmioHandlers h;
    h.read = [&k, win](uint64_t off, unsigned sz) -> uint64_t {
        MachineState& m = k.state<MachineState>();
        uint64_t phys = win->phys + off;
        MachineState::Device* d = device_at(m, phys);
        if (!d) return sz >= 8 ? ~uint64_t(0) : (uint64_t(1) << (sz * 8)) - 1;
        ++d->reads;
        return register_read(m, phys, sz);
    };
    h.write = [&k, win](uint64_t off, unsigned sz, uint64_t v) {
        MachineState& m = k.state<MachineState>();
        uint64_t phys = win->phys + off;
        MachineState::Device* d = device_at(m, phys);
        if (!d) return;
        ++d->writes;
        register_write(m, phys, sz, v);
    };
    k.emu().map_mmio(win->va, len, std::move(h));
    uint64_t va = win->va + (phys - first);
    m.windows[win->va] = std::move(w);
    return va;
}

bool machine_iounmap(Kernel& k, uint64_t va) {
    MachineState& m = k.state<MachineState>();
    uint64_t base = va & ~(page_size(k) - 1);
    auto it = m.windows.find(base);
    if (it == m.windows.end()) return false;
    k.emu().unmap(it->second->va, it->second->size);
    m.windows.erase(it);
    return true;
}

}  // namespace kmodemu
