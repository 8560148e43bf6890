// lib/logic_pio.c: with CONFIG_INDIRECT_PIO (Debian's arm64), inb()/outb() and their wider and
// string forms are these functions. A port below MMIO_UPPER_LIMIT (IO_SPACE_LIMIT -
// PIO_INDIRECT_SIZE) is memory-mapped I/O at PCI_IOBASE + port (_inb(): readb()); above it, the
// ports of indirect hosts (HiSilicon's LPC bridge), of which the machine has none: WARN_ON_ONCE.
// The PCI host bridge's window (kernel_stubs/drivers/pci/pci.cc) answers all ones; a port past it
// is unmapped there, and the access faults as the kernel's readb()/writeb() would.
#include <algorithm>
#include <string>
#include <vector>

#include "kernel_stubs/drivers/pci/pci.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr uint64_t pio_indirect_size = 0x4000;  // PIO_INDIRECT_SIZE

// The ports [port, port + n) as _in*()/_out*() reach them: a fault where no window maps them.
void check_port(StubCall& c, const char* fn, uint64_t port, uint64_t n, bool write) {
    uint64_t limit = c.kernel.structs().resource.io_space_limit;
    if (port >= limit - pio_indirect_size) {
        if (port < limit) c.unimplemented(std::string(fn) + " (an indirect port: WARN_ON_ONCE)");
        return;  // at or beyond IO_SPACE_LIMIT: nothing done, ~0 read
    }
    uint64_t window = pci_io_window(c.kernel);
    if (port + n > window) c.fault(c.kernel.structs().pci_iobase + std::max(port, window), write);
}

}  // namespace

void register_logic_pio(Kernel& k) {
    if (k.arch() != Arch::arm64) return;
    const char* sub = "lib/logic_pio";
    struct Width {
        const char* in;
        const char* out;
        const char* ins;
        const char* outs;
        uint64_t bytes;
    };
    for (Width w : {Width{"logic_inb", "logic_outb", "logic_insb", "logic_outsb", 1},
                    Width{"logic_inw", "logic_outw", "logic_insw", "logic_outsw", 2},
                    Width{"logic_inl", "logic_outl", "logic_insl", "logic_outsl", 4}}) {
        uint64_t n = w.bytes;
        uint64_t ones = (uint64_t(1) << (8 * n)) - 1;
        // logic_in*(addr): all ones (nothing answers, or nothing there).
        k.add_function(w.in, sub, [n, ones, name = w.in](StubCall& c) -> uint64_t {
            check_port(c, name, c.arg(0), n, false);
            return ones;
        });
        // logic_out*(value, addr): dropped.
        k.add_function(w.out, sub, [n, name = w.out](StubCall& c) -> uint64_t {
            check_port(c, name, c.arg(1), n, true);
            return 0;
        });
        // logic_ins*(addr, buffer, count): count reads of the port into buffer.
        k.add_function(w.ins, sub, [n, name = w.ins](StubCall& c) -> uint64_t {
            uint64_t count = static_cast<uint32_t>(c.arg(2));
            check_port(c, name, c.arg(0), n, false);
            std::vector<uint8_t> ones_buf(count * n, 0xff);
            c.write(c.arg(1), ones_buf.data(), ones_buf.size());
            return 0;
        });
        // logic_outs*(addr, buffer, count): count writes from buffer, dropped.
        k.add_function(w.outs, sub, [n, name = w.outs](StubCall& c) -> uint64_t {
            uint64_t count = static_cast<uint32_t>(c.arg(2));
            check_port(c, name, c.arg(0), n, true);
            c.check_read(c.arg(1), count * n);
            return 0;
        });
    }
}

}  // namespace kmodemu
