// The per-architecture half of the loader, behind one interface: what arch/arm64/kernel/module.c
// and arch/arm/kernel/module.c (with their module-plts.c) do for the generic loader.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "emulator/emulator.h"
#include "loader/elf_file.h"

namespace kmodemu {

// The module image being built in host memory: every SHF_ALLOC section's final guest address and
// its bytes. Relocations are applied here, then the regions are written to the emulator at once.
struct ModuleImage {
    std::string name;  // module name for messages
    ElfFile* elf = nullptr;
    std::vector<uint64_t> addr;               // by section index: final address (0 = not allocated)
    std::vector<uint8_t*> host;               // by section index: host bytes of the final image
    std::vector<bool> is_init;                // by section index: placed in init memory
    std::vector<uint64_t> sym_value;          // by symbol index: simplified value (S)
    std::vector<std::string>* log = nullptr;  // kernel messages produced (without newlines)
    // Module PLT areas (sized by frob_sections, laid out as normal sections).
    size_t plt_shndx = 0, init_plt_shndx = 0;
    size_t plt_used = 0, init_plt_used = 0;  // entries
    size_t plt_max = 0, init_plt_max = 0;
    // Relocations applied, by type (for the relocation cross-check of `kmodemu corpus`).
    std::map<uint32_t, size_t> applied;

    bool within_init(uint64_t place) const;
    // The image's bytes from guest address addr to the end of the allocated section holding
    // it (empty when no section does).
    std::span<uint8_t> bytes_at(uint64_t addr) const;
    // The image's bytes [addr, addr + len) when one allocated section holds them all, or null.
    uint8_t* host_at(uint64_t addr, uint64_t len) const;
    void message(std::string text) const {
        if (log) log->push_back(std::move(text));
    }
};

class ArchLoader {
  public:
    virtual ~ArchLoader() = default;
    virtual Arch arch() const = 0;
    // module_frob_arch_sections(): size the PLT sections before layout.
    virtual Status frob_sections(ElfFile& elf, const std::string& modname) = 0;
    // apply_relocate() / apply_relocate_add() for one relocation section.
    virtual Status apply_relocations(ModuleImage& img, size_t relsec) = 0;
    // module_finalize(): alternatives, unwind tables, ...
    virtual Status finalize(ModuleImage& img) = 0;
    // ".init*" and the ARM unwind variants (module_init_section()).
    virtual bool is_init_section(const std::string& name) const;

    static std::unique_ptr<ArchLoader> create(Arch arch, bool thumb2_kernel);

  protected:
    // The start of both module_frob_arch_sections(): the .plt and .init.plt sections and the
    // symbol table must be there (module.lds puts the PLT sections in every module).
    static Status find_plt_sections(const ElfFile& elf, const std::string& modname, size_t& plt,
                                    size_t& init_plt);
    // Rewrites a PLT section header as the kernel does: NOBITS, AX, cache-line aligned.
    static void make_plt_section(ElfSection& s, uint64_t size);
};

}  // namespace kmodemu
