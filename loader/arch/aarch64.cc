#include "loader/arch/aarch64.h"
#include "loader/util.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loader/arch/aarch64_reloc.h"

namespace kmodemu {

namespace {

constexpr size_t plt_entry_size = 12;  // struct plt_entry { adrp, add, br }
constexpr uint32_t a64_nop = 0xd503201f;

bool is_branch_plt_candidate(const ElfFile& elf, const ElfReloc& r, size_t dstidx) {
    // branch_rela_needs_plt(): branches to symbols defined in the same section never need one.
    if (!aarch64::is_branch26(r.type)) return false;
    if (r.sym >= elf.num_symbols()) return false;
    return elf.symbol(r.sym).st_shndx != dstidx;
}

int cmp_rela(const ElfReloc& a, const ElfReloc& b) {  // cmp_rela() in module-plts.c
    if (a.type != b.type) return a.type < b.type ? -1 : 1;
    if (a.sym != b.sym) return a.sym < b.sym ? -1 : 1;
    if (a.addend != b.addend) return a.addend < b.addend ? -1 : 1;
    return 0;
}

}  // namespace

// module_frob_arch_sections() (arch/arm64/kernel/module-plts.c)
Status Aarch64Loader::frob_sections(ElfFile& elf, const std::string& modname) {
    sorted_.clear();  // of the module loaded before (one loader loads many)
    auto& secs = elf.sections();
    size_t plt, init_plt;
    if (Status st = find_plt_sections(elf, modname, plt, init_plt); !st) return st;
    ElfSection* tramp = nullptr;
    for (auto& s : secs)
        if (s.name == ".text.ftrace_trampoline") tramp = &s;

    size_t core_plts = 0, init_plts = 0;
    for (const auto& s : secs) {
        if (s.hdr.sh_type != SHT_RELA || s.hdr.sh_info >= secs.size()) continue;
        const ElfSection& dst = secs[s.hdr.sh_info];
        if (!(dst.hdr.sh_flags & SHF_EXECINSTR)) continue;
        std::vector<ElfReloc> rels = elf.relocations(s.index);
        // partition_branch_plt_relas() then sort(cmp_rela) over the candidates.
        auto mid = std::stable_partition(rels.begin(), rels.end(), [&](const ElfReloc& r) {
            return is_branch_plt_candidate(elf, r, dst.index);
        });
        std::sort(rels.begin(), mid,
                  [](const ElfReloc& a, const ElfReloc& b) { return cmp_rela(a, b) < 0; });
        // count_plts(): unique candidates (a nonzero addend always counts).
        size_t n = 0;
        for (size_t i = 0; i < rels.size(); ++i) {
            if (!is_branch_plt_candidate(elf, rels[i], dst.index)) continue;
            bool dup = i > 0 && cmp_rela(rels[i], rels[i - 1]) == 0;
            if (rels[i].addend != 0 || !dup) ++n;
        }
        if (is_init_section(dst.name))
            init_plts += n;
        else
            core_plts += n;
        sorted_[s.index] = std::move(rels);
    }
    auto resize = [](ElfSection& s, size_t entries) {
        make_plt_section(s, (entries + 1) * plt_entry_size);
    };
    resize(secs[plt], core_plts);
    resize(secs[init_plt], init_plts);
    if (tramp) {
        tramp->hdr.sh_type = SHT_NOBITS;
        tramp->hdr.sh_flags = SHF_EXECINSTR | SHF_ALLOC;
        tramp->hdr.sh_addralign = 4;
        tramp->hdr.sh_size = 1 * plt_entry_size;  // NR_FTRACE_PLTS
    }
    return Status::ok();
}

// module_emit_plt_entry(): returns the entry's address, or 0 when the section is full.
uint64_t Aarch64Loader::emit_plt(ModuleImage& img, uint64_t loc, uint64_t val) {
    bool init = img.within_init(loc);
    size_t shndx = init ? img.init_plt_shndx : img.plt_shndx;
    size_t& used = init ? img.init_plt_used : img.plt_used;
    size_t max = init ? img.init_plt_max : img.plt_max;
    uint64_t base = img.addr[shndx];
    uint8_t* host = img.host[shndx];
    size_t i = used;
    if (i >= max) return 0;
    auto entry = aarch64::plt_entry(val, base + i * plt_entry_size);
    if (i > 0) {
        // plt_entries_equal(): the same add/br and the same ADRP target page.
        uint8_t* prev = host + (i - 1) * plt_entry_size;
        uint32_t padrp = get_u32(prev), padd = get_u32(prev + 4), pbr = get_u32(prev + 8);
        uint64_t p = (base + i * plt_entry_size) & ~0xfffull;
        uint64_t q = (base + (i - 1) * plt_entry_size) & ~0xfffull;
        if (entry[1] == padd && entry[2] == pbr &&
            ((entry[0] == padrp && p == q) ||
             p + aarch64::decode_adrp(entry[0]) == q + aarch64::decode_adrp(padrp)))
            return base + (i - 1) * plt_entry_size;
    }
    for (int k = 0; k < 3; ++k)
        put_u32(host + i * plt_entry_size + 4 * k, entry[k]);
    ++used;
    return base + i * plt_entry_size;
}

// apply_relocate_add() (arch/arm64/kernel/module.c). pr_fmt is "Modules: ".
Status Aarch64Loader::apply_relocations(ModuleImage& img, size_t relsec) {
    const ElfFile& elf = *img.elf;
    const auto& secs = elf.sections();
    if (secs[relsec].hdr.sh_type != SHT_RELA)
        return {-ENOEXEC, format("module %s: REL relocation unsupported", img.name.c_str())};
    size_t dst = secs[relsec].hdr.sh_info;
    auto it = sorted_.find(relsec);
    std::vector<ElfReloc> rels = it != sorted_.end() ? it->second : elf.relocations(relsec);
    uint64_t dst_size = secs[dst].hdr.sh_size;
    for (const ElfReloc& r : rels) {
        // The kernel does no bounds checks here; kmodemu must not write outside the image.
        size_t width = r.type == R_AARCH64_ABS64 || r.type == R_AARCH64_PREL64 ? 8 : 4;
        if (r.sym >= elf.num_symbols() || r.offset > dst_size || dst_size - r.offset < width) {
            return {-ENOEXEC, format("kmodemu: %s: relocation out of section bounds "
                                     "(section %zu, offset %#llx)",
                                     img.name.c_str(), dst, (unsigned long long)r.offset)};
        }
        uint64_t loc = img.addr[dst] + r.offset;
        uint8_t* host = img.host[dst] + r.offset;
        uint64_t val = img.sym_value[r.sym] + static_cast<uint64_t>(r.addend);
        auto st = aarch64::apply_one(r.type, host, loc, val);
        if (st == aarch64::RelocStatus::overflow && aarch64::is_branch26(r.type)) {
            val = emit_plt(img, loc, val);
            if (!val) return {-ENOEXEC, "kmodemu: " + img.name + ": module PLT section full"};
            st = aarch64::apply_one(r.type, host, loc, val);
        }
        if (st == aarch64::RelocStatus::unsupported)
            return {-ENOEXEC, format("module %s: unsupported RELA relocation: %llu",
                                     img.name.c_str(), (unsigned long long)r.type)};
        if (st == aarch64::RelocStatus::overflow)
            return {-ENOEXEC, format("module %s: overflow in relocation type %d val %llx",
                                     img.name.c_str(), int(r.type), (unsigned long long)val)};
        ++img.applied[r.type];
    }
    return Status::ok();
}

// module_finalize(): apply_alternatives_module() (arch/arm64/kernel/alternative.c).
Status Aarch64Loader::finalize(ModuleImage& img) {
    const ElfFile& elf = *img.elf;
    const ElfSection* alt = elf.find_section(".altinstructions", true);
    if (!alt) return Status::ok();
    const uint8_t* base = img.host[alt->index];
    uint64_t base_addr = img.addr[alt->index];
    size_t n = alt->hdr.sh_size / 12;  // struct alt_instr
    for (size_t k = 0; k < n; ++k) {
        const uint8_t* e = base + k * 12;
        int32_t orig_off, alt_off;
        uint16_t cpucap;
        std::memcpy(&orig_off, e, 4);
        std::memcpy(&alt_off, e + 4, 4);
        std::memcpy(&cpucap, e + 8, 2);
        uint8_t orig_len = e[10], alt_len = e[11];
        bool has_cb = cpucap & 0x8000;  // ARM64_CB_BIT
        unsigned cap = cpucap & 0x7fff;
        if (!cpucaps.count(cap)) continue;
        uint64_t entry = base_addr + k * 12;
        uint64_t orig = entry + static_cast<int64_t>(orig_off);
        uint64_t repl = entry + 4 + static_cast<int64_t>(alt_off);
        uint8_t* orig_host = img.host_at(orig, orig_len);
        if (!orig_host) return {-ENOEXEC, "kmodemu: " + img.name + ": bad .altinstructions entry"};
        size_t nr_inst = orig_len / 4;
        if (has_cb) {
            // The callback must be core kernel text; kmodemu implements alt_cb_patch_nops only.
            if (alt_len != 0 || repl < kernel_text_start || repl >= kernel_text_end)
                return {-ENOEXEC,
                        "kmodemu: " + img.name + ": alternative callback outside kernel text"};
            if (repl != alt_cb_patch_nops)
                return {-ENOEXEC, "kmodemu: " + img.name + ": unsupported alternative callback"};
            for (size_t j = 0; j < nr_inst; ++j)
                put_u32(orig_host + 4 * j, a64_nop);
        } else {
            const uint8_t* repl_host = img.host_at(repl, alt_len);
            if (!repl_host || alt_len != orig_len)
                return {-ENOEXEC, "kmodemu: " + img.name + ": bad .altinstructions entry"};
            // patch_alternative(): copy, fixing up B/BL that leave the replacement sequence.
            for (size_t j = 0; j < nr_inst; ++j) {
                uint32_t insn = get_u32(repl_host + 4 * j);
                if ((insn & 0x7c000000) == 0x14000000) {
                    uint64_t target = repl + 4 * j + aarch64::decode_branch26(insn);
                    if (target < repl || target >= repl + alt_len) {
                        int64_t off = static_cast<int64_t>(target - (orig + 4 * j));
                        insn =
                            (insn & 0xfc000000) | ((static_cast<uint64_t>(off) >> 2) & 0x03ffffff);
                    }
                }
                put_u32(orig_host + 4 * j, insn);
            }
        }
        ++alternatives_applied;
    }
    return Status::ok();
}

}  // namespace kmodemu
