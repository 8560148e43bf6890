// AArch64 RELA relocations, behaving like arch/arm64/kernel/module.c apply_relocate_add()
// (Linux 6.1-6.9) for one relocation. See aarch64_reloc.h for the contract.
//
// All arithmetic is done on uint64_t; the kernel's s64 arithmetic shifts are reproduced with
// asr() so that no signed shift or signed overflow happens here.
#include "loader/arch/aarch64_reloc.h"

#include <elf.h>

namespace kmodemu::aarch64 {
namespace {

// enum aarch64_reloc_op
enum class Op { none, abs, prel, page };

// enum aarch64_insn_movw_imm_type
enum class MovwImm { movnz, movkz };

// The subset of enum aarch64_insn_imm_type that module relocations use.
enum class Imm { adr, imm26, imm19, imm16, imm14, imm12 };

constexpr uint64_t page_mask = ~uint64_t{0xfff};

uint32_t read32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void write_le(uint8_t* p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        p[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

bool is_negative(uint64_t v) {
    return (v >> 63) != 0;
}

// Arithmetic shift right of a two's complement 64-bit value (the kernel's `s64 >> n`).
uint64_t asr(uint64_t v, unsigned n) {
    if (n == 0) {
        return v;
    }
    const uint64_t fill = is_negative(v) ? ~uint64_t{0} << (64 - n) : 0;
    return (v >> n) | fill;
}

// Sign-extends the low `bits` bits of v.
int64_t sign_extend(uint64_t v, unsigned bits) {
    const uint64_t m = uint64_t{1} << (bits - 1);
    v &= (uint64_t{1} << bits) - 1;
    return static_cast<int64_t>((v ^ m) - m);
}

// do_reloc()
uint64_t do_reloc(Op op, uint64_t place, uint64_t val) {
    switch (op) {
        case Op::abs:
            return val;
        case Op::prel:
            return val - place;
        case Op::page:
            return (val & page_mask) - (place & page_mask);
        case Op::none:
            break;
    }
    return 0;
}

// aarch64_insn_encode_immediate() (arch/arm64/lib/insn.c), including its refusal to touch an
// instruction that already is AARCH64_BREAK_FAULT.
uint32_t encode_immediate(Imm type, uint32_t insn, uint64_t imm) {
    if (insn == break_fault_insn) {
        return break_fault_insn;
    }
    uint32_t mask = 0;
    int shift = 0;
    switch (type) {
        case Imm::adr: {
            // immlo = imm[1:0] at [30:29], immhi = imm[20:2] at [23:5].
            const uint32_t immlo = static_cast<uint32_t>(imm & 0x3) << 29;
            const uint32_t immhi = static_cast<uint32_t>((imm >> 2) & 0x7ffff) << 5;
            imm = immlo | immhi;
            mask = (0x3u << 29) | (0x7ffffu << 5);
            break;
        }
        case Imm::imm26:
            mask = (1u << 26) - 1;
            break;
        case Imm::imm19:
            mask = (1u << 19) - 1;
            shift = 5;
            break;
        case Imm::imm16:
            mask = (1u << 16) - 1;
            shift = 5;
            break;
        case Imm::imm14:
            mask = (1u << 14) - 1;
            shift = 5;
            break;
        case Imm::imm12:
            mask = (1u << 12) - 1;
            shift = 10;
            break;
    }
    insn &= ~(mask << shift);
    insn |= (static_cast<uint32_t>(imm) & mask) << shift;
    return insn;
}

// reloc_data(): writes the low `len` bits of the value first, then range-checks it: ABS as
// unsigned, PREL as signed, 64-bit never. Returns true on -ERANGE.
bool reloc_data(Op op, uint8_t* loc, uint64_t place, uint64_t val, int len) {
    const uint64_t sval = do_reloc(op, place, val);
    const auto s = static_cast<int64_t>(sval);
    write_le(loc, sval, len / 8);
    switch (len) {
        case 16:
            return op == Op::abs ? (s < 0 || s > 0xffff) : (s < INT16_MIN || s > INT16_MAX);
        case 32:
            return op == Op::abs ? (s < 0 || s > 0xffff'ffffLL) : (s < INT32_MIN || s > INT32_MAX);
        default:
            return false;
    }
}

// reloc_insn_movw(): MOVKZ keeps the opcode; MOVNZ rewrites opc [30:29] to MOVZ (10b) for a
// non-negative value or MOVN (00b) with the inverted immediate. Returns true on -ERANGE.
bool reloc_insn_movw(Op op, uint8_t* loc, uint64_t place, uint64_t val, unsigned lsb,
                     MovwImm imm_type) {
    uint32_t insn = read32(loc);
    const uint64_t sval = do_reloc(op, place, val);
    uint64_t imm = asr(sval, lsb);

    if (imm_type == MovwImm::movnz) {
        insn &= ~(0x3u << 29);
        if (!is_negative(sval)) {
            insn |= 0x2u << 29;
        } else {
            imm = ~imm;
        }
    }
    insn = encode_immediate(Imm::imm16, insn, imm);
    write_le(loc, insn, 4);
    return imm > 0xffff;
}

// reloc_insn_imm(): shifts the value arithmetically by lsb (low bits silently dropped), encodes
// its low len bits, and reports -ERANGE unless bits [63:len-1] of the shifted value are all equal.
bool reloc_insn_imm(Op op, uint8_t* loc, uint64_t place, uint64_t val, unsigned lsb, unsigned len,
                    Imm imm_type) {
    uint32_t insn = read32(loc);
    uint64_t sval = asr(do_reloc(op, place, val), lsb);
    const uint64_t imm_mask = ((uint64_t{1} << (lsb + len)) - 1) >> lsb;
    insn = encode_immediate(imm_type, insn, sval & imm_mask);
    write_le(loc, insn, 4);

    sval = asr(sval & ~(imm_mask >> 1), len - 1);
    return sval + 1 >= 2;
}

// reloc_insn_adrp() when is_forbidden_offset_for_adrp() is false (no erratum 843419).
bool reloc_insn_adrp(uint8_t* loc, uint64_t place, uint64_t val) {
    return reloc_insn_imm(Op::page, loc, place, val, 12, 21, Imm::adr);
}

}  // namespace

// The switch of apply_relocate_add().
RelocStatus apply_one(uint32_t type, uint8_t* loc, uint64_t place, uint64_t val) {
    bool overflow_check = true;
    bool ovf = false;

    switch (type) {
        // Null relocations.
        case R_ARM_NONE:
        case kernel_r_aarch64_none:
            break;

        // Data relocations.
        case R_AARCH64_ABS64:
            overflow_check = false;
            ovf = reloc_data(Op::abs, loc, place, val, 64);
            break;
        case R_AARCH64_ABS32:
            ovf = reloc_data(Op::abs, loc, place, val, 32);
            break;
        case R_AARCH64_ABS16:
            ovf = reloc_data(Op::abs, loc, place, val, 16);
            break;
        case R_AARCH64_PREL64:
            overflow_check = false;
            ovf = reloc_data(Op::prel, loc, place, val, 64);
            break;
        case R_AARCH64_PREL32:
            ovf = reloc_data(Op::prel, loc, place, val, 32);
            break;
        case R_AARCH64_PREL16:
            ovf = reloc_data(Op::prel, loc, place, val, 16);
            break;

        // MOVW instruction relocations.
        case R_AARCH64_MOVW_UABS_G0_NC:
            overflow_check = false;
            [[fallthrough]];
        case R_AARCH64_MOVW_UABS_G0:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 0, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_UABS_G1_NC:
            overflow_check = false;
            [[fallthrough]];
        case R_AARCH64_MOVW_UABS_G1:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 16, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_UABS_G2_NC:
            overflow_check = false;
            [[fallthrough]];
        case R_AARCH64_MOVW_UABS_G2:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 32, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_UABS_G3:
            overflow_check = false;  // the top 16 bits cannot overflow
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 48, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_SABS_G0:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 0, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_SABS_G1:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 16, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_SABS_G2:
            ovf = reloc_insn_movw(Op::abs, loc, place, val, 32, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_PREL_G0_NC:
            overflow_check = false;
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 0, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_PREL_G0:
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 0, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_PREL_G1_NC:
            overflow_check = false;
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 16, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_PREL_G1:
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 16, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_PREL_G2_NC:
            overflow_check = false;
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 32, MovwImm::movkz);
            break;
        case R_AARCH64_MOVW_PREL_G2:
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 32, MovwImm::movnz);
            break;
        case R_AARCH64_MOVW_PREL_G3:
            overflow_check = false;  // the top 16 bits cannot overflow
            ovf = reloc_insn_movw(Op::prel, loc, place, val, 48, MovwImm::movnz);
            break;

        // Immediate instruction relocations.
        case R_AARCH64_LD_PREL_LO19:
            ovf = reloc_insn_imm(Op::prel, loc, place, val, 2, 19, Imm::imm19);
            break;
        case R_AARCH64_ADR_PREL_LO21:
            ovf = reloc_insn_imm(Op::prel, loc, place, val, 0, 21, Imm::adr);
            break;
        case R_AARCH64_ADR_PREL_PG_HI21_NC:
            overflow_check = false;
            [[fallthrough]];
        case R_AARCH64_ADR_PREL_PG_HI21:
            ovf = reloc_insn_adrp(loc, place, val);
            break;
        case R_AARCH64_ADD_ABS_LO12_NC:
        case R_AARCH64_LDST8_ABS_LO12_NC:
            overflow_check = false;
            ovf = reloc_insn_imm(Op::abs, loc, place, val, 0, 12, Imm::imm12);
            break;
        case R_AARCH64_LDST16_ABS_LO12_NC:
            overflow_check = false;
            ovf = reloc_insn_imm(Op::abs, loc, place, val, 1, 11, Imm::imm12);
            break;
        case R_AARCH64_LDST32_ABS_LO12_NC:
            overflow_check = false;
            ovf = reloc_insn_imm(Op::abs, loc, place, val, 2, 10, Imm::imm12);
            break;
        case R_AARCH64_LDST64_ABS_LO12_NC:
            overflow_check = false;
            ovf = reloc_insn_imm(Op::abs, loc, place, val, 3, 9, Imm::imm12);
            break;
        case R_AARCH64_LDST128_ABS_LO12_NC:
            overflow_check = false;
            ovf = reloc_insn_imm(Op::abs, loc, place, val, 4, 8, Imm::imm12);
            break;
        case R_AARCH64_TSTBR14:
            ovf = reloc_insn_imm(Op::prel, loc, place, val, 2, 14, Imm::imm14);
            break;
        case R_AARCH64_CONDBR19:
            ovf = reloc_insn_imm(Op::prel, loc, place, val, 2, 19, Imm::imm19);
            break;
        case R_AARCH64_JUMP26:
        case R_AARCH64_CALL26:
            // On -ERANGE the kernel emits a PLT entry and relocates again: left to the caller.
            ovf = reloc_insn_imm(Op::prel, loc, place, val, 2, 26, Imm::imm26);
            break;

        default:
            return RelocStatus::unsupported;
    }

    return overflow_check && ovf ? RelocStatus::overflow : RelocStatus::ok;
}

bool is_supported(uint32_t type) {
    switch (type) {
        case R_ARM_NONE:
        case kernel_r_aarch64_none:
        case R_AARCH64_ABS64:
        case R_AARCH64_ABS32:
        case R_AARCH64_ABS16:
        case R_AARCH64_PREL64:
        case R_AARCH64_PREL32:
        case R_AARCH64_PREL16:
        case R_AARCH64_MOVW_UABS_G0:
        case R_AARCH64_MOVW_UABS_G0_NC:
        case R_AARCH64_MOVW_UABS_G1:
        case R_AARCH64_MOVW_UABS_G1_NC:
        case R_AARCH64_MOVW_UABS_G2:
        case R_AARCH64_MOVW_UABS_G2_NC:
        case R_AARCH64_MOVW_UABS_G3:
        case R_AARCH64_MOVW_SABS_G0:
        case R_AARCH64_MOVW_SABS_G1:
        case R_AARCH64_MOVW_SABS_G2:
        case R_AARCH64_MOVW_PREL_G0:
        case R_AARCH64_MOVW_PREL_G0_NC:
        case R_AARCH64_MOVW_PREL_G1:
        case R_AARCH64_MOVW_PREL_G1_NC:
        case R_AARCH64_MOVW_PREL_G2:
        case R_AARCH64_MOVW_PREL_G2_NC:
        case R_AARCH64_MOVW_PREL_G3:
        case R_AARCH64_LD_PREL_LO19:
        case R_AARCH64_ADR_PREL_LO21:
        case R_AARCH64_ADR_PREL_PG_HI21:
        case R_AARCH64_ADR_PREL_PG_HI21_NC:
        case R_AARCH64_ADD_ABS_LO12_NC:
        case R_AARCH64_LDST8_ABS_LO12_NC:
        case R_AARCH64_LDST16_ABS_LO12_NC:
        case R_AARCH64_LDST32_ABS_LO12_NC:
        case R_AARCH64_LDST64_ABS_LO12_NC:
        case R_AARCH64_LDST128_ABS_LO12_NC:
        case R_AARCH64_TSTBR14:
        case R_AARCH64_CONDBR19:
        case R_AARCH64_JUMP26:
        case R_AARCH64_CALL26:
            return true;
        default:
            return false;
    }
}

bool is_branch26(uint32_t type) {
    return type == R_AARCH64_JUMP26 || type == R_AARCH64_CALL26;
}

const char* reloc_name(uint32_t type) {
#define KMODEMU_RELOC_NAME(r) \
    case r:                   \
        return #r;
    switch (type) {
        case R_AARCH64_NONE:  // 0 (<elf.h>); the kernel's R_ARM_NONE case
        case kernel_r_aarch64_none:
            return "R_AARCH64_NONE";
            KMODEMU_RELOC_NAME(R_AARCH64_ABS64)
            KMODEMU_RELOC_NAME(R_AARCH64_ABS32)
            KMODEMU_RELOC_NAME(R_AARCH64_ABS16)
            KMODEMU_RELOC_NAME(R_AARCH64_PREL64)
            KMODEMU_RELOC_NAME(R_AARCH64_PREL32)
            KMODEMU_RELOC_NAME(R_AARCH64_PREL16)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G0)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G0_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G1)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G1_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G2)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G2_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_UABS_G3)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_SABS_G0)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_SABS_G1)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_SABS_G2)
            KMODEMU_RELOC_NAME(R_AARCH64_LD_PREL_LO19)
            KMODEMU_RELOC_NAME(R_AARCH64_ADR_PREL_LO21)
            KMODEMU_RELOC_NAME(R_AARCH64_ADR_PREL_PG_HI21)
            KMODEMU_RELOC_NAME(R_AARCH64_ADR_PREL_PG_HI21_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_ADD_ABS_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_LDST8_ABS_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_TSTBR14)
            KMODEMU_RELOC_NAME(R_AARCH64_CONDBR19)
            KMODEMU_RELOC_NAME(R_AARCH64_JUMP26)
            KMODEMU_RELOC_NAME(R_AARCH64_CALL26)
            KMODEMU_RELOC_NAME(R_AARCH64_LDST16_ABS_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_LDST32_ABS_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_LDST64_ABS_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G0)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G0_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G1)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G1_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G2)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G2_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_PREL_G3)
            KMODEMU_RELOC_NAME(R_AARCH64_LDST128_ABS_LO12_NC)
            // Rejected by the kernel; named for diagnostics only.
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G0)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G0_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G1)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G1_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G2)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G2_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_MOVW_GOTOFF_G3)
            KMODEMU_RELOC_NAME(R_AARCH64_GOTREL64)
            KMODEMU_RELOC_NAME(R_AARCH64_GOTREL32)
            KMODEMU_RELOC_NAME(R_AARCH64_GOT_LD_PREL19)
            KMODEMU_RELOC_NAME(R_AARCH64_LD64_GOTOFF_LO15)
            KMODEMU_RELOC_NAME(R_AARCH64_ADR_GOT_PAGE)
            KMODEMU_RELOC_NAME(R_AARCH64_LD64_GOT_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_LD64_GOTPAGE_LO15)
        case 314:  // not in older <elf.h>
            return "R_AARCH64_PLT32";
        case 315:
            return "R_AARCH64_GOTPCREL32";
            KMODEMU_RELOC_NAME(R_AARCH64_TLSGD_ADR_PREL21)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSGD_ADR_PAGE21)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSGD_ADD_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSLE_ADD_TPREL_HI12)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSLE_ADD_TPREL_LO12)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSLE_ADD_TPREL_LO12_NC)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSDESC_ADR_PAGE21)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSDESC_LD64_LO12)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSDESC_ADD_LO12)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSDESC_CALL)
            KMODEMU_RELOC_NAME(R_AARCH64_COPY)
            KMODEMU_RELOC_NAME(R_AARCH64_GLOB_DAT)
            KMODEMU_RELOC_NAME(R_AARCH64_JUMP_SLOT)
            KMODEMU_RELOC_NAME(R_AARCH64_RELATIVE)
            KMODEMU_RELOC_NAME(R_AARCH64_TLS_DTPMOD)
            KMODEMU_RELOC_NAME(R_AARCH64_TLS_DTPREL)
            KMODEMU_RELOC_NAME(R_AARCH64_TLS_TPREL)
            KMODEMU_RELOC_NAME(R_AARCH64_TLSDESC)
            KMODEMU_RELOC_NAME(R_AARCH64_IRELATIVE)
        default:
            return nullptr;
    }
#undef KMODEMU_RELOC_NAME
}

std::array<uint32_t, 3> plt_entry(uint64_t dst, uint64_t pc) {
    constexpr uint32_t x16 = 16;

    // aarch64_insn_gen_adr(pc, dst, x16, ADRP): offset = (s32)((dst - ALIGN_DOWN(pc, 4K)) >> 12),
    // a logical shift of the unsigned difference, then must lie in [-1M, 1M) pages.
    const auto pages = static_cast<uint32_t>((dst - (pc & page_mask)) >> 12);
    const int64_t offset = sign_extend(pages, 32);
    uint32_t adrp = break_fault_insn;
    if (offset >= -(int64_t{1} << 20) && offset < (int64_t{1} << 20)) {
        adrp = encode_immediate(Imm::adr, 0x9000'0000 | x16,  // adrp x16, .
                                static_cast<uint64_t>(offset));
    }

    // aarch64_insn_gen_add_sub_imm(x16, x16, dst % SZ_4K, 64-bit, ADD): imm < 4K, no LSL #12.
    constexpr uint32_t add_x16_x16_0 = 0x9100'0000 | x16 << 5 | x16;  // add x16, x16, #0
    const uint32_t add = encode_immediate(Imm::imm12, add_x16_x16_0, dst & 0xfff);

    // aarch64_insn_gen_branch_reg(x16, NOLINK)
    const uint32_t br = 0xd61f'0000 | x16 << 5;  // br x16
    return {adrp, add, br};
}

int64_t decode_branch26(uint32_t insn) {
    return sign_extend(insn & 0x3ff'ffff, 26) * 4;
}

int64_t decode_adr(uint32_t insn) {
    const uint32_t immlo = (insn >> 29) & 0x3;
    const uint32_t immhi = (insn >> 5) & 0x7ffff;
    return sign_extend(uint64_t{immhi} << 2 | immlo, 21);
}

int64_t decode_adrp(uint32_t insn) {
    return decode_adr(insn) * 4096;
}

int64_t decode_imm19(uint32_t insn) {
    return sign_extend((insn >> 5) & 0x7ffff, 19) * 4;
}

int64_t decode_imm14(uint32_t insn) {
    return sign_extend((insn >> 5) & 0x3fff, 14) * 4;
}

uint32_t decode_imm12(uint32_t insn) {
    return (insn >> 10) & 0xfff;
}

uint32_t decode_imm16(uint32_t insn) {
    return (insn >> 5) & 0xffff;
}

}  // namespace kmodemu::aarch64
