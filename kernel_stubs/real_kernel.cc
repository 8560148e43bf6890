#include "kernel_stubs/real_kernel.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <unordered_set>

#include "kernel_stubs/profile.h"

namespace kmodemu {

namespace {

uint16_t rd16(std::string_view s, size_t o) {
    uint16_t v;
    std::memcpy(&v, s.data() + o, 2);
    return v;
}
uint32_t rd32(std::string_view s, size_t o) {
    uint32_t v;
    std::memcpy(&v, s.data() + o, 4);
    return v;
}
uint64_t rd64(std::string_view s, size_t o) {
    uint64_t v;
    std::memcpy(&v, s.data() + o, 8);
    return v;
}
size_t align_up(size_t x, size_t a) {
    return (x + a - 1) & ~(a - 1);
}
int64_t sext(uint64_t v, unsigned bits) {
    uint64_t m = 1ull << (bits - 1);
    return static_cast<int64_t>((v ^ m) - m);
}

std::optional<std::string> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return std::nullopt;
    std::string text(static_cast<size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (!in) return std::nullopt;
    return text;
}

// A kernel image file as it is now: what is read from it is shared by every RealKernel of the
// process while the file stays the same (the same inode, size and modification time).
struct ImageKey {
    std::string path;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    int arch = 0;
    bool thumb2 = false;
    auto operator<=>(const ImageKey&) const = default;
};

std::optional<ImageKey> image_key(const std::string& path, Arch arch, bool thumb2) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return ImageKey{path,
                    uint64_t(st.st_dev),
                    uint64_t(st.st_ino),
                    uint64_t(st.st_size),
                    int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                    static_cast<int>(arch),
                    thumb2};
}

// KEY=value lines of kit.env (values may be double-quoted: scripts source the file too).
std::map<std::string, std::string> read_env(const std::string& path) {
    return read_kit_env(path).value_or(std::map<std::string, std::string>{});
}

// The string of `#define NAME "..."` in a generated header, if there.
std::optional<std::string> header_define(const std::string& path, const std::string& name) {
    auto text = slurp(path);
    if (!text) return std::nullopt;
    std::string key = "#define " + name + " \"";
    size_t at = text->find(key);
    if (at == std::string::npos) return std::nullopt;
    at += key.size();
    size_t end = text->find('"', at);
    if (end == std::string::npos) return std::nullopt;
    return text->substr(at, end - at);
}

// A BL's target, or nullopt for any other instruction (A64; A32 outside the unconditional space).
std::optional<uint64_t> bl_target(Arch arch, uint32_t w, uint64_t pc) {
    if (arch == Arch::arm64) {
        if ((w & 0xfc000000u) != 0x94000000u) return std::nullopt;
        return pc + static_cast<uint64_t>(sext(w & 0x3ffffffu, 26) * 4);
    }
    if ((w & 0x0f000000u) != 0x0b000000u || (w >> 28) == 0xf) return std::nullopt;
    return (pc + 8 + static_cast<uint64_t>(sext(w & 0xffffffu, 24) * 4)) & 0xffffffffu;
}

}  // namespace

Kallsyms::Kallsyms(std::string image, Arch arch, bool thumb2)
    : Kallsyms(std::make_shared<const std::string>(std::move(image)), {}, arch, thumb2) {}

std::unique_ptr<Kallsyms> Kallsyms::from_file(const std::string& path, Arch arch, bool thumb2) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    void* p = ::fstat(fd, &st) == 0 && st.st_size > 0
                  ? ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0)
                  : MAP_FAILED;
    ::close(fd);
    if (p == MAP_FAILED) return nullptr;
    size_t size = static_cast<size_t>(st.st_size);
    std::shared_ptr<const void> map(
        p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
    return std::unique_ptr<Kallsyms>(new Kallsyms(
        std::move(map), std::string_view(static_cast<const char*>(p), size), arch, thumb2));
}

Kallsyms::Kallsyms(std::shared_ptr<const void> storage, std::string_view image, Arch arch,
                   bool thumb2)
    : storage_(std::move(storage)), image_(image), arch_(arch), thumb2_(thumb2) {
    if (image_.empty() && storage_) image_ = *static_cast<const std::string*>(storage_.get());
    std::string_view d = image_;
    const size_t word = arch_info(arch).word_size;  // ALGN of scripts/kallsyms.c
    auto fail = [](const char* what) {
        throw std::runtime_error(std::string("kallsyms: ") + what);
    };

    // The token table: 256 NUL-terminated strings, one per byte value of the compressed names.
    // Characters that occur in symbol names stand for themselves (scripts/kallsyms.c,
    // insert_real_symbols_in_table()), so "0".."9" are tokens 0x30..0x39 in a row. The token
    // index (256 u16 offsets) follows, aligned.
    static constexpr char digits[] = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009";
    const std::string_view digit_run(digits, sizeof digits);
    size_t tokens_at = std::string_view::npos, index_at = 0;
    for (size_t p = d.find(digit_run); p != std::string_view::npos; p = d.find(digit_run, p + 1)) {
        size_t o = p;
        bool ok = true;
        for (int i = 0x30; i < 256 && ok; ++i) {
            size_t e = d.find('\0', o);
            ok = e != std::string_view::npos && e - o < 128;
            o = ok ? e + 1 : o;
        }
        size_t ti = align_up(o, word);
        if (!ok || ti + 512 > d.size() || rd16(d, ti) != 0 || rd16(d, ti + 0x60) > p) continue;
        size_t start = p - rd16(d, ti + 0x60), q = start;
        for (int i = 0; i < 256 && ok; ++i) {
            size_t e = d.find('\0', q);
            ok = rd16(d, ti + 2 * i) == q - start && e != std::string_view::npos;
            q = ok ? e + 1 : q;
        }
        if (ok && q <= ti) {
            tokens_at = start;
            index_at = ti;
            break;
        }
    }
    if (tokens_at == std::string_view::npos) fail("no token table");
    std::vector<std::string_view> tokens(256);
    for (int i = 0; i < 256; ++i) {
        size_t at = tokens_at + rd16(d, index_at + 2 * i);
        tokens[i] = d.substr(at, d.find('\0', at) - at);
    }

    // Before it: kallsyms_markers, the offset of every 256th name (u32, from 0, increasing), then
    // in 6.2 and 6.3 (and Debian's 6.1) kallsyms_seqs_of_names, 3 bytes per symbol. Each
    // candidate end of the markers is tried until the names before them decode to what the
    // markers say.
    auto name_end = [&](size_t pos) {
        if (pos >= d.size()) return d.size() + 1;
        size_t len = static_cast<uint8_t>(d[pos++]);
        if (len & 0x80) {  // a "big" symbol: the length is two ULEB128 bytes
            if (pos >= d.size()) return d.size() + 1;
            len = (len & 0x7f) | (size_t(static_cast<uint8_t>(d[pos++])) << 7);
        }
        return pos + len;
    };
    size_t names_at = 0, count = 0, num_at = 0;
    const size_t lowest = tokens_at > (size_t(3) << 22) ? tokens_at - (size_t(3) << 22) : 8;
    for (size_t e = tokens_at & ~size_t(3); e > lowest && !count; e -= 4) {
        std::vector<uint32_t> markers;
        size_t q = e;
        while (q >= 4 && markers.size() < 16384) {
            uint32_t v = rd32(d, q - 4);
            if (!markers.empty()) {
                uint32_t prev = markers.back();
                if (v >= prev || prev - v < 256 || prev - v > 256 * 1024) break;
            }
            markers.push_back(v);
            q -= 4;
            if (v == 0) break;
        }
        if (markers.size() < 2 || markers.back() != 0) continue;
        std::reverse(markers.begin(), markers.end());
        const size_t m = markers.size(), last = markers.back();
        if (q < last + 8) continue;
        // kallsyms_num_syms (.long) just before the names, which start aligned.
        for (size_t x = ((q - last) & ~size_t(3)) - 4; x + 256 * 1024 > q - last && x >= 8;
             x -= 4) {
            size_t n = rd32(d, x);
            if (n <= 256 * (m - 1) || n > 256 * m) continue;
            size_t ns = align_up(x + 4, word), pos = ns;
            for (size_t i = 0; i < 256 && pos <= q; ++i)
                pos = name_end(pos);
            if (pos - ns != markers[1]) continue;
            pos = ns;
            for (size_t i = 0; i < n && pos <= q; ++i)
                pos = name_end(pos);
            if (pos > q || q - pos >= word) continue;
            names_at = ns;
            count = n;
            num_at = x;
            break;
        }
    }
    if (!count) fail("no names");

    // kallsyms_offsets (u32 each, from kallsyms_relative_base, the lowest address, so the first
    // is 0 and they never decrease), then the base. Up to 6.3 they come first, before the count;
    // since 6.4 they follow the token index (then kallsyms_seqs_of_names, 3 bytes a symbol).
    const size_t offsets_size = align_up(4 * count, word);
    auto offsets_fit = [&](size_t at) {
        if (at + offsets_size + word > d.size() || rd32(d, at) != 0) return false;
        for (size_t i = 1; i < count; ++i)
            if (rd32(d, at + 4 * i) < rd32(d, at + 4 * (i - 1))) return false;
        return rd32(d, at + 4 * (count - 1)) != 0;
    };
    size_t offsets_at = 0;
    if (num_at >= word + offsets_size && offsets_fit(num_at - word - offsets_size)) {
        offsets_at = num_at - word - offsets_size;
    } else {
        offsets_at = align_up(index_at + 512, word);
        if (!offsets_fit(offsets_at) || offsets_at + offsets_size + word + 3 * count > d.size())
            fail("no offsets");
    }
    const size_t base_at = offsets_at + offsets_size;
    uint64_t base = word == 8 ? rd64(d, base_at) : rd32(d, base_at);
    addrs_.resize(count);
    names_.resize(count);
    types_.resize(count);
    size_t pos = names_at;
    for (size_t i = 0; i < count; ++i) {
        addrs_[i] = base + rd32(d, offsets_at + 4 * i);
        size_t end = name_end(pos);
        std::string name;
        for (size_t b = pos + (static_cast<uint8_t>(d[pos]) & 0x80 ? 2 : 1); b < end; ++b)
            name += tokens[static_cast<uint8_t>(d[b])];
        if (name.empty()) fail("empty name");
        types_[i] = name[0];
        names_[i] = name.substr(1);
        pos = end;
    }
}

// The image offset of the text. Images are loaded whole at their link address (arm64 relocates
// the whole of it), so one delta maps addresses to offsets; the delta where the BL instructions
// of sampled functions call the starts of functions is the one.
void Kallsyms::find_text() const {
    text_searched_ = true;
    if (thumb2_ || addrs_.empty()) return;
    std::unordered_set<uint64_t> starts;
    std::vector<size_t> fns;
    for (size_t i = 0; i < addrs_.size(); ++i) {
        char t = types_[i];
        if (t != 't' && t != 'T') continue;
        starts.insert(addrs_[i]);
        if (i + 1 < addrs_.size() && addrs_[i + 1] - addrs_[i] >= 32 &&
            addrs_[i + 1] - addrs_[i] < 8192)
            fns.push_back(i);
    }
    if (fns.size() < 64) return;
    auto sample = [&](size_t n) {
        std::vector<size_t> out;
        for (size_t k = 0; k < n; ++k)
            out.push_back(fns[k * fns.size() / n]);
        return out;
    };
    const uint64_t low = addrs_.front();
    auto score = [&](const std::vector<size_t>& picks, size_t words, uint64_t first_offset) {
        size_t hits = 0;
        for (size_t i : picks) {
            uint64_t a = addrs_[i], n = std::min<uint64_t>((addrs_[i + 1] - a) / 4, words);
            uint64_t off = a - low + first_offset;
            if (off + n * 4 > image_.size()) continue;
            for (uint64_t w = 0; w < n; ++w)
                if (auto t = bl_target(arch_, rd32(image_, off + w * 4), a + w * 4))
                    hits += starts.count(*t);
        }
        return hits;
    };
    // The lowest symbol lies within the first 16 MiB of the image, page aligned.
    std::vector<std::pair<size_t, uint64_t>> ranked;
    auto quick = sample(24);
    for (uint64_t off = 0; off < std::min<uint64_t>(image_.size(), 16u << 20); off += 0x1000)
        ranked.push_back({score(quick, 12, off), off});
    std::sort(ranked.rbegin(), ranked.rend());
    auto full = sample(std::min<size_t>(fns.size(), 512));
    size_t best = 0, second = 0;
    uint64_t at = 0;
    for (size_t k = 0; k < std::min<size_t>(ranked.size(), 4); ++k) {
        size_t s = score(full, 64, ranked[k].second);
        if (s > best) {
            second = best;
            best = s;
            at = ranked[k].second;
        } else {
            second = std::max(second, s);
        }
    }
    if (best >= 32 && best >= 4 * second)
        text_delta_ = static_cast<int64_t>(at) - static_cast<int64_t>(low);
}

std::optional<uint64_t> Kallsyms::image_offset(uint64_t addr) const {
    if (!text_searched_) find_text();
    if (!text_delta_) return std::nullopt;
    int64_t off = static_cast<int64_t>(addr) + *text_delta_;
    if (off < 0 || static_cast<uint64_t>(off) >= image_.size()) return std::nullopt;
    return static_cast<uint64_t>(off);
}

std::optional<KernelSymbol> Kallsyms::find(std::string_view name) const {
    // The first symbol of each name, indexed on first use (a linear search of ~100,000 names
    // cost a module binding a few data exports more than its whole load).
    if (!by_name_) {
        by_name_.emplace();
        by_name_->reserve(names_.size());
        for (size_t k = 0; k < names_.size(); ++k)
            by_name_->try_emplace(names_[k], k);
    }
    auto it = by_name_->find(name);
    if (it == by_name_->end()) return std::nullopt;
    size_t i = it->second, first = i, next = i;
    // get_symbol_pos(): the first of the aliases at the address, and the next higher address
    // (or the end of the text for the last symbol).
    while (first && addrs_[first - 1] == addrs_[i])
        --first;
    while (next < addrs_.size() && addrs_[next] == addrs_[i])
        ++next;
    if (next == addrs_.size()) return std::nullopt;
    return KernelSymbol{names_[first], addrs_[i], addrs_[next] - addrs_[i], types_[i]};
}

std::optional<std::pair<uint64_t, std::string_view>> Kallsyms::image() const {
    if (!text_searched_) find_text();
    if (!text_delta_) return std::nullopt;
    return std::make_pair(static_cast<uint64_t>(-*text_delta_), image_);
}

std::optional<std::string_view> Kallsyms::code(uint64_t addr, uint64_t n) const {
    auto off = image_offset(addr);
    if (!off || *off + n > image_.size()) return std::nullopt;
    return image_.substr(*off, n);
}

std::optional<uint64_t> Kallsyms::return_address(std::string_view caller,
                                                 std::string_view callee) const {
    std::optional<KernelSymbol> fn = find(caller), to;
    if (!callee.empty() && !(to = find(callee))) return std::nullopt;
    std::optional<std::string_view> text = fn ? code(fn->addr, fn->size) : std::nullopt;
    for (size_t o = 0; text && o + 4 <= text->size(); o += 4) {
        uint32_t w = rd32(*text, o);
        uint64_t pc = fn->addr + o;
        bool hit = to                     ? bl_target(arch_, w, pc) == to->addr
                   : arch_ == Arch::arm64 ? (w & 0xfffffc1fu) == 0xd63f0000u
                                          : (w & 0x0ffffff0u) == 0x012fff30u;
        if (hit) return pc + 4;
    }
    return std::nullopt;
}

// find_bug() (lib/bug.c) the other way round: the __bug_table entry (struct bug_entry, laid out
// as `l`) whose trap is in fn. arm64 keeps relative pointers
// (CONFIG_GENERIC_BUG_RELATIVE_POINTERS), ARM absolute ones.
std::vector<KernelBug> Kallsyms::bugs_in(const KernelSymbol& fn,
                                         const KernelStructs::BugEntry& l) const {
    std::vector<KernelBug> out;
    auto text = code(fn.addr, fn.size);
    if (!text) return out;
    const uint32_t trap = arch_info(arch_).bug_insn;  // brk #0x800; BUG_INSTR
    std::vector<uint64_t> traps;                      // image offsets
    for (size_t o = 0; o + 4 <= text->size(); o += 4)
        if (rd32(*text, o) == trap) traps.push_back(*image_offset(fn.addr + o));
    if (traps.empty()) return out;
    const uint64_t base = *image_offset(fn.addr) - fn.addr;  // image offset of address 0
    std::string_view d = image_;
    auto word = [&](size_t o) { return arch_info(arch_).word_size == 8 ? rd64(d, o) : rd32(d, o); };
    for (size_t o = 0; o + l.size <= d.size(); o += 4) {
        uint64_t at_off, file_off;
        if (l.relative) {
            at_off = o + l.addr + static_cast<int64_t>(static_cast<int32_t>(rd32(d, o + l.addr)));
            if (std::find(traps.begin(), traps.end(), at_off) == traps.end()) continue;
            file_off = o + l.file + static_cast<int64_t>(static_cast<int32_t>(rd32(d, o + l.file)));
        } else {
            auto a = image_offset(word(o + l.addr)), f = image_offset(word(o + l.file));
            if (!a || !f || std::find(traps.begin(), traps.end(), *a) == traps.end()) continue;
            at_off = *a;
            file_off = *f;
        }
        if (file_off >= d.size()) continue;
        size_t end = d.find('\0', file_off);
        if (end == std::string_view::npos || end - file_off < 3 || end - file_off > 256) continue;
        std::string file(d.substr(file_off, end - file_off));
        if (!std::all_of(file.begin(), file.end(), [](char c) { return c > ' ' && c < 127; }))
            continue;
        out.push_back({at_off - base, file, rd16(d, o + l.line), rd16(d, o + l.flags)});
    }
    std::sort(out.begin(), out.end(),
              [](const KernelBug& a, const KernelBug& b) { return a.addr < b.addr; });
    return out;
}

std::optional<KernelBug> Kallsyms::bug_in(const KernelSymbol& fn, const KernelStructs::BugEntry& l,
                                          unsigned line) const {
    std::vector<KernelBug> bugs = bugs_in(fn, l);
    for (const KernelBug& b : bugs)
        if (line && b.line == line) return b;
    if (bugs.empty()) return std::nullopt;
    return bugs.front();
}

RealKernel::RealKernel(std::shared_ptr<const KernelProfile> profile, Arch arch)
    : profile_(std::move(profile)), arch_(arch) {}

RealKernel::~RealKernel() = default;

void RealKernel::read_identity() {
    if (identity_read_) return;
    identity_read_ = true;
    if (!profile_ || profile_->kit_dir.empty()) return;
    auto env = read_env(profile_->kit_dir + "/kit.env");
    std::string gen = env["KIT_HEADERS"] + "/include/generated/";
    // init/version.c: UTS_VERSION from utsversion.h (compile.h before 6.1); dump_stack_print_info()
    // prints its first word. Debian's package.h: LINUX_PACKAGE_ID, which Debian's kernels print
    // after it.
    auto uts = header_define(gen + "utsversion.h", "UTS_VERSION");
    if (!uts) uts = header_define(gen + "compile.h", "UTS_VERSION");
    if (uts && !uts->empty()) uts_build_ = uts->substr(0, uts->find(' '));
    package_id_ = header_define(gen + "package.h", "LINUX_PACKAGE_ID").value_or("");
}

std::vector<std::string> parse_fortify_funcs(std::string_view h) {
    std::vector<std::string> out;
    size_t at = h.find("#define EACH_FORTIFY_FUNC(macro)");
    if (at == std::string_view::npos) return out;
    // The macro's body: its lines up to the first that does not end in a backslash.
    size_t end = at;
    for (;;) {
        size_t nl = h.find('\n', end);
        if (nl == std::string_view::npos) {
            end = h.size();
            break;
        }
        size_t last = h.find_last_not_of(" \t\r", nl - 1);
        end = nl + 1;
        if (last == std::string_view::npos || last < at || h[last] != '\\') break;
    }
    std::string_view body = h.substr(at, end - at);
    constexpr std::string_view call = "macro(";
    for (size_t p = body.find(call); p != std::string_view::npos; p = body.find(call, p)) {
        p += call.size();
        size_t close = body.find(')', p);
        if (close == std::string_view::npos) break;
        out.emplace_back(body.substr(p, close - p));
    }
    return out;
}

const std::vector<std::string>& RealKernel::fortify_funcs() {
    if (fortify_read_) return fortify_funcs_;
    fortify_read_ = true;
    if (!profile_ || profile_->kit_dir.empty()) return fortify_funcs_;
    // Debian's headers: the flavour's (KIT_HEADERS) and, beside them, the common ones of the
    // same version ("linux-headers-6.12.95+deb12-common" for release "6.12.95+deb12-arm64").
    std::string headers = read_env(profile_->kit_dir + "/kit.env")["KIT_HEADERS"];
    std::string release = profile_->release;
    std::vector<std::string> dirs = {headers};
    if (size_t slash = headers.rfind('/'); slash != std::string::npos) {
        std::string parent = headers.substr(0, slash + 1);
        for (size_t dash = release.rfind('-'); dash != std::string::npos && dash > 0;
             dash = release.rfind('-', dash - 1))
            dirs.push_back(parent + "linux-headers-" + release.substr(0, dash) + "-common");
    }
    for (const std::string& d : dirs) {
        if (auto text = slurp(d + "/include/linux/fortify-string.h")) {
            fortify_funcs_ = parse_fortify_funcs(*text);
            if (!fortify_funcs_.empty()) break;
        }
    }
    return fortify_funcs_;
}

const std::string& RealKernel::uts_build() {
    read_identity();
    return uts_build_;
}

const std::string& RealKernel::package_id() {
    read_identity();
    return package_id_;
}

std::optional<std::string> RealKernel::image_path() const {
    if (!profile_ || profile_->kit_dir.empty()) return std::nullopt;
    // KIT/Image, or an uncompressed vmlinuz (arm64's Image: "ARM\x64" at 0x38) as it is.
    std::string path = profile_->kit_dir + "/Image";
    if (::access(path.c_str(), R_OK) != 0) {
        path =
            read_env(profile_->kit_dir + "/kit.env")["KIT_BOOT"] + "/vmlinuz-" + profile_->release;
        char magic[4] = {};
        std::ifstream in(path, std::ios::binary);
        if (!in.seekg(0x38) || !in.read(magic, 4) || std::string_view(magic, 4) != "ARM\x64")
            return std::nullopt;
    }
    return path;
}

const KernelBtf* RealKernel::btf() {
    if (btf_tried_) return btf_.get();
    btf_tried_ = true;
    std::optional<std::string> path = image_path();
    if (!path) return nullptr;
    static std::map<ImageKey, std::shared_ptr<const KernelBtf>> shared;
    std::optional<ImageKey> key = image_key(*path, Arch::arm64, false);
    if (key)
        if (auto it = shared.find(*key); it != shared.end()) return (btf_ = it->second).get();
    btf_ = KernelBtf::from_file(*path);
    if (key) shared[*key] = btf_;
    return btf_.get();
}

const TrustedKeys* RealKernel::trusted_keys() {
    if (keys_tried_) return keys_.get();
    keys_tried_ = true;
    std::optional<std::string> path = image_path();
    // Shared by the kernels of the process while the image and the keys' cache stay the same.
    static std::map<std::pair<ImageKey, ImageKey>, std::shared_ptr<const TrustedKeys>> shared;
    std::optional<std::pair<ImageKey, ImageKey>> key;
    if (path) {
        auto image = image_key(*path, arch_, false);
        auto der = image_key(profile_->kit_dir + "/kmodemu-trusted-keys.der", arch_, false);
        if (image) key.emplace(*image, der.value_or(ImageKey{}));
    }
    if (key)
        if (auto it = shared.find(*key); it != shared.end()) return (keys_ = it->second).get();
    const TrustedKeys* keys = read_trusted_keys(path);
    if (key) shared[*key] = keys_;
    return keys;
}

const TrustedKeys* RealKernel::read_trusted_keys(const std::optional<std::string>& path) {
    int fd = path ? ::open(path->c_str(), O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) return nullptr;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
        ::close(fd);
        return nullptr;
    }
    // KIT/kmodemu-trusted-keys.der: what a scan of the image found, kept beside the profile's
    // cache while newer than the image (the scan reads the whole image).
    const std::string cache = profile_->kit_dir + "/kmodemu-trusted-keys.der";
    struct stat cs {};
    if (::stat(cache.c_str(), &cs) == 0 && cs.st_mtime >= st.st_mtime)
        if (std::optional<std::string> der = slurp(cache)) {
            keys_ = TrustedKeys::from_der(std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(der->data()), der->size()));
            if (keys_) {
                ::close(fd);
                return keys_.get();
            }
        }
    void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return nullptr;
    keys_ = TrustedKeys::from_image(
        std::span<const uint8_t>(static_cast<const uint8_t*>(p), size_t(st.st_size)));
    ::munmap(p, size_t(st.st_size));
    std::vector<uint8_t> der = keys_->der();
    std::string tmp = cache + ".tmp." + std::to_string(::getpid());
    if (std::ofstream out{tmp, std::ios::binary}) {
        out.write(reinterpret_cast<const char*>(der.data()), std::streamsize(der.size()));
        out.close();
        if (!out || std::rename(tmp.c_str(), cache.c_str()) != 0) std::remove(tmp.c_str());
    }
    return keys_.get();
}

const Kallsyms* RealKernel::kallsyms() {
    if (kallsyms_tried_) return kallsyms_.get();
    kallsyms_tried_ = true;
    std::optional<std::string> image = image_path();
    if (!image) return nullptr;
    const std::string& path = *image;
    static std::map<ImageKey, std::shared_ptr<const Kallsyms>> shared;
    std::optional<ImageKey> key = image_key(path, arch_, profile_->thumb2_kernel);
    if (key)
        if (auto it = shared.find(*key); it != shared.end()) return (kallsyms_ = it->second).get();
    try {
        kallsyms_ = Kallsyms::from_file(path, arch_, profile_->thumb2_kernel);
    } catch (const std::runtime_error&) {
        kallsyms_.reset();
    }
    if (key) shared[*key] = kallsyms_;
    return kallsyms_.get();
}

const std::vector<std::pair<uint64_t, uint64_t>>& RealKernel::user_mappings(uint64_t task_size) {
    if (!user_.empty()) return user_;
    constexpr uint64_t page = 0x1000;
    std::optional<std::string> elf;
    if (profile_ && !profile_->kit_dir.empty())
        elf = slurp(read_env(profile_->kit_dir + "/kit.env")["KIT_BUSYBOX"]);
    // The program headers (ELF64 or ELF32, little-endian).
    if (elf && elf->size() > 0x40 &&
        elf->compare(0, 4,
                     "\x7f"
                     "ELF") == 0) {
        bool is64 = (*elf)[4] == 2;
        uint64_t phoff = is64 ? rd64(*elf, 0x20) : rd32(*elf, 0x1c);
        unsigned entsize = rd16(*elf, is64 ? 0x36 : 0x2a), count = rd16(*elf, is64 ? 0x38 : 0x2c);
        for (unsigned i = 0; i < count; ++i) {
            uint64_t ph = phoff + uint64_t(i) * entsize;
            if (ph + (is64 ? 56 : 32) > elf->size() || rd32(*elf, ph) != 1) continue;  // PT_LOAD
            uint64_t vaddr = is64 ? rd64(*elf, ph + 0x10) : rd32(*elf, ph + 8);
            uint64_t memsz = is64 ? rd64(*elf, ph + 0x28) : rd32(*elf, ph + 0x14);
            user_.push_back({vaddr & ~(page - 1), align_up(vaddr + memsz, page)});
        }
    }
    if (user_.empty()) user_.push_back({0x400000, 0x600000});
    user_.push_back({task_size - 0x21000, task_size});  // the stack: 132 KiB at the top
    return user_;
}

bool RealKernel::self_contained(const KernelSymbol& fn) {
    const Kallsyms* ks = kallsyms();
    if (!ks || profile_->thumb2_kernel) return false;
    auto text = ks->code(fn.addr, fn.size);
    if (!text) return false;
    auto inside = [&](uint64_t target) { return target >= fn.addr && target < fn.addr + fn.size; };
    for (size_t o = 0; o + 4 <= text->size(); o += 4) {
        uint32_t w = rd32(*text, o);
        uint64_t pc = fn.addr + o;
        if (arch_ == Arch::arm64) {
            if ((w & 0xfc000000u) == 0x94000000u) return false;  // bl
            if ((w & 0xfe000000u) == 0xd6000000u) {              // branch to register
                if ((w & 0xfffffc1fu) != 0xd65f0000u && w != 0xd65f0bffu && w != 0xd65f0fffu)
                    return false;  // only ret / retaa / retab
                continue;
            }
            std::optional<int64_t> rel;
            if ((w & 0xfc000000u) == 0x14000000u) rel = sext(w & 0x3ffffffu, 26) * 4;  // b
            if ((w & 0xff000010u) == 0x54000000u || (w & 0x7e000000u) == 0x34000000u ||
                (w & 0x3b000000u) == 0x18000000u)  // b.cond, cbz/cbnz, ldr (literal)
                rel = sext((w >> 5) & 0x7ffffu, 19) * 4;
            if ((w & 0x7e000000u) == 0x36000000u) rel = sext((w >> 5) & 0x3fffu, 14) * 4;  // tbz
            if ((w & 0x9f000000u) == 0x10000000u)                                          // adr
                rel = sext(((w >> 5) & 0x7ffffu) << 2 | ((w >> 29) & 3), 21);
            if ((w & 0x9f000000u) == 0x90000000u) return false;  // adrp
            if (rel && !inside(pc + static_cast<uint64_t>(*rel))) return false;
            if ((w & 0xff000000u) == 0xd4000000u) return false;  // svc, hvc, smc, brk, hlt
            if ((w & 0xffc00000u) == 0xd5000000u) {              // system instructions
                bool hint = (w & 0xfffff01fu) == 0xd503201fu;
                bool barrier = (w & 0xfffff01fu) == 0xd503301fu;
                bool dc_zva = (w & 0xffffffe0u) == 0xd50b7420u;
                bool mrs_id = (w & 0xffffffe0u) == 0xd53b00e0u ||  // mrs xN, dczid_el0
                              (w & 0xffffffe0u) == 0xd53b0020u;    // mrs xN, ctr_el0
                if (!hint && !barrier && !dc_zva && !mrs_id) return false;
            }
        } else {
            uint32_t cond = w >> 28;
            if (cond == 0xf) {
                bool pld = (w & 0xfd70f000u) == 0xf550f000u;
                bool barrier = (w & 0xffffff00u) == 0xf57ff000u;
                if (!pld && !barrier) return false;  // blx (immediate) and the rest
                continue;
            }
            if ((w & 0x0e000000u) == 0x0a000000u) {  // b / bl
                if (w & (1u << 24)) return false;
                if (!inside((pc + 8 + static_cast<uint64_t>(sext(w & 0xffffffu, 24) * 4)) &
                            0xffffffffu))
                    return false;
                continue;
            }
            if ((w & 0x0ffffff0u) == 0x012fff10u) {  // bx
                if ((w & 0xf) != 14) return false;
                continue;
            }
            if ((w & 0x0ffffff0u) == 0x012fff30u) return false;  // blx (register)
            if ((w & 0x0f000000u) == 0x0f000000u) return false;  // svc
            if ((w & 0x0c000000u) == 0x0c000000u) return false;  // coprocessor
            if ((w & 0x0ff000f0u) == 0x07f000f0u) return false;  // udf (BUG)
            if ((w & 0x0e5f0000u) == 0x041f0000u) {              // ldr (literal)
                int64_t imm = w & 0xfff;
                uint64_t t = pc + 8 + static_cast<uint64_t>((w & (1u << 23)) ? imm : -imm);
                if (!inside(t & 0xffffffffu)) return false;
                continue;
            }
            // Data processing or a load that writes the pc, other than `mov pc, lr` and the
            // function's own jump tables (`add pc, pc, rN`, as copy_template.S has them).
            bool to_pc = ((w >> 12) & 0xf) == 15;
            bool table = (w & 0x0ffff010u) == 0x008ff000u;
            bool hint = (w & 0x0fffff00u) == 0x0320f000u;  // nop, yield, wfe, ...
            if ((w & 0x0c000000u) == 0 && to_pc && (w & 0x0fffffffu) != 0x01a0f00eu && !table &&
                !hint)
                return false;
            if ((w & 0x0c100000u) == 0x04100000u && to_pc) return false;
        }
    }
    return true;
}

}  // namespace kmodemu
