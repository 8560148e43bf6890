// The arm64 oops report as arch/arm64/mm/fault.c and traps.c print it, the real kernel's symbol
// table and code read from the kit's image (kernel_stubs/real_kernel.h), and faults inside the
// kernel functions the module calls (memset into a bad pointer, a gigabyte of it, FORTIFY's
// BUG in fortify_panic()). Where the kit is there, lines are compared with what the real kernel
// printed for the same case (tests/oracle/<release>.expected, recorded by tools/qemu-oracle).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/real_kernel.h"
#include "tests/fixture_util.h"
#include "tools/oracle.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;
using fx::texts;

namespace {

// --- a synthetic arm64 image with kallsyms tables as scripts/kallsyms.c lays them out ---

constexpr size_t fn_count = 300, text_at = 0x10000;

// Functions of varied sizes, as a kernel's are (32..144 bytes).
size_t fn_size(size_t i) {
    return 32 + 4 * ((i * 13) % 29);
}
size_t fn_offset(size_t i) {
    size_t off = 0;
    for (size_t j = 0; j < i; ++j)
        off += fn_size(j);
    return off;
}

void put32(std::string& s, size_t off, uint32_t v) {
    std::memcpy(&s[off], &v, 4);
}

void align(std::string& s, size_t a) {
    s.resize((s.size() + a - 1) / a * a, '\0');
}

// Functions fn_0..fn_299 from image offset 0x10000, each calling another (fn_(7i+3)) with a BL;
// fn_7 has an alias __fn_7 listed first; fn_5 holds two BUG()s (brk #0x800) with __bug_table
// entries for lib/fake.c:123 and :124; fn_9 makes no call.
enum class Layout {
    plain,         // 6.1: offsets, relative base, count, names, markers, token table and index
    seqs,          // 6.2, 6.3 (and backports): kallsyms_seqs_of_names before the token table
    offsets_last,  // 6.4+: count, names, markers, token table and index, offsets, base, seqs
};
std::string synthetic_image(Layout layout) {
    std::string img(text_at + fn_offset(fn_count), '\0');
    struct Sym {
        uint32_t offset;
        std::string name;  // type letter first
    };
    std::vector<Sym> syms;
    for (size_t i = 0; i < fn_count; ++i) {
        uint32_t a = static_cast<uint32_t>(fn_offset(i));
        if (i == 7) syms.push_back({a, "T__fn_7"});
        syms.push_back({a, "Tfn_" + std::to_string(i)});
        size_t off = text_at + a;
        for (size_t w = 0; w < fn_size(i) / 4; ++w)
            put32(img, off + 4 * w, 0xd503201f);  // nop
        if (i != 9) {
            int64_t words = (static_cast<int64_t>(fn_offset((7 * i + 3) % fn_count)) - a) / 4 - 1;
            put32(img, off + 4, 0x94000000u | (static_cast<uint32_t>(words) & 0x3ffffffu));
        }
        if (i == 5) put32(img, off + 8, 0xd4210000);  // brk #0x800
        if (i == 5) put32(img, off + 12, 0xd4210000);
        put32(img, off + fn_size(i) - 4, 0xd65f03c0);  // ret
    }
    // The bug table (relative pointers; the second trap's entry first) and the file name.
    size_t table = img.size();
    img.resize(table + 24, '\0');
    size_t file = img.size();
    img += std::string("lib/fake.c") + '\0';
    for (size_t k = 0; k < 2; ++k) {
        size_t entry = table + 12 * k, trap = text_at + fn_offset(5) + (k ? 8 : 12);
        put32(img, entry, static_cast<uint32_t>(trap - entry));
        put32(img, entry + 4, static_cast<uint32_t>(file - (entry + 4)));
        uint16_t line = k ? 123 : 124;
        std::memcpy(&img[entry + 8], &line, 2);
    }

    // kallsyms_offsets and kallsyms_relative_base (0: relocated at boot).
    auto offsets = [&] {
        align(img, 8);
        for (const Sym& s : syms) {
            img.resize(img.size() + 4);
            put32(img, img.size() - 4, s.offset);
        }
        align(img, 8);
        img.resize(img.size() + 8, '\0');
    };
    // kallsyms_seqs_of_names: the symbols in the order of their names (here: the table's).
    auto seqs_of_names = [&] {
        align(img, 8);
        for (size_t i = 0; i < syms.size(); ++i)
            img += std::string{0, static_cast<char>(i >> 8), static_cast<char>(i)};
    };
    if (layout != Layout::offsets_last) offsets();
    // kallsyms_num_syms.
    align(img, 8);
    img.resize(img.size() + 4);
    put32(img, img.size() - 4, static_cast<uint32_t>(syms.size()));
    // kallsyms_names: each byte its own token (the token table below is the identity).
    align(img, 8);
    size_t names = img.size();
    std::vector<uint32_t> markers;
    for (size_t i = 0; i < syms.size(); ++i) {
        if (i % 256 == 0) markers.push_back(static_cast<uint32_t>(img.size() - names));
        img += static_cast<char>(syms[i].name.size());
        img += syms[i].name;
    }
    align(img, 8);
    for (uint32_t m : markers) {
        img.resize(img.size() + 4);
        put32(img, img.size() - 4, m);
    }
    if (layout == Layout::seqs) seqs_of_names();
    align(img, 8);
    size_t tokens = img.size();
    std::vector<uint16_t> index;
    for (int c = 0; c < 256; ++c) {
        index.push_back(static_cast<uint16_t>(img.size() - tokens));
        img += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : std::string("~~");
        img += '\0';
    }
    align(img, 8);
    for (uint16_t v : index)
        img.append(reinterpret_cast<const char*>(&v), 2);
    if (layout == Layout::offsets_last) {
        offsets();
        seqs_of_names();
    }
    return img;
}

// --- runs of the fixtures ---

std::string kit_arm64() {
    std::string kit = KMODEMU_KIT_ARM64;
    return !kit.empty() && std::ifstream(kit + "/kit.env").good() ? kit : "";
}

RunOutcome run(const std::string& module, std::vector<std::string> params, const std::string& kit) {
    RunOptions opts;
    opts.params = std::move(params);
    opts.budget = 5'000'000;
    opts.kernel_kit = kit;
    return run_module(fx::module("arm64", module), opts);
}

// The real kernel's lines of an oracle case, for the kit's release (nullopt: not recorded).
std::optional<std::vector<std::string>> recorded(const std::string& kit, const std::string& name) {
    auto profile = KernelProfile::from_kit(kit);
    auto file = oracle::read_results(
        oracle::results_path(std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle", profile->release));
    if (!file || !file->cases.count(name)) return std::nullopt;
    return file->cases.at(name).log;
}

// The first line starting with `prefix`, or "".
std::string line_of(const std::vector<std::string>& lines, const std::string& prefix) {
    for (const std::string& l : lines)
        if (l.starts_with(prefix)) return l;
    return "";
}

// The lines after "Call trace:" up to the next that does not start with a space.
std::vector<std::string> call_trace(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    auto it = std::find(lines.begin(), lines.end(), "Call trace:");
    for (++it; it < lines.end() && it->starts_with(" "); ++it)
        out.push_back(*it);
    return out;
}

// The oops header a data abort prints before the registers: from "Unable to handle" to
// "Internal error", without show_pte()'s physical addresses (they change from boot to boot).
std::vector<std::string> abort_header(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    bool in = false;
    static const std::regex phys("=[0-9a-f]{16}");
    for (const std::string& l : lines) {
        in |= l.starts_with("Unable to handle kernel ");
        if (!in) continue;
        out.push_back(std::regex_replace(l, phys, "=<phys>"));
        if (l.starts_with("Internal error: ")) break;
    }
    return out;
}

}  // namespace

TEST(Kallsyms, ReadsTheTablesOfAnImage) {
    for (Layout layout : {Layout::plain, Layout::seqs, Layout::offsets_last}) {
        const int which = static_cast<int>(layout);  // for messages
        Kallsyms ks(synthetic_image(layout), Arch::arm64, false);
        ASSERT_EQ(ks.size(), fn_count + 1) << which;
        EXPECT_EQ(ks.name(0), "fn_0");
        EXPECT_EQ(ks.type(0), 'T');
        EXPECT_EQ(ks.address(fn_count), fn_offset(fn_count - 1));
        auto fn = ks.find("fn_42");
        ASSERT_TRUE(fn) << which;
        EXPECT_EQ(fn->name, "fn_42");
        EXPECT_EQ(fn->addr, fn_offset(42));
        EXPECT_EQ(fn->size, fn_size(42));
        EXPECT_EQ(fn->type, 'T');
        // get_symbol_pos(): an address is named by the first of its aliases.
        auto alias = ks.find("fn_7");
        ASSERT_TRUE(alias);
        EXPECT_EQ(alias->name, "__fn_7");
        EXPECT_EQ(alias->addr, fn_offset(7));
        EXPECT_FALSE(ks.find("fn_300"));
    }
}

TEST(Kallsyms, FindsTheTextFromWhereCallsLand) {
    for (Layout layout : {Layout::seqs, Layout::offsets_last}) {
        std::string img = synthetic_image(layout);
        Kallsyms ks(img, Arch::arm64, false);
        auto fn = ks.find("fn_11");
        ASSERT_TRUE(fn);
        auto code = ks.code(fn->addr, fn->size);
        ASSERT_TRUE(code);
        EXPECT_EQ(*code, std::string_view(img).substr(text_at + fn_offset(11), fn_size(11)));
        auto whole = ks.image();
        ASSERT_TRUE(whole);
        EXPECT_EQ(whole->second.size(), img.size());
        EXPECT_EQ(fn->addr - whole->first, text_at + fn_offset(11));
    }
}

TEST(Kallsyms, FindsTheBugTableEntryOfAFunction) {
    const KernelStructs::BugEntry& l = KernelStructs::defaults(Arch::arm64).bug_entry;
    for (Layout layout : {Layout::plain, Layout::offsets_last}) {
        Kallsyms ks(synthetic_image(layout), Arch::arm64, false);
        auto fn = ks.find("fn_5");
        ASSERT_TRUE(fn);
        auto bug = ks.bug_in(*fn, l);
        ASSERT_TRUE(bug);
        EXPECT_EQ(bug->file, "lib/fake.c");
        EXPECT_EQ(bug->line, 123u);
        EXPECT_EQ(bug->addr, fn->addr + 8);  // the first trap's
        auto second = ks.bug_in(*fn, l, 124);
        ASSERT_TRUE(second);
        EXPECT_EQ(second->line, 124u);
        EXPECT_EQ(second->addr, fn->addr + 12);
        EXPECT_EQ(ks.bug_in(*fn, l, 999)->addr, fn->addr + 8);
        EXPECT_FALSE(ks.bug_in(*ks.find("fn_6"), l));
    }
}

TEST(Kallsyms, RefusesAnImageWithoutTables) {
    EXPECT_THROW(Kallsyms(std::string(1 << 16, '\0'), Arch::arm64, false), std::runtime_error);
}

TEST(Emulator, FirstInaccessibleByteOfARange) {
    Emulator emu(Arch::arm64);
    emu.map(0x10000, 0x2000, prot_rw);
    emu.map(0x12000, 0x1000, prot_read);
    EXPECT_FALSE(emu.first_inaccessible(0x10000, 0x3000, prot_read));
    EXPECT_EQ(emu.first_inaccessible(0x10000, 0x3000, prot_write), 0x12000u);
    EXPECT_EQ(emu.first_inaccessible(0x11ff0, 0x2000, prot_read), 0x13000u);
    EXPECT_EQ(emu.first_inaccessible(0x8000, 0x10, prot_read), 0x8000u);
    EXPECT_FALSE(emu.first_inaccessible(0x8000, 0, prot_read));
}

// A stub's write faults at the first byte it may not write: read-only memory too (uc_mem_write()
// itself would write it).
TEST(StubFaults, WriteToReadOnlyMemoryFaultsAtItsFirstByte) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const uint64_t buf = 0x40000000;
    emu.map(buf, 0x1000, prot_rw);
    emu.map(buf + 0x1000, 0x1000, prot_read);
    const Export* memset = k.find_export("memset");
    ASSERT_NE(memset, nullptr);
    std::vector<uint64_t> args{buf + 0xff0, 0x5a, 0x20};
    RunResult r;
    try {
        emu.call(memset->address, args);
    } catch (const GuestFault& f) {
        r = f.result;
    }
    ASSERT_EQ(r.reason, RunResult::Reason::fault);
    EXPECT_EQ(r.fault.kind, Fault::Kind::write);
    EXPECT_FALSE(r.fault.unmapped);
    EXPECT_EQ(r.fault.address, buf + 0x1000);
    // Nothing was written before the fault was found.
    uint8_t b = 0;
    emu.read(buf + 0xff0, &b, 1);
    EXPECT_EQ(b, 0);
    args = {buf, 0x5a, 0x1000};
    EXPECT_EQ(emu.call(memset->address, args).reason, RunResult::Reason::returned);
    emu.read(buf + 0xfff, &b, 1);
    EXPECT_EQ(b, 0x5a);
}

// memmove() copies overlapping ranges as if through a buffer, in both directions.
TEST(StubFaults, MemmoveOverlapsBothWays) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const uint64_t buf = 0x40000000;
    emu.map(buf, 0x40000, prot_rw);
    std::vector<uint8_t> v(0x30000);
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<uint8_t>(i * 7 + i / 251);
    emu.write(buf, v.data(), v.size());
    const Export* memmove = k.find_export("memmove");
    ASSERT_NE(memmove, nullptr);
    std::vector<uint64_t> up{buf + 0x8000, buf, 0x28000};
    ASSERT_EQ(emu.call(memmove->address, up).reason, RunResult::Reason::returned);
    std::vector<uint8_t> got(0x28000);
    emu.read(buf + 0x8000, got.data(), got.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), v.begin()));
    std::vector<uint64_t> down{buf, buf + 0x8000, 0x28000};
    ASSERT_EQ(emu.call(memmove->address, down).reason, RunResult::Reason::returned);
    emu.read(buf, got.data(), got.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), v.begin()));
}

// A gigabyte of memset() into a bad pointer oopses at the first bad byte (not an internal error
// allocating a gigabyte), without the kit too: at the stub of memset.
TEST(StubFaults, HugeMemsetIntoABadPointerOopses) {
    RunOutcome out = run("quirks", {"mode=5", "len=1073741824"}, "");
    EXPECT_EQ(out.exit_status, 139);
    EXPECT_EQ(out.ending, "oops");
    EXPECT_TRUE(has_line(
        out,
        "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000140"));
    EXPECT_TRUE(has_line(out, "  ESR = 0x0000000096000046"));
    EXPECT_TRUE(has_line(out, "  CM = 0, WnR = 1"));
    EXPECT_TRUE(line_of(texts(out), "pc : ").starts_with("pc : memset+0x0/"));
    EXPECT_TRUE(line_of(texts(out), "lr : ").starts_with("lr : quirks_init+0x"));
}

// The ESR of a data abort: read or write, and the level the walk of the page tables stops at.
TEST(Oops64, MemAbortInfoOfEachKindOfFault) {
    struct Case {
        std::string module, param, esr, fsc, pgtable;
    } cases[] = {
        // a NULL read: insmod's page tables map its executable at 4 MiB, no pmd for 0..2 MiB
        {"faulty", "mode=1", "0x0000000096000006", "0x06: level 2 translation fault", "user"},
        // a write to the module's rodata: the page is there, read-only
        {"faulty", "mode=3", "0x000000009600004f", "0x0f: level 3 permission fault", "swapper"},
        // a NULL write inside memset()
        {"quirks", "mode=5", "0x0000000096000046", "0x06: level 2 translation fault", "user"},
    };
    for (const Case& c : cases) {
        RunOutcome out = run(c.module, {c.param}, "");
        auto t = texts(out);
        SCOPED_TRACE(c.module + " " + c.param);
        EXPECT_TRUE(has_line(out, "Mem abort info:"));
        EXPECT_TRUE(has_line(out, "  ESR = " + c.esr));
        EXPECT_TRUE(has_line(out, "  EC = 0x25: DABT (current EL), IL = 32 bits"));
        EXPECT_TRUE(has_line(out, "  FSC = " + c.fsc));
        uint64_t esr = std::stoull(c.esr, nullptr, 16);
        char iss[64];
        std::snprintf(iss, sizeof iss, "  ISV = 0, ISS = 0x%08llx",
                      (unsigned long long)(esr & 0x1ffffff));
        EXPECT_TRUE(has_line(out, iss));
        EXPECT_TRUE(line_of(t, c.pgtable + " pgtable: 4k pages, 48-bit VAs, pgdp=").size());
        char die[64];
        std::snprintf(die, sizeof die, "Internal error: Oops: %016llx [#1] SMP",
                      (unsigned long long)esr);
        EXPECT_TRUE(has_line(out, die));
    }
}

TEST(Oops64, PstateIsDecoded) {
    RunOutcome out = run("faulty", {"mode=1"}, "");
    std::string p = line_of(texts(out), "pstate: ");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(p, m,
                                 std::regex(R"(pstate: ([0-9a-f]{8}) \(([NnZzCcVv]{4}) daif )"
                                            R"(-PAN -UAO -TCO -DIT -SSBS BTYPE=--\))")))
        << p;
    uint32_t v = std::stoul(m[1].str(), nullptr, 16);
    EXPECT_EQ(v & 0xfffffff, 5u);  // EL1h
    const char* flags = "NZCV";
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(m[2].str()[i], (v >> (31 - i)) & 1 ? flags[i] : std::tolower(flags[i]));
}

// The report's lines that do not hold addresses are the real kernel's (the kit's image supplies
// the names, sizes and code of the kernel's functions).
TEST(Oops64, SameLinesAsTheRealKernel) {
    std::string kit = kit_arm64();
    ASSERT_FALSE(kit.empty()) << "no arm64 kit (tools/fetch-kernel-kit makes one)";
    struct Case {
        const char* name;
        const char* module;
        std::vector<std::string> params;
    } cases[] = {
        {"faulty_null", "faulty", {"mode=1"}},
        {"faulty_rodata", "faulty", {"mode=3"}},
        {"quirks_memset_bad", "quirks", {"mode=5"}},
        {"quirks_memset_huge", "quirks", {"mode=5", "len=1073741824"}},
        {"quirks_memcpy_bad", "quirks", {"mode=6"}},
        {"faulty_bug", "faulty", {"mode=7"}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        auto real = recorded(kit, c.name);
        if (!real) continue;
        RunOutcome out = run(c.module, c.params, kit);
        auto mine = texts(out);
        EXPECT_EQ(out.exit_status, 139);
        // A user address is the same in both; a kernel one is where the module was loaded, in
        // the first line and show_pte()'s.
        std::vector<std::string> head = abort_header(*real), my_head = abort_header(mine);
        if (line_of(*real, "user pgtable").empty()) {
            auto addressed = [](const std::string& l) {
                return l.starts_with("Unable to handle") || l.starts_with("[");
            };
            std::erase_if(head, addressed);
            std::erase_if(my_head, addressed);
        }
        EXPECT_EQ(my_head, head);
        for (const char* prefix : {"Internal error: ", "kernel BUG at lib/",
                                   "Hardware name: ", "detected buffer overflow"}) {
            if (!line_of(*real, prefix).empty()) {
                EXPECT_EQ(line_of(mine, prefix), line_of(*real, prefix));
            }
        }
        // The CPU line but for the pid.
        static const std::regex pid("PID: [0-9]+");
        EXPECT_EQ(std::regex_replace(line_of(mine, "CPU: "), pid, "PID: N"),
                  std::regex_replace(line_of(*real, "CPU: "), pid, "PID: N"));
        // Inside the kernel's own functions, the pc, the Code: line and the call trace's first
        // frames (down to the caller of init) are the kernel's.
        std::string pc = line_of(*real, "pc : ");
        if (pc.find(" [") == std::string::npos) {
            EXPECT_EQ(line_of(mine, "pc : "), pc);
            EXPECT_EQ(line_of(mine, "Code: "), line_of(*real, "Code: "));
        }
        auto rt = call_trace(*real), mt = call_trace(mine);
        ASSERT_GE(rt.size(), mt.size());
        ASSERT_GE(mt.size(), 2u);
        EXPECT_TRUE(std::equal(mt.begin(), mt.end(), rt.begin()));
    }
}

TEST(Oops64, FortifyPanicIsABugInIt) {
    std::string kit = kit_arm64();
    RunOutcome out = run("quirks", {"mode=6"}, kit);
    EXPECT_EQ(out.exit_status, 139);
    auto t = texts(out);
    auto it = std::find(t.begin(), t.end(), "detected buffer overflow in memcpy");
    ASSERT_NE(it, t.end());
    ASSERT_LT(it + 3, t.end());
    EXPECT_EQ(it[1], "------------[ cut here ]------------");
    EXPECT_TRUE(it[2].starts_with("kernel BUG at lib/string_helpers.c:")) << it[2];
    EXPECT_EQ(it[3], "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP");
    EXPECT_TRUE(line_of(t, "pc : ").starts_with("pc : fortify_panic+0x"));
    // x0 holds what the pr_emerg() returned, the length of its text.
    EXPECT_NE(line_of(t, "x2 : ").find(" x0 : 0000000000000022"), std::string::npos);
    // The module's call is the second frame.
    auto trace = call_trace(t);
    ASSERT_GE(trace.size(), 2u);
    EXPECT_TRUE(trace[1].starts_with(" quirks_init+0x")) << trace[1];
}

// The CPU line carries the kernel's build (UTS_VERSION's first word) and Debian's package
// version as the kit's headers define them, and the current task's pid and comm.
TEST(Oops64, CpuLineNamesTheKitsKernel) {
    std::string kit = kit_arm64();
    ASSERT_FALSE(kit.empty()) << "no arm64 kit (tools/fetch-kernel-kit makes one)";
    auto profile = KernelProfile::from_kit(kit);
    RealKernel real(profile, Arch::arm64);
    ASSERT_TRUE(real.uts_build().starts_with("#"));
    RunOutcome out = run("faulty", {"mode=5"}, kit);
    std::string cpu = line_of(texts(out), "CPU: 0 PID: 1234 Comm: insmod Tainted: ");
    ASSERT_FALSE(cpu.empty());
    EXPECT_TRUE(
        cpu.ends_with(" " + profile->release + " " + real.uts_build() + " " + real.package_id()))
        << cpu;
}
