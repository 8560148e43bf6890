// ioremap() and iounmap() as each architecture exports them: arm64's ioremap_prot(phys, size,
// prot) (6.1, arch/arm64/mm/ioremap.c) or __ioremap_prot() (6.12, mm/ioremap.c's generic
// ioremap with arm64's hook), ARM's ioremap(), ioremap_cache() and ioremap_wc()
// (arch/arm/mm/ioremap.c); iounmap(). The range is mapped as the machine's device memory
// (kernel_stubs/drivers/base/machine.cc): a declared device's registers, and all ones from an
// address no device declares.
#include "kernel_stubs/drivers/base/machine.h"

namespace kmodemu {

void register_ioremap(Kernel& k) {
    const char* sub = "mm/ioremap";
    // NULL for a size of 0 or a range that wraps (ioremap_prot()'s checks).
    auto map = [](StubCall& c, uint64_t phys, uint64_t size) -> uint64_t {
        uint64_t last = phys + size - 1;
        if (!size || last < phys) return 0;
        return machine_ioremap(c.kernel, phys, size);
    };
    if (k.arch() == Arch::arm64) {
        k.add_functions({"ioremap_prot", "__ioremap_prot"}, sub,
                        [map](StubCall& c) -> uint64_t { return map(c, c.arg(0), c.arg(1)); });
    } else {
        k.add_functions({"ioremap", "ioremap_cache", "ioremap_wc"}, sub,
                        [map](StubCall& c) -> uint64_t { return map(c, c.arg(0), c.arg(1)); });
    }
    // iounmap(addr): the mapping removed. An address ioremap() did not return: arm64 WARNs
    // (vunmap of no area) and ARM oopses; kmodemu stops there.
    k.add_function("iounmap", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0)) return 0;
        if (!machine_iounmap(c.kernel, c.arg(0)))
            c.unimplemented("iounmap (an address ioremap() did not return)");
        return 0;
    });
}

}  // namespace kmodemu
