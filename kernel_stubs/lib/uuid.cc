// lib/uuid.c: UUIDs and GUIDs, parsed and generated (random, from get_random_bytes()).
#include <cctype>
#include <cerrno>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

// uuid_is_valid(): "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits of either case.
bool uuid_is_valid(const std::string& s) {
    if (s.size() < 36) return false;
    for (unsigned i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

int hex_to_bin(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    return (std::tolower(static_cast<unsigned char>(ch)) - 'a') + 10;
}

// __uuid_parse(uuid, b, index): the 16 bytes, byte i from the digits at si[index[i]].
uint64_t parse(StubCall& c, const unsigned char (&index)[16]) {
    static constexpr unsigned si[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    std::string s = c.read_cstr(c.arg(0), 36);
    if (!uuid_is_valid(s)) return static_cast<uint64_t>(int64_t(-EINVAL));
    uint8_t b[16];
    for (unsigned i = 0; i < 16; ++i) {
        unsigned pos = si[i];
        b[index[i]] = static_cast<uint8_t>(hex_to_bin(s[pos]) << 4 | hex_to_bin(s[pos + 1]));
    }
    c.write(c.arg(1), b, 16);
    return 0;
}

constexpr unsigned char guid_index[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr unsigned char uuid_index[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// generate_random_uuid()/generate_random_guid(): 16 random bytes, the version (4) in the high
// nibble of byte `version`, the variant (10b, DCE) in the top bits of byte 8.
void generate(StubCall& c, unsigned version) {
    uint64_t p = c.arg(0);
    c.kernel.call_guest(c.kernel.find_export("get_random_bytes")->address, {p, 16});
    std::vector<uint8_t> b = c.read(p, 16);
    b[version] = static_cast<uint8_t>((b[version] & 0x0f) | 0x40);
    b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
    c.write(p, b.data(), 16);
}

}  // namespace

void register_uuid(Kernel& k) {
    const char* sub = "lib/uuid";
    // guid_parse(uuid, guid) / uuid_parse(uuid, u): 0, or -EINVAL for a malformed string.
    k.add_function("guid_parse", sub, [](StubCall& c) -> uint64_t { return parse(c, guid_index); });
    k.add_function("uuid_parse", sub, [](StubCall& c) -> uint64_t { return parse(c, uuid_index); });
    k.add_function("uuid_is_valid", sub, [](StubCall& c) -> uint64_t {
        return uuid_is_valid(c.read_cstr(c.arg(0), 36));
    });
    k.add_function("uuid_gen", sub, [](StubCall& c) -> uint64_t {
        generate(c, 6);
        return 0;
    });
    k.add_function("guid_gen", sub, [](StubCall& c) -> uint64_t {
        generate(c, 7);
        return 0;
    });
}

}  // namespace kmodemu
