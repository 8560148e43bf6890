// Small helpers the loader's files share: little-endian words in a host image, printf-style
// formatting of kernel messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace kmodemu {

inline uint32_t get_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline void put_u32(uint8_t* p, uint32_t v) {
    std::memcpy(p, &v, 4);
}

// A kernel message, formatted as pr_err() would (messages are short; longer ones are cut).
template <class... Args>
std::string format(const char* fmt, Args... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

}  // namespace kmodemu
