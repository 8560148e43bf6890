// `kmodemu corpus`: the jobs, one job's run and verdict, the relocation cross-check, and the
// pool of forked workers. The reports (JSON, merge, JUnit, summary, the real kernel's verdicts)
// are in corpus_report.cc, the command line in corpus_cli.cc.
#include "tools/corpus.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <set>
#include <unordered_map>

#include "loader/decompress.h"

namespace kmodemu::corpus {

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

namespace {

double ms_since(clk::time_point t0) {
    return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

bool is_module_file(const std::string& name) {
    for (const char* suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
        if (name.ends_with(suffix)) return true;
    return false;
}

std::optional<std::vector<uint8_t>> read_file(const std::string& path, int& err) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        return std::nullopt;
    }
    struct stat st {};
    std::vector<uint8_t> bytes;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(size_t(st.st_size));
    uint8_t buf[1 << 16];
    for (;;) {
        size_t have = bytes.size();
        // Straight into the vector while it has room (the file's size), else through buf.
        size_t room = bytes.capacity() - have;
        if (room) {
            bytes.resize(have + room);
            ssize_t n = ::read(fd, bytes.data() + have, room);
            bytes.resize(have + size_t(std::max<ssize_t>(n, 0)));
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) break;
        } else {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n > 0) {
                bytes.insert(bytes.end(), buf, buf + n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) break;
        }
        err = errno == EISDIR ? EISDIR : EIO;
        ::close(fd);
        return std::nullopt;
    }
    ::close(fd);
    return bytes;
}

// The module files a worker has read, decompressed (kmod decompresses .ko.xz, .ko.zst and
// .ko.gz before init_module(2)): a dependency shared by many modules (soundcore, snd-pcm,
// videodev, ...) is read and decompressed once per worker, not once per module that needs it.
// Least recently used first out, within a budget of bytes; a file that changed is read again.
class ModuleFiles {
  public:
    struct File {
        std::vector<uint8_t> bytes;  // the ELF image; the file as it is when it does not
                                     // decompress (run_modules then reports why)
        Compression format = Compression::none;
    };
    std::shared_ptr<const File> get(const std::string& path, int& err) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            err = errno;
            return nullptr;
        }
        Key key{path, uint64_t(st.st_ino), uint64_t(st.st_size),
                int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
        if (auto it = map_.find(path); it != map_.end()) {
            if (it->second.key == key) {
                lru_.splice(lru_.begin(), lru_, it->second.pos);
                return it->second.file;
            }
            drop(it);
        }
        auto raw = read_file(path, err);
        if (!raw) return nullptr;
        auto f = std::make_shared<File>();
        f->format = sniff_compression(*raw);
        if (f->format == Compression::none) {
            f->bytes = std::move(*raw);
        } else {
            Decompressed d = decompress_module(*raw);
            f->bytes = d.err ? std::move(*raw) : std::move(d.bytes);
        }
        bytes_ += f->bytes.size();
        lru_.push_front(path);
        map_[path] = Entry{key, f, lru_.begin()};
        while (bytes_ > limit_ && lru_.size() > 1)
            drop(map_.find(lru_.back()));
        return f;
    }

  private:
    struct Key {
        std::string path;
        uint64_t ino = 0, size = 0;
        int64_t mtime_ns = 0;
        bool operator==(const Key&) const = default;
    };
    struct Entry {
        Key key;
        std::shared_ptr<const File> file;
        std::list<std::string>::iterator pos;
    };
    void drop(std::unordered_map<std::string, Entry>::iterator it) {
        bytes_ -= it->second.file->bytes.size();
        lru_.erase(it->second.pos);
        map_.erase(it);
    }
    std::unordered_map<std::string, Entry> map_;
    std::list<std::string> lru_;
    size_t bytes_ = 0;
    size_t limit_ = size_t(256) << 20;
};

ModuleFiles& module_files() {
    static ModuleFiles files;
    return files;
}

const std::string* first_containing(const std::vector<std::string>& lines,
                                    std::string_view needle) {
    for (const std::string& l : lines)
        if (l.find(needle) != std::string::npos) return &l;
    return nullptr;
}

// The target module's insmod lines of an outcome: its step's in a run of several, else the
// insmod's.
std::vector<std::string> target_load_lines(const RunOutcome& out) {
    size_t begin = 0, end = std::min(out.load_log_lines, out.log.size());
    if (!out.steps.empty() && out.failed_dependency.empty()) {
        begin = std::min(out.steps.back().log_begin, out.log.size());
        end = std::min(out.steps.back().log_end, out.log.size());
    }
    std::vector<std::string> v;
    for (size_t i = begin; i < end; ++i)
        v.push_back(out.log[i].text);
    return v;
}

std::vector<std::string> all_lines(const RunOutcome& out) {
    std::vector<std::string> v;
    for (const LogLine& l : out.log)
        v.push_back(l.text);
    return v;
}

// KASAN's and lockdep's report headings (lib/report.c, kernel/locking/lockdep.c).
bool kasan_line(const std::string& l) {
    return l.starts_with("BUG: KASAN: ") || l.starts_with("BUG: KFENCE: ");
}
bool lockdep_line(const std::string& l) {
    static const char* const heads[] = {
        "WARNING: possible circular locking dependency detected",
        "WARNING: possible recursive locking detected",
        "WARNING: inconsistent lock state",
        "WARNING: suspicious RCU usage",
        "WARNING: bad unlock balance detected!",
        "WARNING: held lock freed!",
        "WARNING: lock held when returning to user space!",
        "INFO: trying to register non-static key.",
        "BUG: sleeping function called from invalid context",
        "BUG: scheduling while atomic",
        "DEBUG_LOCKS_WARN_ON(",
    };
    for (const char* h : heads)
        if (l.find(h) != std::string::npos) return true;
    return false;
}

// A WARN()'s report: `WARNING: CPU: 0 PID: 1234 at file:line func+off/size`.
size_t count_warnings(const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(),
                         [](const std::string& l) { return l.starts_with("WARNING: CPU: "); });
}

// The refusal of a load, from the phase it stopped in and the kernel's lines.
void classify_refusal(const RunOutcome& out, const std::vector<std::string>& lines, Verdict& v) {
    int err = out.exit_status;
    using P = LoadResult::Phase;
    P phase = out.load.phase;
    auto line_with = [&](std::string_view needle) { return first_containing(lines, needle); };
    auto set = [&](const char* reason, const std::string* line) {
        v.reason = reason;
        if (line) v.detail = *line;
    };
    v.detail = std::string("load failed in ") + phase_name(phase) + " with " + errno_string(err);
    if (phase == P::elf && !out.diagnostics.empty()) {
        // kmod's message about the file's compression is the module's last diagnostic.
        const std::string& d = out.diagnostics.back();
        for (const char* c : {"xz:", "zstd:", "gzip:"})
            if (d.starts_with(c)) {
                v.reason = "decompress";
                v.detail = d;
                return;
            }
    }
    switch (phase) {
        case P::elf:
            if (err == EKEYREJECTED || err == EBADMSG || err == ENOKEY || err == ENOPKG ||
                err == ENODATA || err == EKEYEXPIRED || err == EKEYREVOKED) {
                set("signature", nullptr);
                v.detail = "module_sig_check() failed with " + errno_string(err);
            } else {
                set("elf", lines.empty() ? nullptr : &lines.back());
            }
            return;
        case P::modinfo:
            if (auto* l = line_with("version magic"))
                set("version_magic", l);
            else if (auto* l2 = line_with("disagrees about version of symbol"))
                set("symbol_version", l2);
            else if (auto* l3 = line_with("No module found in object"))
                set("elf", l3);
            else if (auto* l4 = line_with("module has no symbols"))
                set("elf", l4);
            else
                set("modinfo", lines.empty() ? nullptr : &lines.back());
            return;
        case P::layout:
            if (err == ENOMEM)
                set("memory", line_with("allocate"));
            else
                set("layout", lines.empty() ? nullptr : &lines.back());
            return;
        case P::symbols: {
            if (auto* l = line_with("but does not import it")) {
                set("namespace", l);
                return;
            }
            if (auto* l = line_with("disagrees about version of symbol")) {
                set("symbol_version", l);
                return;
            }
            if (auto* l = line_with("please compile with -fno-common")) {
                set("symbols", l);
                return;
            }
            std::vector<std::string> unknown;
            for (const std::string& l : lines) {
                size_t p = l.find(": Unknown symbol ");
                if (p == std::string::npos) continue;
                std::string s = l.substr(p + 17);
                unknown.push_back(s.substr(0, s.find(' ')));
            }
            if (!unknown.empty()) {
                v.reason = "unknown_symbol";
                v.detail = "Unknown symbol";
                for (size_t i = 0; i < unknown.size() && i < 5; ++i)
                    v.detail += (i ? ", " : " ") + unknown[i];
                if (unknown.size() > 5)
                    v.detail += " (and " + std::to_string(unknown.size() - 5) + " more)";
                return;
            }
            set("symbols", lines.empty() ? nullptr : &lines.back());
            return;
        }
        case P::relocation:
            set("relocation", lines.empty() ? nullptr : &lines.back());
            return;
        case P::finalize:
            set("finalize", lines.empty() ? nullptr : &lines.back());
            return;
        case P::coming:
            set("coming", lines.empty() ? nullptr : &lines.back());
            return;
        case P::params:
            set("params", lines.empty() ? nullptr : &lines.back());
            return;
        case P::init:
        case P::live:
            set("init", lines.empty() ? nullptr : &lines.back());
            return;
    }
}

}  // namespace

const std::vector<std::string>& verdict_names() {
    static const std::vector<std::string> v = {
        "init_ok", "init_errno", "refused",           "unimplemented", "warn",    "oops",
        "bug",     "hang",       "dependency_failed", "kasan",         "lockdep", "internal"};
    return v;
}

std::string errno_string(int err) {
    std::string n = errno_name(err);
    if (n != "E?") return n;
    if (const char* s = strerrorname_np(err)) return s;
    return "E" + std::to_string(err);
}

Verdict classify(const RunOutcome& out) {
    Verdict v;
    std::vector<std::string> lines = target_load_lines(out);
    std::vector<std::string> all = all_lines(out);
    if (!out.failed_dependency.empty()) {
        v.verdict = "dependency_failed";
        Verdict dep = classify([&] {
            RunOutcome o = out;
            o.failed_dependency.clear();
            o.steps.clear();
            return o;
        }());
        v.reason = dep.verdict;
        v.detail = out.failed_dependency + ": " + dep.verdict +
                   (dep.detail.empty() ? "" : " (" + dep.detail + ")");
        return v;
    }
    const std::string& e = out.ending;
    if (e == "internal") {
        v.verdict = "internal";
        for (const std::string& d : out.diagnostics)
            if (d.find("internal error") != std::string::npos) v.detail = d;
        return v;
    }
    if (e == "unimplemented") {
        v.verdict = "unimplemented";
        if (out.unimplemented_call)
            v.detail = "called " + out.unimplemented_call->function + " (from " +
                       out.unimplemented_call->where + ")";
        return v;
    }
    if (e == "oops" || e == "panic") {
        const std::string* bug = first_containing(all, "kernel BUG at ");
        v.verdict = bug ? "bug" : "oops";
        if (bug) {
            v.detail = *bug;
        } else if (auto* l = first_containing(all, "Unable to handle kernel ")) {
            v.detail = *l;
        } else if (auto* l2 = first_containing(all, "Internal error: ")) {
            v.detail = *l2;
        } else if (auto* l3 = first_containing(all, "Kernel panic - not syncing: ")) {
            v.detail = *l3;
        } else if (out.load.panic) {
            v.detail = *out.load.panic;
        } else if (out.unload && out.unload->panic) {
            v.detail = *out.unload->panic;
        }
        if (out.unload && (out.unload->abort || out.unload->panic))
            v.detail = "in exit: " + v.detail;
        return v;
    }
    if (e == "hang") {
        v.verdict = "hang";
        for (const std::string& d : out.diagnostics)
            if (d.starts_with("instruction budget exhausted") || d.starts_with("time limit") ||
                d.starts_with("deadlock: "))
                v.detail = d;
        return v;
    }
    bool kasan = std::any_of(all.begin(), all.end(), kasan_line);
    bool lockdep = std::any_of(all.begin(), all.end(), lockdep_line);
    if (e == "errno") {
        if (out.load.init_ran) {
            v.verdict = "init_errno";
            v.reason = errno_string(out.exit_status);
            v.detail = "init returned " + std::to_string(out.load.init_ret) + " (" +
                       errno_string(out.exit_status) + ")";
        } else {
            v.verdict = "refused";
            classify_refusal(out, lines, v);
        }
    } else {
        v.verdict = count_warnings(all) ? "warn" : "init_ok";
        if (v.verdict == "warn")
            if (auto* w = first_containing(all, "WARNING: CPU: ")) v.detail = *w;
        if (out.load.init_ret > 0) v.detail = "init returned " + std::to_string(out.load.init_ret);
    }
    if (kasan) {
        v.verdict = "kasan";
        v.detail = *std::find_if(all.begin(), all.end(), kasan_line);
    } else if (lockdep) {
        v.verdict = "lockdep";
        v.detail = *std::find_if(all.begin(), all.end(), lockdep_line);
    }
    return v;
}

// --- jobs ---

std::vector<Job> collect(const std::vector<std::string>& paths, const ModuleTree* tree) {
    std::vector<std::string> files;
    auto walk = [&](const fs::path& dir) {
        std::error_code ec;
        for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (it->is_regular_file(ec) && is_module_file(it->path().filename().string()))
                files.push_back(it->path().string());
        }
        if (ec) throw std::runtime_error("cannot read " + dir.string() + ": " + ec.message());
    };
    std::map<std::string, Job> by_module;
    auto add_tree_module = [&](const std::string& rel) {
        Job j;
        j.path = (fs::path(tree->dir()) / rel).string();
        j.module = rel;
        j.name = module_name_of_path(rel);
        for (const std::string& d : tree->load_order(rel)) {
            if (d == rel) continue;
            j.deps.push_back((fs::path(tree->dir()) / d).string());
            j.dep_modules.push_back(d);
        }
        by_module.emplace(rel, std::move(j));
    };
    if (paths.empty() && tree)
        for (const std::string& rel : tree->modules())
            add_tree_module(rel);
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec))
            walk(p);
        else
            files.push_back(p);  // a missing file is the module's own failure (read)
    }
    for (const std::string& f : files) {
        std::error_code ec;
        if (tree && fs::exists(f, ec))
            if (std::optional<std::string> rel = tree->find(f)) {
                add_tree_module(*rel);
                continue;
            }
        Job j;
        j.path = f;
        j.module = f;
        j.name = module_name_of_path(f);
        by_module.emplace(f, std::move(j));
    }
    std::vector<Job> jobs;
    for (auto& [m, j] : by_module)
        jobs.push_back(std::move(j));
    return jobs;
}

std::vector<Job> shard(const std::vector<Job>& jobs, unsigned index, unsigned count) {
    std::vector<Job> out;
    if (count == 0 || index == 0 || index > count) return out;
    for (size_t p = 0; p < jobs.size(); ++p)
        if (p % count == index - 1) out.push_back(jobs[p]);
    return out;
}

// --- relocations ---

namespace {

struct RelocName {
    uint32_t type;
    const char* name;
};

// arch/arm64/kernel/module.c apply_relocate_add() (6.1 and 6.12): R_ARM_NONE (0) and the
// kernel's R_AARCH64_NONE (256) are ignored; the rest are applied.
const RelocName arm64_handled[] = {
    {0, "R_ARM_NONE"},
    {256, "R_AARCH64_NONE"},
    {R_AARCH64_ABS64, "R_AARCH64_ABS64"},
    {R_AARCH64_ABS32, "R_AARCH64_ABS32"},
    {R_AARCH64_ABS16, "R_AARCH64_ABS16"},
    {R_AARCH64_PREL64, "R_AARCH64_PREL64"},
    {R_AARCH64_PREL32, "R_AARCH64_PREL32"},
    {R_AARCH64_PREL16, "R_AARCH64_PREL16"},
    {R_AARCH64_MOVW_UABS_G0_NC, "R_AARCH64_MOVW_UABS_G0_NC"},
    {R_AARCH64_MOVW_UABS_G0, "R_AARCH64_MOVW_UABS_G0"},
    {R_AARCH64_MOVW_UABS_G1_NC, "R_AARCH64_MOVW_UABS_G1_NC"},
    {R_AARCH64_MOVW_UABS_G1, "R_AARCH64_MOVW_UABS_G1"},
    {R_AARCH64_MOVW_UABS_G2_NC, "R_AARCH64_MOVW_UABS_G2_NC"},
    {R_AARCH64_MOVW_UABS_G2, "R_AARCH64_MOVW_UABS_G2"},
    {R_AARCH64_MOVW_UABS_G3, "R_AARCH64_MOVW_UABS_G3"},
    {R_AARCH64_MOVW_SABS_G0, "R_AARCH64_MOVW_SABS_G0"},
    {R_AARCH64_MOVW_SABS_G1, "R_AARCH64_MOVW_SABS_G1"},
    {R_AARCH64_MOVW_SABS_G2, "R_AARCH64_MOVW_SABS_G2"},
    {R_AARCH64_MOVW_PREL_G0_NC, "R_AARCH64_MOVW_PREL_G0_NC"},
    {R_AARCH64_MOVW_PREL_G0, "R_AARCH64_MOVW_PREL_G0"},
    {R_AARCH64_MOVW_PREL_G1_NC, "R_AARCH64_MOVW_PREL_G1_NC"},
    {R_AARCH64_MOVW_PREL_G1, "R_AARCH64_MOVW_PREL_G1"},
    {R_AARCH64_MOVW_PREL_G2_NC, "R_AARCH64_MOVW_PREL_G2_NC"},
    {R_AARCH64_MOVW_PREL_G2, "R_AARCH64_MOVW_PREL_G2"},
    {R_AARCH64_MOVW_PREL_G3, "R_AARCH64_MOVW_PREL_G3"},
    {R_AARCH64_LD_PREL_LO19, "R_AARCH64_LD_PREL_LO19"},
    {R_AARCH64_ADR_PREL_LO21, "R_AARCH64_ADR_PREL_LO21"},
    {R_AARCH64_ADR_PREL_PG_HI21_NC, "R_AARCH64_ADR_PREL_PG_HI21_NC"},
    {R_AARCH64_ADR_PREL_PG_HI21, "R_AARCH64_ADR_PREL_PG_HI21"},
    {R_AARCH64_ADD_ABS_LO12_NC, "R_AARCH64_ADD_ABS_LO12_NC"},
    {R_AARCH64_LDST8_ABS_LO12_NC, "R_AARCH64_LDST8_ABS_LO12_NC"},
    {R_AARCH64_LDST16_ABS_LO12_NC, "R_AARCH64_LDST16_ABS_LO12_NC"},
    {R_AARCH64_LDST32_ABS_LO12_NC, "R_AARCH64_LDST32_ABS_LO12_NC"},
    {R_AARCH64_LDST64_ABS_LO12_NC, "R_AARCH64_LDST64_ABS_LO12_NC"},
    {R_AARCH64_LDST128_ABS_LO12_NC, "R_AARCH64_LDST128_ABS_LO12_NC"},
    {R_AARCH64_TSTBR14, "R_AARCH64_TSTBR14"},
    {R_AARCH64_CONDBR19, "R_AARCH64_CONDBR19"},
    {R_AARCH64_JUMP26, "R_AARCH64_JUMP26"},
    {R_AARCH64_CALL26, "R_AARCH64_CALL26"},
};

// arch/arm/kernel/module.c apply_relocate() (6.1 and 6.12); the Thumb-2 ones only under
// CONFIG_THUMB2_KERNEL.
const RelocName arm_handled[] = {
    {R_ARM_NONE, "R_ARM_NONE"},
    {R_ARM_ABS32, "R_ARM_ABS32"},
    {R_ARM_TARGET1, "R_ARM_TARGET1"},
    {R_ARM_PC24, "R_ARM_PC24"},
    {R_ARM_CALL, "R_ARM_CALL"},
    {R_ARM_JUMP24, "R_ARM_JUMP24"},
    {R_ARM_V4BX, "R_ARM_V4BX"},
    {R_ARM_PREL31, "R_ARM_PREL31"},
    {R_ARM_REL32, "R_ARM_REL32"},
    {R_ARM_MOVW_ABS_NC, "R_ARM_MOVW_ABS_NC"},
    {R_ARM_MOVT_ABS, "R_ARM_MOVT_ABS"},
    {R_ARM_MOVW_PREL_NC, "R_ARM_MOVW_PREL_NC"},
    {R_ARM_MOVT_PREL, "R_ARM_MOVT_PREL"},
    {R_ARM_ALU_PC_G0_NC, "R_ARM_ALU_PC_G0_NC"},
    {R_ARM_ALU_PC_G1_NC, "R_ARM_ALU_PC_G1_NC"},
    {R_ARM_LDR_PC_G2, "R_ARM_LDR_PC_G2"},
};
const RelocName arm_thumb2_handled[] = {
    {R_ARM_THM_PC22, "R_ARM_THM_CALL"},  // glibc's name of 10
    {R_ARM_THM_JUMP24, "R_ARM_THM_JUMP24"},
    {R_ARM_THM_MOVW_ABS_NC, "R_ARM_THM_MOVW_ABS_NC"},
    {R_ARM_THM_MOVT_ABS, "R_ARM_THM_MOVT_ABS"},
    {R_ARM_THM_MOVW_PREL_NC, "R_ARM_THM_MOVW_PREL_NC"},
    {R_ARM_THM_MOVT_PREL, "R_ARM_THM_MOVT_PREL"},
};

template <size_t N>
const RelocName* find_reloc(const RelocName (&table)[N], uint32_t type) {
    for (const RelocName& r : table)
        if (r.type == type) return &r;
    return nullptr;
}

}  // namespace

bool kernel_handles_relocation(bool arm64, uint32_t type, bool thumb2) {
    if (arm64) return find_reloc(arm64_handled, type) != nullptr;
    return find_reloc(arm_handled, type) || (thumb2 && find_reloc(arm_thumb2_handled, type));
}

std::string relocation_name(bool arm64, uint32_t type) {
    const RelocName* r = arm64 ? find_reloc(arm64_handled, type) : find_reloc(arm_handled, type);
    if (!r && !arm64) r = find_reloc(arm_thumb2_handled, type);
    if (r) return r->name;
    return (arm64 ? "R_AARCH64_" : "R_ARM_") + std::to_string(type);
}

std::optional<RelocationCount> count_relocations(std::span<const uint8_t> bytes) {
    static const bool init = elf_version(EV_CURRENT) != EV_NONE;
    if (!init) return std::nullopt;
    Elf* e =
        elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
    if (!e) return std::nullopt;
    std::optional<RelocationCount> out;
    GElf_Ehdr eh;
    size_t shnum = 0;
    if (elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) && elf_getshdrnum(e, &shnum) == 0) {
        RelocationCount rc;
        rc.arm64 = eh.e_machine == EM_AARCH64;
        bool ok = eh.e_machine == EM_AARCH64 || eh.e_machine == EM_ARM;
        for (Elf_Scn* scn = elf_nextscn(e, nullptr); ok && scn; scn = elf_nextscn(e, scn)) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh)) {
                ok = false;
                break;
            }
            if (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA) continue;
            if (sh.sh_info == 0 || sh.sh_info >= shnum) continue;
            GElf_Shdr target;
            Elf_Scn* ts = elf_getscn(e, sh.sh_info);
            if (!ts || !gelf_getshdr(ts, &target) || !(target.sh_flags & SHF_ALLOC)) continue;
            Elf_Data* d = elf_getdata(scn, nullptr);
            if (!d || !sh.sh_entsize) continue;
            size_t n = sh.sh_size / sh.sh_entsize;
            for (size_t i = 0; i < n; ++i) {
                uint64_t info;
                if (sh.sh_type == SHT_RELA) {
                    GElf_Rela r;
                    if (!gelf_getrela(d, int(i), &r)) {
                        ok = false;
                        break;
                    }
                    info = r.r_info;
                } else {
                    GElf_Rel r;
                    if (!gelf_getrel(d, int(i), &r)) {
                        ok = false;
                        break;
                    }
                    info = r.r_info;
                }
                uint32_t type = rc.arm64 ? uint32_t(GELF_R_TYPE(info)) : uint32_t(info & 0xff);
                ++rc.by_type[type];
                ++rc.total;
            }
        }
        if (ok) out = rc;
    }
    elf_end(e);
    return out;
}

// --- one job ---

bool job_inputs(const Job& job, std::vector<ModuleInput>& inputs, std::string& failed, int& err) {
    std::vector<std::string> files = job.deps;
    files.push_back(job.path);
    for (size_t i = 0; i < files.size(); ++i) {
        err = 0;
        std::shared_ptr<const ModuleFiles::File> f = module_files().get(files[i], err);
        if (!f) {
            failed = files[i];
            return false;
        }
        // Named as reports name it: a dependency that fails is out.failed_dependency.
        bool last = i + 1 == files.size();
        inputs.push_back({last ? job.module : job.dep_modules[i], f->bytes,
                          last ? job.params : std::vector<std::string>{}});
    }
    return true;
}

json run_job(const Job& job, const Options& opts) {
    auto t0 = clk::now();
    json r;
    r["path"] = job.path;
    r["module"] = job.module;
    r["name"] = job.name;
    r["deps"] = job.dep_modules;
    // `errno`: the status's name when it is an errno (insmod's failure), not kmodemu's 69, 124,
    // 139 or 70.
    auto finish = [&](const Verdict& v, int status, bool is_errno) {
        r["verdict"] = v.verdict;
        r["reason"] = v.reason;
        r["detail"] = v.detail;
        r["exit_status"] = status;
        r["errno"] = is_errno && status > 0 ? errno_string(status) : "";
    };
    try {
        // Read every file first (the target and its dependencies).
        std::vector<ModuleInput> inputs;
        std::string failed;
        int err = 0;
        if (!job_inputs(job, inputs, failed, err)) {
            Verdict v;
            v.verdict = failed != job.path ? "dependency_failed" : "refused";
            v.reason = "read";
            v.detail = "can't read '" + failed + "': " + std::strerror(err);
            finish(v, err, true);
            r["ms"] = {{"total", ms_since(t0)}};
            return r;
        }
        int ignored = 0;
        std::shared_ptr<const ModuleFiles::File> target = module_files().get(job.path, ignored);
        double read_ms = ms_since(t0);

        // The relocations in the target's file (libelf).
        auto t1 = clk::now();
        std::optional<RelocationCount> in_file = count_relocations(target->bytes);
        double check_ms = ms_since(t1);

        RunOptions ro;
        ro.budget = opts.budget;
        ro.time_limit = opts.time_limit;
        ro.auto_stub = opts.auto_stub;
        ro.profile = opts.profile;
        ro.unload = true;
        auto t2 = clk::now();
        RunOutcome out;
        out = run_modules(std::move(inputs), ro);
        double run_ms = ms_since(t2);

        Verdict v = classify(out);
        finish(v, out.exit_status, out.ending == "errno");
        r["ending"] = out.ending;
        r["phase"] = phase_name(out.load.phase);
        if (out.load.init_ran) r["init_return"] = out.load.init_ret;
        if (out.unimplemented_call) {
            r["unimplemented_call"] = out.unimplemented_call->function;
            r["unimplemented_where"] = out.unimplemented_call->where;
        }
        r["bound_lazily"] = out.unimplemented;
        r["auto_stubs"] = out.auto_stubs;
        json called = json::array();
        for (const std::string& s : out.auto_stubs)
            if (out.calls.count(s)) called.push_back(s);
        r["auto_stubs_called"] = called;
        r["auto_stub_data"] = out.load.auto_stub_data;
        std::vector<std::string> all = all_lines(out);
        r["warnings"] = count_warnings(all);
        r["instructions"] = out.instructions;
        r["compression"] = compression_name(target->format);
        r["log"] = target_load_lines(out);
        if (out.unload) {
            std::vector<std::string> ul;
            for (size_t i = out.load_log_lines; i < out.log.size(); ++i)
                ul.push_back(out.log[i].text);
            r["unload"] = {
                {"exit_ran", out.unload->exit_ran}, {"err", out.unload->err}, {"log", ul}};
        }
        if (!out.failed_dependency.empty()) {
            r["dependency_failed"] = out.failed_dependency;
            for (const RunOutcome::Step& s : out.steps)
                if (s.path == out.failed_dependency) {
                    json lines = json::array();
                    for (size_t i = s.log_begin; i < s.log_end && i < out.log.size(); ++i)
                        lines.push_back(out.log[i].text);
                    r["dependency"] = {{"path", s.path},
                                       {"name", s.name},
                                       {"exit_status", s.exit_status},
                                       {"ending", s.ending},
                                       {"log", lines}};
                }
        }

        // The relocation cross-check: what the loader applied against the file's count, once
        // the load got through apply_relocations().
        json rel;
        bool arm64 = out.arch != "arm";
        bool thumb2 = opts.profile ? opts.profile->thumb2_kernel : true;
        if (in_file) {
            arm64 = in_file->arm64;
            rel["in_file"] = in_file->total;
            json types = json::object();
            json unhandled = json::array();
            for (auto [t, n] : in_file->by_type) {
                types[relocation_name(arm64, t)] = n;
                if (!kernel_handles_relocation(arm64, t, thumb2))
                    unhandled.push_back(relocation_name(arm64, t));
            }
            rel["types"] = types;
            rel["unhandled"] = unhandled;
        }
        bool relocated =
            out.load.phase > LoadResult::Phase::relocation && out.failed_dependency.empty();
        if (relocated) {
            rel["applied"] = out.load.relocations_applied;
            json types = json::object();
            for (auto [t, n] : out.load.relocation_types)
                types[relocation_name(arm64, t)] = n;
            rel["applied_types"] = types;
            rel["match"] = in_file && in_file->total == out.load.relocations_applied &&
                           in_file->by_type == out.load.relocation_types;
        } else {
            rel["match"] = nullptr;  // not checked: the load stopped before or kmodemu says not
        }
        r["relocations"] = rel;
        r["ms"] = {
            {"read", read_ms}, {"check", check_ms}, {"run", run_ms}, {"total", ms_since(t0)}};
    } catch (const std::exception& e) {
        Verdict v{"internal", "", std::string("internal error: ") + e.what()};
        finish(v, exit_internal, false);
        r["ms"] = {{"total", ms_since(t0)}};
    }
    return r;
}

// --- the worker pool ---

namespace {

bool write_full(int fd, const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n) {
        ssize_t w = ::write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= size_t(w);
    }
    return true;
}

bool read_full(int fd, void* p, size_t n) {
    char* c = static_cast<char*>(p);
    while (n) {
        ssize_t r = ::read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r;
        n -= size_t(r);
    }
    return true;
}

struct Worker {
    pid_t pid = -1;
    int req = -1;   // parent → worker: job indices (uint32)
    int resp = -1;  // worker → parent: index, length, CBOR record
    long job = -1;  // the job it is on, -1 when idle
    clk::time_point start;
    unsigned done = 0;
};

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char* abbrev = sigabbrev_np(sig);
        return std::string("worker killed by signal ") +
               (abbrev ? "SIG" + std::string(abbrev) : std::to_string(sig)) + " (" +
               strsignal(sig) + ")";
    }
    if (WIFEXITED(status))
        return "worker exited with status " + std::to_string(WEXITSTATUS(status));
    return "worker lost";
}

[[noreturn]] void worker_main(const std::vector<Job>& jobs, const Options& opts, int req,
                              int resp) {
    for (;;) {
        uint32_t idx;
        if (!read_full(req, &idx, sizeof idx) || idx >= jobs.size()) _exit(0);
        if (opts.worker_hook) opts.worker_hook(jobs[idx]);
        json rec;
        try {
            rec = opts.run ? opts.run(jobs[idx], opts) : run_job(jobs[idx], opts);
        } catch (...) {
            rec = {{"module", jobs[idx].module},
                   {"path", jobs[idx].path},
                   {"name", jobs[idx].name},
                   {"verdict", "internal"},
                   {"detail", "internal error: unknown exception"},
                   {"exit_status", exit_internal}};
        }
        std::vector<uint8_t> body = json::to_cbor(rec);
        uint32_t len = uint32_t(body.size());
        if (!write_full(resp, &idx, sizeof idx) || !write_full(resp, &len, sizeof len) ||
            !write_full(resp, body.data(), body.size()))
            _exit(0);
    }
}

}  // namespace

namespace {

json internal_record(const Job& job, const std::string& detail) {
    return {{"path", job.path},        {"module", job.module},         {"name", job.name},
            {"deps", job.dep_modules}, {"verdict", "internal"},        {"reason", ""},
            {"detail", detail},        {"exit_status", exit_internal}, {"errno", ""}};
}

}  // namespace

void run_jobs(const std::vector<Job>& jobs, const Options& opts,
              const std::function<void(size_t, json)>& on_record) {
    if (jobs.empty()) return;
    double wall = opts.wall_limit > 0 ? opts.wall_limit : 4 * opts.time_limit + 10;
    unsigned nworkers = std::max(1u, std::min<unsigned>(opts.jobs, unsigned(jobs.size())));
    struct sigaction ign {
    }, old_pipe{};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);

    std::vector<Worker> ws;
    std::fflush(stdout);
    std::fflush(stderr);
    auto spawn = [&]() {
        int rq[2], rs[2];
        if (pipe(rq) != 0) throw std::runtime_error("pipe: " + std::string(strerror(errno)));
        if (pipe(rs) != 0) throw std::runtime_error("pipe: " + std::string(strerror(errno)));
        pid_t pid = fork();
        if (pid < 0) throw std::runtime_error("fork: " + std::string(strerror(errno)));
        if (pid == 0) {
            // The other workers' pipes must not stay open here (their EOF would never come).
            for (const Worker& o : ws) {
                if (o.req >= 0) close(o.req);
                if (o.resp >= 0) close(o.resp);
            }
            close(rq[1]);
            close(rs[0]);
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
            signal(SIGPIPE, SIG_DFL);
            worker_main(jobs, opts, rq[0], rs[1]);
        }
        close(rq[0]);
        close(rs[1]);
        Worker w;
        w.pid = pid;
        w.req = rq[1];
        w.resp = rs[0];
        return w;
    };
    auto retire = [&](Worker& w, bool kill_it) {
        if (kill_it) kill(w.pid, SIGKILL);
        close(w.req);
        close(w.resp);
        int status = 0;
        while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        w.req = w.resp = -1;
        return status;
    };

    size_t next = 0, finished = 0;
    auto assign = [&](Worker& w) {
        while (next < jobs.size()) {
            uint32_t idx = uint32_t(next);
            if (write_full(w.req, &idx, sizeof idx)) {
                w.job = long(next++);
                w.start = clk::now();
                return;
            }
            // The worker died idle: replace it.
            retire(w, true);
            w = spawn();
        }
        w.job = -1;
    };
    for (unsigned i = 0; i < nworkers; ++i) {
        ws.push_back(spawn());
        assign(ws.back());
    }

    while (finished < jobs.size()) {
        std::vector<pollfd> pfds;
        std::vector<size_t> who;
        int timeout_ms = -1;
        for (size_t i = 0; i < ws.size(); ++i) {
            if (ws[i].job < 0) continue;
            pfds.push_back({ws[i].resp, POLLIN, 0});
            who.push_back(i);
            double left = wall * 1000 - ms_since(ws[i].start);
            int t = std::max(0, int(left) + 1);
            timeout_ms = timeout_ms < 0 ? t : std::min(timeout_ms, t);
        }
        if (pfds.empty()) break;  // nothing in flight and nothing left to assign
        int n = poll(pfds.data(), pfds.size(), timeout_ms);
        if (n < 0 && errno != EINTR)
            throw std::runtime_error("poll: " + std::string(strerror(errno)));
        for (size_t k = 0; n > 0 && k < pfds.size(); ++k) {
            if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Worker& w = ws[who[k]];
            size_t job = size_t(w.job);
            uint32_t idx = 0, len = 0;
            std::vector<uint8_t> body;
            bool ok = read_full(w.resp, &idx, sizeof idx) && read_full(w.resp, &len, sizeof len);
            if (ok) {
                body.resize(len);
                ok = read_full(w.resp, body.data(), len) && idx == job;
            }
            json rec;
            if (ok) {
                try {
                    rec = json::from_cbor(body);
                } catch (const std::exception&) {
                    ok = false;
                }
            }
            if (ok) {
                ++w.done;
                w.job = -1;
                on_record(job, std::move(rec));
                ++finished;
                if (w.done >= opts.recycle_after && next < jobs.size()) {
                    retire(w, false);
                    w = spawn();
                }
                assign(w);
            } else {
                int status = retire(w, true);
                on_record(job, internal_record(jobs[job], describe_status(status)));
                ++finished;
                w = spawn();
                assign(w);
            }
        }
        // The safety net: a worker stuck on one module.
        for (Worker& w : ws) {
            if (w.job < 0 || ms_since(w.start) < wall * 1000) continue;
            size_t job = size_t(w.job);
            retire(w, true);
            char buf[96];
            std::snprintf(buf, sizeof buf, "worker killed after %.0f s (wall-clock limit)", wall);
            on_record(job, internal_record(jobs[job], buf));
            ++finished;
            w = spawn();
            assign(w);
        }
    }
    for (Worker& w : ws)
        if (w.req >= 0) retire(w, false);
    sigaction(SIGPIPE, &old_pipe, nullptr);
}

}  // namespace kmodemu::corpus
