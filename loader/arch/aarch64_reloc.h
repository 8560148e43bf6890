// AArch64 RELA relocation core, mirroring arch/arm64/kernel/module.c apply_relocate_add()
// (Linux 6.1-6.9) one relocation at a time, as pure functions over a host buffer.
//
// What is modelled:
//  - do_reloc() (ABS / PREL / PAGE), reloc_data() (write first, then range check),
//    reloc_insn_movw() (MOVZ/MOVN rewriting for the signed groups), reloc_insn_imm()
//    and aarch64_insn_encode_immediate() from arch/arm64/lib/insn.c.
//  - ADRP is relocated as on a CPU without Cortex-A53 erratum 843419: reloc_insn_adrp() always
//    takes its first branch (no ADR rewrite, no veneer).
//  - JUMP26/CALL26 that overflow return RelocStatus::overflow *after* writing the truncated
//    offset, exactly like the kernel's first reloc_insn_imm() call. The caller then does what
//    apply_relocate_add() does: emit a PLT entry (see plt_entry()) and call apply_one() again
//    with val = the PLT entry's address.
//
// Everything is little-endian and alignment-agnostic (bytes are read and written one by one).
#pragma once

#include <array>
#include <cstdint>

namespace kmodemu::aarch64 {

// The kernel's own R_AARCH64_NONE (arch/arm64/include/asm/elf.h: 256, the value withdrawn from
// the psABI); <elf.h> defines R_AARCH64_NONE as 0, which the kernel accepts as R_ARM_NONE.
inline constexpr uint32_t kernel_r_aarch64_none = 256;

// AARCH64_BREAK_FAULT (brk #0x100): aarch64_insn_encode_immediate() returns it unchanged, and
// aarch64_insn_gen_adr() returns it when the target is out of range.
inline constexpr uint32_t break_fault_insn = 0xd420'2000;

enum class RelocStatus {
    ok,           // applied (the value was written)
    overflow,     // applied but out of range with overflow_check set: the kernel prints
                  // "module %s: overflow in relocation type %d val %Lx" and fails -ENOEXEC
    unsupported,  // not handled: "module %s: unsupported RELA relocation: %llu", -ENOEXEC
};

// Applies one RELA relocation of `type` at `loc` (host pointer to the final image bytes of the
// place; at least 8 bytes readable/writable for data64, 4 for instructions), whose guest address
// is `place`, with val = S + A. Little-endian. Unsupported types leave `loc` untouched.
RelocStatus apply_one(uint32_t type, uint8_t* loc, uint64_t place, uint64_t val);

// True for every type apply_one() handles (including NONE as 0 and 256).
bool is_supported(uint32_t type);

// JUMP26 / CALL26: PLT candidates (module_emit_plt_entry() on overflow).
bool is_branch26(uint32_t type);

// "R_AARCH64_CALL26", ... or nullptr when unknown. Both 0 and 256 are "R_AARCH64_NONE".
// Types the kernel rejects (GOT, TLS, PLT32, dynamic ones) are named too, for diagnostics.
const char* reloc_name(uint32_t type);

// get_plt_entry() (module-plts.c): adrp x16, dst; add x16, x16, :lo12:dst; br x16, for an entry
// placed at pc. As in the kernel, the adrp slot is break_fault_insn when the page of dst is not
// within [-4 GiB, 4 GiB) of the page of pc.
std::array<uint32_t, 3> plt_entry(uint64_t dst, uint64_t pc);

// Decoders (inverse of the encoders), used by tests and reports. Offsets are sign-extended.
int64_t decode_branch26(uint32_t insn);  // B/BL: byte offset
int64_t decode_adrp(uint32_t insn);      // ADRP: byte offset of the page (imm << 12)
int64_t decode_adr(uint32_t insn);       // ADR: byte offset (21-bit immhi:immlo)
int64_t decode_imm19(uint32_t insn);     // B.cond / CBZ / LDR (literal): byte offset
int64_t decode_imm14(uint32_t insn);     // TBZ / TBNZ: byte offset
uint32_t decode_imm12(uint32_t insn);    // ADD (imm) / LDR/STR (unsigned offset): raw field [21:10]
uint32_t decode_imm16(uint32_t insn);    // MOVZ / MOVN / MOVK: raw field [20:5]

}  // namespace kmodemu::aarch64
