#include "loader/elf_file.h"
#include "loader/util.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kmodemu {

namespace {

Status no_exec(std::string msg) {
    return Status{-ENOEXEC, std::move(msg)};
}

}  // namespace

ElfFile::~ElfFile() {
    if (elf_) elf_end(elf_);
}

std::optional<Arch> ElfFile::sniff_arch(std::span<const uint8_t> bytes) {
    if (bytes.size() < 20) return std::nullopt;
    uint16_t m;
    std::memcpy(&m, bytes.data() + 18, 2);
    for (Arch a : {Arch::arm64, Arch::arm})
        if (m == arch_info(a).elf_machine) return a;
    return std::nullopt;
}

// Mirrors elf_validity_check() (kernel/module/main.c, 6.1), with the string-table checks that
// later kernels added (elf_validity_cache_strtab()), so that no later access can go out of bounds.
template <class Ehdr, class Shdr>
Status ElfFile::validate(Arch target) {
    const size_t len = bytes_.size();
    if (len < sizeof(Ehdr)) return no_exec(format("Invalid ELF header len %zu", len));
    Ehdr hdr;
    std::memcpy(&hdr, bytes_.data(), sizeof hdr);
    if (std::memcmp(hdr.e_ident, ELFMAG, SELFMAG) != 0)
        return no_exec("Invalid ELF header magic: != " ELFMAG);
    if (hdr.e_type != ET_REL)
        return no_exec(format("Invalid ELF header type: %u != %u", hdr.e_type, ET_REL));
    // elf_check_arch(): arch/arm64 compares e_machine; arch/arm/kernel/elf.c also rejects
    // executable entry points and old-ABI flags that cannot matter for ET_REL.
    if (hdr.e_machine != arch_info(target).elf_machine)
        return no_exec(format("Invalid architecture in ELF header: %u", hdr.e_machine));
    if (hdr.e_shentsize != sizeof(Shdr)) return no_exec("Invalid ELF section header size");
    if (hdr.e_shoff >= len || hdr.e_shnum * sizeof(Shdr) > len - hdr.e_shoff)
        return no_exec("Invalid ELF section header overflow");
    // With e_shnum 0 the kernel still reads section 0 at e_shoff (it is inside the file).
    std::vector<Shdr> sh(std::max<size_t>(hdr.e_shnum, 1));
    size_t avail = std::min<size_t>(sh.size() * sizeof(Shdr), len - hdr.e_shoff);
    std::memcpy(sh.data(), bytes_.data() + hdr.e_shoff, avail);

    auto section_ok = [&](const Shdr& s) {  // validate_section_offset()
        uint64_t end = uint64_t(s.sh_offset) + s.sh_size;
        return end >= s.sh_offset && end <= len;
    };
    if (sh[0].sh_type != SHT_NULL || sh[0].sh_size != 0 || sh[0].sh_addr != 0)
        return no_exec(
            format("ELF Spec violation: section 0 type(%d)!=SH_NULL or non-zero len or addr",
                   int(sh[0].sh_type)));
    if (hdr.e_shstrndx == SHN_UNDEF || hdr.e_shstrndx >= hdr.e_shnum)
        return no_exec(
            format("Invalid ELF section name index: %d || e_shstrndx (%d) >= e_shnum (%d)",
                   hdr.e_shstrndx, hdr.e_shstrndx, hdr.e_shnum));
    const Shdr& strhdr = sh[hdr.e_shstrndx];
    if (!section_ok(strhdr))
        return no_exec(format("Invalid ELF section hdr(type %u)", unsigned(strhdr.sh_type)));
    if (strhdr.sh_size == 0) return no_exec("empty section name table");
    const char* secstrings = reinterpret_cast<const char*>(bytes_.data() + strhdr.sh_offset);
    if (secstrings[strhdr.sh_size - 1] != '\0')
        return no_exec("ELF Spec violation: section name table isn't null terminated");

    size_t symtab = 0;
    for (unsigned i = 1; i < hdr.e_shnum; ++i) {
        const Shdr& s = sh[i];
        if (s.sh_type == SHT_NULL || s.sh_type == SHT_NOBITS) continue;
        if (s.sh_type == SHT_SYMTAB) {
            if (s.sh_link == SHN_UNDEF || s.sh_link >= hdr.e_shnum)
                return no_exec(
                    format("Invalid ELF sh_link!=SHN_UNDEF(%d) or (sh_link(%d) >= hdr->e_shnum(%d)",
                           s.sh_link, s.sh_link, hdr.e_shnum));
            if (!symtab) symtab = i;
        }
        if (!section_ok(s))
            return no_exec(format("Invalid ELF section in module (section %u type %u)", i,
                                  unsigned(s.sh_type)));
        // kmodemu checks every name (newer kernels do; 6.1 only SHF_ALLOC ones).
        if (s.sh_name >= strhdr.sh_size)
            return no_exec(format("Invalid ELF section name in module (section %u type %u)", i,
                                  unsigned(s.sh_type)));
    }
    // A NOBITS section's name is used too; newer kernels check it (SHT_NULL ones are skipped).
    for (unsigned i = 1; i < hdr.e_shnum; ++i)
        if (sh[i].sh_type != SHT_NULL && sh[i].sh_name >= strhdr.sh_size)
            return no_exec(format("Invalid ELF section name in module (section %u type %u)", i,
                                  unsigned(sh[i].sh_type)));

    if (!symtab) return Status::ok();  // the loader reports "module has no symbols"
    // elf_validity_cache_strtab() (newer kernels): the symbol string table.
    const Shdr& symhdr = sh[symtab];
    const Shdr& strtab = sh[symhdr.sh_link];
    if (strtab.sh_type == SHT_NOBITS || strtab.sh_size == 0)
        return no_exec("empty symbol string table");
    const char* strings = reinterpret_cast<const char*>(bytes_.data() + strtab.sh_offset);
    if (strings[0] != '\0') return no_exec("symbol string table missing leading NUL");
    if (strings[strtab.sh_size - 1] != '\0')
        return no_exec("symbol string table isn't NUL terminated");
    return Status::ok();
}

Status ElfFile::open(std::vector<uint8_t> bytes, Arch target) {
    bytes_ = std::move(bytes);
    arch_ = target;
    Status st = is64() ? validate<Elf64_Ehdr, Elf64_Shdr>(target)
                       : validate<Elf32_Ehdr, Elf32_Shdr>(target);
    if (!st) return st;
    std::memcpy(&machine_, bytes_.data() + 18, 2);

    // The kernel checks only the four magic bytes and reads the native structures whatever
    // EI_CLASS, EI_DATA and EI_VERSION say; libelf follows them. Make them say what the kernel
    // assumes, so that both read the file the same way.
    bytes_[EI_CLASS] = arch_info(target).elf_class;
    bytes_[EI_DATA] = ELFDATA2LSB;
    bytes_[EI_VERSION] = EV_CURRENT;
    elf_version(EV_CURRENT);
    elf_ = elf_memory(reinterpret_cast<char*>(bytes_.data()), bytes_.size());
    if (!elf_ || elf_kind(elf_) != ELF_K_ELF)
        return no_exec(std::string("kmodemu: libelf: ") + elf_errmsg(-1));
    size_t shnum = 0, shstrndx = 0;
    if (elf_getshdrnum(elf_, &shnum) != 0 || elf_getshdrstrndx(elf_, &shstrndx) != 0)
        return no_exec(std::string("kmodemu: libelf: ") + elf_errmsg(-1));
    sections_.resize(shnum);
    for (size_t i = 0; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(elf_, i);
        if (!scn || !gelf_getshdr(scn, &sections_[i].hdr))
            return no_exec(std::string("kmodemu: libelf: ") + elf_errmsg(-1));
        sections_[i].index = i;
        const char* n = elf_strptr(elf_, shstrndx, sections_[i].hdr.sh_name);
        sections_[i].name = n ? n : "";
        if (!symtab_ && sections_[i].hdr.sh_type == SHT_SYMTAB) symtab_ = i;
    }
    // Symbols.
    const GElf_Shdr& sym = sections_[symtab_].hdr;
    size_t entsize = is64() ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    size_t nsyms = sym.sh_size / entsize;
    Elf_Data* data = elf_getdata(elf_getscn(elf_, symtab_), nullptr);
    if (!data && nsyms) return no_exec(std::string("kmodemu: libelf: ") + elf_errmsg(-1));
    syms_.resize(nsyms);
    for (size_t i = 0; i < nsyms; ++i)
        if (!gelf_getsym(data, static_cast<int>(i), &syms_[i]))
            return no_exec(std::string("kmodemu: libelf: ") + elf_errmsg(-1));
    const GElf_Shdr& str = sections_[sym.sh_link].hdr;
    strtab_ =
        std::string_view(reinterpret_cast<const char*>(bytes_.data() + str.sh_offset), str.sh_size);
    for (size_t i = 1; i < nsyms; ++i)
        if (syms_[i].st_name >= strtab_.size())
            return no_exec("symbol name out of bounds in string table");
    return Status::ok();
}

const ElfSection* ElfFile::find_section(std::string_view name, bool alloc_only) const {
    for (const auto& s : sections_)
        if (s.index && s.name == name && (!alloc_only || (s.hdr.sh_flags & SHF_ALLOC))) return &s;
    return nullptr;
}

std::span<const uint8_t> ElfFile::section_data(size_t index) const {
    const GElf_Shdr& h = sections_.at(index).hdr;
    if (h.sh_type == SHT_NOBITS) return {};
    return std::span<const uint8_t>(bytes_.data() + h.sh_offset, h.sh_size);
}

std::string_view ElfFile::symbol_name(size_t i) const {
    return std::string_view(strtab_.data() + syms_.at(i).st_name);
}

std::vector<ElfReloc> ElfFile::relocations(size_t section_index) const {
    std::vector<ElfReloc> out;
    const GElf_Shdr& h = sections_.at(section_index).hdr;
    Elf_Data* data = elf_getdata(elf_getscn(elf_, section_index), nullptr);
    if (!data) return out;
    bool rela = h.sh_type == SHT_RELA;
    size_t entsize = rela ? (is64() ? sizeof(Elf64_Rela) : sizeof(Elf32_Rela))
                          : (is64() ? sizeof(Elf64_Rel) : sizeof(Elf32_Rel));
    size_t n = h.sh_size / entsize;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (rela) {
            GElf_Rela r;
            if (!gelf_getrela(data, static_cast<int>(i), &r)) break;
            out.push_back({r.r_offset, static_cast<uint32_t>(GELF_R_SYM(r.r_info)),
                           static_cast<uint32_t>(GELF_R_TYPE(r.r_info)), r.r_addend});
        } else {
            GElf_Rel r;
            if (!gelf_getrel(data, static_cast<int>(i), &r)) break;
            out.push_back({r.r_offset, static_cast<uint32_t>(GELF_R_SYM(r.r_info)),
                           static_cast<uint32_t>(GELF_R_TYPE(r.r_info)), 0});
        }
    }
    return out;
}

}  // namespace kmodemu
