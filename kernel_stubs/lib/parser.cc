// lib/parser.c: mount-option style token tables (match_token() and the match_* readers of the
// substrings it sets), on the guest's strings.
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/lib/kstrtox.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// simple_strtoull()'s scan: the digits of `base` (0: 0x.. hex, 0.. octal, else decimal; 16
// skips a 0x), from s[i]; the index after the last digit (i itself when there is none).
size_t scan_number(const std::string& s, size_t i, unsigned base, bool is_signed) {
    if (is_signed && i < s.size() && s[i] == '-') {
        size_t e = scan_number(s, i + 1, base, false);
        return e == i + 1 ? i : e;
    }
    auto hex_prefix = [&](size_t at) {
        return at + 2 < s.size() && s[at] == '0' && (s[at + 1] == 'x' || s[at + 1] == 'X') &&
               std::isxdigit(static_cast<unsigned char>(s[at + 2]));
    };
    if (base == 0) {
        if (hex_prefix(i)) {
            base = 16;
            i += 2;
        } else {
            base = i < s.size() && s[i] == '0' ? 8 : 10;
        }
    } else if (base == 16 && hex_prefix(i)) {
        i += 2;
    }
    for (; i < s.size(); ++i) {
        int c = std::tolower(static_cast<unsigned char>(s[i]));
        unsigned d = std::isdigit(c) ? unsigned(c - '0') : std::isxdigit(c) ? unsigned(c - 'a' + 10) : 99;
        if (d >= base) break;
    }
    return i;
}

// match_one(s, p, args): whether s matches the pattern p (NULL matches everything); the
// %s/%d/%u/%o/%x (with a width for %s) and %% conversions set args[].
bool match_one(StubCall& c, uint64_t s_addr, const std::string& s, uint64_t p_addr, uint64_t args) {
    if (!p_addr) return true;
    const KernelStructs::MatchToken& l = c.kernel.structs().match_token;
    std::string p = c.read_cstr(p_addr, 4096);
    size_t si = 0, pi = 0;
    uint64_t argc = 0;
    const uint64_t arg_size = 2 * c.kernel.word();
    while (true) {
        size_t meta = p.find('%', pi);
        if (meta == std::string::npos) return p.compare(pi, std::string::npos, s, si) == 0;
        if (s.compare(si, meta - pi, p, pi, meta - pi) != 0) return false;
        si += meta - pi;
        pi = meta + 1;
        int64_t len = -1;
        if (pi < p.size() && std::isdigit(static_cast<unsigned char>(p[pi]))) {
            size_t e = pi;
            while (e < p.size() && std::isdigit(static_cast<unsigned char>(p[e]))) ++e;
            len = std::stoll(p.substr(pi, e - pi));
            pi = e;
        } else if (pi < p.size() && p[pi] == '%') {
            if (si >= s.size() || s[si++] != '%') return false;
            pi++;
            continue;
        }
        if (argc >= l.max_opt_args) return false;
        size_t from = si, to;
        char conv = pi < p.size() ? p[pi++] : '\0';
        switch (conv) {
        case 's': {
            size_t str_len = s.size() - si;
            if (str_len == 0) return false;
            if (len == -1 || static_cast<size_t>(len) > str_len) len = static_cast<int64_t>(str_len);
            to = si + static_cast<size_t>(len);
            break;
        }
        case 'd': to = scan_number(s, si, 0, true); break;
        case 'u': to = scan_number(s, si, 0, false); break;
        case 'o': to = scan_number(s, si, 8, false); break;
        case 'x': to = scan_number(s, si, 16, false); break;
        default: return false;
        }
        if (conv != 's' && to == from) return false;
        uint64_t a = args + argc * arg_size;
        c.emu.write_word(a + l.from, s_addr + from);
        c.emu.write_word(a + l.to, s_addr + to);
        si = to;
        argc++;
    }
}

// The substring args[] points at (from, to).
std::string substring(StubCall& c, uint64_t sub) {
    const KernelStructs::MatchToken& l = c.kernel.structs().match_token;
    uint64_t from = c.emu.read_word(sub + l.from), to = c.emu.read_word(sub + l.to);
    if (to < from || to - from > (1u << 20)) c.unimplemented("match_* of a corrupt substring");
    std::string out(to - from, '\0');
    c.emu.read(from, out.data(), out.size());
    return out;
}

// match_number(s, result, base): simple_strtol() of the substring (at most 23 characters).
int match_number(StubCall& c, uint64_t sub, uint64_t result, unsigned base) {
    std::string buf = substring(c, sub);
    if (buf.size() >= 24) return -ERANGE;  // NUMBER_BUF_LEN
    size_t end = scan_number(buf, 0, base, true);
    if (end == 0) return -EINVAL;
    errno = 0;
    long long v = std::strtoll(buf.substr(0, end).c_str(), nullptr, base ? int(base) : 0);
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX) return -ERANGE;
    int32_t r = static_cast<int32_t>(v);
    c.emu.write(result, &r, 4);
    return 0;
}

}  // namespace

void register_parser(Kernel& k) {
    const char* sub = "lib/parser";
    // match_token(s, table, args): the token of the first table entry whose pattern matches
    // (the terminating entry's NULL pattern matches anything).
    k.add_function("match_token", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::MatchToken& l = c.kernel.structs().match_token;
        std::string s = c.read_cstr(c.arg(0), 1 << 16);
        for (uint64_t e = c.arg(1);; e += l.size) {
            if (match_one(c, c.arg(0), s, c.emu.read_word(e + l.pattern), c.arg(2)))
                return ret(static_cast<int32_t>(c.emu.read_u32(e + l.token)));
        }
    });
    k.add_function("match_int", sub, [](StubCall& c) -> uint64_t {
        return ret(match_number(c, c.arg(0), c.arg(1), 0));
    });
    k.add_function("match_octal", sub, [](StubCall& c) -> uint64_t {
        return ret(match_number(c, c.arg(0), c.arg(1), 8));
    });
    k.add_function("match_hex", sub, [](StubCall& c) -> uint64_t {
        return ret(match_number(c, c.arg(0), c.arg(1), 16));
    });
    // match_u64(s, result): kstrtoull() of the substring, base 0.
    k.add_function("match_u64", sub, [](StubCall& c) -> uint64_t {
        std::string buf = substring(c, c.arg(0));
        if (buf.size() >= 24) return ret(-ERANGE);
        uint64_t v = 0;
        if (int err = kstrtoull(buf, 0, v)) return ret(err);
        c.emu.write(c.arg(1), &v, 8);
        return 0;
    });
    // match_strdup(s): kmemdup_nul() of the substring (GFP_KERNEL), NULL when out of memory.
    k.add_function("match_strdup", sub, [](StubCall& c) -> uint64_t {
        std::string buf = substring(c, c.arg(0));
        uint64_t p = c.kernel.slab_alloc(buf.size() + 1, 0);
        if (p) c.emu.write(p, buf.c_str(), buf.size() + 1);
        return p;
    });
    // match_strlcpy(dest, src, size): strlcpy() of the substring; its length.
    k.add_function("match_strlcpy", sub, [](StubCall& c) -> uint64_t {
        std::string buf = substring(c, c.arg(1));
        uint64_t size = c.arg(2);
        if (size) {
            std::string cut = buf.substr(0, std::min<uint64_t>(buf.size(), size - 1));
            c.emu.write(c.arg(0), cut.c_str(), cut.size() + 1);
        }
        return buf.size();
    });
}

}  // namespace kmodemu
