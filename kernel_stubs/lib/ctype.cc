// lib/ctype.c: _ctype[], the character class table that include/linux/ctype.h's isalpha(),
// isdigit(), ... read inline in modules (the bits are ctype.h's _U, _L, _D, _C, _P, _S, _X, _SP).
#include <array>
#include <cstdint>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

constexpr uint8_t U = 0x01, L = 0x02, D = 0x04, C = 0x08, P = 0x10, S = 0x20, X = 0x40, SP = 0x80;

// The ISO 8859-1 classes the kernel's table gives each of the 256 values.
constexpr std::array<uint8_t, 256> ctype_table() {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 32; c++) t[c] = C;
    for (int c = 9; c <= 13; c++) t[c] = C | S;
    t[32] = S | SP;
    for (int c = 33; c < 127; c++) t[c] = P;
    for (int c = '0'; c <= '9'; c++) t[c] = D;
    for (int c = 'A'; c <= 'Z'; c++) t[c] = c <= 'F' ? U | X : U;
    for (int c = 'a'; c <= 'z'; c++) t[c] = c <= 'f' ? L | X : L;
    t[127] = C;
    // 128-159: nothing; 160: a non-breaking space; 161-191: punctuation
    t[160] = S | SP;
    for (int c = 161; c < 192; c++) t[c] = P;
    for (int c = 192; c < 223; c++) t[c] = U;  // À-Þ
    t[215] = P;                                // ×
    for (int c = 223; c < 256; c++) t[c] = L;  // ß-ÿ
    t[247] = P;                                // ÷
    return t;
}

}  // namespace

void register_ctype(Kernel& k) {
    static constexpr std::array<uint8_t, 256> table = ctype_table();
    k.add_data("_ctype", "lib/ctype", table.size(), table.data());
}

}  // namespace kmodemu
