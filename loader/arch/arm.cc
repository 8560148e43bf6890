#include "loader/arch/arm.h"
#include "loader/util.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loader/arch/arm_reloc.h"

namespace kmodemu {

namespace {

constexpr uint32_t plt_ent_count = arm::plt_ent_stride / 4;  // PLT_ENT_COUNT
constexpr uint32_t plt_ent_size = 8;                         // PLT_ENT_SIZE
constexpr uint32_t plt_block = 2 * arm::plt_ent_stride;      // sizeof(struct plt_entries)

int cmp_rel(const ElfReloc& a, const ElfReloc& b) {  // cmp_rel() in module-plts.c
    if (a.type != b.type) return a.type < b.type ? -1 : 1;
    if (a.sym != b.sym) return a.sym < b.sym ? -1 : 1;
    return 0;
}

// is_zero_addend_relocation(): the branch at the place carries the plain -8 / -4 PC bias.
bool is_zero_addend(const ElfFile& elf, size_t dst, const ElfReloc& r) {
    auto d = elf.section_data(dst);
    if (r.offset + 4 > d.size()) return false;
    const uint8_t* p = d.data() + r.offset;
    if (r.type == R_ARM_THM_PC22 || r.type == R_ARM_THM_JUMP24) {
        uint16_t upper, lower;
        std::memcpy(&upper, p, 2);
        std::memcpy(&lower, p + 2, 2);
        return (upper & 0x7ff) == 0x7ff && (lower & 0x2fff) == 0x2ffe;
    }
    return (get_u32(p) & 0xffffff) == 0xfffffe;
}

}  // namespace

bool ArmLoader::is_init_section(const std::string& name) const {
    return name.starts_with(".init") || name.starts_with(".ARM.extab.init") ||
           name.starts_with(".ARM.exidx.init");
}

// module_frob_arch_sections() (arch/arm/kernel/module-plts.c)
Status ArmLoader::frob_sections(ElfFile& elf, const std::string& modname) {
    sorted_.clear();  // of the module loaded before (one loader loads many)
    auto& secs = elf.sections();
    size_t plt, init_plt;
    if (Status st = find_plt_sections(elf, modname, plt, init_plt); !st) return st;
    size_t core_plts = 2, init_plts = 2;  // ARRAY_SIZE(fixed_plts)
    for (const auto& s : secs) {
        if (!s.index || s.hdr.sh_type != SHT_REL || s.hdr.sh_info >= secs.size()) continue;
        const ElfSection& dst = secs[s.hdr.sh_info];
        if (!(dst.hdr.sh_flags & SHF_EXECINSTR)) continue;
        std::vector<ElfReloc> rels = elf.relocations(s.index);
        std::sort(rels.begin(), rels.end(),
                  [](const ElfReloc& a, const ElfReloc& b) { return cmp_rel(a, b) < 0; });
        size_t n = 0;  // count_plts()
        for (size_t i = 0; i < rels.size(); ++i) {
            if (!arm::is_branch(rels[i].type) || rels[i].sym >= elf.num_symbols()) continue;
            if (elf.symbol(rels[i].sym).st_shndx == dst.index) continue;
            bool dup = i > 0 && cmp_rel(rels[i], rels[i - 1]) == 0;
            if (!is_zero_addend(elf, dst.index, rels[i]) || !dup) ++n;
        }
        if (is_init_section(dst.name))
            init_plts += n;
        else
            core_plts += n;
        sorted_[s.index] = std::move(rels);
    }
    auto resize = [](ElfSection& s, size_t entries) {
        make_plt_section(s, (entries * plt_ent_size + plt_block - 1) / plt_block * plt_block);
    };
    resize(secs[plt], core_plts);
    resize(secs[init_plt], init_plts);
    return Status::ok();
}

// get_module_plt(): entries come in blocks of PLT_ENT_COUNT `ldr pc, [pc, #STRIDE-8]` words
// followed by their literals; the fixed entries are preallocated first.
uint32_t ArmLoader::get_module_plt(ModuleImage& img, uint32_t loc, uint32_t val) {
    bool init = img.within_init(loc);
    size_t shndx = init ? img.init_plt_shndx : img.plt_shndx;
    size_t& count = init ? img.init_plt_used : img.plt_used;
    size_t size = img.elf->sections()[shndx].hdr.sh_size;
    uint8_t* base = img.host[shndx];
    uint32_t base_addr = static_cast<uint32_t>(img.addr[shndx]);
    uint32_t ldr = arm::plt_ldr_insn(thumb2_kernel_);
    auto ldr_at = [&](size_t block, size_t idx) { return base + block * plt_block + idx * 4; };
    auto lit_at = [&](size_t block, size_t idx) {
        return ldr_at(block, idx) + arm::plt_ent_stride;
    };
    auto addr_of = [&](size_t block, size_t idx) {
        return base_addr + static_cast<uint32_t>(block * plt_block + idx * 4);
    };
    if (count == 0) {  // prealloc_fixed()
        if (size < plt_block) return 0;
        for (uint32_t i = 0; i < plt_ent_count; ++i)
            put_u32(ldr_at(0, i), ldr);
        for (uint32_t i = 0; i < 2; ++i)
            put_u32(lit_at(0, i), fixed_plts[i]);
        count = 2;
    }
    for (size_t i = 0; i < 2; ++i)
        if (get_u32(lit_at(0, i)) == val) return addr_of(0, i);
    size_t block = (count - 1) / plt_ent_count, idx = (count - 1) % plt_ent_count;
    if (get_u32(lit_at(block, idx)) == val) return addr_of(block, idx);
    idx = (idx + 1) % plt_ent_count;
    if (!idx) ++block;
    if ((count + 1) * plt_ent_size > size) return 0;  // BUG_ON() in the kernel
    ++count;
    if (!idx) {
        for (uint32_t i = 0; i < plt_ent_count; ++i)
            put_u32(ldr_at(block, i), ldr);
        std::memset(lit_at(block, 0), 0, arm::plt_ent_stride);
    }
    put_u32(lit_at(block, idx), val);
    return addr_of(block, idx);
}

// apply_relocate() (arch/arm/kernel/module.c)
Status ArmLoader::apply_relocations(ModuleImage& img, size_t relsec) {
    const ElfFile& elf = *img.elf;
    const auto& secs = elf.sections();
    if (secs[relsec].hdr.sh_type != SHT_REL)
        return {-ENOEXEC, format("module %s: RELA relocation unsupported", img.name.c_str())};
    size_t dst = secs[relsec].hdr.sh_info;
    uint64_t dst_size = secs[dst].hdr.sh_size;
    size_t nsyms = secs[elf.symtab_index()].hdr.sh_size / sizeof(Elf32_Sym);
    auto it = sorted_.find(relsec);
    std::vector<ElfReloc> rels = it != sorted_.end() ? it->second : elf.relocations(relsec);
    for (size_t i = 0; i < rels.size(); ++i) {
        const ElfReloc& r = rels[i];
        // The kernel allows sym == nsyms (it tests '>'); kmodemu refuses it too, as reading
        // past the table would be reading outside the symtab.
        if (r.sym >= nsyms || r.sym >= elf.num_symbols())
            return {-ENOEXEC, format("%s: section %zu reloc %zu: bad relocation sym offset",
                                     img.name.c_str(), relsec, i)};
        std::string symname(elf.symbol_name(r.sym));
        if (dst_size < 4 || r.offset > dst_size - 4)
            return {-ENOEXEC,
                    format("%s: section %zu reloc %zu sym '%s': out of bounds relocation, "
                           "offset %d size %u",
                           img.name.c_str(), relsec, i, symname.c_str(), int(r.offset),
                           unsigned(dst_size))};
        uint32_t loc = static_cast<uint32_t>(img.addr[dst] + r.offset);
        uint8_t* host = img.host[dst] + r.offset;
        uint32_t sym = static_cast<uint32_t>(img.sym_value[r.sym]);
        bool is_func = GELF_ST_TYPE(elf.symbol(r.sym).st_info) == STT_FUNC;
        auto st = arm::apply_one(r.type, host, loc, sym, is_func, thumb2_kernel_);
        if (st == arm::RelocStatus::out_of_range && arm::is_branch(r.type)) {
            // CONFIG_ARM_MODULE_PLTS: branch through a PLT entry for offset + loc + bias.
            int32_t off = arm::branch_offset(r.type, host, loc, sym);
            uint32_t target = loc + static_cast<uint32_t>(off) + arm::branch_pc_bias(r.type);
            uint32_t plt = get_module_plt(img, loc, target);
            if (!plt) return {-ENOEXEC, "kmodemu: " + img.name + ": module PLT section full"};
            st = arm::encode_branch(r.type, host, loc, plt);
        }
        switch (st) {
            case arm::RelocStatus::ok:
                ++img.applied[r.type];
                break;
            case arm::RelocStatus::out_of_range:
                return {-ENOEXEC,
                        format("%s: section %zu reloc %zu sym '%s': relocation %u out "
                               "of range (%#x -> %#x)",
                               img.name.c_str(), relsec, i, symname.c_str(), r.type, loc, sym)};
            case arm::RelocStatus::interworking_arm:
                return {-ENOEXEC, format("%s: section %zu reloc %zu sym '%s': unsupported "
                                         "interworking call (ARM -> Thumb)",
                                         img.name.c_str(), relsec, i, symname.c_str())};
            case arm::RelocStatus::interworking_thumb:
                return {-ENOEXEC, format("%s: section %zu reloc %zu sym '%s': unsupported "
                                         "interworking call (Thumb -> ARM)",
                                         img.name.c_str(), relsec, i, symname.c_str())};
            case arm::RelocStatus::unknown:
                return {-ENOEXEC, format("%s: unknown relocation: %u", img.name.c_str(), r.type)};
        }
    }
    return Status::ok();
}

// module_finalize(): the unwind tables are registered by the kernel for its stack traces; the
// emulated CPU is SMP, so .alt.smp.init needs no fixup; .pv_table (CONFIG_ARM_PATCH_PHYS_VIRT)
// is patched with the kernel's __pv_offset as fixup_pv_table() does (arch/arm/kernel/
// phys2virt.S, __fixup_a_pv_table, ARM instruction set). Each entry is the PC-relative place of
// a __pv_stub() instruction (asm/memory.h): "add/sub rd, rn, #0x81000000" gets offset bits 31-24
// in its imm8, "add/sub rd, rd, #0x810000" (rotation 8, PV_ROT16_MASK) bits 23-16 (of a 2 MiB
// aligned offset), and an unrotated immediate (the "mov %R0, #0x81" of LPAE's
// __pv_add_carry_stub()) is cleared and becomes MVN when the high word is all ones (a negative
// offset). Not emulated: the MOVW stubs of LPAE and of a Thumb-2 kernel (left as linked).
Status ArmLoader::finalize(ModuleImage& img) {
    const ElfSection* pv = img.elf->find_section(".pv_table", true);
    if (!pv || thumb2_kernel_) return Status::ok();
    const uint8_t* table = img.host[pv->index];
    uint64_t table_addr = img.addr[pv->index];
    uint32_t low = static_cast<uint32_t>(pv_offset), high = static_cast<uint32_t>(pv_offset >> 32);
    uint32_t bits7_0 = high == 0xffffffffu ? 0x400000u : high;  // PV_BIT22: MOV to MVN
    for (uint64_t off = 0; off + 4 <= pv->hdr.sh_size; off += 4) {
        uint64_t place = table_addr + off + static_cast<int32_t>(get_u32(table + off));
        uint8_t* insn = img.host_at(place, 4);
        if (!insn) return {-ENOEXEC, "kmodemu: " + img.name + ": bad .pv_table entry"};
        uint32_t ip = get_u32(insn);
        if ((ip & 0x0c000000u) != 0 || (ip & 0x02000000u) == 0 || (ip & 0x00c00000u) == 0)
            return {-ENOEXEC, "kmodemu: " + img.name +
                                  ": .pv_table stub not emulated (not an immediate "
                                  "ADD/SUB/MOV: LPAE's MOVW)"};
        ip &= ~0xffu;  // PV_IMM8_MASK
        if ((ip & 0xf00) == 0) {
            ip = (ip & ~0x400000u) | bits7_0;
        } else if (ip & 0x800) {  // PV_ROT16_MASK
            ip |= (low >> 16) & 0xf0;
        } else {
            ip |= low >> 24;
        }
        put_u32(insn, ip);
    }
    return Status::ok();
}

}  // namespace kmodemu
