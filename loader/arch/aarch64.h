// AArch64: arch/arm64/kernel/module.c and module-plts.c (Linux 6.1, CONFIG_ARM64_MODULE_PLTS).
#pragma once

#include <map>
#include <set>

#include "loader/arch/arch.h"

namespace kmodemu {

class Aarch64Loader : public ArchLoader {
  public:
    Arch arch() const override { return Arch::arm64; }
    Status frob_sections(ElfFile& elf, const std::string& modname) override;
    Status apply_relocations(ModuleImage& img, size_t relsec) override;
    Status finalize(ModuleImage& img) override;

    // The modelled CPU's capabilities (arm64 cpucap numbers of Linux 6.1): alternatives whose cap
    // is present are applied. By default only ARM64_ALWAYS_BOOT (0) and ARM64_ALWAYS_SYSTEM (1).
    std::set<unsigned> cpucaps{0, 1};
    // Address of the kernel's alt_cb_patch_nops (the callback kmodemu implements).
    uint64_t alt_cb_patch_nops = 0;
    uint64_t kernel_text_start = 0, kernel_text_end = 0;
    size_t alternatives_applied = 0;

  private:
    // RELA sections sorted in place as module_frob_arch_sections() sorts them.
    std::map<size_t, std::vector<ElfReloc>> sorted_;
    uint64_t emit_plt(ModuleImage& img, uint64_t loc, uint64_t val);
};

}  // namespace kmodemu
