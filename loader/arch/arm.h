// 32-bit ARM: arch/arm/kernel/module.c and module-plts.c (Linux 6.1, CONFIG_ARM_MODULE_PLTS,
// CONFIG_DYNAMIC_FTRACE).
#pragma once

#include <map>

#include "loader/arch/arch.h"

namespace kmodemu {

class ArmLoader : public ArchLoader {
  public:
    explicit ArmLoader(bool thumb2_kernel) : thumb2_kernel_(thumb2_kernel) {}
    Arch arch() const override { return Arch::arm; }
    Status frob_sections(ElfFile& elf, const std::string& modname) override;
    Status apply_relocations(ModuleImage& img, size_t relsec) override;
    Status finalize(ModuleImage& img) override;
    // module_init_section(): .init* and the ARM unwind tables of init code.
    bool is_init_section(const std::string& name) const override;

    // fixed_plts[] (DYNAMIC_FTRACE): FTRACE_ADDR and MCOUNT_ADDR, preallocated in every PLT.
    uint32_t fixed_plts[2] = {0, 0};
    // __pv_offset (CONFIG_ARM_PATCH_PHYS_VIRT): PHYS_OFFSET - PAGE_OFFSET, sign-extended to 64
    // bits, as the kernel computed it at boot; fixup_pv_table() patches modules' stubs with it.
    uint64_t pv_offset = 0;

  private:
    uint32_t get_module_plt(ModuleImage& img, uint32_t loc, uint32_t val);

    bool thumb2_kernel_;
    std::map<size_t, std::vector<ElfReloc>> sorted_;  // REL sections sorted as the kernel does
};

}  // namespace kmodemu
