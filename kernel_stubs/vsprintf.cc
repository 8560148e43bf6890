// Host-side kernel vsnprintf(); see vsprintf.h. Each piece names the lib/vsprintf.c (Linux 6.1)
// function whose behaviour it reproduces. The kernel writes into [buf, end) and keeps counting
// past end; Out does the same with a byte limit.
#include "kernel_stubs/vsprintf.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace kmodemu {
namespace {

// struct printf_spec flag bits, with the kernel's values: ZEROPAD == '0' - ' ' and
// SMALL == 'a' ^ 'A' are used arithmetically below, as in number().
constexpr unsigned kSign = 1;
constexpr unsigned kLeft = 2;
constexpr unsigned kPlus = 4;
constexpr unsigned kSpace = 8;
constexpr unsigned kZeroPad = 16;
constexpr unsigned kSmall = 32;
constexpr unsigned kSpecial = 64;

constexpr int kFieldWidthMax = (1 << 23) - 1;  // FIELD_WIDTH_MAX
constexpr int kPrecisionMax = (1 << 15) - 1;   // PRECISION_MAX
constexpr uint64_t kMaxErrno = 4095;           // MAX_ERRNO
constexpr int kMaxVaFormatDepth = 8;           // %pV nesting we follow (the kernel has no limit)

constexpr char kHexUpper[] = "0123456789ABCDEF";  // hex_asc_upper
constexpr char kHexLower[] = "0123456789abcdef";  // hex_asc

enum class Type {
    none,
    width,
    precision,
    character,
    str,
    ptr,
    percent_char,
    invalid,
    long_long,
    ulong,
    slong,
    ubyte,
    sbyte,
    ushort,
    sshort,
    uint,
    sint,
    size_t_,
    ptrdiff,
};

// struct printf_spec; field_width and precision always hold values that fit the kernel's signed
// 24-bit and 16-bit bitfields.
struct Spec {
    Type type = Type::none;
    int field_width = 0;
    unsigned flags = 0;
    unsigned base = 0;
    int precision = 0;
};

// Assignment to a signed N-bit bitfield (GCC: modulo 2^N).
int to_bitfield(int64_t v, int bits) {
    const uint64_t span = uint64_t{1} << bits;
    const uint64_t u = static_cast<uint64_t>(v) & (span - 1);
    if (u & (span >> 1))
        return static_cast<int>(static_cast<int64_t>(u) - static_cast<int64_t>(span));
    return static_cast<int>(u);
}

int as_width(int64_t v) {
    return to_bitfield(v, 24);
}
int as_precision(int64_t v) {
    return to_bitfield(v, 16);
}

// The kernel's isdigit() / isalnum() (lib/ctype.c: Latin-1 letters 0xc0-0xff count as alpha).
bool k_isdigit(char c) {
    return c >= '0' && c <= '9';
}
bool k_isalnum(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (k_isdigit(c) || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) return true;
    return u >= 0xc0 && u != 0xd7 && u != 0xf7;
}

int64_t sign_extend(uint64_t v, int bits) {
    if (bits >= 64) return static_cast<int64_t>(v);
    const uint64_t span = uint64_t{1} << bits;
    v &= span - 1;
    if (v & (span >> 1)) return static_cast<int64_t>(v) - static_cast<int64_t>(span);
    return static_cast<int64_t>(v);
}

uint64_t mix64(uint64_t x) {
    // splitmix64 finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Stand-in for the kernel's siphash_1u64()/siphash_1u32() with ptr_key: a keyed mix reduced to
// 32 bits, as ptr_to_id() keeps 32 bits on both word sizes. Not siphash, so never equal to the
// ids of a real boot.
uint64_t ptr_hash(uint64_t ptr, uint64_t key) {
    return mix64(mix64(key ^ 0x6b6d6f64656d7570ULL) ^ ptr) & 0xffffffffULL;
}

// lib/errname.c names_0[] / names_512[] for the asm-generic errno numbers (ARM and arm64).
const char* errname_positive(unsigned err) {
    static constexpr std::array<const char*, 134> names_0 = {
        nullptr,
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
        nullptr,
        "ENOMSG",
        "EIDRM",
        "ECHRNG",
        "EL2NSYNC",
        "EL3HLT",
        "EL3RST",
        "ELNRNG",
        "EUNATCH",
        "ENOCSI",
        "EL2HLT",
        "EBADE",
        "EBADR",
        "EXFULL",
        "ENOANO",
        "EBADRQC",
        "EBADSLT",
        nullptr,
        "EBFONT",
        "ENOSTR",
        "ENODATA",
        "ETIME",
        "ENOSR",
        "ENONET",
        "ENOPKG",
        "EREMOTE",
        "ENOLINK",
        "EADV",
        "ESRMNT",
        "ECOMM",
        "EPROTO",
        "EMULTIHOP",
        "EDOTDOT",
        "EBADMSG",
        "EOVERFLOW",
        "ENOTUNIQ",
        "EBADFD",
        "EREMCHG",
        "ELIBACC",
        "ELIBBAD",
        "ELIBSCN",
        "ELIBMAX",
        "ELIBEXEC",
        "EILSEQ",
        "ERESTART",
        "ESTRPIPE",
        "EUSERS",
        "ENOTSOCK",
        "EDESTADDRREQ",
        "EMSGSIZE",
        "EPROTOTYPE",
        "ENOPROTOOPT",
        "EPROTONOSUPPORT",
        "ESOCKTNOSUPPORT",
        "EOPNOTSUPP",
        "EPFNOSUPPORT",
        "EAFNOSUPPORT",
        "EADDRINUSE",
        "EADDRNOTAVAIL",
        "ENETDOWN",
        "ENETUNREACH",
        "ENETRESET",
        "ECONNABORTED",
        "ECONNRESET",
        "ENOBUFS",
        "EISCONN",
        "ENOTCONN",
        "ESHUTDOWN",
        "ETOOMANYREFS",
        "ETIMEDOUT",
        "ECONNREFUSED",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "EALREADY",
        "EINPROGRESS",
        "ESTALE",
        "EUCLEAN",
        "ENOTNAM",
        "ENAVAIL",
        "EISNAM",
        "EREMOTEIO",
        "EDQUOT",
        "ENOMEDIUM",
        "EMEDIUMTYPE",
        "ECANCELED",
        "ENOKEY",
        "EKEYEXPIRED",
        "EKEYREVOKED",
        "EKEYREJECTED",
        "EOWNERDEAD",
        "ENOTRECOVERABLE",
        "ERFKILL",
        "EHWPOISON",
    };
    static constexpr std::array<const char*, 19> names_512 = {
        "ERESTARTSYS",
        "ERESTARTNOINTR",
        "ERESTARTNOHAND",
        "ENOIOCTLCMD",
        "ERESTART_RESTARTBLOCK",
        "EPROBE_DEFER",
        "EOPENSTALE",
        "ENOPARAM",
        nullptr,
        "EBADHANDLE",
        "ENOTSYNC",
        "EBADCOOKIE",
        "ENOTSUPP",
        "ETOOSMALL",
        "ESERVERFAULT",
        "EBADTYPE",
        "EJUKEBOX",
        "EIOCBQUEUED",
        "ERECALLCONFLICT",
    };
    if (err < names_0.size()) return names_0[err];
    if (err >= 512 && err - 512 < names_512.size()) return names_512[err - 512];
    return nullptr;
}

// The output buffer: stores up to `limit` bytes and counts all of them, like the kernel's
// "if (buf < end) *buf = c; ++buf;".
class Out {
  public:
    explicit Out(size_t limit) : limit_(limit) {}

    void put(char c) {
        if (count_ < limit_) text_.push_back(c);
        ++count_;
    }
    void fill(char c, uint64_t n) {
        if (count_ < limit_)
            text_.append(static_cast<size_t>(std::min<uint64_t>(n, limit_ - count_)), c);
        count_ += n;
    }
    void append(std::string_view s) {
        if (count_ < limit_)
            text_.append(
                s.substr(0, static_cast<size_t>(std::min<uint64_t>(s.size(), limit_ - count_))));
        count_ += s.size();
    }
    // Splices in the result of a nested vsnprintf() that was given room() bytes.
    void splice(const std::string& stored, uint64_t full_length) {
        text_ += stored;
        count_ += full_length;
    }
    size_t room() const { return count_ < limit_ ? static_cast<size_t>(limit_ - count_) : 0; }
    uint64_t count() const { return count_; }
    std::string& text() { return text_; }

  private:
    std::string text_;
    uint64_t count_ = 0;
    uint64_t limit_;
};

// Pads like the kernel's "while (--field_width >= 0) emit(c);" and leaves field_width negative.
void pad(Out& out, char c, int64_t& field_width) {
    if (field_width > 0) out.fill(c, static_cast<uint64_t>(field_width));
    field_width = -1;
}

class Formatter {
  public:
    Formatter(std::string_view fmt, VaSource& args, const VsprintfConfig& cfg, Out& out, int depth)
        : fmt_(fmt.substr(0, std::min(fmt.size(), fmt.find('\0')))),
          args_(args),
          cfg_(cfg),
          out_(out),
          depth_(depth),
          word_mask_(cfg.is_64bit ? ~uint64_t{0} : 0xffffffffULL),
          ptr_size_(cfg.is_64bit ? 8 : 4) {}

    bool run();  // false when stopped at an invalid conversion

  private:
    char at(size_t i) const { return i < fmt_.size() ? fmt_[i] : '\0'; }
    int skip_atoi(size_t& p) const;
    size_t decode(size_t start, Spec& spec) const;

    uint64_t next_word() { return args_.next_word() & word_mask_; }
    int32_t next_int() { return static_cast<int32_t>(static_cast<uint32_t>(args_.next_word())); }
    int64_t next_sword() { return sign_extend(next_word(), ptr_size_ * 8); }
    uint64_t fetch_number(const Spec& spec);

    bool is_err_value(uint64_t p) const { return p >= word_mask_ - (kMaxErrno - 1); }

    void number(uint64_t num, Spec spec);
    void special_hex_number(uint64_t num, int size);
    void widen_emit(std::string_view s, const Spec& spec);
    void string_nocheck(std::string_view s, const Spec& spec);
    void error_string(std::string_view s, Spec spec);
    bool check_pointer(uint64_t ptr, const Spec& spec);
    void string(uint64_t ptr, const Spec& spec);
    void pointer_string(uint64_t ptr, Spec spec);
    void ptr_to_id(uint64_t ptr, const Spec& spec);
    void default_pointer(uint64_t ptr, const Spec& spec);
    void err_ptr(uint64_t ptr, Spec spec);
    void symbol_string(size_t f, uint64_t ptr, const Spec& spec);
    void hex_string(size_t f, uint64_t ptr, const Spec& spec);
    void mac_address_string(size_t f, uint64_t ptr, const Spec& spec);
    void ip_addr_string(size_t f, uint64_t ptr, const Spec& spec);
    void uuid_string(size_t f, uint64_t ptr, const Spec& spec);
    void address_val(size_t f, uint64_t ptr, const Spec& spec);
    void fourcc_string(size_t f, uint64_t ptr, const Spec& spec);
    void time_and_date(size_t f, uint64_t ptr, const Spec& spec);
    void rtc_str(size_t f, const std::array<int32_t, 6>& tm);
    void netdev_bits(size_t f, uint64_t ptr, const Spec& spec);
    void va_format(uint64_t ptr, const Spec& spec);
    void pointer(size_t f, uint64_t ptr, const Spec& spec);

    std::optional<std::vector<uint8_t>> read_bytes(uint64_t addr, size_t len) {
        auto bytes = args_.read_bytes(addr, len);
        if (!bytes || bytes->size() != len) return std::nullopt;
        return bytes;
    }

    std::string_view fmt_;
    VaSource& args_;
    const VsprintfConfig& cfg_;
    Out& out_;
    int depth_;
    uint64_t word_mask_;
    int ptr_size_;
};

// mirrors skip_atoi(): int arithmetic that wraps (the kernel builds with -fno-strict-overflow)
int Formatter::skip_atoi(size_t& p) const {
    uint32_t i = 0;
    do {
        i = i * 10 + static_cast<uint32_t>(at(p++) - '0');
    } while (k_isdigit(at(p)));
    return static_cast<int32_t>(i);
}

// mirrors format_decode(): returns how many format characters the token took; spec.type says
// what it is. Re-entered after a '*' width or precision with spec.type still width/precision.
size_t Formatter::decode(size_t start, Spec& spec) const {
    size_t p = start;
    int stage = 0;  // 0: from the start, 1: at the precision, 2: at the qualifier
    if (spec.type == Type::width) {
        if (spec.field_width < 0) {
            spec.field_width = as_width(-static_cast<int64_t>(spec.field_width));
            spec.flags |= kLeft;
        }
        stage = 1;
    } else if (spec.type == Type::precision) {
        if (spec.precision < 0) spec.precision = 0;
        stage = 2;
    }
    spec.type = Type::none;

    if (stage == 0) {
        while (at(p) && at(p) != '%')
            ++p;
        if (p != start || !at(p)) return p - start;  // literal text (or the end)

        spec.flags = 0;
        for (;;) {  // flags; this also skips the '%'
            ++p;
            const char c = at(p);
            if (c == '-')
                spec.flags |= kLeft;
            else if (c == '+')
                spec.flags |= kPlus;
            else if (c == ' ')
                spec.flags |= kSpace;
            else if (c == '#')
                spec.flags |= kSpecial;
            else if (c == '0')
                spec.flags |= kZeroPad;
            else
                break;
        }
        spec.field_width = -1;
        if (k_isdigit(at(p))) {
            spec.field_width = as_width(skip_atoi(p));
        } else if (at(p) == '*') {
            spec.type = Type::width;
            return ++p - start;
        }
    }
    if (stage <= 1) {
        spec.precision = -1;
        if (at(p) == '.') {
            ++p;
            if (k_isdigit(at(p))) {
                spec.precision = as_precision(skip_atoi(p));
                if (spec.precision < 0) spec.precision = 0;
            } else if (at(p) == '*') {
                spec.type = Type::precision;
                return ++p - start;
            }
        }
    }

    char qualifier = 0;
    const char q = at(p);
    if (q == 'h' || (q | 0x20) == 'l' || q == 'z' || q == 't') {  // _tolower(c) == 'l'
        qualifier = q;
        ++p;
        if (qualifier == at(p)) {
            if (qualifier == 'l') {
                qualifier = 'L';
                ++p;
            } else if (qualifier == 'h') {
                qualifier = 'H';
                ++p;
            }
        }
    }

    spec.base = 10;
    switch (at(p)) {
        case 'c':
            spec.type = Type::character;
            return ++p - start;
        case 's':
            spec.type = Type::str;
            return ++p - start;
        case 'p':
            spec.type = Type::ptr;
            return ++p - start;
        case '%':
            spec.type = Type::percent_char;
            return ++p - start;
        case 'o':
            spec.base = 8;
            break;
        case 'x':
            spec.flags |= kSmall;
            spec.base = 16;
            break;
        case 'X':
            spec.base = 16;
            break;
        case 'd':
        case 'i':
            spec.flags |= kSign;
            break;
        case 'u':
            break;
        default:  // including 'n' and the end of the string
            spec.type = Type::invalid;
            return p - start;
    }

    const bool sign = spec.flags & kSign;
    if (qualifier == 'L')
        spec.type = Type::long_long;
    else if (qualifier == 'l')
        spec.type = sign ? Type::slong : Type::ulong;
    else if (qualifier == 'z')
        spec.type = Type::size_t_;
    else if (qualifier == 't')
        spec.type = Type::ptrdiff;
    else if (qualifier == 'H')
        spec.type = sign ? Type::sbyte : Type::ubyte;
    else if (qualifier == 'h')
        spec.type = sign ? Type::sshort : Type::ushort;
    else
        spec.type = sign ? Type::sint : Type::uint;
    return ++p - start;
}

// mirrors the va_arg() switch at the end of vsnprintf()
uint64_t Formatter::fetch_number(const Spec& spec) {
    switch (spec.type) {
        case Type::long_long:
            return args_.next_dword();
        case Type::ulong:
            return next_word();
        case Type::slong:
            return static_cast<uint64_t>(next_sword());
        case Type::size_t_:
            return (spec.flags & kSign) ? static_cast<uint64_t>(next_sword()) : next_word();
        case Type::ptrdiff:
            return static_cast<uint64_t>(next_sword());
        case Type::ubyte:
            return static_cast<uint8_t>(next_int());
        case Type::sbyte:
            return static_cast<uint64_t>(int64_t{static_cast<int8_t>(next_int())});
        case Type::ushort:
            return static_cast<uint16_t>(next_int());
        case Type::sshort:
            return static_cast<uint64_t>(int64_t{static_cast<int16_t>(next_int())});
        case Type::sint:
            return static_cast<uint64_t>(int64_t{next_int()});
        default:
            return static_cast<uint32_t>(next_int());
    }
}

// mirrors number()
void Formatter::number(uint64_t num, Spec spec) {
    const bool need_pfx = (spec.flags & kSpecial) && spec.base != 10;
    const bool is_zero = num == 0;
    int64_t field_width = spec.field_width;
    int64_t precision = spec.precision;
    const char locase = static_cast<char>(spec.flags & kSmall);

    if (spec.flags & kLeft) spec.flags &= ~kZeroPad;
    char sign = 0;
    if (spec.flags & kSign) {
        if (static_cast<int64_t>(num) < 0) {
            sign = '-';
            num = 0 - num;
            --field_width;
        } else if (spec.flags & kPlus) {
            sign = '+';
            --field_width;
        } else if (spec.flags & kSpace) {
            sign = ' ';
            --field_width;
        }
    }
    if (need_pfx) {
        if (spec.base == 16)
            field_width -= 2;
        else if (!is_zero)
            --field_width;
    }

    char tmp[24];  // digits, least significant first
    int i = 0;
    if (spec.base == 10) {
        do {
            tmp[i++] = static_cast<char>('0' + num % 10);
            num /= 10;
        } while (num);
    } else {
        const unsigned shift = spec.base == 16 ? 4 : 3;
        const uint64_t mask = spec.base - 1;
        do {
            tmp[i++] = static_cast<char>(kHexUpper[num & mask] | locase);
            num >>= shift;
        } while (num);
    }

    if (i > precision)  // printing 100 with %2d gives "100"
        precision = i;
    field_width -= precision;
    if (!(spec.flags & (kZeroPad | kLeft))) pad(out_, ' ', field_width);
    if (sign) out_.put(sign);
    if (need_pfx) {
        if (spec.base == 16 || !is_zero) out_.put('0');
        if (spec.base == 16) out_.put(static_cast<char>('X' | locase));
    }
    if (!(spec.flags & kLeft))
        pad(out_, static_cast<char>(' ' + (spec.flags & kZeroPad)), field_width);
    if (precision > i) out_.fill('0', static_cast<uint64_t>(precision - i));
    while (--i >= 0)
        out_.put(tmp[i]);
    pad(out_, ' ', field_width);
}

// mirrors special_hex_number(): "0x" and 2 * size zero-padded hex digits
void Formatter::special_hex_number(uint64_t num, int size) {
    Spec spec;
    spec.type = Type::ptr;
    spec.field_width = 2 + 2 * size;
    spec.flags = kSpecial | kSmall | kZeroPad;
    spec.base = 16;
    spec.precision = -1;
    number(num, spec);
}

// mirrors widen_string() applied after the characters of s were emitted
void Formatter::widen_emit(std::string_view s, const Spec& spec) {
    const auto n = static_cast<int64_t>(s.size());
    if (n >= spec.field_width) {
        out_.append(s);
        return;
    }
    const auto spaces = static_cast<uint64_t>(spec.field_width - n);
    if (!(spec.flags & kLeft)) {
        out_.fill(' ', spaces);  // move_right()
        out_.append(s);
    } else {
        out_.append(s);
        out_.fill(' ', spaces);
    }
}

// mirrors string_nocheck(): at most precision characters (all when -1), then widen_string()
void Formatter::string_nocheck(std::string_view s, const Spec& spec) {
    s = s.substr(0, std::min(s.size(), s.find('\0')));
    if (spec.precision >= 0 && s.size() > static_cast<size_t>(spec.precision))
        s = s.substr(0, static_cast<size_t>(spec.precision));
    widen_emit(s, spec);
}

// mirrors error_string(): messages are cut to 2 * sizeof(void *) unless a precision is given
void Formatter::error_string(std::string_view s, Spec spec) {
    if (spec.precision == -1) spec.precision = 2 * ptr_size_;
    string_nocheck(s, spec);
}

// mirrors check_pointer() / check_pointer_msg(); true when an error message was printed
bool Formatter::check_pointer(uint64_t ptr, const Spec& spec) {
    const char* msg = nullptr;
    if (ptr == 0)
        msg = "(null)";
    else if (ptr < cfg_.page_size || is_err_value(ptr))
        msg = "(efault)";
    if (!msg) return false;
    error_string(msg, spec);
    return true;
}

// mirrors string(). Guest memory that cannot be read prints "(efault)" as well (the real kernel
// would fault); with precision 0 the kernel never touches the string, and neither do we.
void Formatter::string(uint64_t ptr, const Spec& spec) {
    if (check_pointer(ptr, spec)) return;
    if (spec.precision == 0) {
        widen_emit({}, spec);
        return;
    }
    const size_t max = spec.precision > 0 ? static_cast<size_t>(spec.precision) : SIZE_MAX;
    const auto s = args_.read_string(ptr, max);
    if (!s) {
        error_string("(efault)", spec);
        return;
    }
    string_nocheck(*s, spec);
}

// mirrors pointer_string(): %px; zero-padded to 2 * sizeof(void *) digits without a width
void Formatter::pointer_string(uint64_t ptr, Spec spec) {
    spec.base = 16;
    spec.flags |= kSmall;
    if (spec.field_width == -1) {
        spec.field_width = 2 * ptr_size_;
        spec.flags |= kZeroPad;
    }
    number(ptr & word_mask_, spec);
}

// mirrors ptr_to_id(): NULL and ERR_PTR values print as they are, others as a 32-bit hash
void Formatter::ptr_to_id(uint64_t ptr, const Spec& spec) {
    if (ptr == 0 || is_err_value(ptr)) {
        pointer_string(ptr, spec);
        return;
    }
    pointer_string(ptr_hash(ptr, cfg_.ptr_hash_key), spec);
}

// mirrors default_pointer() (also restricted_pointer() with kptr_restrict == 0)
void Formatter::default_pointer(uint64_t ptr, const Spec& spec) {
    if (cfg_.no_hash_pointers)
        pointer_string(ptr, spec);
    else
        ptr_to_id(ptr, spec);
}

// mirrors err_ptr() and errname(): "-EINVAL", or the number when it has no name
void Formatter::err_ptr(uint64_t ptr, Spec spec) {
    const auto err = static_cast<int32_t>(sign_extend(ptr, ptr_size_ * 8));
    if (const char* name = errname_positive(static_cast<unsigned>(-int64_t{err}))) {
        std::string s = "-";
        s += name;
        string_nocheck(s, spec);
        return;
    }
    spec.flags |= kSign;
    spec.base = 10;
    number(static_cast<uint64_t>(int64_t{err}), spec);
}

// mirrors symbol_string() with CONFIG_KALLSYMS: sprint_symbol() ('S', 'B') or
// sprint_symbol_no_offset() ('s'); an unknown address prints as "0x%lx".
// TODO: the build-id forms (%pSb, %pSRb, %pBb) print without the build id, and %pB looks up
// addr itself rather than addr - 1 (sprint_backtrace()), which only matters for return
// addresses just past the end of a function.
void Formatter::symbol_string(size_t f, uint64_t ptr, const Spec& spec) {
    const uint64_t value = ptr & word_mask_;
    auto sym = args_.symbolize(value, at(f) != 's');
    if (!sym) {
        std::string hex;
        uint64_t v = value;
        do {
            hex.insert(hex.begin(), kHexLower[v & 15]);
            v >>= 4;
        } while (v);
        sym = "0x" + hex;
    }
    string_nocheck(*sym, spec);
}

// mirrors hex_string(): %ph[CDN], up to 64 bytes, the count taken from the field width
void Formatter::hex_string(size_t f, uint64_t ptr, const Spec& spec) {
    if (spec.field_width == 0) return;
    if (check_pointer(ptr, spec)) return;
    char separator = ' ';
    switch (at(f + 1)) {
        case 'C':
            separator = ':';
            break;
        case 'D':
            separator = '-';
            break;
        case 'N':
            separator = 0;
            break;
        default:
            break;
    }
    const int len = spec.field_width > 0 ? std::min(spec.field_width, 64) : 1;
    const auto bytes = read_bytes(ptr, static_cast<size_t>(len));
    if (!bytes) {
        default_pointer(ptr, spec);
        return;
    }
    for (int i = 0; i < len; ++i) {
        const uint8_t b = (*bytes)[static_cast<size_t>(i)];
        out_.put(kHexLower[b >> 4]);
        out_.put(kHexLower[b & 15]);
        if (separator && i != len - 1) out_.put(separator);
    }
}

// mirrors mac_address_string(): %pM %pMF %pMR %pm %pmR
void Formatter::mac_address_string(size_t f, uint64_t ptr, const Spec& spec) {
    if (check_pointer(ptr, spec)) return;
    const auto addr = read_bytes(ptr, 6);
    if (!addr) {
        default_pointer(ptr, spec);
        return;
    }
    char separator = ':';
    bool reversed = false;
    if (at(f + 1) == 'F')
        separator = '-';
    else if (at(f + 1) == 'R')
        reversed = true;
    std::string mac;
    for (size_t i = 0; i < 6; ++i) {
        const uint8_t b = (*addr)[reversed ? 5 - i : i];
        mac += kHexLower[b >> 4];
        mac += kHexLower[b & 15];
        if (at(f) == 'M' && i != 5) mac += separator;
    }
    string_nocheck(mac, spec);
}

// mirrors ip4_string(): fmt0 is 'I' or 'i' (leading zeros), order is fmt[2] ('h', 'l': reversed
// on little-endian ARM; 'n', 'b' or anything else: network order)
std::string ip4_string(const uint8_t* addr, char fmt0, char order) {
    int index = 0;
    int step = 1;
    if (order == 'h' || order == 'l') {
        index = 3;
        step = -1;
    }
    std::string s;
    for (int i = 0; i < 4; ++i) {
        const std::string digits = std::to_string(addr[index]);
        if (fmt0 == 'i') s.append(3 - digits.size(), '0');
        s += digits;
        if (i < 3) s += '.';
        index += step;
    }
    return s;
}

// mirrors ip6_compressed_string() (RFC 5952 style, %pI6c)
std::string ip6_compressed_string(const uint8_t* addr) {
    uint16_t words[8];
    for (int i = 0; i < 8; ++i)
        words[i] = static_cast<uint16_t>(addr[2 * i] << 8 | addr[2 * i + 1]);
    const bool v4mapped =
        !words[0] && !words[1] && !words[2] && !words[3] && !words[4] && words[5] == 0xffff;
    const uint32_t w2 = static_cast<uint32_t>(words[4]) << 16 | words[5];
    const bool isatap = (w2 | 0x02000000u) == 0x02005efeu;
    const bool use_ipv4 = v4mapped || isatap;
    const int range = use_ipv4 ? 6 : 8;

    int zerolength[8] = {};
    for (int i = 0; i < range; ++i)
        for (int j = i; j < range && words[j] == 0; ++j)
            ++zerolength[i];
    int longest = 1;
    int colonpos = -1;
    for (int i = 0; i < range; ++i) {
        if (zerolength[i] > longest) {
            longest = zerolength[i];
            colonpos = i;
        }
    }

    std::string s;
    bool needcolon = false;
    for (int i = 0; i < range; ++i) {
        if (i == colonpos) {
            if (needcolon || i == 0) s += ':';
            s += ':';
            needcolon = false;
            i += longest - 1;
            continue;
        }
        if (needcolon) {
            s += ':';
            needcolon = false;
        }
        std::string hex;  // the word in hex without leading zeros
        uint16_t w = words[i];
        do {
            hex.insert(hex.begin(), kHexLower[w & 15]);
            w = static_cast<uint16_t>(w >> 4);
        } while (w);
        s += hex;
        needcolon = true;
    }
    if (use_ipv4) {
        if (needcolon) s += ':';
        s += ip4_string(addr + 12, 'I', '4');
    }
    return s;
}

// mirrors ip_addr_string(), ip4_addr_string() and ip6_addr_string()
// TODO: %pIS / %piS (struct sockaddr with [pfsc] options) print like plain %p.
void Formatter::ip_addr_string(size_t f, uint64_t ptr, const Spec& spec) {
    if (check_pointer(ptr, spec)) return;
    const char fmt0 = at(f);
    switch (at(f + 1)) {
        case '6': {
            const auto addr = read_bytes(ptr, 16);
            if (!addr) break;
            std::string s;
            if (fmt0 == 'I' && at(f + 2) == 'c') {
                s = ip6_compressed_string(addr->data());
            } else {
                for (size_t i = 0; i < 8; ++i) {  // ip6_string()
                    for (size_t k = 0; k < 2; ++k) {
                        s += kHexLower[(*addr)[2 * i + k] >> 4];
                        s += kHexLower[(*addr)[2 * i + k] & 15];
                    }
                    if (fmt0 == 'I' && i != 7) s += ':';
                }
            }
            string_nocheck(s, spec);
            return;
        }
        case '4': {
            const auto addr = read_bytes(ptr, 4);
            if (!addr) break;
            string_nocheck(ip4_string(addr->data(), fmt0, at(f + 2)), spec);
            return;
        }
        case 'S':
            break;
        default:
            error_string(fmt0 == 'i' ? "(%pi?)" : "(%pI?)", spec);
            return;
    }
    default_pointer(ptr, spec);
}

// mirrors uuid_string(): %pU[bBlL]
void Formatter::uuid_string(size_t f, uint64_t ptr, const Spec& spec) {
    static constexpr uint8_t uuid_index[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                               8, 9, 10, 11, 12, 13, 14, 15};
    static constexpr uint8_t guid_index[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                               8, 9, 10, 11, 12, 13, 14, 15};
    if (check_pointer(ptr, spec)) return;
    const auto addr = read_bytes(ptr, 16);
    if (!addr) {
        default_pointer(ptr, spec);
        return;
    }
    const uint8_t* index = uuid_index;
    bool uc = false;
    switch (at(f + 1)) {
        case 'L':
            uc = true;
            index = guid_index;
            break;
        case 'l':
            index = guid_index;
            break;
        case 'B':
            uc = true;
            break;
        default:
            break;
    }
    const char* digits = uc ? kHexUpper : kHexLower;
    std::string s;
    for (int i = 0; i < 16; ++i) {
        const uint8_t b = (*addr)[index[i]];
        s += digits[b >> 4];
        s += digits[b & 15];
        if (i == 3 || i == 5 || i == 7 || i == 9) s += '-';
    }
    string_nocheck(s, spec);
}

uint64_t load_le(const std::vector<uint8_t>& bytes) {
    uint64_t v = 0;
    for (size_t i = bytes.size(); i-- > 0;)
        v = v << 8 | bytes[i];
    return v;
}

// mirrors address_val(): %pa / %pap (phys_addr_t *) and %pad (dma_addr_t *)
void Formatter::address_val(size_t f, uint64_t ptr, const Spec& spec) {
    (void)f;  // 'd' and 'p' only select between two types of the same size here
    if (check_pointer(ptr, spec)) return;
    const int size = cfg_.phys_addr_size ? static_cast<int>(cfg_.phys_addr_size) : ptr_size_;
    const auto bytes = read_bytes(ptr, static_cast<size_t>(size));
    if (!bytes || size > 8) {
        default_pointer(ptr, spec);
        return;
    }
    special_hex_number(load_le(*bytes), size);
}

// mirrors fourcc_string(): %p4cc
void Formatter::fourcc_string(size_t f, uint64_t ptr, const Spec& spec) {
    if (at(f + 1) != 'c' || at(f + 2) != 'c') {
        error_string("(%p4?)", spec);
        return;
    }
    if (check_pointer(ptr, spec)) return;
    const auto bytes = read_bytes(ptr, 4);
    if (!bytes) {
        default_pointer(ptr, spec);
        return;
    }
    const auto orig = static_cast<uint32_t>(load_le(*bytes));
    const uint32_t val = orig & ~(1u << 31);
    std::string s;
    for (int i = 0; i < 4; ++i) {
        const auto c = static_cast<unsigned char>(val >> (i * 8));
        s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';  // isascii() && isprint()
    }
    s += (orig & (1u << 31)) ? " big-endian (0x" : " little-endian (0x";
    for (int shift = 28; shift >= 0; shift -= 4)
        s += kHexLower[(orig >> shift) & 15];
    s += ')';
    string_nocheck(s, spec);  // string() of a stack buffer
}

// mirrors rtc_str() with date_str() and time_str(); tm = {sec, min, hour, mday, mon, year}
void Formatter::rtc_str(size_t f, const std::array<int32_t, 6>& tm) {
    bool have_t = true;
    bool have_d = true;
    bool raw = false;
    bool iso8601_separator = true;
    size_t count = f + 2;
    if (at(count) == 'd') {
        have_t = false;
        ++count;
    } else if (at(count) == 't') {
        have_d = false;
        ++count;
    }
    for (bool found = true; found;) {
        switch (at(count++)) {
            case 'r':
                raw = true;
                break;
            case 's':
                iso8601_separator = false;
                break;
            default:
                found = false;
                break;
        }
    }
    Spec dec2;
    dec2.base = 10;
    dec2.field_width = 2;
    dec2.precision = -1;
    dec2.flags = kZeroPad;
    Spec dec4 = dec2;
    dec4.field_width = 4;
    // number() gets an int: negative values print as huge unsigned numbers (no SIGN flag)
    auto num = [](int64_t v) { return static_cast<uint64_t>(v); };
    if (have_d) {
        number(num(int64_t{tm[5]} + (raw ? 0 : 1900)), dec4);
        out_.put('-');
        number(num(int64_t{tm[4]} + (raw ? 0 : 1)), dec2);
        out_.put('-');
        number(num(tm[3]), dec2);
    }
    if (have_d && have_t) out_.put(iso8601_separator ? 'T' : ' ');
    if (have_t) {
        number(num(tm[2]), dec2);
        out_.put(':');
        number(num(tm[1]), dec2);
        out_.put(':');
        number(num(tm[0]), dec2);
    }
}

// time64_to_tm() for offset 0 (proleptic Gregorian calendar; days to civil date after
// H. Hinnant's algorithm): {sec, min, hour, mday, mon (0-11), year - 1900}
std::array<int32_t, 6> time64_to_tm(int64_t t) {
    int64_t days = t / 86400;
    int64_t rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t mday = doy - (153 * mp + 2) / 5 + 1;
    const int64_t mon = mp < 10 ? mp + 3 : mp - 9;  // 1-12
    const int64_t year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
    return {static_cast<int32_t>(rem % 60),   static_cast<int32_t>(rem / 60 % 60),
            static_cast<int32_t>(rem / 3600), static_cast<int32_t>(mday),
            static_cast<int32_t>(mon - 1),    static_cast<int32_t>(year - 1900)};
}

// mirrors time_and_date(): %ptR (struct rtc_time *) and %ptT (time64_t *)
void Formatter::time_and_date(size_t f, uint64_t ptr, const Spec& spec) {
    if (at(f + 1) == 'R') {
        if (check_pointer(ptr, spec)) return;
        const auto bytes = read_bytes(ptr, 24);
        if (!bytes) {
            default_pointer(ptr, spec);
            return;
        }
        std::array<int32_t, 6> tm{};
        for (size_t i = 0; i < 6; ++i) {
            uint32_t v = 0;
            for (size_t k = 4; k-- > 0;)
                v = v << 8 | (*bytes)[4 * i + k];
            tm[i] = static_cast<int32_t>(v);
        }
        rtc_str(f, tm);
        return;
    }
    if (at(f + 1) == 'T') {
        const auto bytes = read_bytes(ptr, 8);  // the kernel dereferences without checking
        if (!bytes) {
            default_pointer(ptr, spec);
            return;
        }
        rtc_str(f, time64_to_tm(static_cast<int64_t>(load_le(*bytes))));
        return;
    }
    error_string("(%pt?)", spec);
}

// mirrors netdev_bits(): %pNF (netdev_features_t *)
void Formatter::netdev_bits(size_t f, uint64_t ptr, const Spec& spec) {
    if (check_pointer(ptr, spec)) return;
    if (at(f + 1) != 'F') {
        error_string("(%pN?)", spec);
        return;
    }
    const auto bytes = read_bytes(ptr, 8);
    if (!bytes) {
        default_pointer(ptr, spec);
        return;
    }
    special_hex_number(load_le(*bytes), 8);
}

// mirrors va_format(): a nested vsnprintf() into the room left
void Formatter::va_format(uint64_t ptr, const Spec& spec) {
    if (check_pointer(ptr, spec)) return;
    auto va = depth_ < kMaxVaFormatDepth ? args_.read_va_format(ptr) : std::nullopt;
    if (!va || !va->args) {
        default_pointer(ptr, spec);
        return;
    }
    Out nested(out_.room());
    Formatter(va->fmt, *va->args, cfg_, nested, depth_ + 1).run();
    out_.splice(nested.text(), nested.count());
}

// mirrors pointer(): f indexes the character after 'p'.
// TODO: these extensions are not implemented and print like plain %p after the NULL/efault
// check the kernel does first: %pR %pr (struct resource), %pb %pbl (bitmaps), %pE (escaped
// buffers), %pd %pD (dentry, file), %pg (block device), %pG[pvg] (flags), %pC (clock name),
// %pOF (device tree node), %pfw (fwnode), %pIS %piS (sockaddr). Without read_bytes() /
// read_va_format() support from the VaSource, the dereferencing ones below do the same.
void Formatter::pointer(size_t f, uint64_t ptr, const Spec& spec) {
    ptr &= word_mask_;
    switch (at(f)) {
        case 'S':
        case 's':
        case 'B':
            symbol_string(f, ptr, spec);
            return;
        case 'h':
            hex_string(f, ptr, spec);
            return;
        case 'M':
        case 'm':
            mac_address_string(f, ptr, spec);
            return;
        case 'I':
        case 'i':
            ip_addr_string(f, ptr, spec);
            return;
        case 'U':
            uuid_string(f, ptr, spec);
            return;
        case 'V':
            va_format(ptr, spec);
            return;
        case 'K':  // restricted_pointer() with kptr_restrict == 0
            default_pointer(ptr, spec);
            return;
        case 'N':
            netdev_bits(f, ptr, spec);
            return;
        case '4':
            fourcc_string(f, ptr, spec);
            return;
        case 'a':
            address_val(f, ptr, spec);
            return;
        case 't':
            time_and_date(f, ptr, spec);
            return;
        case 'x':
            pointer_string(ptr, spec);
            return;
        case 'e':  // %pe with a non-ERR_PTR is plain %p
            if (!is_err_value(ptr))
                default_pointer(ptr, spec);
            else
                err_ptr(ptr, spec);
            return;
        case 'u':
        case 'k':
            if (at(f + 1) == 's')
                string(ptr, spec);
            else
                error_string("(einval)", spec);
            return;
        case 'A':  // Rust's %pA without CONFIG_RUST
            error_string("(%pA?)", spec);
            return;
        case 'f':  // fwnode_string()
            if (at(f + 1) != 'w') {
                error_string("(%pf?)", spec);
                return;
            }
            break;
        case 'O':  // device_node_string()
            if (at(f + 1) != 'F') {
                error_string("(%pO?)", spec);
                return;
            }
            break;
        case 'G':  // flags_string()
            if (check_pointer(ptr, spec)) return;
            if (at(f + 1) != 'p' && at(f + 1) != 'v' && at(f + 1) != 'g') {
                error_string("(%pG?)", spec);
                return;
            }
            default_pointer(ptr, spec);
            return;
        case 'E':  // escaped_string()
            if (spec.field_width == 0) return;
            break;
        case 'R':
        case 'r':
        case 'b':
        case 'd':
        case 'D':
        case 'g':
        case 'C':
            break;
        default:
            default_pointer(ptr, spec);
            return;
    }
    // The unimplemented extensions: check_pointer() first, as the kernel does.
    if (check_pointer(ptr, spec)) return;
    default_pointer(ptr, spec);
}

// mirrors the main loop of vsnprintf()
bool Formatter::run() {
    Spec spec;
    spec.type = Type::none;
    size_t pos = 0;
    while (pos < fmt_.size()) {
        const size_t old = pos;
        const size_t read = decode(pos, spec);
        pos += read;

        switch (spec.type) {
            case Type::none:
                out_.append(fmt_.substr(old, read));
                break;
            case Type::width: {  // set_field_width()
                const int w = next_int();
                spec.field_width =
                    as_width(w) == w ? w : std::clamp(w, -kFieldWidthMax, kFieldWidthMax);
                break;
            }
            case Type::precision: {  // set_precision()
                const int prec = next_int();
                spec.precision =
                    as_precision(prec) == prec ? prec : std::clamp(prec, 0, kPrecisionMax);
                break;
            }
            case Type::character: {
                // "while (--spec.field_width > 0)" on the 24-bit bitfield
                if (!(spec.flags & kLeft)) {
                    while ((spec.field_width = as_width(int64_t{spec.field_width} - 1)) > 0)
                        out_.put(' ');
                }
                out_.put(static_cast<char>(static_cast<unsigned char>(next_int())));
                while ((spec.field_width = as_width(int64_t{spec.field_width} - 1)) > 0)
                    out_.put(' ');
                break;
            }
            case Type::str:
                string(next_word(), spec);
                break;
            case Type::ptr:
                pointer(pos, next_word(), spec);
                while (k_isalnum(at(pos)))
                    ++pos;
                break;
            case Type::percent_char:
                out_.put('%');
                break;
            case Type::invalid:
                return false;
            default:
                number(fetch_number(spec), spec);
                break;
        }
    }
    return true;
}

}  // namespace

std::string errname(int err) {
    if (const char* name = errname_positive(static_cast<unsigned>(-int64_t{err})))
        return std::string("-") + name;
    return std::to_string(err);
}

VsprintfResult kernel_vsnprintf_limited(std::string_view fmt, VaSource& args,
                                        const VsprintfConfig& cfg, size_t limit) {
    Out out(limit);
    VsprintfResult result;
    result.invalid_spec = !Formatter(fmt, args, cfg, out, 0).run();
    result.length = out.count();
    result.text = std::move(out.text());
    return result;
}

std::string kernel_vsnprintf(std::string_view fmt, VaSource& args, const VsprintfConfig& cfg) {
    return kernel_vsnprintf_limited(fmt, args, cfg, SIZE_MAX).text;
}

}  // namespace kmodemu

namespace kmodemu {

namespace {

// The kernel's _ctype: white space is \t \n \v \f \r, ' ' and the Latin-1 no-break space.
bool k_isspace(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}
bool k_isdigit(unsigned char c) {
    return c >= '0' && c <= '9';
}
bool k_isxdigit(unsigned char c) {
    return k_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
unsigned char k_tolower(unsigned char c) {
    return c | 0x20;
}

// simple_strntoull(): _parse_integer_fixup_radix(), then at most max_chars characters.
uint64_t strntoull(std::string_view s, size_t at, size_t max_chars, size_t& end, unsigned base) {
    auto ch = [&](size_t i) -> unsigned char { return i < s.size() ? s[i] : 0; };
    size_t p = at;
    if (base == 0) {
        if (ch(p) == '0')
            base = (k_tolower(ch(p + 1)) == 'x' && k_isxdigit(ch(p + 2))) ? 16 : 8;
        else
            base = 10;
    }
    if (base == 16 && ch(p) == '0' && k_tolower(ch(p + 1)) == 'x') p += 2;
    size_t prefix = p - at;
    uint64_t result = 0;
    if (prefix < max_chars) {
        size_t limit = max_chars - prefix;
        for (size_t n = 0; n < limit; ++n, ++p) {  // _parse_integer_limit()
            unsigned char c = ch(p);
            unsigned v;
            if (k_isdigit(c))
                v = c - '0';
            else if (k_tolower(c) >= 'a' && k_tolower(c) <= 'f')
                v = k_tolower(c) - 'a' + 10;
            else
                break;
            if (v >= base) break;
            result = result * base + v;
        }
    } else {
        p = at + max_chars;
    }
    end = p;
    return result;
}

}  // namespace

ScanResult kernel_vsscanf(std::string_view buf, std::string_view fmt, bool is_64bit) {
    ScanResult r;
    size_t s = 0, f = 0;
    auto sc = [&](size_t i) -> unsigned char { return i < buf.size() ? buf[i] : 0; };
    auto fc = [&](size_t i) -> unsigned char { return i < fmt.size() ? fmt[i] : 0; };
    auto skip = [&](size_t i, auto get) {
        while (k_isspace(get(i))) ++i;
        return i;
    };
    while (fc(f)) {
        if (k_isspace(fc(f))) {
            f = skip(f + 1, fc);
            s = skip(s, sc);
        }
        if (fc(f) != '%' && fc(f)) {
            if (fc(f++) != sc(s++)) break;
            continue;
        }
        if (!fc(f)) break;
        ++f;
        if (fc(f) == '*') {
            if (!sc(s)) break;
            while (!k_isspace(fc(f)) && fc(f) != '%' && fc(f)) {
                if (fc(f) == '[') return r;
                ++f;
            }
            while (!k_isspace(sc(s)) && sc(s)) ++s;
            continue;
        }
        int field_width = -1;
        if (k_isdigit(fc(f))) {
            int w = 0;
            while (k_isdigit(fc(f))) w = w * 10 + (fc(f++) - '0');  // skip_atoi()
            field_width = static_cast<int16_t>(w);
            if (field_width <= 0) break;
        }
        int qualifier = -1;
        if (fc(f) == 'h' || k_tolower(fc(f)) == 'l' || fc(f) == 'z') {
            qualifier = fc(f++);
            if (qualifier == fc(f)) {
                if (qualifier == 'h') {
                    qualifier = 'H';
                    ++f;
                } else if (qualifier == 'l') {
                    qualifier = 'L';
                    ++f;
                }
            }
        }
        if (!fc(f)) break;
        if (fc(f) == 'n') {
            r.stores.push_back({false, "", 4, s});
            ++f;
            continue;
        }
        if (!sc(s)) break;
        unsigned base = 10;
        bool is_sign = false;
        switch (fc(f++)) {
            case 'c': {
                ScanStore st{true, "", 0, 0};
                if (field_width == -1) field_width = 1;
                do {
                    st.bytes += static_cast<char>(sc(s++));
                } while (--field_width > 0 && sc(s));
                r.stores.push_back(st);
                ++r.num;
                continue;
            }
            case 's': {
                ScanStore st{true, "", 0, 0};
                if (field_width == -1) field_width = 0x7fff;
                s = skip(s, sc);
                while (sc(s) && !k_isspace(sc(s)) && field_width--)
                    st.bytes += static_cast<char>(sc(s++));
                st.bytes += '\0';
                r.stores.push_back(st);
                ++r.num;
                continue;
            }
            case '[': {
                bool set[256] = {};
                unsigned len = 0;
                bool negate = fc(f) == '^';
                if (field_width == -1) return r;
                if (negate) ++f;
                for (; fc(f) && fc(f) != ']'; ++f, ++len) set[fc(f)] = true;
                if (!fc(f) || !len) return r;
                ++f;
                if (negate) {
                    for (bool& b : set) b = !b;
                    set[0] = false;
                }
                if (!set[sc(s)]) return r;
                ScanStore st{true, "", 0, 0};
                while (set[sc(s)] && field_width--) st.bytes += static_cast<char>(sc(s++));
                st.bytes += '\0';
                r.stores.push_back(st);
                ++r.num;
                continue;
            }
            case 'o':
                base = 8;
                break;
            case 'x':
            case 'X':
                base = 16;
                break;
            case 'i':
                base = 0;
                is_sign = true;
                break;
            case 'd':
                is_sign = true;
                break;
            case 'u':
                break;
            case '%':
                if (sc(s++) != '%') return r;
                continue;
            default:
                return r;
        }
        s = skip(s, sc);
        unsigned char digit = sc(s);
        if (is_sign && digit == '-') {
            if (field_width == 1) break;
            digit = sc(s + 1);
        }
        if (!digit || (base == 16 && !k_isxdigit(digit)) || (base == 10 && !k_isdigit(digit)) ||
            (base == 8 && (!k_isdigit(digit) || digit > '7')) || (base == 0 && !k_isdigit(digit)))
            break;
        size_t max_chars = field_width >= 0 ? size_t(field_width) : size_t(INT32_MAX);
        size_t next = s;
        uint64_t val;
        if (is_sign && sc(s) == '-' && max_chars > 0)  // simple_strntoll()
            val = -strntoull(buf, s + 1, max_chars - 1, next, base);
        else
            val = strntoull(buf, s, max_chars, next, base);
        unsigned size = 4;
        if (qualifier == 'H')
            size = 1;
        else if (qualifier == 'h')
            size = 2;
        else if (qualifier == 'L')
            size = 8;
        else if (qualifier == 'l' || qualifier == 'z')
            size = is_64bit ? 8 : 4;
        r.stores.push_back({false, "", size, val});
        ++r.num;
        s = next;
    }
    return r;
}

}  // namespace kmodemu
