// lib/hexdump.c: hex conversions.
#include <cerrno>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

int hex_to_bin(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

}  // namespace

void register_hexdump(Kernel& k) {
    const char* sub = "lib/hexdump";
    // bin2hex(dst, src, count): two lower-case digits a byte; the end of what was written.
    k.add_function("bin2hex", sub, [](StubCall& c) -> uint64_t {
        static const char digits[] = "0123456789abcdef";
        std::vector<uint8_t> in = c.read(c.arg(1), c.arg(2));
        std::string out;
        for (uint8_t b : in) {
            out += digits[b >> 4];
            out += digits[b & 15];
        }
        c.write(c.arg(0), out.data(), out.size());
        return c.arg(0) + out.size();
    });
    // hex2bin(dst, src, count): count bytes from 2 * count digits; -EINVAL at a non-digit.
    k.add_function("hex2bin", sub, [](StubCall& c) -> uint64_t {
        uint64_t n = c.arg(2);
        std::vector<uint8_t> in = c.read(c.arg(1), 2 * n);
        for (uint64_t i = 0; i < n; ++i) {
            int hi = hex_to_bin(in[2 * i]), lo = hex_to_bin(in[2 * i + 1]);
            if (hi < 0 || lo < 0) return static_cast<uint64_t>(int64_t(-EINVAL));
            uint8_t b = static_cast<uint8_t>(hi << 4 | lo);
            c.write(c.arg(0) + i, &b, 1);
        }
        return 0;
    });
    // hex_to_bin(ch)
    k.add_function("hex_to_bin", sub, [](StubCall& c) -> uint64_t {
        return static_cast<uint64_t>(int64_t(hex_to_bin(static_cast<unsigned char>(c.arg(0)))));
    });
}

}  // namespace kmodemu
