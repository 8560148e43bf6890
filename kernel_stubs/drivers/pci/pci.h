// drivers/pci/pci.c's side of the machine: the PCI I/O space that inb()/outb() reach.
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// The bytes of I/O space the host bridge mapped at PCI_IOBASE (0 when none is mapped); nothing
// answers in them: reads return all ones, writes are dropped.
uint64_t pci_io_window(const Kernel& k);

}  // namespace kmodemu
