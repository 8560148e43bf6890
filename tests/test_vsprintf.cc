// kernel_vsnprintf(): expectations derived from lib/vsprintf.c (Linux 6.1); where the kernel and
// glibc agree, the host snprintf() is used as an oracle.
#include "kernel_stubs/vsprintf.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace kmodemu {
namespace {

constexpr uint64_t kStrHi = 0x8000;     // "hi"
constexpr uint64_t kStrHello = 0x8100;  // "hello"
constexpr uint64_t kUnmapped = 0x5000;  // readable by nobody
constexpr uint64_t kSymAddr = 0xffff800008001010ULL;
constexpr uint64_t kBytes = 0xa000;  // 00 11 22 aa bb cc ...

class FakeVa : public VaSource {
  public:
    explicit FakeVa(std::vector<uint64_t> words = {}) : words_(std::move(words)) {
        strings[kStrHi] = "hi";
        strings[kStrHello] = "hello";
        symbols[kSymAddr] = {"my_func+0x10/0x40 [mymod]", "my_func"};
    }

    uint64_t next_word() override {
        ++words_read;
        return pos_ < words_.size() ? words_[pos_++] : 0;
    }
    uint64_t next_dword() override {
        ++dwords_read;
        return pos_ < words_.size() ? words_[pos_++] : 0;
    }
    std::optional<std::string> read_string(uint64_t addr, size_t max) override {
        ++string_reads;
        const auto it = strings.find(addr);
        if (it == strings.end()) return std::nullopt;
        return it->second.substr(0, max);
    }
    std::optional<std::string> symbolize(uint64_t addr, bool with_offset) override {
        last_with_offset = with_offset;
        const auto it = symbols.find(addr);
        if (it == symbols.end()) return std::nullopt;
        return with_offset ? it->second.first : it->second.second;
    }
    std::optional<std::vector<uint8_t>> read_bytes(uint64_t addr, size_t len) override {
        const auto it = memory.find(addr);
        if (it == memory.end() || it->second.size() < len) return std::nullopt;
        return std::vector<uint8_t>(it->second.begin(),
                                    it->second.begin() + static_cast<std::ptrdiff_t>(len));
    }
    std::optional<VaFormat> read_va_format(uint64_t addr) override {
        const auto it = va_formats.find(addr);
        if (it == va_formats.end()) return std::nullopt;
        auto nested = std::make_unique<FakeVa>(it->second.second);
        nested->strings = strings;
        nested->memory = memory;
        nested->va_formats = va_formats;
        return VaFormat{it->second.first, std::move(nested)};
    }

    std::map<uint64_t, std::string> strings;
    std::map<uint64_t, std::pair<std::string, std::string>> symbols;
    std::map<uint64_t, std::vector<uint8_t>> memory;
    std::map<uint64_t, std::pair<std::string, std::vector<uint64_t>>> va_formats;
    int words_read = 0;
    int dwords_read = 0;
    int string_reads = 0;
    std::optional<bool> last_with_offset;

  private:
    std::vector<uint64_t> words_;
    size_t pos_ = 0;
};

VsprintfConfig config(bool is_64bit, uint64_t key = 0x1234) {
    VsprintfConfig cfg;
    cfg.is_64bit = is_64bit;
    cfg.ptr_hash_key = key;
    return cfg;
}

std::string fmt64(std::string_view f, std::vector<uint64_t> args = {}) {
    FakeVa va(std::move(args));
    return kernel_vsnprintf(f, va, config(true));
}

std::string fmt32(std::string_view f, std::vector<uint64_t> args = {}) {
    FakeVa va(std::move(args));
    return kernel_vsnprintf(f, va, config(false));
}

std::string fmt_with(FakeVa& va, std::string_view f, bool is_64bit = true) {
    return kernel_vsnprintf(f, va, config(is_64bit));
}

bool all_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

uint64_t err_ptr64(int64_t err) {
    return static_cast<uint64_t>(err);
}
uint64_t err_ptr32(int64_t err) {
    return static_cast<uint64_t>(err) & 0xffffffffULL;
}

// --- host snprintf() as an oracle where kernel and glibc agree -------------------------------

std::string host(const char* f, int v) {
    char buf[128];
    snprintf(buf, sizeof buf, f, v);
    return buf;
}

TEST(Vsprintf, IntFormatsMatchHostSnprintf) {
    const char* formats[] = {
        "%d",   "%i",   "%5d", "%-5d|", "%05d",  "%+d",   "% d",     "%+5d",   "%-+5d|", "%x",
        "%X",   "%o",   "%u",  "%10u",  "%.3d",  "%8.3d", "%-8.3d|", "%08X",   "%hd",    "%hu",
        "%hhd", "%hhu", "%hx", "%hhx",  "%+.4i", "% 6d",  "%12o",    "%-12x|", "%.10u",  "%3d",
    };
    const int values[] = {0, 1, 42, -42, 255, 65535, 123456, INT_MAX, INT_MIN, -1};
    for (bool is_64bit : {true, false}) {
        for (const char* f : formats) {
            for (int v : values) {
                FakeVa va({static_cast<uint64_t>(static_cast<uint32_t>(v))});
                EXPECT_EQ(fmt_with(va, f, is_64bit), host(f, v))
                    << "format " << f << " value " << v << " 64bit " << is_64bit;
            }
        }
    }
}

TEST(Vsprintf, SpecialFlagMatchesHostForNonZero) {
    const char* formats[] = {"%#x", "%#X", "%#o", "%#10x", "%#-10x|", "%#010x", "%#8o"};
    const int values[] = {1, 8, 255, 0x1234, -1};
    for (const char* f : formats)
        for (int v : values)
            EXPECT_EQ(fmt64(f, {static_cast<uint32_t>(v)}), host(f, v)) << f << " " << v;
}

TEST(Vsprintf, LongLongMatchesHost) {
    const char* formats[] = {"%lld",     "%llu",    "%llx",  "%llX", "%20lld",
                             "%-20lld|", "%020llu", "%+lld", "%llo"};
    const long long values[] = {0, 1, -1, LLONG_MAX, LLONG_MIN, 0x123456789abcdefLL};
    for (bool is_64bit : {true, false}) {
        for (const char* f : formats) {
            for (long long v : values) {
                char buf[128];
                snprintf(buf, sizeof buf, f, v);
                FakeVa va({static_cast<uint64_t>(v)});
                EXPECT_EQ(fmt_with(va, f, is_64bit), buf) << f << " " << v;
                EXPECT_EQ(va.dwords_read, 1);
                EXPECT_EQ(va.words_read, 0);
            }
        }
    }
}

TEST(Vsprintf, CharAndStringMatchHost) {
    for (const char* f : {"%c", "%3c", "%-3c|"}) {
        for (int c : {'A', 'z', '0'})
            EXPECT_EQ(fmt64(f, {static_cast<uint64_t>(c)}), host(f, c));
    }
    const std::pair<uint64_t, const char*> strings[] = {{kStrHi, "hi"}, {kStrHello, "hello"}};
    for (const char* f : {"%s", "%10s", "%-10s|", "%.2s", "%10.2s", "%-10.2s|", "%.9s", "%1s"}) {
        for (const auto& [addr, text] : strings) {
            char buf[64];
            snprintf(buf, sizeof buf, f, text);
            EXPECT_EQ(fmt64(f, {addr}), buf) << f;
            EXPECT_EQ(fmt32(f, {addr}), buf) << f;
        }
    }
}

// --- integers: kernel-specific behaviour -----------------------------------------------------

TEST(Vsprintf, SpecialFlagOfZeroPrintsPrefix) {
    EXPECT_EQ(fmt64("%#x", {0}), "0x0");  // glibc: "0"
    EXPECT_EQ(fmt64("%#X", {0}), "0X0");
    EXPECT_EQ(fmt64("%#5x|", {0}), "  0x0|");
    EXPECT_EQ(fmt64("%#o", {0}), "0");
    EXPECT_EQ(fmt64("%#.3o", {8}), "0010");  // glibc: "010"
    EXPECT_EQ(fmt64("%#d", {5}), "5");       // no prefix for base 10
}

TEST(Vsprintf, PrecisionDoesNotCancelZeroFlag) {
    EXPECT_EQ(fmt64("%08.3d", {5}), "00000005");  // glibc: "     005"
    EXPECT_EQ(fmt64("%08.3d", {static_cast<uint32_t>(-5)}), "-0000005");
    EXPECT_EQ(fmt64("%-08d|", {5}), "5       |");  // '-' still wins over '0'
    EXPECT_EQ(fmt64("%.0d", {0}), "0");            // glibc: ""
    EXPECT_EQ(fmt64("%.d", {5}), "5");             // '.' without digits: no precision
}

TEST(Vsprintf, SignFlagsOnlyForSignedConversions) {
    EXPECT_EQ(fmt64("%+u % x %+x", {5, 5, 5}), "5 5 5");
    EXPECT_EQ(fmt64("%+d % d % +d", {5, 5, 5}), "+5  5 +5");
}

TEST(Vsprintf, StarWidthAndPrecision) {
    EXPECT_EQ(fmt64("%*d|", {6, 42}), "    42|");
    EXPECT_EQ(fmt64("%*d|", {static_cast<uint32_t>(-6), 42}), "42    |");  // negative: left
    EXPECT_EQ(fmt64("%-*d|", {6, 42}), "42    |");
    EXPECT_EQ(fmt64("%.*d", {4, 7}), "0007");
    EXPECT_EQ(fmt64("%*.*d|", {6, 3, 7}), "   007|");
    EXPECT_EQ(fmt64("%.*s|", {3, kStrHello}), "hel|");
    // A negative precision from '*' becomes 0 in format_decode() (glibc ignores it).
    EXPECT_EQ(fmt64("%.*s|", {static_cast<uint32_t>(-1), kStrHello}), "|");
    EXPECT_EQ(fmt64("%*s|", {static_cast<uint32_t>(-6), kStrHi}), "hi    |");
    // The width argument is an int: upper garbage of the 64-bit slot is ignored.
    EXPECT_EQ(fmt64("%*d|", {0xdead000000000003ULL, 1}), "  1|");
}

TEST(Vsprintf, WidthAndPrecisionBitfieldLimits) {
    // 10000000 does not fit the 24-bit field_width: it wraps to a negative width.
    EXPECT_EQ(fmt64("%10000000d", {5}), "5");
    // 40000 wraps to a negative 16-bit precision, which format_decode() turns into 0.
    EXPECT_EQ(fmt64("%.40000d", {5}), "5");
    // set_precision() clamps an out-of-range '*' precision to PRECISION_MAX.
    FakeVa va({100000, 5});
    auto r = kernel_vsnprintf_limited("%.*d", va, config(true), 4);
    EXPECT_EQ(r.length, 32767u);
    EXPECT_EQ(r.text, "0000");
    // set_field_width() clamps INT_MIN to -FIELD_WIDTH_MAX: left-justified in 8388607 columns.
    FakeVa va2({static_cast<uint32_t>(INT_MIN), 5});
    r = kernel_vsnprintf_limited("%*d", va2, config(true), 3);
    EXPECT_EQ(r.length, 8388607u);
    EXPECT_EQ(r.text, "5  ");
}

TEST(Vsprintf, QualifiersOn64Bit) {
    EXPECT_EQ(fmt64("%d", {0x123400000005ULL}), "5");  // int: low 32 bits
    EXPECT_EQ(fmt64("%d %u", {0xffffffff, 0xffffffff}), "-1 4294967295");
    EXPECT_EQ(fmt64("%hhd %hhu %hhx", {0xff, 0x1ff, 0xabc}), "-1 255 bc");
    EXPECT_EQ(fmt64("%hd %hu %hx", {0x18000, 0xfffff, 0x12345}), "-32768 65535 2345");
    EXPECT_EQ(fmt64("%ld %lu", {~0ULL, ~0ULL}), "-1 18446744073709551615");
    EXPECT_EQ(fmt64("%ld %lx", {0x80000000, 0xdeadbeefcafebabeULL}), "2147483648 deadbeefcafebabe");
    EXPECT_EQ(fmt64("%zu %zd %zx", {~0ULL, ~0ULL, 0x1000}), "18446744073709551615 -1 1000");
    EXPECT_EQ(fmt64("%td %tu %tx", {~0ULL - 4, ~0ULL, 0x10}), "-5 18446744073709551615 10");
    EXPECT_EQ(fmt64("%Ld %Lx", {static_cast<uint64_t>(-3LL), 0xabcdef0123ULL}), "-3 abcdef0123");
    EXPECT_EQ(fmt64("%lld", {0x8000000000000000ULL}), "-9223372036854775808");
    // Qualifiers are ignored for c, s and p.
    EXPECT_EQ(fmt64("%lc%hs%llc", {'A', kStrHi, 'B'}), "AhiB");
}

TEST(Vsprintf, QualifiersOn32Bit) {
    EXPECT_EQ(fmt32("%ld", {0xffffffff}), "-1");
    EXPECT_EQ(fmt32("%ld", {0xdeadbeefffffff85ULL}), "-123");  // low 32 bits sign-extended
    EXPECT_EQ(fmt32("%lu %lx", {0xffffffff, 0x100000010ULL}), "4294967295 10");
    EXPECT_EQ(fmt32("%zu %zd", {0xffffffff, 0xffffffff}), "4294967295 -1");
    // ptrdiff_t is always sign-extended into the unsigned long long, even for %tu / %tx.
    EXPECT_EQ(fmt32("%td %tu %tx", {0xffffffff, 0xffffffff, 0xffffffff}),
              "-1 18446744073709551615 ffffffffffffffff");
    FakeVa va({0xfffffffffffffffeULL, 7});
    EXPECT_EQ(fmt_with(va, "%lld %d", false), "-2 7");
    EXPECT_EQ(va.dwords_read, 1);
    EXPECT_EQ(va.words_read, 1);
    EXPECT_EQ(fmt32("%hhd %hu", {0x180, 0x12345678}), "-128 22136");
}

TEST(Vsprintf, CharConversion) {
    EXPECT_EQ(fmt64("%c", {0x141}), "A");  // (unsigned char) of the int
    EXPECT_EQ(fmt64("%3c|%-3c|", {'A', 'B'}), "  A|B  |");
    EXPECT_EQ(fmt64("%03c", {'x'}), "  x");  // '0' does not apply to %c
    EXPECT_EQ(fmt64("[%c]", {0}), std::string("[\0]", 3));
    EXPECT_EQ(fmt64("%*c|", {static_cast<uint32_t>(-3), 'C'}), "C  |");
}

TEST(Vsprintf, PercentAndLiteralText) {
    EXPECT_EQ(fmt64("100%%"), "100%");
    EXPECT_EQ(fmt64("%5%|%-%"), "%|%");
    EXPECT_EQ(fmt64("plain text"), "plain text");
    EXPECT_EQ(fmt64(""), "");
    // The format ends at an embedded NUL, as the kernel's does.
    EXPECT_EQ(fmt64(std::string_view("ab\0%d", 5), {1}), "ab");
}

TEST(Vsprintf, InvalidConversionsStopFormatting) {
    FakeVa va({1, 2});
    auto r = kernel_vsnprintf_limited("a%jd b", va, config(true), SIZE_MAX);
    EXPECT_EQ(r.text, "a");
    EXPECT_TRUE(r.invalid_spec);
    EXPECT_EQ(va.words_read, 0);
    EXPECT_EQ(fmt64("x%ny", {0x9000}), "x");  // %n is treated as invalid
    EXPECT_EQ(fmt64("x%hny", {0x9000}), "x");
    EXPECT_EQ(fmt64("before %y after %d", {1}), "before ");
    EXPECT_EQ(fmt64("abc%"), "abc");
    EXPECT_EQ(fmt64("%5"), "");
    EXPECT_EQ(fmt64("%-#0"), "");
    EXPECT_EQ(fmt64("%lLd", {1}), "");
    EXPECT_EQ(fmt64("%zzu", {1}), "");
    EXPECT_EQ(fmt64("%qd", {1}), "");
    EXPECT_EQ(fmt64("%f", {1}), "");
    FakeVa ok({1});
    EXPECT_FALSE(kernel_vsnprintf_limited("%d", ok, config(true), SIZE_MAX).invalid_spec);
    // A trailing '*' consumes its argument and ends the format.
    FakeVa star({5});
    EXPECT_EQ(fmt_with(star, "x%*"), "x");
    EXPECT_EQ(star.words_read, 1);
}

// --- strings ---------------------------------------------------------------------------------

TEST(Vsprintf, StringNullAndFaults) {
    EXPECT_EQ(fmt64("%s", {0}), "(null)");
    EXPECT_EQ(fmt64("%10s|%-10s|", {0, 0}), "    (null)|(null)    |");
    EXPECT_EQ(fmt64("%.3s", {0}), "(nu");
    EXPECT_EQ(fmt64("%s", {0x10}), "(efault)");  // below PAGE_SIZE
    EXPECT_EQ(fmt64("%s", {kUnmapped}), "(efault)");
    EXPECT_EQ(fmt64("%s", {err_ptr64(-14)}), "(efault)");
    EXPECT_EQ(fmt64("%12s|", {kUnmapped}), "    (efault)|");
    EXPECT_EQ(fmt32("%s", {0}), "(null)");
    EXPECT_EQ(fmt32("%s", {err_ptr32(-22)}), "(efault)");
    // Precision 0 never touches the string.
    FakeVa va({kUnmapped, kUnmapped});
    EXPECT_EQ(fmt_with(va, "[%.0s][%5.0s]"), "[][     ]");
    EXPECT_EQ(va.string_reads, 0);
}

TEST(Vsprintf, StringPrecisionAndWidth) {
    EXPECT_EQ(fmt64("%.s", {kStrHello}), "hello");  // '.' alone is no precision in the kernel
    EXPECT_EQ(fmt64("%-7.3s|", {kStrHello}), "hel    |");
    EXPECT_EQ(fmt64("%07s", {kStrHi}), "     hi");  // no zero padding for strings
    // On ARM32 only the low 32 bits of the slot are the pointer.
    EXPECT_EQ(fmt32("%s", {0xdeadbeef00000000ULL | kStrHi}), "hi");
    FakeVa va({kStrHello});
    fmt_with(va, "%.2s");
    EXPECT_EQ(va.string_reads, 1);
}

// --- pointers --------------------------------------------------------------------------------

TEST(Vsprintf, PlainPointerNullAndErrPtr) {
    EXPECT_EQ(fmt64("%p", {0}), "0000000000000000");
    EXPECT_EQ(fmt32("%p", {0}), "00000000");
    EXPECT_EQ(fmt64("%p", {err_ptr64(-22)}), "ffffffffffffffea");
    EXPECT_EQ(fmt32("%p", {err_ptr32(-22)}), "ffffffea");
    EXPECT_EQ(fmt64("%p", {err_ptr64(-4095)}), "fffffffffffff001");
}

TEST(Vsprintf, PlainPointerIsHashed) {
    const uint64_t p = 0xffff000012345678ULL;
    const std::string h = fmt64("%p", {p});
    ASSERT_EQ(h.size(), 16u);
    EXPECT_TRUE(all_hex(h));
    EXPECT_EQ(h.substr(0, 8), "00000000");  // 32-bit id
    EXPECT_NE(h, "ffff000012345678");
    EXPECT_EQ(fmt64("%p", {p}), h);  // stable
    EXPECT_NE(fmt64("%p", {p + 8}), h);
    FakeVa va({p});
    EXPECT_NE(kernel_vsnprintf("%p", va, config(true, 0x9999)), h);  // keyed
    EXPECT_EQ(fmt64("%pK", {p}), h);                                 // kptr_restrict == 0
    EXPECT_EQ(fmt64("%pF", {p}), h);                                 // %pF is gone in 6.1: plain %p
    const std::string h32 = fmt32("%p", {0xc0001234});
    ASSERT_EQ(h32.size(), 8u);
    EXPECT_TRUE(all_hex(h32));
    EXPECT_NE(h32, "c0001234");
    // An explicit width drops the zero padding: the 32-bit id is space-padded.
    EXPECT_EQ(fmt64("[%20p]", {p}), "[" + std::string(12, ' ') + h.substr(8) + "]");
    EXPECT_EQ(fmt64("[%-10p]", {p}), "[" + h.substr(8) + "  ]");
    FakeVa nohash({p});
    VsprintfConfig cfg = config(true);
    cfg.no_hash_pointers = true;
    EXPECT_EQ(kernel_vsnprintf("%p", nohash, cfg), "ffff000012345678");
}

TEST(Vsprintf, RawPointer) {
    EXPECT_EQ(fmt64("%px", {0xffff000012345678ULL}), "ffff000012345678");
    EXPECT_EQ(fmt64("%px", {0x1234}), "0000000000001234");
    EXPECT_EQ(fmt64("%px", {0}), "0000000000000000");
    EXPECT_EQ(fmt32("%px", {0xc0001234}), "c0001234");
    EXPECT_EQ(fmt32("%px", {0xffffffff00001234ULL}), "00001234");
    EXPECT_EQ(fmt64("%20px|", {0xffff000012345678ULL}), "    ffff000012345678|");
    EXPECT_EQ(fmt64("%-20px|", {0xffff000012345678ULL}), "ffff000012345678    |");
    EXPECT_EQ(fmt64("%020px", {0x1234}), "00000000000000001234");
    EXPECT_EQ(fmt64("%#px", {0x1234}), "0x00000000001234");  // "0x" eats two digits
}

TEST(Vsprintf, PointerSuffixIsSwallowed) {
    const std::string h = fmt64("%p", {0xffff000012345678ULL});
    EXPECT_EQ(fmt64("%pxyz!", {0x1234}), "0000000000001234!");
    EXPECT_EQ(fmt64("[%p-x]", {0xffff000012345678ULL}), "[" + h + "-x]");
    EXPECT_EQ(fmt64("[%pZZZ9]", {0xffff000012345678ULL}), "[" + h + "]");
    // Latin-1 letters are alphanumeric for the kernel's ctype.
    EXPECT_EQ(fmt64("[%p\xe9x]", {0xffff000012345678ULL}), "[" + h + "]");
    EXPECT_EQ(fmt64("%pSfoo!", {kSymAddr}), "my_func+0x10/0x40 [mymod]!");
}

TEST(Vsprintf, SymbolPointers) {
    FakeVa va({kSymAddr});
    EXPECT_EQ(fmt_with(va, "%pS"), "my_func+0x10/0x40 [mymod]");
    EXPECT_EQ(va.last_with_offset, true);
    FakeVa va2({kSymAddr});
    EXPECT_EQ(fmt_with(va2, "%ps"), "my_func");
    EXPECT_EQ(va2.last_with_offset, false);
    EXPECT_EQ(fmt64("%pSR", {kSymAddr}), "my_func+0x10/0x40 [mymod]");
    EXPECT_EQ(fmt64("%pB", {kSymAddr}), "my_func+0x10/0x40 [mymod]");
    EXPECT_EQ(fmt64("%-10ps|", {kSymAddr}), "my_func   |");
    EXPECT_EQ(fmt64("%.4ps", {kSymAddr}), "my_f");
    // Unknown addresses: sprint_symbol() prints "0x%lx".
    EXPECT_EQ(fmt64("%pS", {0xffff800012345678ULL}), "0xffff800012345678");
    EXPECT_EQ(fmt64("%ps", {0x1234}), "0x1234");
    EXPECT_EQ(fmt64("%pS", {0}), "0x0");
    EXPECT_EQ(fmt32("%pS", {0xbf001234}), "0xbf001234");
}

TEST(Vsprintf, ErrorPointers) {
    EXPECT_EQ(fmt64("%pe", {err_ptr64(-12)}), "-ENOMEM");
    EXPECT_EQ(fmt64("%pe", {err_ptr64(-517)}), "-EPROBE_DEFER");
    EXPECT_EQ(fmt64("%pe", {err_ptr64(-11)}), "-EAGAIN");
    EXPECT_EQ(fmt64("%pe", {err_ptr64(-41)}), "-41");  // no such errno
    EXPECT_EQ(fmt64("%pe", {err_ptr64(-4095)}), "-4095");
    EXPECT_EQ(fmt64("%10pe|", {err_ptr64(-5)}), "      -EIO|");
    EXPECT_EQ(fmt32("%pe", {err_ptr32(-14)}), "-EFAULT");
    EXPECT_EQ(fmt64("%pe", {0}), "0000000000000000");  // not IS_ERR: plain %p
    EXPECT_EQ(fmt64("%pe", {0xffff000012345678ULL}), fmt64("%p", {0xffff000012345678ULL}));
}

TEST(Vsprintf, ErrorStringsForUnknownExtensions) {
    EXPECT_EQ(fmt64("%pf", {0x9000}), "(%pf?)");
    EXPECT_EQ(fmt64("%pA", {0x9000}), "(%pA?)");
    EXPECT_EQ(fmt64("%pO", {0x9000}), "(%pO?)");
    EXPECT_EQ(fmt64("%pG", {0x9000}), "(%pG?)");
    EXPECT_EQ(fmt64("%pk", {kStrHi}), "(einval)");
    EXPECT_EQ(fmt64("%pks %pus", {kStrHi, kStrHello}), "hi hello");
    EXPECT_EQ(fmt64("%pI", {0x9000}), "(%pI?)");
    EXPECT_EQ(fmt64("%pi", {0x9000}), "(%pi?)");
    EXPECT_EQ(fmt64("%pt", {0x9000}), "(%pt?)");
    EXPECT_EQ(fmt64("%p4", {0x9000}), "(%p4?)");
    EXPECT_EQ(fmt64("%pN", {0x9000}), "(%pN?)");
    // NULL / bad pointers are reported before the extension would dereference them.
    EXPECT_EQ(fmt64("%pM %pR %pd %pfw %pOF", {0, 0x10, 0, 0, err_ptr64(-1)}),
              "(null) (efault) (null) (null) (efault)");
    EXPECT_EQ(fmt64("[%0pE]", {0}), "[(null)]");
    FakeVa va({0xffff000012345678ULL});
    EXPECT_EQ(fmt_with(va, "%pGp"), fmt64("%p", {0xffff000012345678ULL}));  // TODO extension
}

TEST(Vsprintf, MacAndIpAddresses) {
    FakeVa va;
    va.memory[kBytes] = {0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc};
    va.memory[0xa100] = {192, 168, 1, 10};
    va.memory[0xa200] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    va.memory[0xa300] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 10};
    va.memory[0xa400] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    va.memory[0xa500] = std::vector<uint8_t>(16, 0);
    auto run = [&](std::string_view f, uint64_t addr) {
        FakeVa one({addr});
        one.memory = va.memory;
        return kernel_vsnprintf(f, one, config(true));
    };
    EXPECT_EQ(run("%pM", kBytes), "00:11:22:aa:bb:cc");
    EXPECT_EQ(run("%pMF", kBytes), "00-11-22-aa-bb-cc");
    EXPECT_EQ(run("%pMR", kBytes), "cc:bb:aa:22:11:00");
    EXPECT_EQ(run("%pm", kBytes), "001122aabbcc");
    EXPECT_EQ(run("%20pM|", kBytes), "   00:11:22:aa:bb:cc|");
    EXPECT_EQ(run("%pI4", 0xa100), "192.168.1.10");
    EXPECT_EQ(run("%pi4", 0xa100), "192.168.001.010");
    EXPECT_EQ(run("%pI4h", 0xa100), "10.1.168.192");
    EXPECT_EQ(run("%pI4n", 0xa100), "192.168.1.10");
    EXPECT_EQ(run("%pI6", 0xa200), "2001:0db8:0000:0000:0000:0000:0000:0001");
    EXPECT_EQ(run("%pi6", 0xa200), "20010db8000000000000000000000001");
    EXPECT_EQ(run("%pI6c", 0xa200), "2001:db8::1");
    EXPECT_EQ(run("%pI6c", 0xa300), "::ffff:192.168.1.10");
    EXPECT_EQ(run("%pI6c", 0xa400), "1:0:0:1::1");
    EXPECT_EQ(run("%pI6c", 0xa500), "::");
    // Unreadable memory: like plain %p.
    EXPECT_EQ(run("%pM", kUnmapped), fmt64("%p", {kUnmapped}));
}

TEST(Vsprintf, HexUuidAddressAndFourcc) {
    std::map<uint64_t, std::vector<uint8_t>> mem;
    mem[0xb000] = {0x01, 0x02, 0x03, 0xab};
    mem[0xb100] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    mem[0xb200] = {0x00, 0x10, 0x00, 0x80, 0, 0, 0, 0};
    mem[0xb300] = {'Y', 'U', 'Y', 'V'};
    mem[0xb400] = {'N', 'V', '1', '2' | 0x80};
    mem[0xb500] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    auto run = [&](std::string_view f, std::vector<uint64_t> args, bool is_64bit = true) {
        FakeVa va(std::move(args));
        va.memory = mem;
        return kernel_vsnprintf(f, va, config(is_64bit));
    };
    EXPECT_EQ(run("%*ph", {4, 0xb000}), "01 02 03 ab");
    EXPECT_EQ(run("%4phC", {0xb000}), "01:02:03:ab");
    EXPECT_EQ(run("%4phD", {0xb000}), "01-02-03-ab");
    EXPECT_EQ(run("%4phN", {0xb000}), "010203ab");
    EXPECT_EQ(run("%ph", {0xb000}), "01");
    EXPECT_EQ(run("[%*ph]", {0, 0}), "[]");  // width 0: nothing, not even "(null)"
    EXPECT_EQ(run("%pU", {0xb100}), "00112233-4455-6677-8899-aabbccddeeff");
    EXPECT_EQ(run("%pUb", {0xb100}), "00112233-4455-6677-8899-aabbccddeeff");
    EXPECT_EQ(run("%pUB", {0xb100}), "00112233-4455-6677-8899-AABBCCDDEEFF");
    EXPECT_EQ(run("%pUl", {0xb100}), "33221100-5544-7766-8899-aabbccddeeff");
    EXPECT_EQ(run("%pUL", {0xb100}), "33221100-5544-7766-8899-AABBCCDDEEFF");
    EXPECT_EQ(run("%pa", {0xb200}), "0x0000000080001000");
    EXPECT_EQ(run("%pad", {0xb200}), "0x0000000080001000");
    EXPECT_EQ(run("%pa", {0xb200}, false), "0x80001000");
    EXPECT_EQ(run("%pa", {0}), "(null)");
    EXPECT_EQ(run("%p4cc", {0xb300}), "YUYV little-endian (0x56595559)");
    EXPECT_EQ(run("%p4cc", {0xb400}), "NV12 big-endian (0xb231564e)");
    EXPECT_EQ(run("%pNF", {0xb500}), "0x1122334455667788");
}

TEST(Vsprintf, TimeAndDate) {
    std::vector<uint8_t> rtc;
    for (int32_t v : {5, 4, 3, 2, 0, 123, 1, 1, 0}) {  // sec min hour mday mon year ...
        for (int k = 0; k < 4; ++k)
            rtc.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * k)));
    }
    std::vector<uint8_t> t64;
    for (int k = 0; k < 8; ++k)
        t64.push_back(static_cast<uint8_t>(uint64_t{1700000000} >> (8 * k)));
    auto run = [&](std::string_view f, uint64_t addr) {
        FakeVa va({addr});
        va.memory[0xc000] = rtc;
        va.memory[0xc100] = t64;
        return kernel_vsnprintf(f, va, config(true));
    };
    EXPECT_EQ(run("%ptR", 0xc000), "2023-01-02T03:04:05");
    EXPECT_EQ(run("%ptRd", 0xc000), "2023-01-02");
    EXPECT_EQ(run("%ptRt", 0xc000), "03:04:05");
    EXPECT_EQ(run("%ptRs", 0xc000), "2023-01-02 03:04:05");
    EXPECT_EQ(run("%ptRr", 0xc000), "0123-00-02T03:04:05");
    EXPECT_EQ(run("%ptR", 0), "(null)");
    EXPECT_EQ(run("%ptT", 0xc100), "2023-11-14T22:13:20");
    EXPECT_EQ(run("%ptTd", 0xc100), "2023-11-14");
}

TEST(Vsprintf, NestedVaFormat) {
    FakeVa va({0x9000, 3});
    va.va_formats[0x9000] = {"x=%d y=%s", {7, kStrHi}};
    EXPECT_EQ(fmt_with(va, "[%pV] %d"), "[x=7 y=hi] 3");
    FakeVa limited({0x9000});
    limited.va_formats = va.va_formats;
    auto r = kernel_vsnprintf_limited("[%pV]", limited, config(true), 5);
    EXPECT_EQ(r.text, "[x=7 ");
    EXPECT_EQ(r.length, 10u);
    EXPECT_EQ(fmt64("%pV", {0}), "(null)");
    // A va_format that refers to itself: the nesting is cut off instead of recursing forever.
    FakeVa self({0x9100});
    self.va_formats[0x9100] = {"<%pV>", {0x9100}};
    const std::string s = fmt_with(self, "%pV");
    EXPECT_EQ(s.substr(0, 8), "<<<<<<<<");
    EXPECT_EQ(s.substr(s.size() - 8), ">>>>>>>>");
}

// --- truncation ------------------------------------------------------------------------------

TEST(Vsprintf, LimitedOutputKeepsFullLength) {
    FakeVa va({12345});
    auto r = kernel_vsnprintf_limited("hello %d", va, config(true), 8);
    EXPECT_EQ(r.text, "hello 12");
    EXPECT_EQ(r.length, 11u);
    FakeVa va0({12345});
    r = kernel_vsnprintf_limited("hello %d", va0, config(true), 0);
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(r.length, 11u);
    FakeVa vs({kStrHi});
    r = kernel_vsnprintf_limited("%10s", vs, config(true), 9);
    EXPECT_EQ(r.text, "        h");
    EXPECT_EQ(r.length, 10u);
}

// Random formats never crash, and the limited output is always a prefix of the full output.
TEST(Vsprintf, FuzzNeverCrashesAndTruncatesConsistently) {
    const std::string alphabet =
        "%%%%%%-+ #0123456789*.*.hhlllLztjqcspdiouxXnSsBKxeMmIiUVaRTNfFOGAEhbk4w!\xe9\xff";
    const uint64_t pool[] = {0,         1,        0x10,           kStrHi,     kStrHello,
                             kUnmapped, kSymAddr, err_ptr64(-12), ~0ULL,      0x80000000,
                             0xb000,    0x9100,   123456789,      0xffffffff, 40};
    std::mt19937_64 rng(12345);
    for (int iter = 0; iter < 3000; ++iter) {
        std::string f;
        const size_t len = rng() % 24;
        for (size_t i = 0; i < len; ++i)
            f += alphabet[rng() % alphabet.size()];
        std::vector<uint64_t> args;
        for (int i = 0; i < 12; ++i)
            args.push_back(pool[rng() % std::size(pool)]);
        const bool is_64bit = rng() % 2;
        auto make = [&]() {
            FakeVa va(args);
            va.memory[0xb000] = std::vector<uint8_t>(64, 0x5a);
            va.va_formats[0x9100] = {f, args};
            return va;
        };
        FakeVa full_va = make();
        const auto full = kernel_vsnprintf_limited(f, full_va, config(is_64bit), 1 << 16);
        const size_t limit = rng() % 40;
        FakeVa cut_va = make();
        const auto cut = kernel_vsnprintf_limited(f, cut_va, config(is_64bit), limit);
        ASSERT_EQ(cut.length, full.length) << f;
        ASSERT_EQ(cut.text, full.text.substr(0, limit)) << f;
        ASSERT_EQ(cut.invalid_spec, full.invalid_spec) << f;
    }
}


// kernel_vsscanf(): expectations worked out by hand from lib/vsprintf.c's vsscanf() (6.1).
ScanResult scan(std::string_view buf, std::string_view fmt, bool is64 = true) {
    return kernel_vsscanf(buf, fmt, is64);
}

TEST(Vsscanf, IntegersStringsAndTheKernelsBracketSet) {
    ScanResult r = scan("12 abc 0x1f", "%d %s %x");
    ASSERT_EQ(r.num, 3);
    ASSERT_EQ(r.stores.size(), 3u);
    EXPECT_EQ(r.stores[0].value, 12u);
    EXPECT_EQ(r.stores[0].size, 4u);
    EXPECT_EQ(r.stores[1].bytes, std::string("abc", 4));  // with its NUL
    EXPECT_EQ(r.stores[2].value, 0x1fu);
    // The kernel's own example: a field width is required, no ranges.
    r = scan("00:0a:95", "%2[^:]:%2[^:]:%2[^:]");
    ASSERT_EQ(r.num, 3);
    EXPECT_EQ(r.stores[1].bytes, std::string("0a", 3));
    EXPECT_EQ(scan("00:0a", "%[^:]").num, 0);  // no width: stops
    // %i: the radix from the prefix.
    EXPECT_EQ(scan("0x10", "%i").stores.at(0).value, 16u);
    EXPECT_EQ(scan("010", "%i").stores.at(0).value, 8u);
    // A width splits a number; - only for signed conversions.
    r = scan("12345", "%3d%d");
    ASSERT_EQ(r.num, 2);
    EXPECT_EQ(r.stores[0].value, 123u);
    EXPECT_EQ(r.stores[1].value, 45u);
    EXPECT_EQ(int64_t(scan("-5", "%d").stores.at(0).value), -5);
    EXPECT_EQ(scan("-5", "%u").num, 0);
}

TEST(Vsscanf, QualifiersSkipsAndCounts) {
    ScanResult r = scan("300 7", "%hhu %lu", false);
    ASSERT_EQ(r.num, 2);
    EXPECT_EQ(r.stores[0].size, 1u);  // the store keeps the low byte
    EXPECT_EQ(r.stores[1].size, 4u);  // long on ARM
    EXPECT_EQ(scan("1", "%llu", false).stores.at(0).size, 8u);
    EXPECT_EQ(scan("1", "%zu").stores.at(0).size, 8u);
    // %* skips to the next white space in both strings; %n stores the characters read.
    r = scan("skip 7", "%*s %d%n");
    ASSERT_EQ(r.num, 1);
    ASSERT_EQ(r.stores.size(), 2u);
    EXPECT_EQ(r.stores[0].value, 7u);
    EXPECT_EQ(r.stores[1].value, 6u);
    // Literal text must match; a mismatch ends the scan.
    EXPECT_EQ(scan("a=1", "b=%d").num, 0);
    EXPECT_EQ(scan("v1.2", "v%d.%d").num, 2);
    EXPECT_EQ(scan("x", "%c").stores.at(0).bytes, "x");  // no NUL for %c
}

}  // namespace
}  // namespace kmodemu
