// ARM32 REL relocations, behaving like arch/arm/kernel/module.c apply_relocate() (Linux 6.1) for
// one relocation on a little-endian kernel. See arm_reloc.h for the contract.
//
// The kernel works on an s32 `offset` and relies on wrap-around (-fno-strict-overflow). Here all
// arithmetic is done on uint32_t; the kernel's signed comparisons go through as_s32() and its
// arithmetic right shifts through asr(), so that no signed overflow or signed shift happens.
#include "loader/arch/arm_reloc.h"

#include <elf.h>

#include <bit>

namespace kmodemu::arm {
namespace {

constexpr uint32_t bit22 = uint32_t{1} << 22;  // ADD/SUB (imm): SUB opcode bit
constexpr uint32_t bit23 = uint32_t{1} << 23;  // ADD/SUB (imm): ADD opcode bit; LDR: U bit

uint32_t read32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void write32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

uint16_t read16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | p[1] << 8);
}

void write16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

int32_t as_s32(uint32_t v) {
    return static_cast<int32_t>(v);  // modular since C++20
}

// The kernel's `s32 >> n` for 0 <= n < 32.
uint32_t asr(uint32_t v, unsigned n) {
    if (n == 0) {
        return v;
    }
    const uint32_t fill = (v >> 31) != 0 ? ~uint32_t{0} << (32 - n) : 0;
    return (v >> n) | fill;
}

// Sign-extends the low `bits` bits of v.
uint32_t sext(uint32_t v, unsigned bits) {
    const uint32_t m = uint32_t{1} << (bits - 1);
    v &= (m << 1) - 1;
    return (v ^ m) - m;
}

// <linux/bitops.h> ror32()
uint32_t ror32(uint32_t word, unsigned shift) {
    return (word >> (shift & 31)) | (word << ((0u - shift) & 31));
}

bool is_thumb_type(uint32_t type) {
    switch (type) {
        case r_arm_thm_call:
        case R_ARM_THM_JUMP24:
        case R_ARM_THM_MOVW_ABS_NC:
        case R_ARM_THM_MOVT_ABS:
        case R_ARM_THM_MOVW_PREL_NC:
        case R_ARM_THM_MOVT_PREL:
            return true;
        default:
            return false;
    }
}

// get_group_rem(): the AAELF group partitioning. Each group takes the 8-bit chunk starting at
// the most significant set bit, rounded to an even bit position. Returns the shift (leading
// zero count rounded down to even, 32 for zero) of the value left for group `group`, which is
// stored back in `offset`.
uint32_t get_group_rem(uint32_t group, uint32_t& offset) {
    uint32_t val = offset;
    uint32_t shift = 0;
    for (;;) {
        // (31 - __fls(val)) & ~1, or 32 when nothing is left
        shift = val != 0 ? static_cast<uint32_t>(std::countl_zero(val)) & ~1u : 32;
        offset = val;
        if (val == 0) {
            break;
        }
        val &= 0xff'ffffu >> shift;
        if (group-- == 0) {
            break;
        }
    }
    return shift;
}

// The ARM branch encoder at the end of the PC24/CALL/JUMP24 case: keep cond and opcode.
void write_arm_branch(uint8_t* loc, uint32_t offset) {
    const uint32_t insn = read32(loc);
    write32(loc, (insn & 0xff00'0000u) | (asr(offset, 2) & 0x00ff'ffffu));
}

// The Thumb-2 BL/B.W encoder at the end of the THM_CALL/THM_JUMP24 case:
// S = offset[24], J1 = S ^ ~offset[23], J2 = S ^ ~offset[22], imm10 = offset[21:12],
// imm11 = offset[11:1]; upper[15:11] and lower[15:14,12] are kept (BL vs BLX vs B.W).
void write_thumb_branch(uint8_t* loc, uint32_t offset) {
    const uint32_t upper = read16(loc);
    const uint32_t lower = read16(loc + 2);
    const uint32_t sign = (offset >> 24) & 1;
    const uint32_t j1 = sign ^ (~(offset >> 23) & 1);
    const uint32_t j2 = sign ^ (~(offset >> 22) & 1);
    write16(loc, static_cast<uint16_t>((upper & 0xf800) | sign << 10 | ((offset >> 12) & 0x03ff)));
    write16(loc + 2, static_cast<uint16_t>((lower & 0xd000) | j1 << 13 | j2 << 11 |
                                           ((offset >> 1) & 0x07ff)));
}

// R_ARM_PC24 / CALL / JUMP24 and THM_CALL / THM_JUMP24 after the interworking check.
RelocStatus relocate_branch(uint32_t type, uint8_t* loc, uint32_t place, uint32_t sym) {
    const int32_t offset = branch_offset(type, loc, place, sym);
    // CONFIG_ARM_MODULE_PLTS: the kernel would call get_module_plt() here; see arm_reloc.h.
    if (!branch_in_range(type, offset)) {
        return RelocStatus::out_of_range;
    }
    if (is_thumb_branch(type)) {
        write_thumb_branch(loc, static_cast<uint32_t>(offset));
    } else {
        write_arm_branch(loc, static_cast<uint32_t>(offset));
    }
    return RelocStatus::ok;
}

// R_ARM_MOVW_ABS_NC / MOVT_ABS / MOVW_PREL_NC / MOVT_PREL: addend = sext16(imm4:imm12), no
// overflow check; MOVT takes bits [31:16] of the result.
void relocate_arm_mov(uint32_t type, uint8_t* loc, uint32_t place, uint32_t sym) {
    const uint32_t insn = read32(loc);
    uint32_t offset = sext(decode_arm_mov_imm16(insn), 16) + sym;
    if (type == R_ARM_MOVW_PREL_NC || type == R_ARM_MOVT_PREL) {
        offset -= place;
    }
    if (type == R_ARM_MOVT_ABS || type == R_ARM_MOVT_PREL) {
        offset = asr(offset, 16);
    }
    write32(loc, (insn & 0xfff0'f000u) | (offset & 0xf000) << 4 | (offset & 0x0fff));
}

// R_ARM_THM_MOVW_ABS_NC / THM_MOVT_ABS / THM_MOVW_PREL_NC / THM_MOVT_PREL: the same on the
// Thumb-2 imm4:i:imm3:imm8 split (upper[3:0], upper[10], lower[14:12], lower[7:0]).
void relocate_thumb_mov(uint32_t type, uint8_t* loc, uint32_t place, uint32_t sym) {
    const uint16_t upper = read16(loc);
    const uint16_t lower = read16(loc + 2);
    uint32_t offset = sext(decode_thumb_mov_imm16(upper, lower), 16) + sym;
    if (type == R_ARM_THM_MOVW_PREL_NC || type == R_ARM_THM_MOVT_PREL) {
        offset -= place;
    }
    if (type == R_ARM_THM_MOVT_ABS || type == R_ARM_THM_MOVT_PREL) {
        offset = asr(offset, 16);
    }
    write16(loc, static_cast<uint16_t>((upper & 0xfbf0u) | (offset & 0xf000) >> 12 |
                                       (offset & 0x0800) >> 1));
    write16(loc + 2,
            static_cast<uint16_t>((lower & 0x8f00u) | (offset & 0x0700) << 4 | (offset & 0x00ff)));
}

// R_ARM_ALU_PC_G0_NC / ALU_PC_G1_NC: ADD/SUB Rd, Rn, #imm. The signed addend comes from the
// rotated immediate and the opcode; the result picks ADD or SUB by sign and encodes the chunk
// of group `group` as imm8 + rotation (or as a plain imm8 when it fits). No range check.
void relocate_alu_pc(uint32_t group, uint8_t* loc, uint32_t place, uint32_t sym) {
    uint32_t insn = read32(loc);
    uint32_t offset = decode_arm_alu_imm(insn);
    if ((insn & bit22) != 0) {
        offset = 0u - offset;
    }
    offset += sym - place;
    if (as_s32(offset) < 0) {
        offset = 0u - offset;
        insn = (insn & ~bit23) | bit22;  // SUB
    } else {
        insn = (insn & ~bit22) | bit23;  // ADD
    }
    const uint32_t shift = get_group_rem(group, offset);
    if (shift < 24) {
        // An arithmetic shift in the kernel: only offset == INT_MIN (whose negation is itself)
        // has bit 31 set here, and then the sign fill spills into the opcode bits, as there.
        offset = asr(offset, 24 - shift);
        offset |= (shift + 8) << 7;
    }
    write32(loc, (insn & ~0xfffu) | offset);
}

// R_ARM_LDR_PC_G2: LDR Rd, [Rn, #+/-imm12]. The remainder after groups 0 and 1 must fit imm12.
RelocStatus relocate_ldr_pc_g2(uint8_t* loc, uint32_t place, uint32_t sym) {
    uint32_t insn = read32(loc);
    uint32_t offset = insn & 0xfff;
    if ((insn & bit23) == 0) {  // U clear: subtract
        offset = 0u - offset;
    }
    offset += sym - place;
    if (as_s32(offset) < 0) {
        offset = 0u - offset;
        insn &= ~bit23;
    } else {
        insn |= bit23;
    }
    get_group_rem(2, offset);
    if (as_s32(offset) > 0xfff) {
        return RelocStatus::out_of_range;
    }
    write32(loc, (insn & ~0xfffu) | offset);
    return RelocStatus::ok;
}

}  // namespace

// The switch of apply_relocate().
RelocStatus apply_one(uint32_t type, uint8_t* loc, uint32_t place, uint32_t sym, bool sym_is_func,
                      bool thumb2_kernel) {
    if (is_thumb_type(type) && !thumb2_kernel) {
        return RelocStatus::unknown;  // not compiled in without CONFIG_THUMB2_KERNEL
    }

    switch (type) {
        case R_ARM_NONE:
            return RelocStatus::ok;

        case R_ARM_ABS32:
        case R_ARM_TARGET1:
            write32(loc, read32(loc) + sym);
            return RelocStatus::ok;

        case R_ARM_PC24:
        case R_ARM_CALL:
        case R_ARM_JUMP24:
            if ((sym & 3) != 0) {
                return RelocStatus::interworking_arm;
            }
            return relocate_branch(type, loc, place, sym);

        case R_ARM_V4BX:
            // BX Rm -> MOV PC, Rm, keeping cond and Rm; unconditionally, even on v7.
            write32(loc, (read32(loc) & 0xf000'000fu) | 0x01a0'f000u);
            return RelocStatus::ok;

        case R_ARM_PREL31: {
            const uint32_t word = read32(loc);
            const uint32_t offset = sext(word, 31) + sym - place;
            if (as_s32(offset) >= 0x4000'0000 || as_s32(offset) < -0x4000'0000) {
                return RelocStatus::out_of_range;
            }
            write32(loc, (word & 0x8000'0000u) | (offset & 0x7fff'ffffu));
            return RelocStatus::ok;
        }

        case R_ARM_REL32:
            write32(loc, read32(loc) + sym - place);
            return RelocStatus::ok;

        case R_ARM_MOVW_ABS_NC:
        case R_ARM_MOVT_ABS:
        case R_ARM_MOVW_PREL_NC:
        case R_ARM_MOVT_PREL:
            relocate_arm_mov(type, loc, place, sym);
            return RelocStatus::ok;

        // CONFIG_ARM_HAS_GROUP_RELOCS
        case R_ARM_ALU_PC_G0_NC:
            relocate_alu_pc(0, loc, place, sym);
            return RelocStatus::ok;
        case R_ARM_ALU_PC_G1_NC:
            relocate_alu_pc(1, loc, place, sym);
            return RelocStatus::ok;
        case R_ARM_LDR_PC_G2:
            return relocate_ldr_pc_g2(loc, place, sym);

        // CONFIG_THUMB2_KERNEL
        case r_arm_thm_call:
        case R_ARM_THM_JUMP24:
            // Only a function symbol is known to be ARM when its bit 0 is clear; other symbols
            // are assumed not to need interworking.
            if (sym_is_func && (sym & 1) == 0) {
                return RelocStatus::interworking_thumb;
            }
            return relocate_branch(type, loc, place, sym);

        case R_ARM_THM_MOVW_ABS_NC:
        case R_ARM_THM_MOVT_ABS:
        case R_ARM_THM_MOVW_PREL_NC:
        case R_ARM_THM_MOVT_PREL:
            relocate_thumb_mov(type, loc, place, sym);
            return RelocStatus::ok;

        default:
            return RelocStatus::unknown;
    }
}

bool is_supported(uint32_t type, bool thumb2_kernel) {
    if (is_thumb_type(type)) {
        return thumb2_kernel;
    }
    switch (type) {
        case R_ARM_NONE:
        case R_ARM_ABS32:
        case R_ARM_TARGET1:
        case R_ARM_PC24:
        case R_ARM_CALL:
        case R_ARM_JUMP24:
        case R_ARM_V4BX:
        case R_ARM_PREL31:
        case R_ARM_REL32:
        case R_ARM_MOVW_ABS_NC:
        case R_ARM_MOVT_ABS:
        case R_ARM_MOVW_PREL_NC:
        case R_ARM_MOVT_PREL:
        case R_ARM_ALU_PC_G0_NC:
        case R_ARM_ALU_PC_G1_NC:
        case R_ARM_LDR_PC_G2:
            return true;
        default:
            return false;
    }
}

bool is_branch(uint32_t type) {
    return type == R_ARM_PC24 || type == R_ARM_CALL || type == R_ARM_JUMP24 ||
           is_thumb_branch(type);
}

bool is_thumb_branch(uint32_t type) {
    return type == r_arm_thm_call || type == R_ARM_THM_JUMP24;
}

uint32_t branch_pc_bias(uint32_t type) {
    if (is_thumb_branch(type)) {
        return 4;
    }
    return is_branch(type) ? 8 : 0;
}

int32_t branch_offset(uint32_t type, const uint8_t* loc, uint32_t place, uint32_t sym) {
    if (!is_branch(type)) {
        return 0;
    }
    const uint32_t addend =
        is_thumb_branch(type)
            ? static_cast<uint32_t>(decode_thumb_branch(read16(loc), read16(loc + 2)))
            : static_cast<uint32_t>(decode_arm_branch(read32(loc)));
    return as_s32(addend + sym - place);
}

bool branch_in_range(uint32_t type, int32_t offset) {
    if (is_thumb_branch(type)) {
        // offset <= (s32)0xff000000 || offset >= (s32)0x01000000 is out of range
        return offset > -0x0100'0000 && offset < 0x0100'0000;
    }
    if (is_branch(type)) {
        // offset <= (s32)0xfe000000 || offset >= (s32)0x02000000 is out of range
        return offset > -0x0200'0000 && offset < 0x0200'0000;
    }
    return false;
}

RelocStatus encode_branch(uint32_t type, uint8_t* loc, uint32_t place, uint32_t target) {
    if (!is_branch(type)) {
        return RelocStatus::unknown;
    }
    // get_module_plt(...) - loc - 8 (ARM) or - 4 (Thumb), then the same range test and encoder.
    const uint32_t offset = target - place - branch_pc_bias(type);
    if (!branch_in_range(type, as_s32(offset))) {
        return RelocStatus::out_of_range;
    }
    if (is_thumb_branch(type)) {
        write_thumb_branch(loc, offset);
    } else {
        write_arm_branch(loc, offset);
    }
    return RelocStatus::ok;
}

const char* reloc_name(uint32_t type) {
#define KMODEMU_RELOC_NAME(r) \
    case r:                   \
        return #r;
    switch (type) {
        case r_arm_thm_call:
            return "R_ARM_THM_CALL";
        case r_arm_thm_jump11:
            return "R_ARM_THM_JUMP11";
        case r_arm_thm_jump8:
            return "R_ARM_THM_JUMP8";
            KMODEMU_RELOC_NAME(R_ARM_NONE)
            KMODEMU_RELOC_NAME(R_ARM_PC24)
            KMODEMU_RELOC_NAME(R_ARM_ABS32)
            KMODEMU_RELOC_NAME(R_ARM_REL32)
            KMODEMU_RELOC_NAME(R_ARM_ABS16)
            KMODEMU_RELOC_NAME(R_ARM_ABS12)
            KMODEMU_RELOC_NAME(R_ARM_THM_ABS5)
            KMODEMU_RELOC_NAME(R_ARM_ABS8)
            KMODEMU_RELOC_NAME(R_ARM_SBREL32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_DESC)
            KMODEMU_RELOC_NAME(R_ARM_TLS_DTPMOD32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_DTPOFF32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_TPOFF32)
            KMODEMU_RELOC_NAME(R_ARM_COPY)
            KMODEMU_RELOC_NAME(R_ARM_GLOB_DAT)
            KMODEMU_RELOC_NAME(R_ARM_JUMP_SLOT)
            KMODEMU_RELOC_NAME(R_ARM_RELATIVE)
            KMODEMU_RELOC_NAME(R_ARM_GOTOFF)
            KMODEMU_RELOC_NAME(R_ARM_GOTPC)
            KMODEMU_RELOC_NAME(R_ARM_GOT32)
            KMODEMU_RELOC_NAME(R_ARM_PLT32)
            KMODEMU_RELOC_NAME(R_ARM_CALL)
            KMODEMU_RELOC_NAME(R_ARM_JUMP24)
            KMODEMU_RELOC_NAME(R_ARM_THM_JUMP24)
            KMODEMU_RELOC_NAME(R_ARM_BASE_ABS)
            KMODEMU_RELOC_NAME(R_ARM_TARGET1)
            KMODEMU_RELOC_NAME(R_ARM_SBREL31)
            KMODEMU_RELOC_NAME(R_ARM_V4BX)
            KMODEMU_RELOC_NAME(R_ARM_TARGET2)
            KMODEMU_RELOC_NAME(R_ARM_PREL31)
            KMODEMU_RELOC_NAME(R_ARM_MOVW_ABS_NC)
            KMODEMU_RELOC_NAME(R_ARM_MOVT_ABS)
            KMODEMU_RELOC_NAME(R_ARM_MOVW_PREL_NC)
            KMODEMU_RELOC_NAME(R_ARM_MOVT_PREL)
            KMODEMU_RELOC_NAME(R_ARM_THM_MOVW_ABS_NC)
            KMODEMU_RELOC_NAME(R_ARM_THM_MOVT_ABS)
            KMODEMU_RELOC_NAME(R_ARM_THM_MOVW_PREL_NC)
            KMODEMU_RELOC_NAME(R_ARM_THM_MOVT_PREL)
            KMODEMU_RELOC_NAME(R_ARM_THM_JUMP19)
            KMODEMU_RELOC_NAME(R_ARM_THM_JUMP6)
            KMODEMU_RELOC_NAME(R_ARM_THM_ALU_PREL_11_0)
            KMODEMU_RELOC_NAME(R_ARM_THM_PC12)
            KMODEMU_RELOC_NAME(R_ARM_ABS32_NOI)
            KMODEMU_RELOC_NAME(R_ARM_REL32_NOI)
            KMODEMU_RELOC_NAME(R_ARM_ALU_PC_G0_NC)
            KMODEMU_RELOC_NAME(R_ARM_ALU_PC_G0)
            KMODEMU_RELOC_NAME(R_ARM_ALU_PC_G1_NC)
            KMODEMU_RELOC_NAME(R_ARM_ALU_PC_G1)
            KMODEMU_RELOC_NAME(R_ARM_ALU_PC_G2)
            KMODEMU_RELOC_NAME(R_ARM_LDR_PC_G1)
            KMODEMU_RELOC_NAME(R_ARM_LDR_PC_G2)
            KMODEMU_RELOC_NAME(R_ARM_LDRS_PC_G0)
            KMODEMU_RELOC_NAME(R_ARM_LDRS_PC_G1)
            KMODEMU_RELOC_NAME(R_ARM_LDRS_PC_G2)
            KMODEMU_RELOC_NAME(R_ARM_LDC_PC_G0)
            KMODEMU_RELOC_NAME(R_ARM_LDC_PC_G1)
            KMODEMU_RELOC_NAME(R_ARM_LDC_PC_G2)
            KMODEMU_RELOC_NAME(R_ARM_TLS_GOTDESC)
            KMODEMU_RELOC_NAME(R_ARM_TLS_CALL)
            KMODEMU_RELOC_NAME(R_ARM_TLS_DESCSEQ)
            KMODEMU_RELOC_NAME(R_ARM_THM_TLS_CALL)
            KMODEMU_RELOC_NAME(R_ARM_PLT32_ABS)
            KMODEMU_RELOC_NAME(R_ARM_GOT_ABS)
            KMODEMU_RELOC_NAME(R_ARM_GOT_PREL)
            KMODEMU_RELOC_NAME(R_ARM_GOT_BREL12)
            KMODEMU_RELOC_NAME(R_ARM_GOTOFF12)
            KMODEMU_RELOC_NAME(R_ARM_GOTRELAX)
            KMODEMU_RELOC_NAME(R_ARM_GNU_VTENTRY)
            KMODEMU_RELOC_NAME(R_ARM_GNU_VTINHERIT)
            KMODEMU_RELOC_NAME(R_ARM_TLS_GD32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_LDM32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_LDO32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_IE32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_LE32)
            KMODEMU_RELOC_NAME(R_ARM_TLS_LDO12)
            KMODEMU_RELOC_NAME(R_ARM_TLS_LE12)
            KMODEMU_RELOC_NAME(R_ARM_TLS_IE12GP)
            KMODEMU_RELOC_NAME(R_ARM_THM_TLS_DESCSEQ16)
            KMODEMU_RELOC_NAME(R_ARM_THM_TLS_DESCSEQ32)
            KMODEMU_RELOC_NAME(R_ARM_THM_GOT_BREL12)
            KMODEMU_RELOC_NAME(R_ARM_IRELATIVE)
        default:
            return nullptr;
    }
#undef KMODEMU_RELOC_NAME
}

uint32_t plt_ldr_insn(bool thumb) {
    if (thumb) {
        // __opcode_to_mem_thumb32() on little-endian: swap the halfwords (swahw32).
        return plt_ldr_thumb_opcode << 16 | plt_ldr_thumb_opcode >> 16;
    }
    return plt_ldr_arm_opcode;
}

int32_t decode_arm_branch(uint32_t insn) {
    // (insn & 0x00ffffff) << 2, then minus 0x04000000 if bit 25 is set
    return as_s32(sext((insn & 0x00ff'ffffu) << 2, 26));
}

int32_t decode_thumb_branch(uint16_t upper, uint16_t lower) {
    const uint32_t sign = (upper >> 10) & 1u;
    const uint32_t j1 = (lower >> 13) & 1u;
    const uint32_t j2 = (lower >> 11) & 1u;
    const uint32_t offset = sign << 24 | (~(j1 ^ sign) & 1) << 23 | (~(j2 ^ sign) & 1) << 22 |
                            (upper & 0x03ffu) << 12 | (lower & 0x07ffu) << 1;
    return as_s32(sext(offset, 25));
}

uint32_t decode_arm_mov_imm16(uint32_t insn) {
    return (insn & 0xf'0000u) >> 4 | (insn & 0xfffu);
}

uint32_t decode_thumb_mov_imm16(uint16_t upper, uint16_t lower) {
    return (upper & 0x000fu) << 12 | (upper & 0x0400u) << 1 | (lower & 0x7000u) >> 4 |
           (lower & 0x00ffu);
}

uint32_t decode_arm_alu_imm(uint32_t insn) {
    return ror32(insn & 0xff, (insn & 0xf00) >> 7);
}

}  // namespace kmodemu::arm
