// Tests for loader/arch/aarch64_reloc: every relocation type apply_relocate_add() handles, its
// encoding and the exact edges of its range, plus plt_entry() and the decoders.
//
// Expected instruction words written as constants were checked with an assembler
// (llvm-mc -triple=aarch64 -show-encoding); the assembly is given next to each one.
// Boundary checks extract the fields with the local helpers below, independently of the
// library's own decoders.
#include "loader/arch/aarch64_reloc.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>

namespace kmodemu::aarch64 {
namespace {

// Guest address of the place being relocated: a module text address, 16 bytes into a page.
constexpr uint64_t P = 0xffff'8000'0801'0010ULL;
constexpr uint64_t page_of(uint64_t a) {
    return a & ~uint64_t{0xfff};
}

constexpr uint8_t fill = 0xa5;  // poison around the place, to catch over-long writes

// --- Test-local field extraction (independent of the library decoders) -----------------------

constexpr uint32_t bits(uint32_t insn, unsigned hi, unsigned lo) {
    return (insn >> lo) & ((uint32_t{1} << (hi - lo + 1)) - 1);
}

// Two's complement value of a `width`-bit field, computed without shifts of signed values.
constexpr int64_t sext(uint64_t field, unsigned width) {
    const uint64_t top = uint64_t{1} << (width - 1);
    return field & top ? static_cast<int64_t>(field) - static_cast<int64_t>(top << 1)
                       : static_cast<int64_t>(field);
}

// Executes a 64-bit MOVN/MOVZ/MOVK on register value x, as the CPU does (hw field honoured).
uint64_t exec_movw(uint32_t insn, uint64_t x) {
    const unsigned shift = 16 * bits(insn, 22, 21);
    const uint64_t imm = uint64_t{bits(insn, 20, 5)} << shift;
    switch (bits(insn, 30, 29)) {
        case 0:  // MOVN
            return ~imm;
        case 2:  // MOVZ
            return imm;
        case 3:  // MOVK
            return (x & ~(uint64_t{0xffff} << shift)) | imm;
        default:
            ADD_FAILURE() << "not a move-wide instruction: " << std::hex << insn;
            return 0;
    }
}

constexpr uint32_t opc_movn = 0, opc_movz = 2, opc_movk = 3;

// --- Running one relocation ------------------------------------------------------------------

struct InsnResult {
    RelocStatus status;
    uint32_t insn;
};

// Places `insn` (little-endian) in a poisoned buffer, relocates it and returns the new word.
InsnResult reloc_insn(uint32_t type, uint32_t insn, uint64_t val, uint64_t place = P) {
    std::array<uint8_t, 12> buf;
    buf.fill(fill);
    for (int i = 0; i < 4; ++i) {
        buf[4 + i] = static_cast<uint8_t>(insn >> (8 * i));
    }
    const RelocStatus st = apply_one(type, buf.data() + 4, place, val);
    uint32_t out = 0;
    for (int i = 0; i < 4; ++i) {
        out |= uint32_t{buf[4 + i]} << (8 * i);
    }
    for (int i : {0, 1, 2, 3, 8, 9, 10, 11}) {
        EXPECT_EQ(buf[i], fill) << "byte " << i << " outside the instruction was written";
    }
    return {st, out};
}

struct DataResult {
    RelocStatus status;
    uint64_t value;  // the `bytes` bytes written at the place, zero-extended
};

DataResult reloc_data(uint32_t type, unsigned bytes, uint64_t val, uint64_t place = P) {
    std::array<uint8_t, 24> buf;
    buf.fill(fill);
    const RelocStatus st = apply_one(type, buf.data() + 8, place, val);
    uint64_t out = 0;
    for (unsigned i = 0; i < bytes; ++i) {
        out |= uint64_t{buf[8 + i]} << (8 * i);
    }
    for (unsigned i = 0; i < buf.size(); ++i) {
        if (i < 8 || i >= 8 + bytes) {
            EXPECT_EQ(buf[i], fill) << "byte " << i << " outside the data was written";
        }
    }
    return {st, out};
}

void expect_insn(const InsnResult& r, RelocStatus st, uint32_t insn) {
    EXPECT_EQ(r.status, st);
    EXPECT_EQ(r.insn, insn) << std::hex << "got 0x" << r.insn << ", want 0x" << insn;
}

// --- NONE ------------------------------------------------------------------------------------

TEST(Aarch64Reloc, NoneAsZeroAnd256LeavesThePlaceAlone) {
    for (uint32_t type : {uint32_t{R_ARM_NONE}, kernel_r_aarch64_none}) {
        expect_insn(reloc_insn(type, 0x9400'0000, P + 0x1234), RelocStatus::ok, 0x9400'0000);
        // Even a value that would overflow anything is fine.
        expect_insn(reloc_insn(type, 0xdead'beef, ~uint64_t{0}), RelocStatus::ok, 0xdead'beef);
    }
}

// --- Data relocations: reloc_data() ----------------------------------------------------------

TEST(Aarch64Reloc, Abs64WritesEightBytesAndNeverOverflows) {
    auto r = reloc_data(R_AARCH64_ABS64, 8, 0x1122'3344'5566'7788);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0x1122'3344'5566'7788u);
    r = reloc_data(R_AARCH64_ABS64, 8, ~uint64_t{0});
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, ~uint64_t{0});
}

TEST(Aarch64Reloc, Abs32IsUnsigned) {
    auto r = reloc_data(R_AARCH64_ABS32, 4, 0);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0u);
    r = reloc_data(R_AARCH64_ABS32, 4, 0xffff'ffff);  // last in range
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0xffff'ffffu);
    r = reloc_data(R_AARCH64_ABS32, 4, 0x1'0000'0000);  // first out: written truncated
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0u);
    r = reloc_data(R_AARCH64_ABS32, 4, ~uint64_t{0});  // -1: negative ABS32 overflows
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0xffff'ffffu);
    // A kernel address (what a stray ABS32 against a symbol gives) overflows too.
    r = reloc_data(R_AARCH64_ABS32, 4, 0xffff'8000'1234'5678);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0x1234'5678u);
}

TEST(Aarch64Reloc, Abs16IsUnsigned) {
    auto r = reloc_data(R_AARCH64_ABS16, 2, 0xffff);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0xffffu);
    r = reloc_data(R_AARCH64_ABS16, 2, 0x1'0000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0u);
    r = reloc_data(R_AARCH64_ABS16, 2, ~uint64_t{0});
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0xffffu);
}

TEST(Aarch64Reloc, Prel64IsValueMinusPlaceAndNeverOverflows) {
    auto r = reloc_data(R_AARCH64_PREL64, 8, P - 8);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0xffff'ffff'ffff'fff8u);
    r = reloc_data(R_AARCH64_PREL64, 8, 0);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0 - P);
}

TEST(Aarch64Reloc, Prel32IsSigned) {
    auto r = reloc_data(R_AARCH64_PREL32, 4, P + 0x7fff'ffff);  // S32_MAX
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0x7fff'ffffu);
    r = reloc_data(R_AARCH64_PREL32, 4, P + 0x8000'0000);  // S32_MAX + 1: unsigned-fits, but
    EXPECT_EQ(r.status, RelocStatus::overflow);            // the kernel checks signed
    EXPECT_EQ(r.value, 0x8000'0000u);
    r = reloc_data(R_AARCH64_PREL32, 4, P - 0x8000'0000);  // S32_MIN
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0x8000'0000u);
    r = reloc_data(R_AARCH64_PREL32, 4, P - 0x8000'0001);  // S32_MIN - 1
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0x7fff'ffffu);
}

TEST(Aarch64Reloc, Prel16IsSigned) {
    auto r = reloc_data(R_AARCH64_PREL16, 2, P + 0x7fff);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0x7fffu);
    r = reloc_data(R_AARCH64_PREL16, 2, P + 0x8000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0x8000u);
    r = reloc_data(R_AARCH64_PREL16, 2, P - 0x8000);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(r.value, 0x8000u);
    r = reloc_data(R_AARCH64_PREL16, 2, P - 0x8001);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.value, 0x7fffu);
}

// --- MOVW relocations: reloc_insn_movw() -----------------------------------------------------

constexpr uint32_t movz_x0 = 0xd280'0000;        // movz x0, #0
constexpr uint32_t movz_x0_lsl16 = 0xd2a0'0000;  // movz x0, #0, lsl #16
constexpr uint32_t movz_x0_lsl32 = 0xd2c0'0000;  // movz x0, #0, lsl #32
constexpr uint32_t movz_x0_lsl48 = 0xd2e0'0000;  // movz x0, #0, lsl #48
constexpr uint32_t movk_x0 = 0xf280'0000;        // movk x0, #0
constexpr uint32_t movk_x0_lsl16 = 0xf2a0'0000;  // movk x0, #0, lsl #16
constexpr uint32_t movk_x0_lsl32 = 0xf2c0'0000;  // movk x0, #0, lsl #32
constexpr uint32_t movk_x0_lsl48 = 0xf2e0'0000;  // movk x0, #0, lsl #48
constexpr uint32_t movn_x0 = 0x9280'0000;        // movn x0, #0

// Checks a MOVW result: status, opc bits [30:29], imm16, and that Rd/hw/sf are preserved.
void expect_movw(const InsnResult& r, uint32_t original, RelocStatus st, uint32_t opc,
                 uint32_t imm16) {
    EXPECT_EQ(r.status, st);
    EXPECT_EQ(bits(r.insn, 30, 29), opc) << std::hex << r.insn;
    EXPECT_EQ(bits(r.insn, 20, 5), imm16) << std::hex << r.insn;
    EXPECT_EQ(r.insn & 0x9f80'001f, original & 0x9f80'001f) << std::hex << r.insn;
}

TEST(Aarch64Reloc, MovwUabsG0) {
    // movz x0, #0xffff = 0xd29fffe0
    expect_insn(reloc_insn(R_AARCH64_MOVW_UABS_G0, movz_x0, 0xffff), RelocStatus::ok, 0xd29f'ffe0);
    // movz x0, #0x1234 = 0xd2824680
    expect_insn(reloc_insn(R_AARCH64_MOVW_UABS_G0, movz_x0, 0x1234), RelocStatus::ok, 0xd282'4680);
    // First out of range: written truncated (imm16 = 0), opcode untouched.
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G0, movz_x0, 0x1'0000), movz_x0,
                RelocStatus::overflow, opc_movz, 0);
    // MOVKZ never rewrites the opcode: a negative value overflows and stays a MOVZ.
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G0, movz_x0, ~uint64_t{0}), movz_x0,
                RelocStatus::overflow, opc_movz, 0xffff);
}

TEST(Aarch64Reloc, MovwUabsG0NcIsUnchecked) {
    // movk x0, #0xdef0 = 0xf29bde00
    expect_insn(reloc_insn(R_AARCH64_MOVW_UABS_G0_NC, movk_x0, 0x1234'5678'9abc'def0),
                RelocStatus::ok, 0xf29b'de00);
}

TEST(Aarch64Reloc, MovwUabsG1) {
    // movz x0, #0xffff, lsl #16 = 0xd2bfffe0
    expect_insn(reloc_insn(R_AARCH64_MOVW_UABS_G1, movz_x0_lsl16, 0xffff'ffff), RelocStatus::ok,
                0xd2bf'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G1, movz_x0_lsl16, 0x1'0000'0000), movz_x0_lsl16,
                RelocStatus::overflow, opc_movz, 0);
    // Low 16 bits are simply dropped.
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G1, movz_x0_lsl16, 0x1234'ffff), movz_x0_lsl16,
                RelocStatus::ok, opc_movz, 0x1234);
}

TEST(Aarch64Reloc, MovwUabsG1NcIsUnchecked) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G1_NC, movk_x0_lsl16, 0x1234'5678'9abc'def0),
                movk_x0_lsl16, RelocStatus::ok, opc_movk, 0x9abc);
}

TEST(Aarch64Reloc, MovwUabsG2) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G2, movz_x0_lsl32, 0xffff'ffff'ffff), movz_x0_lsl32,
                RelocStatus::ok, opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G2, movz_x0_lsl32, 0x1'0000'0000'0000),
                movz_x0_lsl32, RelocStatus::overflow, opc_movz, 0);
}

TEST(Aarch64Reloc, MovwUabsG2NcIsUnchecked) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G2_NC, movk_x0_lsl32, 0x1234'5678'9abc'def0),
                movk_x0_lsl32, RelocStatus::ok, opc_movk, 0x5678);
}

TEST(Aarch64Reloc, MovwUabsG3IsUncheckedEvenForKernelAddresses) {
    // The kernel shifts the *signed* value, so for a kernel address imm > U16_MAX internally;
    // only overflow_check = false makes this ok.
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G3, movk_x0_lsl48, 0xfedc'ba98'7654'3210),
                movk_x0_lsl48, RelocStatus::ok, opc_movk, 0xfedc);
    expect_movw(reloc_insn(R_AARCH64_MOVW_UABS_G3, movz_x0_lsl48, 0x1234'0000'0000'0000),
                movz_x0_lsl48, RelocStatus::ok, opc_movz, 0x1234);
}

TEST(Aarch64Reloc, MovwUabsSequenceBuildsTheAddress) {
    const uint64_t val = 0xffff'8000'1234'5678;
    const auto g3 = reloc_insn(R_AARCH64_MOVW_UABS_G3, movz_x0_lsl48, val);
    const auto g2 = reloc_insn(R_AARCH64_MOVW_UABS_G2_NC, movk_x0_lsl32, val);
    const auto g1 = reloc_insn(R_AARCH64_MOVW_UABS_G1_NC, movk_x0_lsl16, val);
    const auto g0 = reloc_insn(R_AARCH64_MOVW_UABS_G0_NC, movk_x0, val);
    for (const auto& r : {g3, g2, g1, g0}) {
        EXPECT_EQ(r.status, RelocStatus::ok);
    }
    uint64_t x = exec_movw(g3.insn, 0);
    x = exec_movw(g2.insn, x);
    x = exec_movw(g1.insn, x);
    x = exec_movw(g0.insn, x);
    EXPECT_EQ(x, val);
}

TEST(Aarch64Reloc, MovwSabsG0RewritesToMovzOrMovn) {
    // movz x0, #0x1234 = 0xd2824680
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, 0x1234), RelocStatus::ok, 0xd282'4680);
    // -1 becomes movn x0, #0 = 0x92800000 (imm = ~(-1) = 0).
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, ~uint64_t{0}), RelocStatus::ok,
                0x9280'0000);
    // Range is [-2^16, 2^16): -0x10000 is movn x0, #0xffff = 0x929fffe0.
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, 0 - uint64_t{0x1'0000}),
                RelocStatus::ok, 0x929f'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, 0 - uint64_t{0x1'0001}), movz_x0,
                RelocStatus::overflow, opc_movn, 0);  // ~(-0x10001) = 0x10000, truncated
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, 0xffff), movz_x0, RelocStatus::ok,
                opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, 0x1'0000), movz_x0,
                RelocStatus::overflow, opc_movz, 0);
    // Whatever the original opcode (MOVN, MOVK), opc [30:29] is rewritten.
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movn_x0, 5), movn_x0, RelocStatus::ok, opc_movz,
                5);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movk_x0, 5), movk_x0, RelocStatus::ok, opc_movz,
                5);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G0, movk_x0, 0 - uint64_t{5}), movk_x0,
                RelocStatus::ok, opc_movn, 4);
    // The CPU's view: the instruction loads the value.
    for (uint64_t v : {uint64_t{0}, uint64_t{0x7fff}, 0 - uint64_t{1}, 0 - uint64_t{0x8000}}) {
        const auto r = reloc_insn(R_AARCH64_MOVW_SABS_G0, movz_x0, v);
        EXPECT_EQ(exec_movw(r.insn, 0x5555), v);
    }
}

TEST(Aarch64Reloc, MovwSabsG1) {
    // movz x0, #0xffff, lsl #16 = 0xd2bfffe0
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, 0xffff'ffff), RelocStatus::ok,
                0xd2bf'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, 0x1'0000'0000), movz_x0_lsl16,
                RelocStatus::overflow, opc_movz, 0);
    // -2^32 >> 16 = -0x10000, inverted 0xffff: movn x0, #0xffff, lsl #16 = 0x92bfffe0
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, 0 - uint64_t{0x1'0000'0000}),
                RelocStatus::ok, 0x92bf'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, 0 - uint64_t{0x1'0000'0001}),
                movz_x0_lsl16, RelocStatus::overflow, opc_movn, 0);
    // -0x12340000 >> 16 = -0x1234, inverted 0x1233: movn x0, #0x1233, lsl #16 = 0x92a24660
    expect_insn(reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, 0 - uint64_t{0x1234'0000}),
                RelocStatus::ok, 0x92a2'4660);
}

TEST(Aarch64Reloc, MovwSabsG2) {
    constexpr uint64_t two48 = uint64_t{1} << 48;
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G2, movz_x0_lsl32, two48 - 1), movz_x0_lsl32,
                RelocStatus::ok, opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G2, movz_x0_lsl32, two48), movz_x0_lsl32,
                RelocStatus::overflow, opc_movz, 0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G2, movz_x0_lsl32, 0 - two48), movz_x0_lsl32,
                RelocStatus::ok, opc_movn, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_SABS_G2, movz_x0_lsl32, 0 - two48 - 1), movz_x0_lsl32,
                RelocStatus::overflow, opc_movn, 0);
}

TEST(Aarch64Reloc, MovwSabsSequencesLoadNegativeValues) {
    // SABS_G1 + UABS_G0_NC, and SABS_G2 + UABS_G1_NC + UABS_G0_NC, as a compiler emits them.
    for (uint64_t v : {0 - uint64_t{0x1234'5678}, uint64_t{0x1234'5678}, 0 - uint64_t{1}}) {
        const auto hi = reloc_insn(R_AARCH64_MOVW_SABS_G1, movz_x0_lsl16, v);
        const auto lo = reloc_insn(R_AARCH64_MOVW_UABS_G0_NC, movk_x0, v);
        EXPECT_EQ(hi.status, RelocStatus::ok);
        EXPECT_EQ(lo.status, RelocStatus::ok);
        EXPECT_EQ(exec_movw(lo.insn, exec_movw(hi.insn, 0)), v) << std::hex << v;
    }
    for (uint64_t v : {0 - uint64_t{0x1234'5678'9abc}, uint64_t{0x1234'5678'9abc}}) {
        const auto g2 = reloc_insn(R_AARCH64_MOVW_SABS_G2, movz_x0_lsl32, v);
        const auto g1 = reloc_insn(R_AARCH64_MOVW_UABS_G1_NC, movk_x0_lsl16, v);
        const auto g0 = reloc_insn(R_AARCH64_MOVW_UABS_G0_NC, movk_x0, v);
        EXPECT_EQ(g2.status, RelocStatus::ok);
        EXPECT_EQ(exec_movw(g0.insn, exec_movw(g1.insn, exec_movw(g2.insn, 0))), v)
            << std::hex << v;
    }
}

TEST(Aarch64Reloc, MovwPrelG0) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G0, movz_x0, P + 0xffff), movz_x0, RelocStatus::ok,
                opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G0, movz_x0, P + 0x1'0000), movz_x0,
                RelocStatus::overflow, opc_movz, 0);
    // movn x0, #0xffff = 0x929fffe0 (-0x10000)
    expect_insn(reloc_insn(R_AARCH64_MOVW_PREL_G0, movz_x0, P - 0x1'0000), RelocStatus::ok,
                0x929f'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G0, movz_x0, P - 0x1'0001), movz_x0,
                RelocStatus::overflow, opc_movn, 0);
}

TEST(Aarch64Reloc, MovwPrelG0NcKeepsMovk) {
    // movk x0, #0xffff = 0xf29fffe0: P - 1 is -1, low 16 bits 0xffff, opcode untouched.
    expect_insn(reloc_insn(R_AARCH64_MOVW_PREL_G0_NC, movk_x0, P - 1), RelocStatus::ok,
                0xf29f'ffe0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G0_NC, movk_x0, P + 0x1'2345), movk_x0,
                RelocStatus::ok, opc_movk, 0x2345);
}

TEST(Aarch64Reloc, MovwPrelG1) {
    constexpr uint64_t two32 = uint64_t{1} << 32;
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1, movz_x0_lsl16, P + two32 - 1), movz_x0_lsl16,
                RelocStatus::ok, opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1, movz_x0_lsl16, P + two32), movz_x0_lsl16,
                RelocStatus::overflow, opc_movz, 0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1, movz_x0_lsl16, P - two32), movz_x0_lsl16,
                RelocStatus::ok, opc_movn, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1, movz_x0_lsl16, P - two32 - 1), movz_x0_lsl16,
                RelocStatus::overflow, opc_movn, 0);
}

TEST(Aarch64Reloc, MovwPrelG1NcKeepsMovk) {
    // -0x10000 >> 16 = -1: field 0xffff, still MOVK, no check.
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1_NC, movk_x0_lsl16, P - 0x1'0000), movk_x0_lsl16,
                RelocStatus::ok, opc_movk, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G1_NC, movk_x0_lsl16, P + 0x1234'5678'0000),
                movk_x0_lsl16, RelocStatus::ok, opc_movk, 0x5678);
}

TEST(Aarch64Reloc, MovwPrelG2) {
    constexpr uint64_t two48 = uint64_t{1} << 48;
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G2, movz_x0_lsl32, P + two48 - 1), movz_x0_lsl32,
                RelocStatus::ok, opc_movz, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G2, movz_x0_lsl32, P + two48), movz_x0_lsl32,
                RelocStatus::overflow, opc_movz, 0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G2, movz_x0_lsl32, P - two48), movz_x0_lsl32,
                RelocStatus::ok, opc_movn, 0xffff);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G2, movz_x0_lsl32, P - two48 - 1), movz_x0_lsl32,
                RelocStatus::overflow, opc_movn, 0);
}

TEST(Aarch64Reloc, MovwPrelG2NcKeepsMovk) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G2_NC, movk_x0_lsl32, P - 0x1'0000'0000),
                movk_x0_lsl32, RelocStatus::ok, opc_movk, 0xffff);
}

TEST(Aarch64Reloc, MovwPrelG3IsSignedAndUnchecked) {
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G3, movz_x0_lsl48, P - 1), movz_x0_lsl48,
                RelocStatus::ok, opc_movn, 0);
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G3, movz_x0_lsl48, P + 0x7fff'0000'0000'0000),
                movz_x0_lsl48, RelocStatus::ok, opc_movz, 0x7fff);
    // The most negative difference, -2^63: >> 48 = -0x8000, inverted 0x7fff.
    expect_movw(reloc_insn(R_AARCH64_MOVW_PREL_G3, movz_x0_lsl48, P + 0x8000'0000'0000'0000),
                movz_x0_lsl48, RelocStatus::ok, opc_movn, 0x7fff);
}

TEST(Aarch64Reloc, MovwPrelSequenceBuildsTheDifference) {
    // Each instruction has its own place; the compiler biases the addend by the same amount.
    const uint32_t insns[4] = {movz_x0_lsl48, movk_x0_lsl32, movk_x0_lsl16, movk_x0};
    const uint32_t types[4] = {R_AARCH64_MOVW_PREL_G3, R_AARCH64_MOVW_PREL_G2_NC,
                               R_AARCH64_MOVW_PREL_G1_NC, R_AARCH64_MOVW_PREL_G0_NC};
    // One target above the place, one below (G3 then becomes a MOVN).
    for (uint64_t target : {uint64_t{0xffff'8000'c000'1234}, uint64_t{0xffff'8000'0000'1234}}) {
        uint64_t x = 0;
        for (int i = 0; i < 4; ++i) {
            const uint64_t bias = 4 * static_cast<uint64_t>(i);
            const auto r = reloc_insn(types[i], insns[i], target + bias, P + bias);
            EXPECT_EQ(r.status, RelocStatus::ok);
            x = exec_movw(r.insn, x);
        }
        EXPECT_EQ(x, target - P) << std::hex << target;
    }
}

// --- Immediate relocations: reloc_insn_imm() -------------------------------------------------

TEST(Aarch64Reloc, LdPrelLo19) {
    constexpr uint32_t ldr_x17_lit = 0x5800'0011;  // ldr x17, .
    // ldr x17, .+0xffffc = 0x587ffff1 (last in range)
    expect_insn(reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P + 0xf'fffc), RelocStatus::ok,
                0x587f'fff1);
    // ldr x17, .-0x100000 = 0x58800011 (first in range on the negative side)
    expect_insn(reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P - 0x10'0000), RelocStatus::ok,
                0x5880'0011);
    // First out on each side; written truncated.
    auto r = reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P + 0x10'0000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(bits(r.insn, 23, 5), 0x4'0000u);
    r = reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P - 0x10'0004);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(bits(r.insn, 23, 5), 0x3'ffffu);
    // Misaligned values: the low 2 bits are dropped by the arithmetic shift, no check.
    expect_insn(reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P + 0xf'ffff), RelocStatus::ok,
                0x587f'fff1);
    r = reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P - 0x10'0001);  // floor(-0x100001/4)
    EXPECT_EQ(r.status, RelocStatus::overflow);
    // Decoder round trip.
    r = reloc_insn(R_AARCH64_LD_PREL_LO19, ldr_x17_lit, P - 0x1234);
    EXPECT_EQ(decode_imm19(r.insn), -0x1234);
    EXPECT_EQ(sext(bits(r.insn, 23, 5), 19) * 4, -0x1234);
}

TEST(Aarch64Reloc, AdrPrelLo21) {
    constexpr uint32_t adr_x0 = 0x1000'0000;  // adr x0, .
    // adr x0, .+0xfffff = 0x707fffe0
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_LO21, adr_x0, P + 0xf'ffff), RelocStatus::ok,
                0x707f'ffe0);
    // adr x0, .-0x100000 = 0x10800000
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_LO21, adr_x0, P - 0x10'0000), RelocStatus::ok,
                0x1080'0000);
    EXPECT_EQ(reloc_insn(R_AARCH64_ADR_PREL_LO21, adr_x0, P + 0x10'0000).status,
              RelocStatus::overflow);
    EXPECT_EQ(reloc_insn(R_AARCH64_ADR_PREL_LO21, adr_x0, P - 0x10'0001).status,
              RelocStatus::overflow);
    // Byte granular; immlo carries bits [1:0].
    const auto r = reloc_insn(R_AARCH64_ADR_PREL_LO21, adr_x0, P + 0x1235);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(bits(r.insn, 30, 29), 0x1u);
    EXPECT_EQ(bits(r.insn, 23, 5), 0x48du);
    EXPECT_EQ(bits(r.insn, 31, 31), 0u);  // still ADR
    EXPECT_EQ(decode_adr(r.insn), 0x1235);
}

constexpr uint32_t adrp_x0 = 0x9000'0000;  // adrp x0, .

TEST(Aarch64Reloc, AdrPrelPgHi21) {
    const uint64_t pg = page_of(P);
    // adrp x0, .+0xfffff000 = 0xf07fffe0; low 12 bits of the value are irrelevant.
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, pg + 0xffff'f000 + 0xabc),
                RelocStatus::ok, 0xf07f'ffe0);
    // adrp x0, .-0x100000000 = 0x90800000
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, pg - 0x1'0000'0000),
                RelocStatus::ok, 0x9080'0000);
    auto r = reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, pg + 0x1'0000'0000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.insn, 0x9080'0000u);  // written, wrapped to -4 GiB
    r = reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, pg - 0x1'0000'1000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    // The page of the place counts, not the place: P + 0xff0 lies on the next page.
    r = reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, P + 0xff0);
    EXPECT_EQ(decode_adrp(r.insn), 0x1000);
    EXPECT_EQ(pg + static_cast<uint64_t>(decode_adrp(r.insn)), page_of(P + 0xff0));
    // adrp x16, .+0x12344000 = 0x90091a30 (Rd preserved)
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, 0x9000'0010, pg + 0x1234'4567),
                RelocStatus::ok, 0x9009'1a30);
}

TEST(Aarch64Reloc, AdrPrelPgHi21NcIsUnchecked) {
    const uint64_t pg = page_of(P);
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_PG_HI21_NC, adrp_x0, pg + 0x1'0000'0000),
                RelocStatus::ok, 0x9080'0000);
    expect_insn(reloc_insn(R_AARCH64_ADR_PREL_PG_HI21_NC, adrp_x0, pg + 0xffff'f000),
                RelocStatus::ok, 0xf07f'ffe0);
}

TEST(Aarch64Reloc, AdrpAtErratum843419OffsetStaysAdrp) {
    // Modelled CPU has no erratum 843419: no ADR rewrite, no veneer, even at 0xff8/0xffc.
    for (uint64_t off : {uint64_t{0xff8}, uint64_t{0xffc}}) {
        const uint64_t place = page_of(P) + off;
        const auto r = reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, place + 0x10, place);
        EXPECT_EQ(r.status, RelocStatus::ok);
        EXPECT_EQ(bits(r.insn, 31, 31), 1u);
        EXPECT_EQ(decode_adrp(r.insn), 0x1000);
    }
}

TEST(Aarch64Reloc, AddAbsLo12Nc) {
    // add x0, x0, #0xabc = 0x912af000
    expect_insn(reloc_insn(R_AARCH64_ADD_ABS_LO12_NC, 0x9100'0000, 0xffff'8000'1234'5abc),
                RelocStatus::ok, 0x912a'f000);
    // add x1, x2, #0xfff (0x913ffc41) -> add x1, x2, #0 (0x91000041): the field is replaced.
    expect_insn(reloc_insn(R_AARCH64_ADD_ABS_LO12_NC, 0x913f'fc41, 0x1000), RelocStatus::ok,
                0x9100'0041);
}

TEST(Aarch64Reloc, AdrpAddPairReachesTheTarget) {
    const uint64_t target = 0xffff'8000'c123'4567;
    const auto hi = reloc_insn(R_AARCH64_ADR_PREL_PG_HI21, adrp_x0, target);
    const auto lo = reloc_insn(R_AARCH64_ADD_ABS_LO12_NC, 0x9100'0000, target);
    ASSERT_EQ(hi.status, RelocStatus::ok);
    ASSERT_EQ(lo.status, RelocStatus::ok);
    const int64_t page_off = sext(uint64_t{bits(hi.insn, 23, 5)} << 2 | bits(hi.insn, 30, 29), 21);
    EXPECT_EQ(page_of(P) + static_cast<uint64_t>(page_off * 4096) + bits(lo.insn, 21, 10), target);
}

TEST(Aarch64Reloc, Ldst8AbsLo12Nc) {
    // ldrb w1, [x0, #0xabc] = 0x396af001
    expect_insn(reloc_insn(R_AARCH64_LDST8_ABS_LO12_NC, 0x3940'0001, 0xffff'8000'1234'5abc),
                RelocStatus::ok, 0x396a'f001);
}

TEST(Aarch64Reloc, Ldst16AbsLo12Nc) {
    // ldrh w1, [x0, #0xabc] = 0x79557801 (field 0xabc >> 1 = 0x55e)
    expect_insn(reloc_insn(R_AARCH64_LDST16_ABS_LO12_NC, 0x7940'0001, 0xffff'8000'1234'5abc),
                RelocStatus::ok, 0x7955'7801);
    // No alignment check: an odd value just loses bit 0.
    expect_insn(reloc_insn(R_AARCH64_LDST16_ABS_LO12_NC, 0x7940'0001, 0xffff'8000'1234'5abd),
                RelocStatus::ok, 0x7955'7801);
}

TEST(Aarch64Reloc, Ldst32AbsLo12Nc) {
    // ldr w1, [x0, #0xab8] = 0xb94ab801 (field 0xab8 >> 2 = 0x2ae)
    expect_insn(reloc_insn(R_AARCH64_LDST32_ABS_LO12_NC, 0xb940'0001, 0xffff'8000'1234'5ab8),
                RelocStatus::ok, 0xb94a'b801);
    expect_insn(reloc_insn(R_AARCH64_LDST32_ABS_LO12_NC, 0xb940'0001, 0xffff'8000'1234'5abb),
                RelocStatus::ok, 0xb94a'b801);
}

TEST(Aarch64Reloc, Ldst64AbsLo12Nc) {
    // ldr x1, [x0, #0xab8] = 0xf9455c01 (field 0xab8 >> 3 = 0x157)
    expect_insn(reloc_insn(R_AARCH64_LDST64_ABS_LO12_NC, 0xf940'0001, 0xffff'8000'1234'5ab8),
                RelocStatus::ok, 0xf945'5c01);
    expect_insn(reloc_insn(R_AARCH64_LDST64_ABS_LO12_NC, 0xf940'0001, 0xffff'8000'1234'5abf),
                RelocStatus::ok, 0xf945'5c01);
}

TEST(Aarch64Reloc, Ldst128AbsLo12Nc) {
    // ldr q1, [x0, #0xab0] = 0x3dc2ac01 (field 0xab0 >> 4 = 0xab)
    expect_insn(reloc_insn(R_AARCH64_LDST128_ABS_LO12_NC, 0x3dc0'0001, 0xffff'8000'1234'5ab0),
                RelocStatus::ok, 0x3dc2'ac01);
    // Only 8 bits are encoded, so the top 4 bits of the 12-bit field are cleared:
    // ldr q1, [x0, #0xfff0] (0x3dfffc01) -> ldr q1, [x0, #0x10] (0x3dc00401).
    expect_insn(reloc_insn(R_AARCH64_LDST128_ABS_LO12_NC, 0x3dff'fc01, 0x7'0010), RelocStatus::ok,
                0x3dc0'0401);
}

TEST(Aarch64Reloc, Tstbr14) {
    constexpr uint32_t tbz_w0 = 0x3600'0000;  // tbz w0, #0, .
    // tbz w0, #0, .+0x7ffc = 0x3603ffe0
    expect_insn(reloc_insn(R_AARCH64_TSTBR14, tbz_w0, P + 0x7ffc), RelocStatus::ok, 0x3603'ffe0);
    // tbz w0, #0, .-0x8000 = 0x36040000
    expect_insn(reloc_insn(R_AARCH64_TSTBR14, tbz_w0, P - 0x8000), RelocStatus::ok, 0x3604'0000);
    auto r = reloc_insn(R_AARCH64_TSTBR14, tbz_w0, P + 0x8000);
    EXPECT_EQ(r.status, RelocStatus::overflow);
    EXPECT_EQ(r.insn, 0x3604'0000u);  // written, wrapped
    EXPECT_EQ(reloc_insn(R_AARCH64_TSTBR14, tbz_w0, P - 0x8004).status, RelocStatus::overflow);
    // b5, op and b40 are preserved: tbnz x3, #63, .+8 = 0xb7f80043
    expect_insn(reloc_insn(R_AARCH64_TSTBR14, 0xb7f8'0003, P + 8), RelocStatus::ok, 0xb7f8'0043);
    r = reloc_insn(R_AARCH64_TSTBR14, tbz_w0, P - 0x100);
    EXPECT_EQ(decode_imm14(r.insn), -0x100);
}

TEST(Aarch64Reloc, Condbr19) {
    constexpr uint32_t b_eq = 0x5400'0000;  // b.eq .
    // b.eq .+0xffffc = 0x547fffe0
    expect_insn(reloc_insn(R_AARCH64_CONDBR19, b_eq, P + 0xf'fffc), RelocStatus::ok, 0x547f'ffe0);
    // b.eq .-0x100000 = 0x54800000
    expect_insn(reloc_insn(R_AARCH64_CONDBR19, b_eq, P - 0x10'0000), RelocStatus::ok, 0x5480'0000);
    EXPECT_EQ(reloc_insn(R_AARCH64_CONDBR19, b_eq, P + 0x10'0000).status, RelocStatus::overflow);
    EXPECT_EQ(reloc_insn(R_AARCH64_CONDBR19, b_eq, P - 0x10'0004).status, RelocStatus::overflow);
    // The condition (b.ne = 1) is preserved.
    const auto r = reloc_insn(R_AARCH64_CONDBR19, 0x5400'0001, P + 0x40);
    EXPECT_EQ(r.insn, 0x5400'0201u);  // b.ne .+0x40: imm19 = 0x10 at [23:5]
    EXPECT_EQ(decode_imm19(r.insn), 0x40);
}

void check_branch26(uint32_t type, uint32_t base) {
    // b/bl .+0x7fffffc = base | 0x1ffffff; b/bl .-0x8000000 = base | 0x2000000
    expect_insn(reloc_insn(type, base, P + 0x7ff'fffc), RelocStatus::ok, base | 0x1ff'ffff);
    expect_insn(reloc_insn(type, base, P - 0x800'0000), RelocStatus::ok, base | 0x200'0000);
    // First out on each side: the kernel has already written the wrapped offset when it
    // decides to go through a PLT.
    expect_insn(reloc_insn(type, base, P + 0x800'0000), RelocStatus::overflow, base | 0x200'0000);
    expect_insn(reloc_insn(type, base, P - 0x800'0004), RelocStatus::overflow, base | 0x1ff'ffff);
    const auto r = reloc_insn(type, base, P - 0x123'4568);
    EXPECT_EQ(r.status, RelocStatus::ok);
    EXPECT_EQ(decode_branch26(r.insn), -0x123'4568);
    EXPECT_EQ(sext(bits(r.insn, 25, 0), 26) * 4, -0x123'4568);
    EXPECT_EQ(r.insn & 0xfc00'0000, base);
}

TEST(Aarch64Reloc, Jump26) {
    // b .+0x7fffffc = 0x15ffffff; b .-0x8000000 = 0x16000000
    check_branch26(R_AARCH64_JUMP26, 0x1400'0000);
    expect_insn(reloc_insn(R_AARCH64_JUMP26, 0x1400'0000, P + 0x7ff'fffc), RelocStatus::ok,
                0x15ff'ffff);
}

TEST(Aarch64Reloc, Call26) {
    // bl .+0x7fffffc = 0x95ffffff; bl .-0x8000000 = 0x96000000
    check_branch26(R_AARCH64_CALL26, 0x9400'0000);
    expect_insn(reloc_insn(R_AARCH64_CALL26, 0x9400'0000, P - 0x800'0000), RelocStatus::ok,
                0x9600'0000);
}

TEST(Aarch64Reloc, Call26ThroughPlt) {
    // What apply_relocate_add() does on -ERANGE: emit a PLT entry, relocate again against it.
    const uint64_t dst = P + 0x4000'0000;  // 1 GiB away, out of BL range
    std::array<uint8_t, 4> bl = {0x00, 0x00, 0x00, 0x94};
    ASSERT_EQ(apply_one(R_AARCH64_CALL26, bl.data(), P, dst), RelocStatus::overflow);
    const uint64_t plt = P + 0x10'0000;
    ASSERT_EQ(apply_one(R_AARCH64_CALL26, bl.data(), P, plt), RelocStatus::ok);
    const uint32_t insn =
        uint32_t{bl[0]} | uint32_t{bl[1]} << 8 | uint32_t{bl[2]} << 16 | uint32_t{bl[3]} << 24;
    EXPECT_EQ(P + static_cast<uint64_t>(decode_branch26(insn)), plt);
    const auto e = plt_entry(dst, plt);
    EXPECT_EQ(page_of(plt) + static_cast<uint64_t>(decode_adrp(e[0])) + decode_imm12(e[1]), dst);
}

TEST(Aarch64Reloc, BreakFaultInstructionIsLeftAlone) {
    // aarch64_insn_encode_immediate() returns AARCH64_BREAK_FAULT (brk #0x100) unchanged; the
    // range check still runs.
    expect_insn(reloc_insn(R_AARCH64_CALL26, break_fault_insn, P + 8), RelocStatus::ok,
                break_fault_insn);
    expect_insn(reloc_insn(R_AARCH64_CALL26, break_fault_insn, P + 0x800'0000),
                RelocStatus::overflow, break_fault_insn);
    expect_insn(reloc_insn(R_AARCH64_ADD_ABS_LO12_NC, break_fault_insn, 0x123), RelocStatus::ok,
                break_fault_insn);
}

// --- Unsupported types -----------------------------------------------------------------------

TEST(Aarch64Reloc, UnsupportedTypesAreRejectedWithoutWriting) {
    const std::initializer_list<uint32_t> types = {
        1,    // R_AARCH64_P32_ABS32 (ILP32)
        255,  // nothing
        281,  // unallocated between CONDBR19 and JUMP26
        294,  // unallocated
        R_AARCH64_MOVW_GOTOFF_G0,
        R_AARCH64_GOTREL64,
        R_AARCH64_GOT_LD_PREL19,  // 309
        R_AARCH64_ADR_GOT_PAGE,   // 311
        R_AARCH64_LD64_GOT_LO12_NC,
        314,  // R_AARCH64_PLT32
        315,  // R_AARCH64_GOTPCREL32
        R_AARCH64_TLSGD_ADR_PAGE21,
        R_AARCH64_TLSLE_ADD_TPREL_HI12,
        R_AARCH64_TLSDESC_CALL,
        R_AARCH64_COPY,  // 1024
        R_AARCH64_RELATIVE,
        R_AARCH64_IRELATIVE,
        0xffff'ffff,
    };
    for (uint32_t type : types) {
        auto r = reloc_insn(type, 0x9400'0000, P + 8);
        EXPECT_EQ(r.status, RelocStatus::unsupported) << type;
        EXPECT_EQ(r.insn, 0x9400'0000u) << type;
        EXPECT_FALSE(is_supported(type)) << type;
    }
}

TEST(Aarch64Reloc, IsSupportedMatchesApplyOne) {
    int supported = 0;
    for (uint32_t type = 0; type < 4096; ++type) {
        std::array<uint8_t, 8> buf{};
        const bool applied = apply_one(type, buf.data(), P, P) != RelocStatus::unsupported;
        EXPECT_EQ(is_supported(type), applied) << type;
        if (applied) {
            ++supported;
            EXPECT_NE(reloc_name(type), nullptr) << type;
        }
    }
    // 2 NONE + 6 data + 17 MOVW + LD_PREL_LO19 + ADR_PREL_LO21 + 2 ADRP + ADD + 5 LDST
    // + TSTBR14 + CONDBR19 + JUMP26 + CALL26
    EXPECT_EQ(supported, 39);
}

// --- Names and predicates ----------------------------------------------------------------------

TEST(Aarch64Reloc, Names) {
    EXPECT_STREQ(reloc_name(R_AARCH64_CALL26), "R_AARCH64_CALL26");
    EXPECT_STREQ(reloc_name(R_AARCH64_JUMP26), "R_AARCH64_JUMP26");
    EXPECT_STREQ(reloc_name(283), "R_AARCH64_CALL26");
    EXPECT_STREQ(reloc_name(0), "R_AARCH64_NONE");
    EXPECT_STREQ(reloc_name(256), "R_AARCH64_NONE");
    EXPECT_STREQ(reloc_name(R_AARCH64_ADR_PREL_PG_HI21_NC), "R_AARCH64_ADR_PREL_PG_HI21_NC");
    EXPECT_STREQ(reloc_name(R_AARCH64_LDST128_ABS_LO12_NC), "R_AARCH64_LDST128_ABS_LO12_NC");
    EXPECT_STREQ(reloc_name(R_AARCH64_MOVW_PREL_G3), "R_AARCH64_MOVW_PREL_G3");
    EXPECT_STREQ(reloc_name(311), "R_AARCH64_ADR_GOT_PAGE");
    EXPECT_STREQ(reloc_name(314), "R_AARCH64_PLT32");
    EXPECT_STREQ(reloc_name(1024), "R_AARCH64_COPY");
    EXPECT_EQ(reloc_name(281), nullptr);
    EXPECT_EQ(reloc_name(100000), nullptr);
}

TEST(Aarch64Reloc, Branch26Predicate) {
    EXPECT_TRUE(is_branch26(R_AARCH64_JUMP26));
    EXPECT_TRUE(is_branch26(R_AARCH64_CALL26));
    EXPECT_FALSE(is_branch26(R_AARCH64_CONDBR19));
    EXPECT_FALSE(is_branch26(R_AARCH64_TSTBR14));
    EXPECT_FALSE(is_branch26(R_AARCH64_ADR_PREL_PG_HI21));
    EXPECT_FALSE(is_branch26(0));
}

// --- PLT entries: get_plt_entry() --------------------------------------------------------------

// Decodes an entry with the local helpers and returns where it jumps when placed at pc.
uint64_t plt_target(const std::array<uint32_t, 3>& e, uint64_t pc) {
    // adrp x16: op=1 [31], immlo [30:29], 10000 [28:24], immhi [23:5], Rd [4:0]
    EXPECT_EQ(e[0] & 0x9f00'001f, 0x9000'0010u) << std::hex << e[0];
    // add x16, x16, #imm12: sf=1 op=0 S=0 100010 sh=0 [22], Rn=16, Rd=16
    EXPECT_EQ(e[1] & 0xffc0'03ff, 0x9100'0210u) << std::hex << e[1];
    EXPECT_EQ(e[2], 0xd61f'0200u);  // br x16
    const int64_t pages = sext(uint64_t{bits(e[0], 23, 5)} << 2 | bits(e[0], 30, 29), 21);
    return page_of(pc) + static_cast<uint64_t>(pages * 4096) + bits(e[1], 21, 10);
}

TEST(Aarch64Plt, HandEncodedEntry) {
    // pc 0x1000, dst 0x12345678: adrp x16, .+0x12344000 = 0x90091a30;
    // add x16, x16, #0x678 = 0x9119e210; br x16 = 0xd61f0200.
    const auto e = plt_entry(0x1234'5678, 0x1000);
    EXPECT_EQ(e[0], 0x9009'1a30u);
    EXPECT_EQ(e[1], 0x9119'e210u);
    EXPECT_EQ(e[2], 0xd61f'0200u);
}

TEST(Aarch64Plt, ReachesFarTargets) {
    const uint64_t pc = 0xffff'8000'0801'000cULL;   // 12-byte entries need not be page aligned
    for (uint64_t dst : {pc + 0xc000'0000 + 0x456,  // +3 GiB
                         pc - 0xf000'0000 + 0x123,  // -3.75 GiB
                         pc + 0x800'0000,           // just past BL range
                         pc - 0x800'0004,
                         page_of(pc) + 0xffff'ffff,       // last byte of the last page in range
                         page_of(pc) - 0x1'0000'0000}) {  // first byte of the first page
        const auto e = plt_entry(dst, pc);
        EXPECT_EQ(plt_target(e, pc), dst) << std::hex << dst;
        EXPECT_EQ(page_of(pc) + static_cast<uint64_t>(decode_adrp(e[0])) + decode_imm12(e[1]), dst);
    }
    // A direct BL from pc cannot reach the first one.
    std::array<uint8_t, 4> bl = {0x00, 0x00, 0x00, 0x94};
    EXPECT_EQ(apply_one(R_AARCH64_CALL26, bl.data(), pc, pc + 0xc000'0000 + 0x456),
              RelocStatus::overflow);
}

TEST(Aarch64Plt, OutOfAdrpRangeGivesBreakFault) {
    // aarch64_insn_gen_adr() returns AARCH64_BREAK_FAULT beyond [-2^20, 2^20) pages.
    const uint64_t pc = 0xffff'8000'0801'000cULL;
    EXPECT_EQ(plt_entry(page_of(pc) + 0x1'0000'0000, pc)[0], break_fault_insn);
    EXPECT_EQ(plt_entry(page_of(pc) - 0x1'0000'0001, pc)[0], break_fault_insn);
    // As in the kernel, the page count is truncated to s32 before the check.
    EXPECT_EQ(decode_adrp(plt_entry(pc + (uint64_t{1} << 44), pc)[0]), 0);
}

// --- Decoders ------------------------------------------------------------------------------

TEST(Aarch64Decode, HandEncodedInstructions) {
    EXPECT_EQ(decode_branch26(0x95ff'ffff), 0x7ff'fffc);   // bl .+0x7fffffc
    EXPECT_EQ(decode_branch26(0x1600'0000), -0x800'0000);  // b .-0x8000000
    EXPECT_EQ(decode_branch26(0x9400'0000), 0);            // bl .
    EXPECT_EQ(decode_adrp(0xf07f'ffe0), 0xffff'f000);      // adrp x0, .+0xfffff000
    EXPECT_EQ(decode_adrp(0x9080'0000), -0x1'0000'0000);   // adrp x0, .-0x100000000
    EXPECT_EQ(decode_adr(0x707f'ffe0), 0xf'ffff);          // adr x0, .+0xfffff
    EXPECT_EQ(decode_imm19(0x5880'0011), -0x10'0000);      // ldr x17, .-0x100000
    EXPECT_EQ(decode_imm14(0x3603'ffe0), 0x7ffc);          // tbz w0, #0, .+0x7ffc
    EXPECT_EQ(decode_imm12(0x912a'f000), 0xabcu);          // add x0, x0, #0xabc
    EXPECT_EQ(decode_imm16(0xd29f'ffe0), 0xffffu);         // movz x0, #0xffff
}

}  // namespace
}  // namespace kmodemu::aarch64
