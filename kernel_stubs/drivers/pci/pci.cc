// drivers/pci/pci.c: pci_remap_iospace(), as the PCI host bridge of the oracle's machine did at
// boot. On arm64, QEMU virt's generic PCIe host (pci-host-generic) maps its 64 KiB I/O window at
// PCI_IOBASE, where inb()/outb() (inline: readb(PCI_IOBASE + port)) reach it; with no device
// behind it (-nic none, no drives), a read returns all ones and a write goes nowhere (mk712's
// probe finds 0xff there: "mk712: device not present"). On ARM the window is not mapped: an
// access at PCI_IOBASE faults, as the real kernel's does (nct6683 oopses there).
#include "kernel_stubs/drivers/pci/pci.h"

#include "kernel_stubs/structs.h"

namespace kmodemu {

uint64_t pci_io_window(const Kernel& k) {
    return k.arch() == Arch::arm64 ? 0x10000 : 0;  // QEMU virt's VIRT_PCIE_PIO size
}

void register_pci_iospace(Kernel& k) {
    if (uint64_t size = pci_io_window(k)) k.emu().map_open_bus(k.structs().pci_iobase, size);
}

}  // namespace kmodemu
