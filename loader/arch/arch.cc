#include "loader/arch/arch.h"

#include <elf.h>

#include <cerrno>

#include "loader/arch/aarch64.h"
#include "loader/arch/arm.h"

namespace kmodemu {

std::span<uint8_t> ModuleImage::bytes_at(uint64_t at) const {
    for (const ElfSection& s : elf->sections()) {
        uint64_t a = addr[s.index];
        if (!a || !host[s.index] || at < a || at - a >= s.hdr.sh_size) continue;
        return {host[s.index] + (at - a), s.hdr.sh_size - (at - a)};
    }
    return {};
}

uint8_t* ModuleImage::host_at(uint64_t at, uint64_t len) const {
    for (const ElfSection& s : elf->sections()) {
        uint64_t a = addr[s.index];
        if (!a || !host[s.index] || at < a || at - a > s.hdr.sh_size ||
            s.hdr.sh_size - (at - a) < len)
            continue;
        return host[s.index] + (at - a);
    }
    return nullptr;
}

bool ModuleImage::within_init(uint64_t place) const {
    for (size_t i = 0; i < addr.size(); ++i) {
        if (!addr[i] || !is_init[i]) continue;
        const GElf_Shdr& h = elf->sections()[i].hdr;
        if (place >= addr[i] && place < addr[i] + h.sh_size) return true;
    }
    return false;
}

bool ArchLoader::is_init_section(const std::string& name) const {
    return name.starts_with(".init");
}

Status ArchLoader::find_plt_sections(const ElfFile& elf, const std::string& modname, size_t& plt,
                                     size_t& init_plt) {
    plt = init_plt = 0;
    for (const auto& s : elf.sections()) {
        if (s.name == ".plt")
            plt = s.index;
        else if (s.name == ".init.plt")
            init_plt = s.index;
    }
    if (!plt || !init_plt) return {-ENOEXEC, modname + ": module PLT section(s) missing"};
    if (!elf.symtab_index()) return {-ENOEXEC, modname + ": module symtab section missing"};
    return Status::ok();
}

void ArchLoader::make_plt_section(ElfSection& s, uint64_t size) {
    s.hdr.sh_type = SHT_NOBITS;
    s.hdr.sh_flags = SHF_EXECINSTR | SHF_ALLOC;
    s.hdr.sh_addralign = 64;  // L1_CACHE_BYTES
    s.hdr.sh_size = size;
}

std::unique_ptr<ArchLoader> ArchLoader::create(Arch arch, bool thumb2_kernel) {
    if (arch == Arch::arm64) return std::make_unique<Aarch64Loader>();
    return std::make_unique<ArmLoader>(thumb2_kernel);
}

}  // namespace kmodemu
