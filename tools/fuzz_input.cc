#include "tools/fuzz_input.h"

#include <cerrno>
#include <regex>
#include <set>

#include "loader/decompress.h"
#include "loader/elf_file.h"
#include "loader/modinfo.h"

namespace kmodemu {

std::vector<FuzzParam> fuzz_params(std::vector<uint8_t> module_file) {
    std::vector<FuzzParam> out;
    Decompressed d = decompress_module(std::move(module_file));
    if (d.err) return out;
    std::optional<Arch> arch = ElfFile::sniff_arch(d.bytes);
    if (!arch) return out;
    ElfFile elf;
    if (!elf.open(std::move(d.bytes), *arch)) return out;
    const ElfSection* s = elf.find_section(".modinfo", false);
    if (!s) return out;
    ModInfo info(elf.section_data(s->index));
    for (const std::string& pt : info.all("parmtype")) {
        size_t colon = pt.find(':');
        if (colon == std::string::npos || colon == 0) continue;
        out.push_back({pt.substr(0, colon), pt.substr(colon + 1)});
    }
    return out;
}

std::vector<uint32_t> compared_constants(std::vector<uint8_t> module_file) {
    std::set<uint32_t> out;
    Decompressed d = decompress_module(std::move(module_file));
    if (d.err) return {};
    std::optional<Arch> arch = ElfFile::sniff_arch(d.bytes);
    if (!arch) return {};
    ElfFile elf;
    if (!elf.open(std::move(d.bytes), *arch)) return {};
    for (const ElfSection& s : elf.sections()) {
        if (!(s.hdr.sh_flags & SHF_EXECINSTR) || s.hdr.sh_type != SHT_PROGBITS) continue;
        std::span<const uint8_t> text = elf.section_data(s.index);
        for (size_t i = 0; i + 4 <= text.size(); i += 4) {
            uint32_t insn = uint32_t(text[i]) | uint32_t(text[i + 1]) << 8 |
                            uint32_t(text[i + 2]) << 16 | uint32_t(text[i + 3]) << 24;
            uint32_t imm = 0;
            if (*arch == Arch::arm64) {
                // SUBS (immediate) to the zero register: CMP Rn, #imm12{, LSL #12}; and
                // MOVZ Wd, #imm16 (a constant too wide for CMP is moved to a register first).
                if ((insn & 0x7f80001f) == 0x7100001f)
                    imm = ((insn >> 10) & 0xfff) << ((insn >> 22) & 1 ? 12 : 0);
                else if ((insn & 0xffe00000) == 0x52800000)
                    imm = (insn >> 5) & 0xffff;
                else
                    continue;
            } else if ((insn & 0x0ff0f000) == 0x03500000) {
                // ARM CMP Rn, #imm8 ROR 2*rot (Thumb-2 code is not scanned)
                unsigned rot = ((insn >> 8) & 0xf) * 2;
                uint32_t v = insn & 0xff;
                imm = rot ? (v >> rot) | (v << (32 - rot)) : v;
            } else if ((insn & 0x0ff00000) == 0x03000000) {
                // ARM MOVW Rd, #imm16: a constant CMP cannot encode, compared from a register
                imm = ((insn >> 4) & 0xf000) | (insn & 0xfff);
            } else {
                continue;
            }
            if (imm > 1) out.insert(imm);
        }
    }
    return {out.begin(), out.end()};
}

size_t fuzz_input_max(const std::vector<FuzzParam>& params) {
    size_t n = 5;                         // fault (up to 4 bytes) and seed
    return n + params.size() * (1 + 33);  // control byte, and a string's length and letters
}

namespace {

struct Reader {
    std::span<const uint8_t> data;
    size_t at = 0;
    uint8_t byte() { return at < data.size() ? data[at++] : 0; }
    uint64_t le(unsigned n) {
        uint64_t v = 0;
        for (unsigned i = 0; i < n; ++i)
            v |= uint64_t(byte()) << (8 * i);
        return v;
    }
};

// The errnos a failed call of the input returns (those kernel functions fail with most).
constexpr int fuzz_errnos[] = {ENOMEM, EBUSY, EINVAL, ENODEV, EIO, EEXIST, ENOSPC, EAGAIN};

std::string param_value(Reader& r, uint8_t control, std::string type) {
    if (type.starts_with("array of ")) type = type.substr(9);  // one element
    if (type == "bool" || type == "invbool") return control & 2 ? "Y" : "N";
    if (type == "charp" || type == "string") {
        unsigned n = r.byte() % 32;
        static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.,:/ABCDEFGHIJ";
        std::string v;
        for (unsigned i = 0; i < n; ++i)
            v += letters[r.byte() % (sizeof letters - 1)];
        return v;
    }
    bool wide = type == "long" || type == "ulong" || type == "llong" || type == "ullong";
    uint64_t raw = r.le(wide ? 8 : 4);
    if (type == "uint" || type == "ulong" || type == "ullong") return std::to_string(raw);
    if (type == "ushort") return std::to_string(raw & 0xffff);
    if (type == "short") return std::to_string(int16_t(raw));
    if (type == "byte") return std::to_string(raw & 0xff);
    if (type == "hexint")
        return "0x" + [&] {
            char b[16];
            std::snprintf(b, sizeof b, "%x", uint32_t(raw));
            return std::string(b);
        }();
    if (wide) return std::to_string(int64_t(raw));
    return std::to_string(int32_t(raw));  // int, and types of a module's own ops
}

}  // namespace

FuzzDecision decode_fuzz_input(std::span<const uint8_t> data, const std::vector<FuzzParam>& params,
                               bool faults) {
    FuzzDecision d;
    Reader r{data};
    uint8_t fault = r.byte();
    if (fault & 0x80) {
        if (fault & 0x40) {
            d.faults.fail_alloc = r.byte() % 16 + 1;
        } else {
            const std::vector<FallibleFunction>& fs = fallible_functions();
            const FallibleFunction& f = fs[r.byte() % fs.size()];
            FaultSpec spec;
            spec.function = f.name;
            spec.nth = r.byte() % 4 + 1;
            spec.err = fuzz_errnos[r.byte() % std::size(fuzz_errnos)];
            if (f.form == FailureForm::null) spec.err = ENOMEM;
            d.faults.fail.push_back(spec);
        }
    }
    if (!faults) d.faults = FaultPlan{};
    d.seed = r.byte();
    d.faults.seed = d.seed;
    for (const FuzzParam& p : params) {
        uint8_t control = r.byte();
        if (!(control & 1)) continue;
        d.params.push_back(p.name + "=" + param_value(r, control, p.type));
    }
    return d;
}

std::string FuzzDecision::describe() const {
    std::string s = "--seed " + std::to_string(seed);
    if (faults.fail_alloc) s += " --fail-alloc " + std::to_string(faults.fail_alloc);
    for (const FaultSpec& f : faults.fail)
        s += " --fail " + f.function + ":" + std::to_string(f.nth) + ":" + errno_string(f.err);
    for (const std::string& p : params)
        s += " " + p;
    return s;
}

RunOptions apply_fuzz_decision(const RunOptions& base, const FuzzDecision& d) {
    RunOptions o = base;
    o.params.insert(o.params.end(), d.params.begin(), d.params.end());
    o.seed = d.seed;
    uint64_t keep_seed = d.seed;
    if (d.faults.any()) o.faults = d.faults;
    o.faults.seed = keep_seed;
    return o;
}

namespace {

bool starts(const std::string& s, const char* p) {
    return s.starts_with(p);
}

// A line that begins a report, and the kind of report.
const char* report_kind(const std::string& l) {
    if (starts(l, "Unable to handle kernel") || starts(l, "Unhandled fault:") ||
        starts(l, "Internal error:"))
        return "oops";
    // ARM's oops begins with its own separator; the line after it says what happened.
    if (starts(l, "8<--- cut here ---")) return "";
    if (starts(l, "Kernel panic")) return "panic";
    if (starts(l, "kernel BUG at") || starts(l, "BUG:")) return "BUG";
    if (starts(l, "WARNING: CPU:")) return "WARNING";
    if (starts(l, "WARNING:")) return "lockdep";
    if (starts(l, "------------[ cut here ]------------") || starts(l, "=========")) return "";
    return nullptr;
}

std::string mask_numbers(const std::string& s) {
    // Addresses and values vary between runs of the same bug: long hexadecimal numbers and
    // process ids do not make a signature.
    static const std::regex hex("[0-9a-f]{8,16}");
    static const std::regex pid("PID: [0-9]+");
    return std::regex_replace(std::regex_replace(s, hex, "X"), pid, "PID: N");
}

}  // namespace

std::optional<Finding> find_finding(const RunOutcome& out) {
    if (out.ending == "internal" || out.ending == "unimplemented") return std::nullopt;
    Finding f;
    size_t begin = out.log.size();
    std::string first;
    for (size_t i = 0; i < out.log.size(); ++i) {
        const char* k = report_kind(out.log[i].text);
        if (!k) continue;
        if (begin == out.log.size()) begin = i;
        if (*k) {
            f.kind = k;
            first = out.log[i].text;
            break;
        }
    }
    if (!first.empty()) {
        for (size_t i = begin; i < out.log.size(); ++i)
            f.report.push_back(out.log[i].text);
        f.signature = mask_numbers(first);
        // The oops's kind: the first line says what was accessed, the pc where.
        for (const std::string& l : f.report) {
            std::string pc;
            if (starts(l, "pc : ") && !starts(l, "pc : [<")) pc = l.substr(5);
            if (starts(l, "PC is at ")) pc = l.substr(9);
            if (!pc.empty()) {
                f.signature += " at " + pc;
                break;
            }
        }
        // A report whose pc is in the kernel: the module's frame that called it, from the trace.
        bool in_module = f.signature.ends_with("]");
        for (size_t i = 0; i < f.report.size() && !in_module; ++i) {
            const std::string& l = f.report[i];
            if (l.empty() || l[0] != ' ' || l.find(" [") == std::string::npos) continue;
            std::string frame = l.substr(1, l.find(" from ") - 1);
            if (!frame.ends_with("]")) continue;
            f.signature += " from " + frame;
            break;
        }
        return f;
    }
    if (out.ending == "oops" || out.ending == "panic") {
        f.kind = out.ending;
        f.signature = out.ending;
        for (const LogLine& l : out.log)
            f.report.push_back(l.text);
        return f;
    }
    if (out.ending == "hang") {
        f.kind = "hang";
        f.signature = "hang";
        for (const std::string& d : out.diagnostics) {
            f.report.push_back(d);
            size_t at = d.find(" exhausted at ");
            if (at == std::string::npos) at = d.find(" reached at ");
            if (at == std::string::npos || f.signature != "hang") continue;
            std::string where = d.substr(d.find(" at ", at) + 4);
            if (size_t plus = where.find('+'); plus != std::string::npos) {
                size_t mod = where.find(" [");
                where = where.substr(0, plus) + (mod != std::string::npos ? where.substr(mod) : "");
            }
            f.signature = "hang in " + where;
        }
        return f;
    }
    return std::nullopt;
}

}  // namespace kmodemu
