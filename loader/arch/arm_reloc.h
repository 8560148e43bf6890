// ARM32 REL relocation core, mirroring arch/arm/kernel/module.c apply_relocate() (Linux 6.1)
// one relocation at a time, as pure functions over a host buffer.
//
// What is modelled:
//  - The switch of apply_relocate() for a little-endian kernel (__mem_to_opcode_arm() and
//    friends are the identity; Thumb-2 instructions are two little-endian halfwords, the first
//    one at the place). Addends are implicit (SHT_REL): read from the place.
//  - CONFIG_ARM_HAS_GROUP_RELOCS is assumed enabled: ALU_PC_G0_NC, ALU_PC_G1_NC and LDR_PC_G2
//    with get_group_rem(). (Kernels without it reject these types as unknown.)
//  - CONFIG_THUMB2_KERNEL as the `thumb2_kernel` argument: when false the Thumb relocations are
//    not compiled into the kernel's switch and fall to "unknown relocation".
//  - CONFIG_ARM_MODULE_PLTS is left to the caller. For PC24/CALL/JUMP24/THM_CALL/THM_JUMP24 the
//    kernel computes offset = A + S - P, and only when that is out of range *and* PLTs are
//    enabled it calls get_module_plt(mod, loc, offset + loc + bias) and re-targets the branch at
//    the PLT entry. apply_one() stops at the out-of-range test: it returns
//    RelocStatus::out_of_range and writes nothing. A loader with PLT support then computes the
//    final destination as branch_offset() + place + branch_pc_bias(), emits a PLT entry for it
//    and calls encode_branch() with the entry's address; without PLT support it reports the
//    error as the kernel does.
//
// The sanity checks that precede the switch in apply_relocate() (symbol index, r_offset within
// the section) are the caller's; apply_one() assumes 4 readable/writable bytes at `loc`.
// Everything is alignment-agnostic (bytes are read and written one by one).
#pragma once

#include <array>
#include <cstdint>

namespace kmodemu::arm {

// Relocation types the kernel names but glibc's <elf.h> spells differently.
inline constexpr uint32_t r_arm_thm_call = 10;     // <elf.h>: R_ARM_THM_PC22
inline constexpr uint32_t r_arm_thm_jump11 = 102;  // <elf.h>: R_ARM_THM_PC11
inline constexpr uint32_t r_arm_thm_jump8 = 103;   // <elf.h>: R_ARM_THM_PC9

// module-plts.c: PLT_ENT_STRIDE = L1_CACHE_BYTES (CONFIG_ARM_L1_CACHE_SHIFT = 6 on multi_v7).
inline constexpr uint32_t plt_ent_stride = 64;

// The PLT entry instructions as opcodes (architectural order, Thumb-2 upper halfword in the top
// 16 bits): ldr pc, [pc, #STRIDE-8] and ldr.w pc, [pc, #STRIDE-4]. Each loads lit[idx], which
// sits exactly one stride after ldr[idx].
inline constexpr uint32_t plt_ldr_arm_opcode = 0xe59f'f000 | (plt_ent_stride - 8);
inline constexpr uint32_t plt_ldr_thumb_opcode = 0xf8df'f000 | (plt_ent_stride - 4);

enum class RelocStatus {
    ok,                  // applied
    out_of_range,        // "%s: section %u reloc %u sym '%s': relocation %u out of range
                         // (%#lx -> %#x)" (type, loc, S); nothing written
    interworking_arm,    // "%s: section %u reloc %u sym '%s': unsupported interworking call
                         // (ARM -> Thumb)"; nothing written
    interworking_thumb,  // "...: unsupported interworking call (Thumb -> ARM)"; nothing written
    unknown,             // "%s: unknown relocation: %u"; nothing written
};
// Every failure makes apply_relocate() return -ENOEXEC.

// Applies one REL relocation of `type` at `loc` (host pointer to the 4 bytes of the place), guest
// address `place`, symbol value `sym` (S, with the Thumb bit as st_value has it), symbol type
// `sym_is_func` (ELF32_ST_TYPE(st_info) == STT_FUNC, for the Thumb interworking check).
// `thumb2_kernel` is CONFIG_THUMB2_KERNEL: without it the THM_* types are "unknown".
//
// Branches (is_branch()): when A + S - P is outside the branch range, returns out_of_range and
// leaves `loc` untouched -- the point where the kernel would consult get_module_plt() when
// CONFIG_ARM_MODULE_PLTS is set (see the file comment and encode_branch()). The interworking
// checks come first and are not subject to PLT routing.
RelocStatus apply_one(uint32_t type, uint8_t* loc, uint32_t place, uint32_t sym, bool sym_is_func,
                      bool thumb2_kernel);

// True for every type apply_one() accepts for that kernel flavour (including R_ARM_NONE).
bool is_supported(uint32_t type, bool thumb2_kernel);

// PC24, CALL, JUMP24, THM_CALL, THM_JUMP24: the types module-plts.c counts and routes via PLTs.
bool is_branch(uint32_t type);
bool is_thumb_branch(uint32_t type);  // THM_CALL, THM_JUMP24

// The PC bias the kernel adds back when turning the offset into a PLT destination:
// 8 for ARM branches, 4 for Thumb ones (0 for other types).
uint32_t branch_pc_bias(uint32_t type);

// The branch offset the kernel computes before its range checks: the addend decoded from the
// instruction at `loc` plus S - P (32-bit wrap-around). 0 for non-branch types.
int32_t branch_offset(uint32_t type, const uint8_t* loc, uint32_t place, uint32_t sym);

// The kernel's range test for that offset: the open intervals (-32 MiB, +32 MiB) for ARM and
// (-16 MiB, +16 MiB) for Thumb. False for non-branch types.
bool branch_in_range(uint32_t type, int32_t offset);

// Rewrites the branch at `loc` (guest address `place`) to jump to `target` (e.g. a PLT entry),
// re-encoding the immediate from offset = target - place - bias and keeping the other bits, as
// apply_relocate() does after get_module_plt(). Returns out_of_range (nothing written) if even
// that does not fit, unknown for a non-branch type.
RelocStatus encode_branch(uint32_t type, uint8_t* loc, uint32_t place, uint32_t target);

// "R_ARM_CALL", ... or nullptr when unknown. Types the kernel rejects (PLT32, TARGET2, THM_JUMP19,
// GOT, TLS, ...) are named too, for diagnostics.
const char* reloc_name(uint32_t type);

// arch/arm/kernel/module-plts.c PLT_ENT_LDR on a little-endian kernel: the u32 stored in
// plt_entries::ldr[], to be written little-endian. ARM: plt_ldr_arm_opcode (0xe59ff038).
// Thumb-2: __opcode_to_mem_thumb32() swaps the halfwords so that the upper one comes first in
// memory, giving 0xf03cf8df (bytes df f8 3c f0).
uint32_t plt_ldr_insn(bool thumb);

// Decoders (inverse of the encoders), used by tests and reports. Offsets are sign-extended.
int32_t decode_arm_branch(uint32_t insn);                         // B/BL: imm24 << 2
int32_t decode_thumb_branch(uint16_t upper, uint16_t lower);      // BL/B.W: S:I1:I2:imm10:imm11:0
uint32_t decode_arm_mov_imm16(uint32_t insn);                     // MOVW/MOVT: imm4:imm12
uint32_t decode_thumb_mov_imm16(uint16_t upper, uint16_t lower);  // imm4:i:imm3:imm8
uint32_t decode_arm_alu_imm(uint32_t insn);  // ADD/SUB (imm): ror(imm8, 2 * rot), unsigned

}  // namespace kmodemu::arm
