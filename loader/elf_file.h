// ELF reading (libelf) behind the kernel's own validity checks (elf_validity_check() and
// setup_load_info() in kernel/module/main.c): a file that the kernel would refuse gets the
// kernel's message and -ENOEXEC before libelf sees it.
#pragma once

#include <gelf.h>
#include <libelf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/emulator.h"

namespace kmodemu {

struct ElfSection {
    size_t index = 0;
    std::string name;
    GElf_Shdr hdr{};
};

struct ElfReloc {
    uint64_t offset;
    uint32_t sym;
    uint32_t type;
    int64_t addend;  // 0 for REL (the addend is in the place)
};

// Outcome of a check: 0 or -errno, with the kernel's message (without newline) when it has one.
struct Status {
    int err = 0;
    std::string message;
    static Status ok() { return {}; }
    explicit operator bool() const { return err == 0; }
};

class ElfFile {
  public:
    ElfFile() = default;
    ~ElfFile();
    ElfFile(const ElfFile&) = delete;
    ElfFile& operator=(const ElfFile&) = delete;

    // The architecture a file is for, from e_machine (offset 18 in both classes), if readable.
    static std::optional<Arch> sniff_arch(std::span<const uint8_t> bytes);

    // Validates like the kernel loading for `target`, then opens with libelf.
    Status open(std::vector<uint8_t> bytes, Arch target);

    Arch arch() const { return arch_; }
    bool is64() const { return arch_info(arch_).word_size == 8; }  // ELFCLASS64
    uint16_t machine() const { return machine_; }
    const std::vector<ElfSection>& sections() const { return sections_; }
    std::vector<ElfSection>& sections() { return sections_; }
    const ElfSection* find_section(std::string_view name, bool alloc_only) const;
    std::span<const uint8_t> section_data(size_t index) const;

    size_t symtab_index() const { return symtab_; }
    size_t num_symbols() const { return syms_.size(); }
    GElf_Sym& symbol(size_t i) { return syms_[i]; }
    const GElf_Sym& symbol(size_t i) const { return syms_[i]; }
    std::string_view symbol_name(size_t i) const;
    std::vector<ElfReloc> relocations(size_t section_index) const;
    std::span<const uint8_t> bytes() const { return bytes_; }

  private:
    template <class Ehdr, class Shdr>
    Status validate(Arch target);

    std::vector<uint8_t> bytes_;
    Elf* elf_ = nullptr;
    Arch arch_ = Arch::arm64;
    uint16_t machine_ = 0;
    std::vector<ElfSection> sections_;
    size_t symtab_ = 0;
    std::vector<GElf_Sym> syms_;
    std::string_view strtab_;
};

}  // namespace kmodemu
