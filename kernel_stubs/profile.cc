#include "kernel_stubs/profile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace kmodemu {

std::optional<std::map<std::string, std::string>> read_kit_env(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::map<std::string, std::string> env;
    std::string line;
    while (std::getline(in, line)) {
        size_t eq = line.find('=');
        if (eq == std::string::npos || line.starts_with("#")) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);  // kit.env is also sourced by scripts
        env[line.substr(0, eq)] = value;
    }
    return env;
}

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string text(static_cast<size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

// Calls f(line) for each line of text (no allocation per line).
template <class F>
void for_each_line(std::string_view text, F f) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::map<std::string, std::string> read_env(const std::string& path) {
    auto env = read_kit_env(path);
    if (!env)
        throw std::runtime_error("cannot read " + path +
                                 " (not a kit made by tools/fetch-kernel-kit?)");
    return std::move(*env);
}

std::string need(const std::map<std::string, std::string>& env, const std::string& key,
                 const std::string& where) {
    auto it = env.find(key);
    if (it == env.end() || it->second.empty()) throw std::runtime_error(where + " has no " + key);
    return it->second;
}

// --- the compiled profile: one blob, written to the cache file and mapped from it ---
//
// Header, then the export records (sorted by name), the config records (sorted by key) and the
// string pool. The blob is only ever read on the machine that wrote it (native byte order).

constexpr char cache_magic[8] = {'k', 'm', 'o', 'd', 'p', 'r', 'o', 'f'};
constexpr uint32_t cache_version = 1;  // bump when the layout or its meaning changes

struct FileStamp {
    int64_t size = -1, mtime_sec = 0, mtime_nsec = 0;
    bool operator==(const FileStamp&) const = default;
};

struct PoolString {
    uint32_t off = 0, len = 0;
};

struct CacheHeader {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;
    uint64_t checksum;     // of everything after this field
    FileStamp sources[3];  // kit.env, Module.symvers, config (stale when any differs)
    uint32_t arch, modversions, thumb2_kernel, hz;
    uint64_t exports_off, n_exports;
    uint64_t config_off, n_config;
    uint64_t pool_off, pool_size;
    PoolString kit_dir, symvers_path, config_path, release, vermagic;
};
static_assert(sizeof(CacheHeader) % 8 == 0);
constexpr size_t checksum_from = offsetof(CacheHeader, checksum) + sizeof(uint64_t);

uint64_t checksum(const char* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; ++i)
        h = (h ^ static_cast<uint8_t>(p[i])) * 0x100000001b3ull;
    return h;
}

FileStamp stamp(const std::string& path) {
    FileStamp s;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return s;
    s.size = st.st_size;
    s.mtime_sec = st.st_mtim.tv_sec;
    s.mtime_nsec = st.st_mtim.tv_nsec;
    return s;
}

std::string real_dir(const std::string& dir) {
    char buf[PATH_MAX];
    return ::realpath(dir.c_str(), buf) ? std::string(buf) : dir;
}

// What a kit's sources say, before compilation.
struct KitSources {
    std::string kit_dir, symvers_path, config_path;
    FileStamp stamps[3];
    std::string release, vermagic;
    Arch arch = Arch::arm64;
    std::string symvers, config;  // the files' text; the vectors below point into it
    std::vector<ProfileSymbol> exports;
    std::vector<std::pair<std::string_view, std::string_view>> config_lines;
};

// Parses kit.env, the config and Module.symvers (the slow part the cache saves).
KitSources parse_kit(const std::string& dir) {
    KitSources k;
    k.kit_dir = real_dir(dir);
    std::string env_path = dir + "/kit.env";
    k.stamps[0] = stamp(env_path);
    auto env = read_env(env_path);
    std::string arch = need(env, "KIT_ARCH", env_path);
    if (std::optional<Arch> a = arch_of_debian(arch))
        k.arch = *a;
    else
        throw std::runtime_error("unknown KIT_ARCH " + arch);
    k.release = need(env, "KIT_RELEASE", env_path);
    k.vermagic = need(env, "KIT_VERMAGIC", env_path + " (made by an older fetch-kernel-kit?)");

    // The kernel's configuration.
    k.config_path = need(env, "KIT_BOOT", env_path) + "/config-" + k.release;
    k.stamps[2] = stamp(k.config_path);
    k.config = slurp(k.config_path);
    for_each_line(k.config, [&](std::string_view line) {
        if (!line.starts_with("CONFIG_")) return;
        size_t eq = line.find('=');
        if (eq != std::string_view::npos)
            k.config_lines.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    });
    // The first of duplicate keys counts.
    std::stable_sort(k.config_lines.begin(), k.config_lines.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    k.config_lines.erase(
        std::unique(k.config_lines.begin(), k.config_lines.end(),
                    [](const auto& a, const auto& b) { return a.first == b.first; }),
        k.config_lines.end());

    // Module.symvers: crc <TAB> symbol <TAB> module <TAB> export type <TAB> namespace.
    k.symvers_path = need(env, "KIT_HEADERS", env_path) + "/Module.symvers";
    k.stamps[1] = stamp(k.symvers_path);
    k.symvers = slurp(k.symvers_path);
    k.exports.reserve(16384);
    for_each_line(k.symvers, [&](std::string_view line) {
        std::string_view f[5];
        size_t n = 0;
        while (n < 5) {
            size_t tab = line.find('\t');
            f[n++] = line.substr(0, tab);
            if (tab == std::string_view::npos) break;
            line.remove_prefix(tab + 1);
        }
        if (n < 4 || f[2] != "vmlinux") return;
        ProfileSymbol sym;
        sym.name = f[1];
        sym.crc = static_cast<uint32_t>(std::strtoul(std::string(f[0]).c_str(), nullptr, 16));
        sym.gpl_only = f[3] == "EXPORT_SYMBOL_GPL";
        if (n > 4) sym.ns = f[4];
        k.exports.push_back(sym);
    });
    if (k.exports.empty()) throw std::runtime_error(k.symvers_path + " lists no vmlinux exports");
    std::stable_sort(k.exports.begin(), k.exports.end(),
                     [](const auto& a, const auto& b) { return a.name < b.name; });
    k.exports.erase(std::unique(k.exports.begin(), k.exports.end(),
                                [](const auto& a, const auto& b) { return a.name == b.name; }),
                    k.exports.end());
    return k;
}

// Lays the parsed kit out as a blob (the cache file's bytes).
std::string compile(const KitSources& k) {
    std::string pool;
    auto add = [&](std::string_view s) {
        PoolString p{static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(s.size())};
        pool.append(s);
        return p;
    };
    CacheHeader h{};
    std::memcpy(h.magic, cache_magic, sizeof h.magic);
    h.version = cache_version;
    h.header_size = sizeof(CacheHeader);
    std::copy(std::begin(k.stamps), std::end(k.stamps), h.sources);
    h.arch = static_cast<uint32_t>(k.arch);
    h.kit_dir = add(k.kit_dir);
    h.symvers_path = add(k.symvers_path);
    h.config_path = add(k.config_path);
    h.release = add(k.release);
    h.vermagic = add(k.vermagic);

    std::vector<ExportRecord> exports;
    exports.reserve(k.exports.size());
    std::map<std::string_view, PoolString> namespaces;
    for (const ProfileSymbol& s : k.exports) {
        if (s.name.size() > UINT16_MAX || s.ns.size() > UINT8_MAX)
            throw std::runtime_error(k.symvers_path + ": a name is too long");
        ExportRecord r{};
        PoolString name = add(s.name);
        r.name = name.off;
        r.name_len = static_cast<uint16_t>(name.len);
        if (!s.ns.empty()) {
            auto [it, fresh] = namespaces.try_emplace(s.ns);
            if (fresh) it->second = add(s.ns);
            r.ns = it->second.off;
            r.ns_len = static_cast<uint8_t>(it->second.len);
        }
        r.crc = s.crc;
        r.flags = s.gpl_only ? export_gpl_only : 0;
        exports.push_back(r);
    }
    std::vector<ConfigRecord> config;
    config.reserve(k.config_lines.size());
    for (const auto& [key, value] : k.config_lines) {
        PoolString a = add(key), b = add(value);
        config.push_back(ConfigRecord{a.off, a.len, b.off, b.len});
    }
    if (pool.size() > UINT32_MAX) throw std::runtime_error("kit too large to compile");

    auto get = [&](std::string_view key) {
        auto it = std::lower_bound(k.config_lines.begin(), k.config_lines.end(), key,
                                   [](const auto& a, std::string_view b) { return a.first < b; });
        return it != k.config_lines.end() && it->first == key ? it->second : std::string_view();
    };
    h.modversions = get("CONFIG_MODVERSIONS") == "y";
    h.thumb2_kernel = get("CONFIG_THUMB2_KERNEL") == "y";
    h.hz = 250;
    if (std::string_view hz = get("CONFIG_HZ"); !hz.empty())
        h.hz = static_cast<uint32_t>(std::atoi(std::string(hz).c_str()));

    h.exports_off = sizeof(CacheHeader);
    h.n_exports = exports.size();
    h.config_off = h.exports_off + exports.size() * sizeof(ExportRecord);
    h.n_config = config.size();
    h.pool_off = h.config_off + config.size() * sizeof(ConfigRecord);
    h.pool_size = pool.size();
    h.file_size = h.pool_off + pool.size();

    std::string blob(h.file_size, '\0');
    std::memcpy(blob.data() + h.exports_off, exports.data(), exports.size() * sizeof(ExportRecord));
    std::memcpy(blob.data() + h.config_off, config.data(), config.size() * sizeof(ConfigRecord));
    std::memcpy(blob.data() + h.pool_off, pool.data(), pool.size());
    std::memcpy(blob.data(), &h, sizeof h);
    h.checksum = checksum(blob.data() + checksum_from, blob.size() - checksum_from);
    std::memcpy(blob.data(), &h, sizeof h);
    return blob;
}

// Checks a blob and points a profile at it; false when it is not a sound blob of this format.
// The records are checked against the pool so that a damaged file can never be read out of
// bounds.
bool view(const char* data, size_t size, KernelProfile& p, CacheHeader& h) {
    if (size < sizeof(CacheHeader)) return false;
    std::memcpy(&h, data, sizeof h);
    if (std::memcmp(h.magic, cache_magic, sizeof h.magic) != 0 || h.version != cache_version ||
        h.header_size != sizeof(CacheHeader) || h.file_size != size)
        return false;
    if (h.checksum != checksum(data + checksum_from, size - checksum_from)) return false;
    auto fits = [&](uint64_t off, uint64_t len, uint64_t limit) {
        return off <= limit && len <= limit - off;
    };
    if (h.exports_off % alignof(ExportRecord) || h.config_off % alignof(ConfigRecord) ||
        h.n_exports > size / sizeof(ExportRecord) || h.n_config > size / sizeof(ConfigRecord) ||
        !fits(h.exports_off, h.n_exports * sizeof(ExportRecord), size) ||
        !fits(h.config_off, h.n_config * sizeof(ConfigRecord), size) ||
        !fits(h.pool_off, h.pool_size, size) || h.arch > static_cast<uint32_t>(Arch::arm))
        return false;
    std::string_view pool(data + h.pool_off, h.pool_size);
    auto exports = reinterpret_cast<const ExportRecord*>(data + h.exports_off);
    auto config = reinterpret_cast<const ConfigRecord*>(data + h.config_off);
    for (size_t i = 0; i < h.n_exports; ++i)
        if (!fits(exports[i].name, exports[i].name_len, pool.size()) ||
            !fits(exports[i].ns, exports[i].ns_len, pool.size()))
            return false;
    for (size_t i = 0; i < h.n_config; ++i)
        if (!fits(config[i].key, config[i].key_len, pool.size()) ||
            !fits(config[i].value, config[i].value_len, pool.size()))
            return false;
    for (const PoolString* s :
         {&h.kit_dir, &h.symvers_path, &h.config_path, &h.release, &h.vermagic})
        if (!fits(s->off, s->len, pool.size())) return false;
    auto str = [&](const PoolString& s) { return std::string(pool.substr(s.off, s.len)); };
    p.generic = false;
    p.arch = static_cast<Arch>(h.arch);
    p.release = str(h.release);
    p.name = p.release;
    p.kernels = p.release;
    p.vermagic = str(h.vermagic);
    p.modversions = h.modversions;
    p.thumb2_kernel = h.thumb2_kernel;
    p.hz = static_cast<int>(h.hz);
    p.exports = ExportTable(pool, exports, h.n_exports);
    p.config = ConfigTable(pool, config, h.n_config);
    return true;
}

std::shared_ptr<KernelProfile> from_blob(std::shared_ptr<const std::string> blob) {
    auto p = std::make_shared<KernelProfile>();
    CacheHeader h;
    if (!view(blob->data(), blob->size(), *p, h))
        throw std::logic_error("kmodemu: a compiled profile does not read back");
    p->storage = std::move(blob);
    return p;
}

// A mapped cache file, if it is sound and current for the kit at `dir` (canonical `real`).
std::shared_ptr<KernelProfile> load_cache(const std::string& path, const std::string& dir,
                                          const std::string& real) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(CacheHeader)))
        map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return nullptr;
    size_t size = static_cast<size_t>(st.st_size);
    std::shared_ptr<const void> storage(
        map, [size](const void* m) { ::munmap(const_cast<void*>(m), size); });
    auto p = std::make_shared<KernelProfile>();
    CacheHeader h;
    const char* data = static_cast<const char*>(map);
    if (!view(data, size, *p, h)) return nullptr;
    auto str = [&](const PoolString& s) { return std::string(data + h.pool_off + s.off, s.len); };
    if (str(h.kit_dir) != real || !(h.sources[0] == stamp(dir + "/kit.env")) ||
        !(h.sources[1] == stamp(str(h.symvers_path))) ||
        !(h.sources[2] == stamp(str(h.config_path))))
        return nullptr;
    p->storage = std::move(storage);
    return p;
}

// Writes the blob to `path` atomically (a temporary file renamed over it); false on failure.
bool store_cache(const std::string& path, const std::string& blob) {
    std::string tmp = path + ".XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) return false;
    bool ok = ::fchmod(fd, 0644) == 0;
    for (size_t done = 0; ok && done < blob.size();) {
        ssize_t n = ::write(fd, blob.data() + done, blob.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<size_t>(n);
    }
    ok = ::close(fd) == 0 && ok;
    if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return true;
    ::unlink(tmp.c_str());
    return false;
}

// The cache of a read-only kit: $XDG_CACHE_HOME/kmodemu (or ~/.cache/kmodemu), named after the
// kit's canonical path. Empty when there is no such directory.
std::string user_cache_path(const std::string& real, bool create) {
    std::string base;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
        base = x;
    else if (const char* home = std::getenv("HOME"); home && *home == '/')
        base = std::string(home) + "/.cache";
    else
        return "";
    if (create) {
        ::mkdir(base.c_str(), 0755);
        ::mkdir((base + "/kmodemu").c_str(), 0755);
    }
    char name[40];
    std::snprintf(name, sizeof name, "/profile-%016llx.cache",
                  static_cast<unsigned long long>(checksum(real.data(), real.size())));
    return base + "/kmodemu" + name;
}

std::shared_ptr<const KernelProfile> make_default(const EmbeddedExports& e, Arch arch,
                                                  unsigned version) {
    auto p = std::make_shared<KernelProfile>();
    p->arch = arch;
    p->version = version;
    p->kernels = std::string("the default kernel (") + e.kernels + ")";
    p->exports = ExportTable(std::string_view(e.pool, e.pool_size), e.records, e.count);
    p->structs = KernelStructs::defaults(arch, version);
    return p;
}

}  // namespace

std::optional<ProfileSymbol> ExportTable::find(std::string_view name) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        std::string_view m = pool_.substr(records_[mid].name, records_[mid].name_len);
        int c = m.compare(name);
        if (c == 0) return (*this)[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return std::nullopt;
}

ProfileSymbol ExportTable::operator[](size_t i) const {
    const ExportRecord& r = records_[i];
    ProfileSymbol s;
    s.name = pool_.substr(r.name, r.name_len);
    s.crc = r.crc;
    s.gpl_only = r.flags & export_gpl_only;
    s.data = r.flags & export_data;
    if (r.ns_len) s.ns = pool_.substr(r.ns, r.ns_len);
    return s;
}

std::optional<std::string_view> ConfigTable::find(std::string_view key) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        std::string_view m = pool_.substr(records_[mid].key, records_[mid].key_len);
        int c = m.compare(key);
        if (c == 0) return pool_.substr(records_[mid].value, records_[mid].value_len);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return std::nullopt;
}

bool same_magic(const std::string& amagic, const std::string& bmagic, bool has_crcs) {
    if (has_crcs) {
        size_t a = amagic.find(' '), b = bmagic.find(' ');
        std::string as = a == std::string::npos ? "" : amagic.substr(a);
        std::string bs = b == std::string::npos ? "" : bmagic.substr(b);
        return as == bs;
    }
    return amagic == bmagic;
}

std::shared_ptr<const KernelProfile> KernelProfile::default_for(Arch arch, unsigned version) {
    static std::mutex lock;
    static std::map<std::pair<int, unsigned>, std::shared_ptr<const KernelProfile>> made;
    unsigned v = KernelStructs::default_version(arch, version);
    std::lock_guard<std::mutex> guard(lock);
    auto& p = made[{static_cast<int>(arch), v}];
    if (!p)
        p = make_default(arch == Arch::arm64 ? default_exports_arm64 : default_exports_arm, arch,
                         v);
    return p;
}

unsigned kernel_version(const KernelProfile* p) {
    unsigned major = 0, minor = 0;
    if (p && p->version) return p->version;
    if (!p || p->generic || std::sscanf(p->release.c_str(), "%u.%u", &major, &minor) != 2)
        return kernel_version_code(6, 1);
    return kernel_version_code(major, minor);
}

unsigned module_kernel_version(std::span<const uint8_t> module) {
    std::string_view bytes(reinterpret_cast<const char*>(module.data()), module.size());
    for (size_t at = bytes.find("vermagic="); at != std::string_view::npos;
         at = bytes.find("vermagic=", at + 1)) {
        if (at && bytes[at - 1] != '\0') continue;  // a .modinfo string begins after a NUL
        unsigned major = 0, minor = 0;
        std::string s(bytes.substr(at + 9, 16));
        if (std::sscanf(s.c_str(), "%u.%u", &major, &minor) == 2)
            return kernel_version_code(major, minor);
    }
    return 0;
}

std::string KernelProfile::cache_path(const std::string& dir) {
    return dir + "/kmodemu-profile.cache";
}

namespace {

// What a kit says beside the compiled profile (small files, read each time): KIT/layout.env of
// tools/kit-layout, the layout of the kernel's structures. A kit without one, or with one made by
// an older kit-layout, is refused: its kernel's layout is not the default kernel's.
std::shared_ptr<KernelProfile> with_kit_files(std::shared_ptr<KernelProfile> p,
                                              const std::string& dir) {
    p->kit_dir = dir;
    std::string path = dir + "/layout.env";
    const std::string remedy = "tools/kit-layout " + dir + " makes it";
    auto env = read_kit_env(path);
    if (!env) throw std::runtime_error(path + " is missing: " + remedy);
    try {
        p->structs = KernelStructs::from_env(*env, p->arch, path);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + ": " + remedy + " anew");
    }
    return p;
}

}  // namespace

std::shared_ptr<KernelProfile> KernelProfile::read_kit(const std::string& dir) {
    return with_kit_files(from_blob(std::make_shared<const std::string>(compile(parse_kit(dir)))),
                          dir);
}

std::shared_ptr<KernelProfile> KernelProfile::from_kit(const std::string& dir) {
    std::string real = real_dir(dir);
    std::string user = user_cache_path(real, false);
    if (auto p = load_cache(cache_path(dir), dir, real)) return with_kit_files(p, dir);
    if (!user.empty())
        if (auto p = load_cache(user, dir, real)) return with_kit_files(p, dir);
    // Missing, stale or damaged: compile the kit's files again and keep the result.
    auto blob = std::make_shared<const std::string>(compile(parse_kit(dir)));
    if (!store_cache(cache_path(dir), *blob)) {
        user = user_cache_path(real, true);
        if (!user.empty()) store_cache(user, *blob);
    }
    return with_kit_files(from_blob(std::move(blob)), dir);
}

}  // namespace kmodemu
