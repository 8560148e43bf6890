// lib/string.c and friends, done on the host over guest memory: bulk memory work in emulated
// loops is slow in Unicorn 2.0.1 (stores), and these are among the most called exports.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

// strcmp()/strncmp() in lib/string.c return -1/0/1 from unsigned char comparisons.
int cmp_strings(const std::string& a, const std::string& b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        unsigned char c1 = i < a.size() ? a[i] : 0, c2 = i < b.size() ? b[i] : 0;
        if (c1 != c2) return c1 < c2 ? -1 : 1;
        if (!c1) break;
    }
    return 0;
}

constexpr uint64_t chunk = 1 << 16;  // bytes per host buffer of the bulk routines

uint64_t ret_int(int64_t v) {
    return static_cast<uint64_t>(v);
}

}  // namespace

void register_string(Kernel& k) {
    const char* sub = "string";
    // The whole of the memory is checked first: a bad byte anywhere is a fault at the first one
    // (inside the kernel's own routine when the kit has it, see StubCall::fault), and the work
    // is done in pieces (a module may ask for a gigabyte).
    k.add_function("memset", sub, [](StubCall& c) {
        uint64_t dst = c.arg(0), n = c.arg(2);
        c.check_write(dst, n);
        std::vector<uint8_t> buf(std::min<uint64_t>(n, chunk), static_cast<uint8_t>(c.arg(1)));
        for (uint64_t done = 0; done < n; done += buf.size())
            c.write(dst + done, buf.data(), std::min<uint64_t>(buf.size(), n - done));
        return dst;
    });
    // memmove() copies backwards when the destination overlaps the source from above.
    auto copy = [](StubCall& c) {
        uint64_t dst = c.arg(0), src = c.arg(1), n = c.arg(2);
        c.check_read(src, n);
        c.check_write(dst, n);
        bool backwards = dst > src && dst - src < n;
        for (uint64_t done = 0; done < n;) {
            uint64_t len = std::min<uint64_t>(chunk, n - done);
            uint64_t off = backwards ? n - done - len : done;
            auto buf = c.read(src + off, len);
            c.write(dst + off, buf.data(), len);
            done += len;
        }
        return dst;
    };
    k.add_function("memcpy", sub, copy);
    k.add_function("memmove", sub, copy);
    k.add_function("memcmp", sub, [](StubCall& c) {
        size_t n = c.arg(2);
        auto a = c.read(c.arg(0), n), b = c.read(c.arg(1), n);
        // lib/string.c memcmp() returns the difference of the first differing bytes.
        for (size_t i = 0; i < n; ++i)
            if (a[i] != b[i]) return ret_int(int(a[i]) - int(b[i]));
        return uint64_t(0);
    });
    k.add_function("memchr", sub, [](StubCall& c) -> uint64_t {
        size_t n = c.arg(2);
        auto a = c.read(c.arg(0), n);
        for (size_t i = 0; i < n; ++i)
            if (a[i] == static_cast<uint8_t>(c.arg(1))) return c.arg(0) + i;
        return 0;
    });
    k.add_function("strlen", sub,
                   [](StubCall& c) { return uint64_t(c.read_cstr(c.arg(0)).size()); });
    k.add_function("strnlen", sub,
                   [](StubCall& c) { return uint64_t(c.read_cstr(c.arg(0), c.arg(1)).size()); });
    k.add_function("strcmp", sub, [](StubCall& c) {
        std::string a = c.read_cstr(c.arg(0)), b = c.read_cstr(c.arg(1));
        return ret_int(cmp_strings(a, b, std::max(a.size(), b.size()) + 1));
    });
    k.add_function("strncmp", sub, [](StubCall& c) {
        size_t n = c.arg(2);
        std::string a = c.read_cstr(c.arg(0), n), b = c.read_cstr(c.arg(1), n);
        return ret_int(cmp_strings(a, b, n));
    });
    k.add_function("strcasecmp", sub, [](StubCall& c) {
        std::string a = c.read_cstr(c.arg(0)), b = c.read_cstr(c.arg(1));
        for (size_t i = 0;; ++i) {
            int c1 = std::tolower(i < a.size() ? (unsigned char)a[i] : 0);
            int c2 = std::tolower(i < b.size() ? (unsigned char)b[i] : 0);
            if (c1 != c2 || !c1) return ret_int(c1 - c2);
        }
    });
    // strsep(char **s, const char *ct): the token at *s up to the first of ct, which becomes a
    // NUL; *s moves past it (NULL when none is left).
    k.add_function("strsep", sub, [](StubCall& c) -> uint64_t {
        uint64_t sp = c.arg(0);
        uint64_t s = c.emu.read_word(sp);
        if (!s) return 0;
        std::string str = c.read_cstr(s), ct = c.read_cstr(c.arg(1));
        size_t at = str.find_first_of(ct);
        if (at == std::string::npos) {
            c.emu.write_word(sp, 0);
        } else {
            uint8_t nul = 0;
            c.write(s + at, &nul, 1);
            c.emu.write_word(sp, s + at + 1);
        }
        return s;
    });
    k.add_function("strcpy", sub, [](StubCall& c) {
        std::string s = c.read_cstr(c.arg(1));
        c.write(c.arg(0), s.c_str(), s.size() + 1);
        return c.arg(0);
    });
    k.add_function("strncpy", sub, [](StubCall& c) {
        size_t n = c.arg(2);
        std::string s = c.read_cstr(c.arg(1), n);
        std::vector<uint8_t> buf(n, 0);  // strncpy pads with NULs
        std::memcpy(buf.data(), s.data(), std::min(n, s.size()));
        c.write(c.arg(0), buf.data(), n);
        return c.arg(0);
    });
    k.add_function("strcat", sub, [](StubCall& c) {
        std::string d = c.read_cstr(c.arg(0)), s = c.read_cstr(c.arg(1));
        c.write(c.arg(0) + d.size(), s.c_str(), s.size() + 1);
        return c.arg(0);
    });
    // strscpy(): copies at most count-1 bytes, always NUL-terminates (count > 0), returns the
    // length copied or -E2BIG when truncated.
    auto strscpy = [](StubCall& c) {
        size_t count = c.arg(2);
        if (count == 0) return ret_int(-E2BIG);
        std::string s = c.read_cstr(c.arg(1), count);
        bool truncated = s.size() >= count;
        if (truncated) s.resize(count - 1);
        c.write(c.arg(0), s.c_str(), s.size() + 1);
        return truncated ? ret_int(-E2BIG) : uint64_t(s.size());
    };
    k.add_function("strscpy", sub, strscpy);
    k.add_function("sized_strscpy", sub, strscpy);
    k.add_function("strlcpy", sub, [](StubCall& c) {
        std::string s = c.read_cstr(c.arg(1));
        size_t size = c.arg(2);
        if (size) {
            size_t n = std::min(s.size(), size - 1);
            std::string out = s.substr(0, n);
            c.write(c.arg(0), out.c_str(), n + 1);
        }
        return uint64_t(s.size());
    });
    k.add_function("strchr", sub, [](StubCall& c) -> uint64_t {
        std::string s = c.read_cstr(c.arg(0));
        char ch = static_cast<char>(c.arg(1));
        if (ch == 0) return c.arg(0) + s.size();
        size_t p = s.find(ch);
        return p == std::string::npos ? 0 : c.arg(0) + p;
    });
    k.add_function("strrchr", sub, [](StubCall& c) -> uint64_t {
        std::string s = c.read_cstr(c.arg(0));
        char ch = static_cast<char>(c.arg(1));
        if (ch == 0) return c.arg(0) + s.size();
        size_t p = s.rfind(ch);
        return p == std::string::npos ? 0 : c.arg(0) + p;
    });
    k.add_function("strstr", sub, [](StubCall& c) -> uint64_t {
        std::string s = c.read_cstr(c.arg(0)), t = c.read_cstr(c.arg(1));
        size_t p = s.find(t);
        return p == std::string::npos ? 0 : c.arg(0) + p;
    });
    // A kmalloc'ed copy of at most `max` bytes of the string at src, NUL-terminated (NULL for
    // a NULL src).
    auto dup = [](StubCall& c, uint64_t src, size_t max, uint64_t gfp) -> uint64_t {
        if (!src) return 0;
        std::string s = c.read_cstr(src, max);
        if (s.size() > max) s.resize(max);
        uint64_t p = c.kernel.slab_alloc(s.size() + 1, gfp);
        if (p) c.write(p, s.c_str(), s.size() + 1);
        return p;
    };
    // kstrdup(s, gfp) and kstrdup_const(s, gfp) (mm/util.c). kstrdup_const() gives s itself
    // when it lies in the kernel's .rodata: no string a module passes is the kernel's own, so
    // always a copy, which kfree_const() frees.
    k.add_functions({"kstrdup", "kstrdup_const"}, sub, [dup](StubCall& c) -> uint64_t {
        return dup(c, c.arg(0), size_t(1) << 20, c.arg(1));
    });
    // kstrndup(s, max, gfp) (mm/util.c)
    k.add_function("kstrndup", sub, [dup](StubCall& c) -> uint64_t {
        return dup(c, c.arg(0), c.arg(1), c.arg(2));
    });
    // strlcat(dest, src, count) (lib/string.c): appends within count bytes, returns the
    // length it tried to make; BUG_ON(dsize >= count).
    k.add_function("strlcat", sub, [](StubCall& c) -> uint64_t {
        std::string d = c.read_cstr(c.arg(0)), s = c.read_cstr(c.arg(1));
        size_t count = c.arg(2);
        if (d.size() >= count) c.unimplemented("strlcat (BUG_ON(dsize >= count))");
        size_t len = std::min(s.size(), count - d.size() - 1);
        std::string out = s.substr(0, len);
        c.write(c.arg(0) + d.size(), out.c_str(), len + 1);
        return d.size() + s.size();
    });
    k.add_functions({"kmemdup", "kmemdup_noprof"}, sub, [](StubCall& c) -> uint64_t {
        auto buf = c.read(c.arg(0), c.arg(1));
        uint64_t p = c.kernel.slab_alloc(buf.size(), c.arg(2));
        if (p) c.write(p, buf.data(), buf.size());
        return p;
    });
}

}  // namespace kmodemu
