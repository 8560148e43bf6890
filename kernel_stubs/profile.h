// A kernel profile: what kmodemu knows of a target kernel (release, vermagic, exports with CRCs,
// GPL-only flags and namespaces, the configuration that changes loading), read from a Debian
// kernel kit made by tools/fetch-kernel-kit. Without one, a built-in default profile applies:
// the exports of the real kernels of kernel_stubs/exports/ (tools/gen-default-exports), no
// vermagic or CRC checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "emulator/emulator.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

// One export of vmlinux, as Module.symvers lists it.
struct ProfileSymbol {
    std::string_view name;
    uint32_t crc = 0;
    bool gpl_only = false;
    bool data = false;    // a data object, not a function (known for the default kernel)
    std::string_view ns;  // symbol namespace, empty when none
};

// The compact form of an export: a table of these, sorted by name, over a pool of strings. The
// default exports compiled into the binary and a kit's cached profile share this layout.
struct ExportRecord {
    uint32_t name;  // offset of the name in the pool
    uint32_t ns;    // offset of the namespace in the pool
    uint32_t crc;
    uint16_t name_len;
    uint8_t ns_len;  // 0: no namespace
    uint8_t flags;   // export_gpl_only | export_data
};
constexpr uint8_t export_gpl_only = 1;
constexpr uint8_t export_data = 2;

// A CONFIG_* line of the kernel's configuration, in a table sorted by key over the same pool.
struct ConfigRecord {
    uint32_t key, key_len;
    uint32_t value, value_len;
};

// A read-only view of an export table; the memory belongs to the profile.
class ExportTable {
  public:
    ExportTable() = default;
    ExportTable(std::string_view pool, const ExportRecord* records, size_t count)
        : pool_(pool), records_(records), count_(count) {}
    // The export called `name`, if any (binary search, as find_exported_symbol_in_section()).
    std::optional<ProfileSymbol> find(std::string_view name) const;
    size_t size() const { return count_; }
    ProfileSymbol operator[](size_t i) const;

  private:
    std::string_view pool_;
    const ExportRecord* records_ = nullptr;
    size_t count_ = 0;
};

class ConfigTable {
  public:
    ConfigTable() = default;
    ConfigTable(std::string_view pool, const ConfigRecord* records, size_t count)
        : pool_(pool), records_(records), count_(count) {}
    std::optional<std::string_view> find(std::string_view key) const;  // "y", "250", "\"...\""
    size_t size() const { return count_; }

  private:
    std::string_view pool_;
    const ConfigRecord* records_ = nullptr;
    size_t count_ = 0;
};

// The default exports of one architecture, compiled into the binary from
// kernel_stubs/exports/ARCH.txt by the build (kernel_stubs/exports/embed.cmake).
struct EmbeddedExports {
    const char* pool;
    size_t pool_size;
    const ExportRecord* records;
    size_t count;
    const char* kernels;  // "6.1.0-57-arm64 (Debian 6.1.192-3)", one per kit, comma-separated
};
extern const EmbeddedExports default_exports_arm64;
extern const EmbeddedExports default_exports_arm;

// The KEY=value lines of a kit's kit.env (double quotes around a value removed); nullopt when
// the file cannot be read.
std::optional<std::map<std::string, std::string>> read_kit_env(const std::string& path);

struct KernelProfile {
    std::string name = "generic";
    Arch arch = Arch::arm64;
    bool generic = true;  // the built-in default: no checks of vermagic or CRCs
    std::string release;  // a kit's release; empty for the default
    // The kernel(s) whose exports these are, for messages: a kit's release, or "the default
    // kernel (6.1.0-57-arm64 (Debian 6.1.192-3))".
    std::string kernels;
    std::string vermagic;  // VERMAGIC_STRING
    bool modversions = false;
    bool thumb2_kernel = true;
    int hz = 250;
    ExportTable exports;                  // vmlinux's, from Module.symvers
    ConfigTable config;                   // CONFIG_* = value
    std::shared_ptr<const void> storage;  // the memory the tables view
    // The kernel's struct layouts: the kit's KIT/layout.env (tools/kit-layout, read beside the
    // cache), or the default kernel's compiled in (KernelStructs::defaults()).
    KernelStructs structs;
    // The kit's directory (its exports-data.txt, tools/kit-layout: the exports that are data);
    // empty for the default.
    std::string kit_dir;

    // KERNEL_VERSION(major, minor, 0) of the kernel; 0: from the release (kernel_version()).
    unsigned version = 0;

    // The built-in default kernel of an architecture (shared, made once per version): its
    // structures laid out and its behaviour as the kernel of `version` (KERNEL_VERSION(major,
    // minor, 0), the version of the module being loaded) among those it was made of, else as
    // its first kernel (6.1).
    static std::shared_ptr<const KernelProfile> default_for(Arch arch, unsigned version = 0);

    // Reads a kit directory (kit.env, Module.symvers, the kernel's config, layout.env) through its
    // cache,
    // KIT/kmodemu-profile.cache (or, when the kit is read-only, under $XDG_CACHE_HOME/kmodemu):
    // the profile compiled once into a compact file that is mapped, not parsed, and rebuilt when
    // stale (the sources' sizes and mtimes, the format version) or corrupt. Throws
    // std::runtime_error with a readable message when the kit is unusable.
    static std::shared_ptr<KernelProfile> from_kit(const std::string& dir);
    // The same without the cache: parses the kit's files.
    static std::shared_ptr<KernelProfile> read_kit(const std::string& dir);
    // Where from_kit() keeps the kit's cache when the kit is writable.
    static std::string cache_path(const std::string& dir);
};

// KERNEL_VERSION(major, minor, 0) of a profile's kernel, from its release ("6.12.95+deb12-arm64"
// is 6.12); the default kernel's is its `version`. Where
// the kernel's behaviour changed between versions (a message, an order of checks), the code
// asks for the version it changed in: `kernel_since(p, 6, 12)`.
constexpr unsigned kernel_version_code(unsigned major, unsigned minor) {
    return (major << 16) | (minor << 8);
}
unsigned kernel_version(const KernelProfile* p);
// The version a module is built for, from the release that begins its vermagic= (.modinfo);
// 0 when the bytes hold none.
unsigned module_kernel_version(std::span<const uint8_t> module);
inline bool kernel_since(const KernelProfile* p, unsigned major, unsigned minor) {
    return kernel_version(p) >= kernel_version_code(major, minor);
}

// same_magic() (kernel/module/version.c): with CRCs, only what follows the release counts.
bool same_magic(const std::string& amagic, const std::string& bmagic, bool has_crcs);

}  // namespace kmodemu
