// include/linux/jhash.h: Bob Jenkins' lookup3 hashes, as the kernel computes them (inline in
// the kernel and in modules; rhashtable's default hash functions point at them).
#pragma once

#include <bit>
#include <cstdint>

namespace kmodemu {

// include/linux/jhash.h jhash(): Bob Jenkins' lookup3 over `len` bytes.
inline uint32_t jhash(const uint8_t* k, uint32_t length, uint32_t initval) {
    auto rol = [](uint32_t v, int s) { return std::rotl(v, s); };
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + length + initval;
    auto get32 = [](const uint8_t* p) {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    };
    while (length > 12) {
        a += get32(k);
        b += get32(k + 4);
        c += get32(k + 8);
        a -= c;
        a ^= rol(c, 4);
        c += b;
        b -= a;
        b ^= rol(a, 6);
        a += c;
        c -= b;
        c ^= rol(b, 8);
        b += a;
        a -= c;
        a ^= rol(c, 16);
        c += b;
        b -= a;
        b ^= rol(a, 19);
        a += c;
        c -= b;
        c ^= rol(b, 4);
        b += a;
        length -= 12;
        k += 12;
    }
    if (!length) return c;
    switch (length) {
        case 12:
            c += uint32_t(k[11]) << 24;
            [[fallthrough]];
        case 11:
            c += uint32_t(k[10]) << 16;
            [[fallthrough]];
        case 10:
            c += uint32_t(k[9]) << 8;
            [[fallthrough]];
        case 9:
            c += k[8];
            [[fallthrough]];
        case 8:
            b += uint32_t(k[7]) << 24;
            [[fallthrough]];
        case 7:
            b += uint32_t(k[6]) << 16;
            [[fallthrough]];
        case 6:
            b += uint32_t(k[5]) << 8;
            [[fallthrough]];
        case 5:
            b += k[4];
            [[fallthrough]];
        case 4:
            a += uint32_t(k[3]) << 24;
            [[fallthrough]];
        case 3:
            a += uint32_t(k[2]) << 16;
            [[fallthrough]];
        case 2:
            a += uint32_t(k[1]) << 8;
            [[fallthrough]];
        default:
            a += k[0];
    }
    c ^= b;
    c -= rol(b, 14);
    a ^= c;
    a -= rol(c, 11);
    b ^= a;
    b -= rol(a, 25);
    c ^= b;
    c -= rol(b, 16);
    a ^= c;
    a -= rol(c, 4);
    b ^= a;
    b -= rol(a, 14);
    c ^= b;
    c -= rol(b, 24);
    return c;
}

// jhash2(k, length, initval): the same over `length` 32-bit words.
inline uint32_t jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
    auto rol = [](uint32_t v, int s) { return std::rotl(v, s); };
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + (length << 2) + initval;
    auto mix = [&] {
        a -= c;
        a ^= rol(c, 4);
        c += b;
        b -= a;
        b ^= rol(a, 6);
        a += c;
        c -= b;
        c ^= rol(b, 8);
        b += a;
        a -= c;
        a ^= rol(c, 16);
        c += b;
        b -= a;
        b ^= rol(a, 19);
        a += c;
        c -= b;
        c ^= rol(b, 4);
        b += a;
    };
    while (length > 3) {
        a += k[0];
        b += k[1];
        c += k[2];
        mix();
        length -= 3;
        k += 3;
    }
    switch (length) {
        case 3:
            c += k[2];
            [[fallthrough]];
        case 2:
            b += k[1];
            [[fallthrough]];
        case 1:
            a += k[0];
            c ^= b;
            c -= rol(b, 14);
            a ^= c;
            a -= rol(c, 11);
            b ^= a;
            b -= rol(a, 25);
            c ^= b;
            c -= rol(b, 16);
            a ^= c;
            a -= rol(c, 4);
            b ^= a;
            b -= rol(a, 14);
            c ^= b;
            c -= rol(b, 24);
            break;
        default:
            break;
    }
    return c;
}

}  // namespace kmodemu
