// Host-side vsnprintf() of the emulated kernel, mirroring lib/vsprintf.c of Linux 6.1 byte for
// byte for the integer, string, char and pointer conversions (format_decode(), number(),
// string(), widen_string(), pointer() and the %p helpers).
//
// Kernel behaviours that differ from glibc and are reproduced on purpose:
//  - '%#x' of 0 prints "0x0"; '%#o' adds its '0' even when a precision already gives one.
//  - The '0' flag pads with zeros even when a precision is given ("%08.3d" of 5: "00000005").
//  - "%.0d" of 0 prints "0"; "%.s" (a '.' without digits) means "no precision".
//  - A negative precision from '*' means precision 0 ("%.*s" with -1 prints nothing).
//  - Widths and precisions live in the kernel's 24-bit and 16-bit bitfields (they wrap or clamp).
//  - 'j', 'q', '%n' and any unknown conversion are invalid: formatting stops there (the kernel
//    also WARNs once; see VsprintfResult::invalid_spec).
//  - %t always sign-extends ptrdiff_t (so "%tu" of -1 on ARM32 prints 18446744073709551615).
//  - After a %p, every following alphanumeric character is swallowed as a pointer extension.
//  - NULL strings print "(null)", pointers below PAGE_SIZE or ERR_PTR values "(efault)".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kmodemu {

class VaSource;

// A guest struct va_format ({const char *fmt; va_list *va;}) resolved for %pV.
struct VaFormat {
    std::string fmt;
    std::unique_ptr<VaSource> args;
};

// Where the variadic arguments of one guest vsnprintf() call come from (AAPCS64 or AAPCS32
// va_list).
class VaSource {
  public:
    virtual ~VaSource() = default;
    // Next argument of up to the machine word size (int, long, pointer, size_t): the raw slot
    // value. On ARM32 only the low 32 bits are used.
    virtual uint64_t next_word() = 0;
    // Next 64-bit argument (long long). On ARM32 this is a register pair / 8-byte aligned stack
    // slot; on AArch64 the same as next_word().
    virtual uint64_t next_dword() = 0;
    // Reads a NUL-terminated guest string at addr, at most max bytes (max may be SIZE_MAX-ish).
    // Returns nullopt when addr is not readable guest memory (the kernel prints "(efault)").
    virtual std::optional<std::string> read_string(uint64_t addr, size_t max) = 0;
    // Symbol for %pS/%ps/%pB-style: "func+0x10/0x40 [mod]" or nullopt if unknown (then the
    // kernel's sprint_symbol() prints the raw address as "0x%lx").
    virtual std::optional<std::string> symbolize(uint64_t addr, bool with_offset) {
        (void)addr;
        (void)with_offset;
        return std::nullopt;
    }
    // Exactly len bytes of guest memory at addr, for the %p extensions that dereference their
    // argument (%ph %pM %pm %pI4 %pi4 %pI6 %pi6 %pU %pa %p4cc %ptR %ptT %pNF), or nullopt when
    // unreadable / not provided; such a conversion then prints like plain %p.
    virtual std::optional<std::vector<uint8_t>> read_bytes(uint64_t addr, size_t len) {
        (void)addr;
        (void)len;
        return std::nullopt;
    }
    // For %pV: the format and the argument source of the struct va_format at addr, or nullopt
    // (then %pV prints like plain %p).
    virtual std::optional<VaFormat> read_va_format(uint64_t addr) {
        (void)addr;
        return std::nullopt;
    }
};

struct VsprintfConfig {
    bool is_64bit = true;  // sizeof(long) and sizeof(void*) 8 (AArch64) or 4 (ARM32)
    // Key for plain %p hashing. The kernel uses siphash of the pointer with a random boot key;
    // we use a different keyed 64-bit mix (see ptr_hash() in vsprintf.cc), so hashed values are
    // stable for a given key but never equal to those of a real boot.
    uint64_t ptr_hash_key = 0;
    bool no_hash_pointers = false;  // the "no_hash_pointers" boot parameter: %p prints like %px
    uint64_t page_size = 4096;      // check_pointer(): non-NULL pointers below it are "(efault)"
    unsigned phys_addr_size = 0;    // sizeof(phys_addr_t) == sizeof(dma_addr_t) for %pa; 0: word
};

// Formats like the kernel's vsnprintf() and returns the whole untruncated output
// (callers truncate to their buffer size themselves, as vsnprintf's return value is the full
// length).
std::string kernel_vsnprintf(std::string_view fmt, VaSource& args, const VsprintfConfig& cfg);

// %pe of ERR_PTR(err) (lib/errname.c): "-EINVAL", or the number when it has no name.
std::string errname(int err);

struct VsprintfResult {
    std::string text;           // the first min(length, limit) bytes of the output
    uint64_t length = 0;        // the full untruncated length (vsnprintf's return value)
    bool invalid_spec = false;  // stopped at an invalid conversion (the kernel's WARN_ONCE)
};

// The same, storing at most `limit` bytes while still counting the whole length: for a guest
// vsnprintf(buf, size, ...) with 0 < size <= INT_MAX pass limit = size - 1 and write text plus a
// NUL. (The kernel returns 0 without writing anything when size > INT_MAX.)
VsprintfResult kernel_vsnprintf_limited(std::string_view fmt, VaSource& args,
                                        const VsprintfConfig& cfg, size_t limit);

}  // namespace kmodemu

namespace kmodemu {

// One store of the kernel's vsscanf(): each consumes the next pointer argument.
struct ScanStore {
    bool is_bytes = false;  // %s %c %[: `bytes` (with the NUL for %s and %[)
    std::string bytes;
    unsigned size = 4;  // an integer's size in bytes (1, 2, 4 or 8)
    uint64_t value = 0;
};

struct ScanResult {
    int num = 0;  // vsscanf()'s return: the conversions assigned
    std::vector<ScanStore> stores;
};

// The kernel's vsscanf() (lib/vsprintf.c) of `buf` against `fmt`, with its deviations from
// the C library ('[' without ranges and with a required width, "%*" skipping to white space).
// `is_64bit`: sizeof(long) and sizeof(size_t).
ScanResult kernel_vsscanf(std::string_view buf, std::string_view fmt, bool is_64bit);

}  // namespace kmodemu
