#include "tools/oracle.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

namespace kmodemu::oracle {

namespace {

using Lines = std::vector<std::string>;
using Apply = std::function<void(Lines&, const Context&)>;

struct RuleDef {
    Rule rule;
    Apply apply;
};

// Replaces every match of re in every line by what f makes of the match.
void each_match(Lines& lines, const std::regex& re,
                const std::function<std::string(const std::smatch&)>& f) {
    for (std::string& l : lines) {
        std::string out;
        auto begin = l.cbegin();
        std::smatch m;
        bool any = false;
        while (std::regex_search(begin, l.cend(), m, re)) {
            any = true;
            out.append(begin, m[0].first);
            out += f(m);
            begin = m[0].second;
            if (m[0].length() == 0) {
                if (begin == l.cend()) break;
                out += *begin++;
            }
        }
        if (any) {
            out.append(begin, l.cend());
            l = std::move(out);
        }
    }
}

void replace_all(Lines& lines, const std::regex& re, const std::string& with) {
    for (std::string& l : lines)
        l = std::regex_replace(l, re, with);
}

bool is_hex(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

// A kernel virtual address, as the architecture prints one: arm64's are 16 hex digits in the
// upper half (0xffff...), 32-bit ARM's 8 hex digits from the module area (0xbf000000) up.
bool kernel_address(const std::string& word, bool arm64) {
    if (!is_hex(word)) return false;
    if (arm64) return word.size() == 16 && (word.starts_with("ffff") || word.starts_with("FFFF"));
    return word.size() == 8 && std::strtoul(word.c_str(), nullptr, 16) >= 0xbf000000ul;
}

// A report's pc line: arm64's `pc : sym+off/size [mod]`, ARM's `PC is at sym+off/size [mod]`
// (not ARM's `pc : [<address>]` register line).
bool is_pc_line(const std::string& s) {
    return (s.starts_with("pc : ") && !s.starts_with("pc : [<")) || s.starts_with("PC is at ");
}

// Whether the kernel the log came from is release MAJOR.MINOR or later (its release string
// starts with the version: 6.1.0-57-arm64, 6.12.95+deb12-arm64); an unknown release is not.
bool release_at_least(const Context& c, int major, int minor) {
    int ma = 0, mi = 0;
    if (std::sscanf(c.release.c_str(), "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

// A pc line naming the real kernel's own function (no `[module]`).
bool pc_in_kernel(const std::string& s) {
    return is_pc_line(s) && s.find('[') == std::string::npos;
}

const std::vector<RuleDef>& defs() {
    static const std::vector<RuleDef> d = {
        {{"after-oops", RuleKind::boot,
          "after an oops's `---[ end trace` line, what the dying insmod makes the kernel print "
          "varies between boots (`note: insmod[N] exited with irqs disabled`, a "
          "context-tracking WARNING from the idle task on arm64)"},
         [](Lines& l, const Context&) {
             for (size_t i = 0; i < l.size(); ++i) {
                 if (!l[i].starts_with("Internal error:")) continue;
                 for (size_t j = i + 1; j < l.size(); ++j)
                     if (l[j].starts_with("---[ end trace")) {
                         l.resize(j + 1);
                         return;
                     }
                 return;
             }
         }},
        {{"stack-dump", RuleKind::known,
          "ARM's dump of the kernel stack (and of the exception stack of the system call) holds "
          "the real kernel's frames of its insmod path and boot-dependent addresses; kmodemu's "
          "stack holds neither"},
         [](Lines& l, const Context&) {
             static const std::regex dump(R"(^[0-9a-f]{4}:( ( {8}|[0-9a-f]{8}))+$)");
             std::erase_if(l, [](const std::string& s) { return std::regex_match(s, dump); });
         }},
        {{"release", RuleKind::boot,
          "the kernel's release and Debian's package version name the build, not a behaviour: "
          "the same module's lines under another build of the same kernel differ only there"},
         [](Lines& lines, const Context& c) {
             for (std::string& l : lines) {
                 for (const std::string* s : {&c.release, &c.version}) {
                     if (s->empty()) continue;
                     const char* with = s == &c.release ? "<release>" : "<version>";
                     for (size_t p = l.find(*s); p != std::string::npos;
                          p = l.find(*s, p + std::strlen(with)))
                         l.replace(p, s->size(), with);
                 }
             }
         }},
        {{"pid", RuleKind::boot, "process IDs depend on what ran before insmod during the boot"},
         [](Lines& l, const Context&) {
             static const std::regex pid(R"(\b(PID|pid): \d+)"), task(R"(\b(insmod|rmmod)\[\d+\])");
             replace_all(l, pid, "$1: N");
             replace_all(l, task, "$1[N]");
         }},
        {{"cpu", RuleKind::boot,
          "the CPU a report comes from is the scheduler's choice (the oracle pins insmod to "
          "CPU 0; reports of the idle task come from any CPU)"},
         [](Lines& l, const Context&) {
             static const std::regex cpu(R"(\bCPU: \d+)");
             replace_all(l, cpu, "CPU: N");
         }},
        {{"page-tables", RuleKind::boot,
          "the physical addresses of insmod's page tables (`pgdp=`, `pgd=`, ..., ARM's `Table:`) "
          "depend on the boot's allocations"},
         [](Lines& l, const Context&) {
             static const std::regex entry(
                 R"((\*?(?:pgdp|pgd|p4d|pud|pmd|pte|ppte))=([0-9a-f]{8,16})\b)");
             static const std::regex table(R"(\bTable: [0-9a-f]{8}\b)");
             each_match(l, entry, [](const std::smatch& m) {
                 std::string v = m[2].str();
                 bool zero = v.find_first_not_of('0') == std::string::npos;
                 return m[1].str() + "=" + (zero ? v : "<phys>");
             });
             replace_all(l, table, "Table: <phys>");
         }},
        {{"hashed-pointers", RuleKind::boot,
          "`%p` prints pointers hashed with a key chosen at boot"},
         [](Lines& l, const Context&) {
             static const std::regex limit(R"(stack limit = 0x[0-9a-f]+)");
             replace_all(l, limit, "stack limit = <hashed>");
         }},
        {{"register-values", RuleKind::known,
          "register dumps are compared by register, not value: values that are addresses differ "
          "between boots, and the registers the module's code did not set hold the real "
          "kernel's scratch values from its insmod path (load_module, printk), which kmodemu "
          "does not run"},
         [](Lines& l, const Context&) {
             static const std::regex reg64(R"(^x\d+ *: )"), reg32(R"(^(r\d+|sp) *: )");
             static const std::regex value(R"(\b((?!psr)[a-z]\w* *: )(\[<)?[0-9a-f]{8,16}\b)");
             for (std::string& line : l) {
                 if (!std::regex_search(line, reg64) && !std::regex_search(line, reg32) &&
                     !line.starts_with("sp : ") && !line.starts_with("pc : [<"))
                     continue;
                 line = std::regex_replace(line, value, "$1$2<value>");
             }
         }},
        {{"kernel-addresses", RuleKind::boot,
          "kernel virtual addresses (KASLR on arm64; where modules, heap objects and stacks "
          "land) differ between boots; addresses in the NULL page and other small values stay"},
         [](Lines& l, const Context& c) {
             static const std::regex word(R"(\b(0x)?([0-9a-fA-F]{8,16})\b)");
             // Instruction words, not addresses: the `Code:` line has a rule of its own.
             std::vector<std::pair<size_t, std::string>> code;
             for (size_t i = 0; i < l.size(); ++i)
                 if (l[i].starts_with("Code: ")) code.emplace_back(i, l[i]);
             each_match(l, word, [&](const std::smatch& m) {
                 return kernel_address(m[2].str(), c.arm64) ? m[1].str() + "<kaddr>" : m[0].str();
             });
             for (auto& [i, line] : code)
                 l[i] = std::move(line);
         }},
        {{"ftrace-ops-literal", RuleKind::boot,
          "on arm64 since Linux 6.4 (DYNAMIC_FTRACE_WITH_CALL_OPS, as in Debian's 6.12), the 8 "
          "bytes before each function's entry hold the address of its ftrace_ops, written when "
          "the module is loaded and moved by KASLR: a `Code:` line of a fault in a function's "
          "first instructions shows one or both halves of that address"},
         [](Lines& l, const Context& c) {
             if (!c.arm64 || !release_at_least(c, 6, 4)) return;
             static const std::regex pc(R"(^pc : \S+\+0x([0-9a-f]+)/0x[0-9a-f]+)");
             static const std::regex word(R"(^[0-9a-f]{8}$)");
             for (size_t i = 0; i < l.size(); ++i) {
                 if (!l[i].starts_with("Code: ")) continue;
                 // The report's pc line: the offset of the faulting word in its function.
                 std::smatch m;
                 size_t j = i;
                 while (j > 0 && !std::regex_search(l[j - 1], m, pc))
                     --j;
                 if (j == 0) continue;
                 long off = std::strtol(m[1].str().c_str(), nullptr, 16);
                 // The words before the faulting one `(...)` end 4 bytes before the pc.
                 std::string line = l[i];
                 size_t paren = line.find('(');
                 if (paren == std::string::npos) continue;
                 std::vector<std::string> before;
                 std::istringstream words(line.substr(6, paren - 6));
                 for (std::string w; words >> w;)
                     before.push_back(w);
                 for (size_t k = 0; k < before.size(); ++k) {
                     long at = off - 4 * static_cast<long>(before.size() - k);
                     if ((at == -8 || at == -4) && std::regex_match(before[k], word))
                         before[k] = "<ftrace-ops>";
                 }
                 std::string out = "Code:";
                 for (const std::string& w : before)
                     out += " " + w;
                 l[i] = out + " " + line.substr(paren);
             }
         }},
        {{"code-pc-relative", RuleKind::boot,
          "in a `Code:` line, the words that encode PC-relative branches (B/BL) or ADRP hold "
          "displacements that depend on where the module and the kernel were placed"},
         [](Lines& l, const Context& c) {
             static const std::regex word(R"(([ (])([0-9a-f]{8})\b)");
             for (std::string& line : l) {
                 if (!line.starts_with("Code: ")) continue;
                 Lines one{line};
                 each_match(one, word, [&](const std::smatch& m) {
                     auto w = static_cast<uint32_t>(std::strtoul(m[2].str().c_str(), nullptr, 16));
                     bool pcrel = c.arm64 ? ((w & 0x7c000000u) == 0x14000000u ||
                                             (w & 0x9f000000u) == 0x90000000u)
                                          : ((w & 0x0e000000u) == 0x0a000000u && (w >> 28) != 0xfu);
                     return m[1].str() + (pcrel ? "<pc-relative>" : m[2].str());
                 });
                 line = one[0];
             }
         }},
        {{"arm-psr-ge", RuleKind::boot,
          "the GE flags (bits 19:16) of ARM's psr hold insmod's user-space state at the system "
          "call"},
         [](Lines& l, const Context& c) {
             if (c.arm64) return;
             static const std::regex psr(R"(psr: ([0-9a-f]{3})[0-9a-f]([0-9a-f]{4})\b)");
             replace_all(l, psr, "psr: $1x$2");
         }},
        {{"arm-psr-a", RuleKind::boot,
          "the A bit (8, asynchronous aborts masked) of ARM's psr follows what ran on the CPU "
          "before insmod (ARM's context switch does not restore a task's CPSR): Debian's 6.12 "
          "armmp kernel showed it set in 2 of 12 boots of the same BUG"},
         [](Lines& l, const Context& c) {
             if (c.arm64) return;
             static const std::regex psr(R"(psr: ([0-9a-fx]{5})([0-9a-f])([0-9a-f]{2})\b)");
             each_match(l, psr, [](const std::smatch& m) {
                 unsigned d = static_cast<unsigned>(std::stoul(m[2].str(), nullptr, 16)) & ~1u;
                 return "psr: " + m[1].str() + "0123456789abcdef"[d] + m[3].str();
             });
         }},
        {{"kernel-function-flags", RuleKind::known,
          "when an oops or BUG stops inside the real kernel's own function (its pc names no "
          "module), the condition flags of pstate/psr were set by that function's machine "
          "code, which kmodemu's C++ stubs do not run; the flags are compared for faults in "
          "module code"},
         [](Lines& l, const Context&) {
             static const std::regex pstate(R"(^(pstate: )[0-9a-f](\S* \()[nN][zZ][cC][vV])");
             static const std::regex psr(R"(psr: [0-9a-fx])");
             static const std::regex flags(R"(^Flags: [nN][zZ][cC][vV])");
             // The pc line of the report a flags line belongs to: arm64 prints pstate just
             // before it, ARM prints `PC is at` before psr and Flags.
             auto report_in_kernel = [&](size_t i) {
                 for (size_t j = i; j < l.size() && j < i + 4; ++j)
                     if (l[j].starts_with("pc : ") && is_pc_line(l[j])) return pc_in_kernel(l[j]);
                 for (size_t j = i + 1; j-- > 0 && j + 8 > i;)
                     if (l[j].starts_with("PC is at ")) return pc_in_kernel(l[j]);
                 return false;
             };
             for (size_t i = 0; i < l.size(); ++i) {
                 std::string& s = l[i];
                 bool arm64 = s.starts_with("pstate: ");
                 bool arm = s.starts_with("pc : [<") || s.starts_with("Flags: ");
                 if ((!arm64 && !arm) || !report_in_kernel(i)) continue;
                 s = std::regex_replace(s, pstate, "$1<f>$2<nzcv>");
                 s = std::regex_replace(s, psr, "psr: <f>");
                 s = std::regex_replace(s, flags, "Flags: <nzcv>");
             }
         }},
        {{"kernel-function-code", RuleKind::known,
          "in an ARM `Code:` line of a report whose pc is in the real kernel's own function, "
          "the words before the faulting one are that function's machine code; kmodemu shows "
          "them only where it runs the function's code from the kit's image, not where a C++ "
          "stub stands for it (e.g. kfree()'s tail call of __kmem_cache_free()); the faulting "
          "word is compared"},
         [](Lines& l, const Context& c) {
             if (c.arm64) return;
             static const std::regex before(R"(^Code: [^(]*\()");
             for (size_t i = 0; i < l.size(); ++i) {
                 if (!l[i].starts_with("Code: ")) continue;
                 size_t j = i;
                 while (j > 0 && !is_pc_line(l[j - 1]))
                     --j;
                 if (j > 0 && pc_in_kernel(l[j - 1]))
                     l[i] = std::regex_replace(l[i], before, "Code: <kernel code> (");
             }
         }},
        {{"exception-stack", RuleKind::known,
          "an ARM call trace that reaches the system call ends with `Exception stack(0x... to "
          "0x...)`, the place of the syscall's registers on the boot's kernel stack (their dump "
          "lines are the `stack-dump` rule's); kmodemu calls init from no system call and has "
          "no such registers to show"},
         [](Lines& l, const Context& c) {
             if (c.arm64) return;
             std::erase_if(l,
                           [](const std::string& s) { return s.starts_with("Exception stack("); });
         }},
        {{"kernel-function-offsets", RuleKind::known,
          "`function+0xoff/0xsize` of the real kernel's own functions (not a module's) is a "
          "position in the real kernel's machine code; kmodemu's kernel functions are C++, so "
          "only the function's name is compared"},
         [](Lines& l, const Context&) {
             static const std::regex off(
                 R"(([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+(?![0-9a-f]| \[))");
             replace_all(l, off, "$1");
         }},
        {{"register-information", RuleKind::known,
          "what ARM's `Register rN information:` lines (mem_dump_obj) say a register points to "
          "names the real kernel's memory (its slab caches, the vmalloc areas of its "
          "load_module and kernel_clone); kmodemu describes its own: the registers are compared, "
          "not the descriptions"},
         [](Lines& l, const Context&) {
             static const std::regex info(R"(^(Register r\d+ information: ).*$)");
             replace_all(l, info, "$1<what>");
         }},
    };
    return d;
}

}  // namespace

const std::vector<Rule>& rules() {
    static const std::vector<Rule> r = [] {
        std::vector<Rule> v;
        for (const RuleDef& d : defs())
            v.push_back(d.rule);
        return v;
    }();
    return r;
}

std::vector<std::string> normalise(std::vector<std::string> lines, const Context& ctx) {
    for (const RuleDef& d : defs())
        d.apply(lines, ctx);
    return lines;
}

std::string results_path(const std::string& dir, const std::string& release) {
    return dir + "/" + release + ".expected";
}

std::optional<ResultFile> read_results(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    ResultFile f;
    static const std::regex head(R"(^# kmodemu oracle: (\S+) \(([^)]*)\))");
    std::string line;
    Expected* cur = nullptr;
    while (std::getline(in, line)) {
        if (line.starts_with("#")) {
            std::smatch m;
            if (f.header.empty() && std::regex_search(line, m, head)) {
                f.header = line;
                f.release = m[1].str();
                f.version = m[2].str();
                f.arm64 = line.find("aarch64") != std::string::npos;
            }
        } else if (line.starts_with("case ")) {
            std::string name = line.substr(5);
            f.order.push_back(name);
            cur = &(f.cases[name] = Expected{});
        } else if (!cur) {
            continue;
        } else if (line.starts_with("rc ")) {
            cur->rc = line.substr(3);
        } else if (line.starts_with("log ") || line == "log") {
            cur->log.push_back(line.size() > 4 ? line.substr(4) : "");
        } else if (line.starts_with("unload-rc ")) {
            cur->unload_rc = line.substr(10);
        } else if (line.starts_with("unload-log ") || line == "unload-log") {
            cur->unload_log.push_back(line.size() > 11 ? line.substr(11) : "");
        } else if (line == "end") {
            cur = nullptr;
        }
    }
    return f;
}

}  // namespace kmodemu::oracle
