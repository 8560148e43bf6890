// The machine kmodemu emulates beyond its kernel: the devices the user declares
// (`kmodemu run --device`), as a board's device tree declares them to the kernel at boot
// (of_platform_populate()), with their registers (MMIO) and interrupt lines. A device declared
// here is on its bus before any module loads; a driver a module registers binds to it as the
// kernel's driver core binds one (drivers/base/dd.c), its probe runs, and its remove at unload.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

// --device BUS:NAME[:compatible=STR][:id=VENDOR:DEVICE][:addr=N][:mmio=BASE+SIZE][:irq=N]
struct DeviceSpec {
    std::string text;  // as given
    std::string bus;   // "platform"
    std::string name;
    std::string compatible;                  // empty: no device-tree node
    std::optional<uint64_t> addr;            // i2c: its address
    std::optional<uint32_t> vendor, device;  // pci: its ids
    uint64_t mmio_base = 0, mmio_size = 0;   // size 0: no registers
    std::optional<unsigned> irq;
};
// The spec, or nullopt with `error` saying what is wrong.
std::optional<DeviceSpec> parse_device_spec(const std::string& s, std::string& error);

// --mmio-value ADDR=VALUE[,VALUE...]: successive reads of the register at physical address ADDR
// return the values in turn, the last one repeating.
struct MmioValueSpec {
    uint64_t addr = 0;
    std::vector<uint64_t> values;
};
std::optional<MmioValueSpec> parse_mmio_value(const std::string& s, std::string& error);

// --irq N@MS: interrupt line N raised MS milliseconds of virtual time after the module's init
// started.
struct IrqRaise {
    unsigned irq = 0;
    uint64_t ms = 0;
};
std::optional<IrqRaise> parse_irq_raise(const std::string& s, std::string& error);

// What became of a declared device (the run's report).
struct DeviceOutcome {
    std::string spec;     // as given
    std::string name;     // its device name (dev_name())
    std::string driver;   // the driver bound at the end of init ("" for none)
    bool probed = false;  // a driver's probe bound it at some point
    uint64_t mmio_reads = 0, mmio_writes = 0;
    uint64_t irqs = 0;  // interrupts its line raised that a handler took
};

// The machine's state (the emulated kernel's view of it).
struct MachineState : Kernel::SubsystemState {
    struct Device {
        DeviceSpec spec;
        uint64_t dev = 0;  // its struct device
        uint64_t np = 0;   // its struct device_node, or 0
        bool probed = false;
        uint64_t reads = 0, writes = 0, irqs = 0;
    };
    std::vector<Device> devices;
    std::map<uint64_t, std::vector<uint64_t>> mmio_values;  // by physical address
    std::map<uint64_t, size_t> mmio_reads_done;             // reads of each such register
    std::map<uint64_t, uint8_t> registers;                  // plain registers, bytes by address
    // ioremap()ed windows: virtual base -> (physical base, size).
    struct Window {
        uint64_t va = 0, phys = 0, size = 0;
        int device = -1;  // index into devices, -1 for an address no device declares
    };
    std::map<uint64_t, std::unique_ptr<Window>> windows;
    uint64_t next_va = 0;
};

// The interrupts --irq raises, by virtual time (ns since boot).
struct IrqRaises : Kernel::SubsystemState {
    std::multimap<uint64_t, unsigned> pending;
};

// Raises interrupt line irq (kernel/irq/manage.cc): its handlers run in hardirq context, then
// the threads they wake; a disabled line keeps it pending. Whether a handler took it.
bool raise_irq(Kernel& k, unsigned irq);

// Declares the devices (before any module loads) and the register values.
void declare_machine(Kernel& k, const std::vector<DeviceSpec>& devices,
                     const std::vector<MmioValueSpec>& values);
// Arms the interrupts to raise, at their times counted from now (the start of init).
void arm_irq_raises(Kernel& k, const std::vector<IrqRaise>& raises);
std::vector<DeviceOutcome> machine_outcome(Kernel& k);

// ioremap(phys, size) as the architecture maps device memory: a fresh virtual range of whole
// pages whose accesses reach the declared device's registers (reads of an address no device
// declares return all ones, writes go nowhere, as a bus without a device answers: kmodemu does
// not model the machine's other devices). The address for phys, or 0 when size is 0.
uint64_t machine_ioremap(Kernel& k, uint64_t phys, uint64_t size);
// iounmap(): false when va is no mapping of machine_ioremap().
bool machine_iounmap(Kernel& k, uint64_t va);

}  // namespace kmodemu
