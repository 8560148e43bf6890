#include "loader/arch/arch.h"

#include "loader/arch/aarch64.h"
#include "loader/arch/arm.h"

namespace kmodemu {

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

std::unique_ptr<ArchLoader> ArchLoader::create(Arch arch, bool thumb2_kernel) {
    if (arch == Arch::arm64) return std::make_unique<Aarch64Loader>();
    return std::make_unique<ArmLoader>(thumb2_kernel);
}

}  // namespace kmodemu
