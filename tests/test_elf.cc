// ELF validity checks (kernel/module/main.c elf_validity_check() / setup_load_info()): every
// case starts from the real Kbuild-built hello.ko and patches its ELF header or section header
// table, then checks that kmodemu refuses it like the kernel, with the kernel's message.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "loader/elf_file.h"
#include "tools/runner.h"

using Bytes = std::vector<uint8_t>;

namespace {

const char* const hello_path = KMODEMU_FIXTURES_ARM64 "/hello/hello.ko";

Bytes read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The pristine module, read once.
const Bytes& hello_bytes() {
    static const Bytes bytes = read_file(hello_path);
    return bytes;
}

Elf64_Ehdr get_ehdr(const Bytes& b) {
    Elf64_Ehdr h;
    std::memcpy(&h, b.data(), sizeof h);
    return h;
}

void put_ehdr(Bytes& b, const Elf64_Ehdr& h) {
    std::memcpy(b.data(), &h, sizeof h);
}

size_t shdr_offset(const Bytes& b, size_t i) {
    return get_ehdr(b).e_shoff + i * sizeof(Elf64_Shdr);
}

Elf64_Shdr get_shdr(const Bytes& b, size_t i) {
    Elf64_Shdr s;
    std::memcpy(&s, b.data() + shdr_offset(b, i), sizeof s);
    return s;
}

void put_shdr(Bytes& b, size_t i, const Elf64_Shdr& s) {
    std::memcpy(b.data() + shdr_offset(b, i), &s, sizeof s);
}

// Index of the section called `name` in the unmodified file (0 if none).
size_t section_index(const Bytes& b, std::string_view name) {
    Elf64_Ehdr h = get_ehdr(b);
    Elf64_Shdr str = get_shdr(b, h.e_shstrndx);
    for (size_t i = 1; i < h.e_shnum; ++i) {
        Elf64_Shdr s = get_shdr(b, i);
        const char* n = reinterpret_cast<const char*>(b.data() + str.sh_offset + s.sh_name);
        if (name == n) return i;
    }
    return 0;
}

template <class F>
Bytes with_ehdr(F f) {
    Bytes b = hello_bytes();
    Elf64_Ehdr h = get_ehdr(b);
    f(h);
    put_ehdr(b, h);
    return b;
}

template <class F>
Bytes with_shdr(std::string_view section, F f) {
    Bytes b = hello_bytes();
    size_t i = section_index(b, section);
    EXPECT_NE(i, 0u) << section;
    Elf64_Shdr s = get_shdr(b, i);
    f(s);
    put_shdr(b, i, s);
    return b;
}

kmodemu::Status open_elf(Bytes b) {
    kmodemu::ElfFile elf;
    return elf.open(std::move(b), kmodemu::Arch::arm64);
}

kmodemu::RunOutcome run(Bytes b) {
    kmodemu::RunOptions opts;
    opts.budget = 5'000'000;
    opts.time_limit = 5.0;
    return kmodemu::run_module(std::move(b), opts);
}

bool log_has(const kmodemu::RunOutcome& out, std::string_view line) {
    return std::any_of(out.log.begin(), out.log.end(),
                       [&](const kmodemu::LogLine& l) { return l.text == line; });
}

std::string log_text(const kmodemu::RunOutcome& out) {
    std::string s;
    for (const auto& l : out.log)
        s += "  <" + std::to_string(l.level) + ">" + l.text + "\n";
    return s;
}

// What a run_module() in a child process came to.
struct ChildRun {
    bool survived = false;  // returned normally and reported
    std::string death;      // otherwise: how the child ended
    std::string threw;      // or what run_module threw
    int exit_status = -1;
    size_t log_lines = 0;
};

void write_all(int fd, const std::string& s) {
    for (size_t done = 0; done < s.size();) {
        ssize_t n = write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += size_t(n);
    }
}

// Runs run_module(input(i), opts) for i in [0, count) in forked child processes, many inputs per
// child, so that a crash fails the check of the input that caused it instead of killing the test
// binary. A child that dies is replaced by a new one that continues with the next input.
std::vector<ChildRun> run_in_children(size_t count, const std::function<Bytes(size_t)>& input,
                                      const kmodemu::RunOptions& opts) {
    std::vector<ChildRun> runs(count);
    std::vector<bool> done(count, false);
    for (size_t next = 0; next < count;) {
        int fds[2];
        if (pipe(fds) != 0) {
            runs[next].death = "pipe() failed";
            return runs;
        }
        std::fflush(stdout);
        std::fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            close(fds[0]);
            close(fds[1]);
            runs[next].death = "fork() failed";
            return runs;
        }
        if (pid == 0) {
            close(fds[0]);
            for (size_t i = next; i < count; ++i) {
                std::string line;
                try {
                    kmodemu::RunOutcome out = kmodemu::run_module(input(i), opts);
                    line = "ok " + std::to_string(i) + " " + std::to_string(out.exit_status) + " " +
                           std::to_string(out.log.size());
                } catch (const std::exception& e) {
                    line = "throw " + std::to_string(i) + " " + e.what();
                } catch (...) {
                    line = "throw " + std::to_string(i) + " (not a std::exception)";
                }
                std::replace(line.begin(), line.end(), '\n', ' ');
                write_all(fds[1], line + "\n");
            }
            _exit(0);
        }
        close(fds[1]);
        std::string buf;
        char chunk[4096];
        for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;) {
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            buf.append(chunk, size_t(n));
            for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
                std::string line = buf.substr(0, nl);
                size_t i = 0;
                int consumed = 0;
                ChildRun r;
                if (std::sscanf(line.c_str(), "ok %zu %d %zu", &i, &r.exit_status, &r.log_lines) ==
                    3) {
                    r.survived = true;
                } else if (std::sscanf(line.c_str(), "throw %zu %n", &i, &consumed) == 1 &&
                           consumed > 0) {
                    r.threw = line.substr(size_t(consumed));
                } else {
                    continue;
                }
                if (i < count) {
                    runs[i] = r;
                    done[i] = true;
                }
            }
        }
        close(fds[0]);
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
        }
        while (next < count && done[next])
            ++next;
        if (next == count) break;
        // The child ended before reporting input `next`: that input killed it.
        if (WIFSIGNALED(ws))
            runs[next].death = "killed by signal " + std::to_string(WTERMSIG(ws)) + " (" +
                               strsignal(WTERMSIG(ws)) + ")";
        else
            runs[next].death = "child exited with status " + std::to_string(WEXITSTATUS(ws)) +
                               " without reporting";
        done[next] = true;
        ++next;
    }
    return runs;
}

ChildRun run_in_child(const Bytes& b, const kmodemu::RunOptions& opts) {
    return run_in_children(
        1, [&](size_t) { return b; }, opts)[0];
}

// Tests must never skip: a missing fixture is a failure.
class ElfValidity : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_GT(hello_bytes().size(), sizeof(Elf64_Ehdr))
            << "fixture module missing or empty: " << hello_path;
        Elf64_Ehdr h = get_ehdr(hello_bytes());
        ASSERT_EQ(std::memcmp(h.e_ident, ELFMAG, SELFMAG), 0);
        ASSERT_EQ(h.e_ident[EI_CLASS], ELFCLASS64);
        ASSERT_EQ(h.e_machine, EM_AARCH64);
        ASSERT_EQ(h.e_shentsize, sizeof(Elf64_Shdr));
        ASSERT_EQ(h.e_shoff + h.e_shnum * sizeof(Elf64_Shdr), hello_bytes().size())
            << "hello.ko is expected to end with its section header table";
        ASSERT_NE(section_index(hello_bytes(), ".symtab"), 0u);
        ASSERT_NE(section_index(hello_bytes(), ".strtab"), 0u);
        ASSERT_NE(section_index(hello_bytes(), ".gnu.linkonce.this_module"), 0u);
    }

    // ElfFile::open refuses `b` with -ENOEXEC and exactly `message`.
    static void expect_noexec(Bytes b, const std::string& message) {
        SCOPED_TRACE("expecting ElfFile::open to fail with: " + message);
        kmodemu::Status st = open_elf(std::move(b));
        EXPECT_EQ(st.err, -ENOEXEC) << st.message;
        EXPECT_EQ(st.message, message);
    }

    // The whole insmod fails with ENOEXEC and the log has `line`.
    static void expect_run_noexec(Bytes b, const std::string& line) {
        SCOPED_TRACE("expecting run_module to fail with: " + line);
        kmodemu::RunOutcome out = run(std::move(b));
        EXPECT_EQ(out.exit_status, ENOEXEC) << log_text(out);
        EXPECT_EQ(out.ending, "errno");
        EXPECT_TRUE(log_has(out, line)) << "missing log line: " << line << "\n" << log_text(out);
    }
};

}  // namespace

TEST_F(ElfValidity, PristineModuleLoads) {
    kmodemu::ElfFile elf;
    kmodemu::Status st = elf.open(hello_bytes(), kmodemu::Arch::arm64);
    ASSERT_TRUE(st) << st.message;
    EXPECT_EQ(elf.sections().size(), get_ehdr(hello_bytes()).e_shnum);
    EXPECT_EQ(elf.symtab_index(), section_index(hello_bytes(), ".symtab"));
    kmodemu::RunOutcome out = run(hello_bytes());
    EXPECT_EQ(out.exit_status, 0) << log_text(out);
    EXPECT_EQ(out.module_name, "hello");
}

// --- ELF header ---

TEST_F(ElfValidity, NotElfAtAll) {
    std::string text =
        "This is a plain text file, not a kernel module. It is long enough to be read as an ELF "
        "header, so the magic check is the one that refuses it.\n";
    ASSERT_GT(text.size(), sizeof(Elf64_Ehdr));
    Bytes b(text.begin(), text.end());
    const std::string msg =
        "Invalid ELF header magic: != \x7f"
        "ELF";
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
}

TEST_F(ElfValidity, BadMagicInRealModule) {
    Bytes b = hello_bytes();
    b[3] = 'X';
    expect_noexec(b,
                  "Invalid ELF header magic: != \x7f"
                  "ELF");
}

TEST_F(ElfValidity, TruncatedToTenBytes) {
    Bytes b(hello_bytes().begin(), hello_bytes().begin() + 10);
    expect_noexec(b, "Invalid ELF header len 10");
    expect_run_noexec(b, "Invalid ELF header len 10");
}

TEST_F(ElfValidity, TruncatedJustShortOfHeader) {
    Bytes b(hello_bytes().begin(), hello_bytes().begin() + sizeof(Elf64_Ehdr) - 1);
    expect_noexec(b, "Invalid ELF header len 63");
}

TEST_F(ElfValidity, EmptyFile) {
    expect_noexec({}, "Invalid ELF header len 0");
}

TEST_F(ElfValidity, TruncatedBeforeSectionHeaders) {
    // Cut in the middle of the file: e_shoff is now past the end.
    Bytes b(hello_bytes().begin(), hello_bytes().begin() + hello_bytes().size() / 2);
    ASSERT_GE(get_ehdr(b).e_shoff, b.size());
    expect_noexec(b, "Invalid ELF section header overflow");
    expect_run_noexec(b, "Invalid ELF section header overflow");
}

TEST_F(ElfValidity, TruncatedInsideSectionHeaderTable) {
    // e_shoff < len, but e_shnum * sizeof(Elf64_Shdr) > len - e_shoff.
    const Bytes& full = hello_bytes();
    size_t cut = get_ehdr(full).e_shoff + 10 * sizeof(Elf64_Shdr) + 17;
    Bytes b(full.begin(), full.begin() + cut);
    expect_noexec(b, "Invalid ELF section header overflow");
    // One byte short of the whole table.
    Bytes c(full.begin(), full.end() - 1);
    expect_noexec(c, "Invalid ELF section header overflow");
}

TEST_F(ElfValidity, TypeExec) {
    Bytes b = with_ehdr([](Elf64_Ehdr& h) { h.e_type = ET_EXEC; });
    expect_noexec(b, "Invalid ELF header type: 2 != 1");
    expect_run_noexec(b, "Invalid ELF header type: 2 != 1");
}

TEST_F(ElfValidity, TypeDyn) {
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_type = ET_DYN; }),
                  "Invalid ELF header type: 3 != 1");
}

TEST_F(ElfValidity, WrongMachine) {
    Bytes b = with_ehdr([](Elf64_Ehdr& h) { h.e_machine = EM_X86_64; });
    expect_noexec(b, "Invalid architecture in ELF header: 62");
    expect_run_noexec(b, "Invalid architecture in ELF header: 62");
}

TEST_F(ElfValidity, Aarch32MachineOnArm64) {
    // ElfFile::open for arm64 (the run path would sniff EM_ARM and pick the ARM kernel).
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_machine = EM_ARM; }),
                  "Invalid architecture in ELF header: 40");
}

// Only the four magic bytes of e_ident are checked (step 2 of elf_validity_check()): an arm64
// kernel reads the file through Elf64_Ehdr/Elf64_Shdr whatever EI_CLASS says, so an otherwise
// intact module with EI_CLASS = ELFCLASS32 passes every check (e_machine is EM_AARCH64,
// e_shentsize is 64, ...) and loads exactly like the original. kmodemu must not reinterpret
// the file as ELF32 (libelf would: e_shoff/e_shnum would then come from e_phoff/e_flags, i.e.
// no sections at all).
TEST_F(ElfValidity, Class32IsIgnoredLikeTheKernel) {
    Bytes b = hello_bytes();
    b[EI_CLASS] = ELFCLASS32;
    // First in a child process: this input must not crash kmodemu.
    ChildRun child = run_in_child(b, kmodemu::RunOptions{});
    ASSERT_TRUE(child.death.empty() && child.threw.empty())
        << "run_module on hello.ko with EI_CLASS = ELFCLASS32: " << child.death << child.threw;
    {
        kmodemu::ElfFile elf;
        kmodemu::Status st = elf.open(b, kmodemu::Arch::arm64);
        ASSERT_TRUE(st) << st.message;
        EXPECT_EQ(elf.sections().size(), get_ehdr(hello_bytes()).e_shnum);
        EXPECT_EQ(elf.symtab_index(), section_index(hello_bytes(), ".symtab"));
    }
    kmodemu::RunOutcome out = run(b);
    EXPECT_EQ(out.exit_status, 0) << log_text(out);
    EXPECT_EQ(out.module_name, "hello");
}

// The same holds for the other e_ident bytes (EI_DATA, EI_VERSION, EI_OSABI, ...): the kernel
// compares only ELFMAG, so each of these variants loads like the original.
TEST_F(ElfValidity, IdentBytesBeyondMagicAreIgnored) {
    struct Variant {
        const char* what;
        int index;
        uint8_t value;
    };
    const std::vector<Variant> variants = {
        {"EI_CLASS = ELFCLASSNONE", EI_CLASS, ELFCLASSNONE},
        {"EI_CLASS = 3", EI_CLASS, 3},
        {"EI_DATA = ELFDATANONE", EI_DATA, ELFDATANONE},
        {"EI_DATA = ELFDATA2MSB", EI_DATA, ELFDATA2MSB},
        {"EI_VERSION = EV_NONE", EI_VERSION, EV_NONE},
        {"EI_OSABI = ELFOSABI_LINUX", EI_OSABI, ELFOSABI_LINUX},
        {"EI_ABIVERSION = 1", EI_ABIVERSION, 1},
    };
    auto variant = [&](size_t i) {
        Bytes b = hello_bytes();
        b[variants[i].index] = variants[i].value;
        return b;
    };
    std::vector<ChildRun> runs = run_in_children(variants.size(), variant, kmodemu::RunOptions{});
    for (size_t i = 0; i < variants.size(); ++i) {
        SCOPED_TRACE(variants[i].what);
        const ChildRun& r = runs[i];
        if (!r.survived) {
            ADD_FAILURE() << "run_module "
                          << (r.death.empty() ? "threw: " + r.threw : "crashed: " + r.death);
            continue;
        }
        EXPECT_EQ(r.exit_status, 0);
        kmodemu::Status st = open_elf(variant(i));
        EXPECT_TRUE(st) << st.message;
    }
}

TEST_F(ElfValidity, WrongSectionHeaderEntrySize) {
    Bytes b = with_ehdr([](Elf64_Ehdr& h) { h.e_shentsize = sizeof(Elf32_Shdr); });
    expect_noexec(b, "Invalid ELF section header size");
    expect_run_noexec(b, "Invalid ELF section header size");
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shentsize = 0; }),
                  "Invalid ELF section header size");
}

TEST_F(ElfValidity, SectionHeaderOffsetBeyondFile) {
    const uint64_t len = hello_bytes().size();
    expect_noexec(with_ehdr([&](Elf64_Ehdr& h) { h.e_shoff = len + 4096; }),
                  "Invalid ELF section header overflow");
    expect_noexec(with_ehdr([&](Elf64_Ehdr& h) { h.e_shoff = len; }),
                  "Invalid ELF section header overflow");
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shoff = ~uint64_t(0) - 63; }),
                  "Invalid ELF section header overflow");
    // In bounds, but the table then runs past the end.
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shoff += 8; }),
                  "Invalid ELF section header overflow");
}

// With e_shnum = 0 the overflow check passes (0 bytes of headers fit anywhere before the end),
// section 0 is still read at e_shoff (hello.ko's real, valid NULL section) and the first check
// that fails is the section name index one.
TEST_F(ElfValidity, ZeroSectionHeaders) {
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shnum = 0; }),
                  "Invalid ELF section name index: 51 || e_shstrndx (51) >= e_shnum (0)");
}

TEST_F(ElfValidity, TooManySectionHeaders) {
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shnum += 1; }),
                  "Invalid ELF section header overflow");
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shnum = 0xffff; }),
                  "Invalid ELF section header overflow");
}

// --- section headers ---

TEST_F(ElfValidity, SectionZeroNotNull) {
    Bytes b = hello_bytes();
    Elf64_Shdr s0 = get_shdr(b, 0);
    s0.sh_type = SHT_PROGBITS;
    put_shdr(b, 0, s0);
    const std::string msg =
        "ELF Spec violation: section 0 type(1)!=SH_NULL or non-zero len or addr";
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
}

TEST_F(ElfValidity, SectionZeroNonZeroSizeOrAddr) {
    const std::string msg =
        "ELF Spec violation: section 0 type(0)!=SH_NULL or non-zero len or addr";
    Bytes b = hello_bytes();
    Elf64_Shdr s0 = get_shdr(b, 0);
    s0.sh_size = 16;
    put_shdr(b, 0, s0);
    expect_noexec(b, msg);
    b = hello_bytes();
    s0 = get_shdr(b, 0);
    s0.sh_addr = 0x1000;
    put_shdr(b, 0, s0);
    expect_noexec(b, msg);
}

TEST_F(ElfValidity, SectionNameIndexOutOfRange) {
    Bytes b = with_ehdr([](Elf64_Ehdr& h) { h.e_shstrndx = h.e_shnum; });
    const std::string msg = "Invalid ELF section name index: 52 || e_shstrndx (52) >= e_shnum (52)";
    ASSERT_EQ(get_ehdr(b).e_shnum, 52);
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
    expect_noexec(with_ehdr([](Elf64_Ehdr& h) { h.e_shstrndx = SHN_UNDEF; }),
                  "Invalid ELF section name index: 0 || e_shstrndx (0) >= e_shnum (52)");
}

TEST_F(ElfValidity, SectionNameTableOutOfFile) {
    // validate_section_offset() of the section name table itself.
    expect_noexec(with_shdr(".shstrtab", [](Elf64_Shdr& s) { s.sh_size = 1 << 30; }),
                  "Invalid ELF section hdr(type 3)");
}

TEST_F(ElfValidity, SectionNameTableEmpty) {
    expect_noexec(with_shdr(".shstrtab", [](Elf64_Shdr& s) { s.sh_size = 0; }),
                  "empty section name table");
}

TEST_F(ElfValidity, SectionNameTableNotNulTerminated) {
    Bytes b = hello_bytes();
    Elf64_Shdr str = get_shdr(b, get_ehdr(b).e_shstrndx);
    ASSERT_EQ(b[str.sh_offset + str.sh_size - 1], 0);
    b[str.sh_offset + str.sh_size - 1] = 'x';
    const std::string msg = "ELF Spec violation: section name table isn't null terminated";
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
}

TEST_F(ElfValidity, SectionContentsBeyondFile) {
    const uint64_t len = hello_bytes().size();
    size_t text = section_index(hello_bytes(), ".text.unlikely");
    ASSERT_EQ(text, 2u);
    Bytes b = with_shdr(".text.unlikely", [&](Elf64_Shdr& s) { s.sh_size = len; });
    const std::string msg = "Invalid ELF section in module (section 2 type 1)";
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
    // Exactly to the end of the file is fine; one byte more is not.
    Bytes edge = with_shdr(".text.unlikely", [&](Elf64_Shdr& s) { s.sh_size = len - s.sh_offset; });
    EXPECT_TRUE(open_elf(edge));
    expect_noexec(
        with_shdr(".text.unlikely", [&](Elf64_Shdr& s) { s.sh_size = len - s.sh_offset + 1; }),
        msg);
    // sh_offset + sh_size wrapping around is caught too.
    expect_noexec(
        with_shdr(".text.unlikely", [](Elf64_Shdr& s) { s.sh_offset = ~uint64_t(0) - 0x10; }), msg);
    // The symbol table (type 2) and a RELA section (type 4).
    size_t symtab = section_index(hello_bytes(), ".symtab");
    expect_noexec(with_shdr(".symtab", [&](Elf64_Shdr& s) { s.sh_offset = len; }),
                  "Invalid ELF section in module (section " + std::to_string(symtab) + " type 2)");
    expect_noexec(with_shdr(".rela.text.unlikely", [&](Elf64_Shdr& s) { s.sh_size = len; }),
                  "Invalid ELF section in module (section 3 type 4)");
}

TEST_F(ElfValidity, NobitsContentsAreNotChecked) {
    // SHT_NOBITS sections have no contents: the kernel skips their offset/size.
    Bytes b = with_shdr(".bss", [](Elf64_Shdr& s) { s.sh_offset = ~uint64_t(0) - 0x10; });
    kmodemu::Status st = open_elf(b);
    EXPECT_TRUE(st) << st.message;
    kmodemu::RunOutcome out = run(b);
    EXPECT_EQ(out.exit_status, 0) << log_text(out);
}

TEST_F(ElfValidity, SymtabLinkOutOfRange) {
    Bytes b = with_shdr(".symtab", [](Elf64_Shdr& s) { s.sh_link = 52; });
    const std::string msg =
        "Invalid ELF sh_link!=SHN_UNDEF(52) or (sh_link(52) >= hdr->e_shnum(52)";
    expect_noexec(b, msg);
    expect_run_noexec(b, msg);
    expect_noexec(with_shdr(".symtab", [](Elf64_Shdr& s) { s.sh_link = SHN_UNDEF; }),
                  "Invalid ELF sh_link!=SHN_UNDEF(0) or (sh_link(0) >= hdr->e_shnum(52)");
}

TEST_F(ElfValidity, SectionNameOutOfRange) {
    Bytes b = hello_bytes();
    uint64_t strsize = get_shdr(b, get_ehdr(b).e_shstrndx).sh_size;
    // An SHF_ALLOC section: even the ~6.1 kernel checks its name.
    size_t data = section_index(b, ".data");
    Bytes c = with_shdr(".data", [&](Elf64_Shdr& s) { s.sh_name = uint32_t(strsize); });
    const std::string msg =
        "Invalid ELF section name in module (section " + std::to_string(data) + " type 1)";
    expect_noexec(c, msg);
    expect_run_noexec(c, msg);
    // Newer kernels check every section that is not SHT_NULL, including non-ALLOC and NOBITS.
    size_t debug = section_index(b, ".debug_info");
    expect_noexec(
        with_shdr(".debug_info", [](Elf64_Shdr& s) { s.sh_name = 0xffffffff; }),
        "Invalid ELF section name in module (section " + std::to_string(debug) + " type 1)");
    size_t bss = section_index(b, ".bss");
    expect_noexec(
        with_shdr(".bss", [&](Elf64_Shdr& s) { s.sh_name = uint32_t(strsize); }),
        "Invalid ELF section name in module (section " + std::to_string(bss) + " type 8)");
    // The last in-range index (the final NUL) is a valid empty name.
    EXPECT_TRUE(open_elf(
        with_shdr(".debug_info", [&](Elf64_Shdr& s) { s.sh_name = uint32_t(strsize - 1); })));
}

// "SHT_NULL means sh_name has an undefined value": neither the ~6.1 kernel (the loop skips
// SHT_NULL sections) nor newer ones (elf_validity_cache_secstrings() skips them too) look at
// the name of an SHT_NULL section, so such a module loads.
TEST_F(ElfValidity, NullSectionNameIsNotChecked) {
    Bytes b = with_shdr(".note.GNU-stack", [](Elf64_Shdr& s) {
        s.sh_type = SHT_NULL;
        s.sh_name = 0xffffffff;
    });
    kmodemu::Status st = open_elf(b);
    EXPECT_TRUE(st) << st.message;
    kmodemu::RunOutcome out = run(b);
    EXPECT_EQ(out.exit_status, 0) << log_text(out);
}

TEST_F(ElfValidity, SymbolStringTableNotNulTerminated) {
    Bytes b = hello_bytes();
    Elf64_Shdr str = get_shdr(b, section_index(b, ".strtab"));
    ASSERT_EQ(b[str.sh_offset + str.sh_size - 1], 0);
    b[str.sh_offset + str.sh_size - 1] = 'x';
    expect_noexec(b, "symbol string table isn't NUL terminated");
    expect_run_noexec(b, "symbol string table isn't NUL terminated");
}

TEST_F(ElfValidity, SymbolStringTableMissingLeadingNul) {
    Bytes b = hello_bytes();
    Elf64_Shdr str = get_shdr(b, section_index(b, ".strtab"));
    ASSERT_EQ(b[str.sh_offset], 0);
    b[str.sh_offset] = 'x';
    expect_noexec(b, "symbol string table missing leading NUL");
}

TEST_F(ElfValidity, SymbolStringTableEmpty) {
    expect_noexec(with_shdr(".strtab", [](Elf64_Shdr& s) { s.sh_size = 0; }),
                  "empty symbol string table");
    expect_noexec(with_shdr(".strtab", [](Elf64_Shdr& s) { s.sh_type = SHT_NOBITS; }),
                  "empty symbol string table");
}

TEST_F(ElfValidity, SymbolNameOutOfBounds) {
    // Shrink the string table so that later symbol names point past its end (the table still
    // starts and ends with NUL: cut it right after the first name).
    Bytes b = hello_bytes();
    size_t strtab = section_index(b, ".strtab");
    Elf64_Shdr str = get_shdr(b, strtab);
    const char* s = reinterpret_cast<const char*>(b.data() + str.sh_offset);
    str.sh_size = 1 + std::strlen(s + 1) + 1;
    put_shdr(b, strtab, str);
    expect_noexec(b, "symbol name out of bounds in string table");
}

// --- setup_load_info() (messages logged by the loader) ---

TEST_F(ElfValidity, ThisModuleNotAlloc) {
    Bytes b = with_shdr(".gnu.linkonce.this_module",
                        [](Elf64_Shdr& s) { s.sh_flags &= ~uint64_t(SHF_ALLOC); });
    EXPECT_TRUE(open_elf(b));  // the ELF itself is valid
    kmodemu::RunOutcome out = run(b);
    EXPECT_EQ(out.exit_status, ENOEXEC) << log_text(out);
    EXPECT_TRUE(log_has(out, "hello: No module found in object")) << log_text(out);
}

TEST_F(ElfValidity, SymtabRetypedToProgbits) {
    Bytes b = with_shdr(".symtab", [](Elf64_Shdr& s) { s.sh_type = SHT_PROGBITS; });
    {
        kmodemu::ElfFile elf;
        kmodemu::Status st = elf.open(b, kmodemu::Arch::arm64);
        EXPECT_TRUE(st) << st.message;
        EXPECT_EQ(elf.symtab_index(), 0u);
    }
    kmodemu::RunOutcome out = run(b);
    EXPECT_EQ(out.exit_status, ENOEXEC) << log_text(out);
    EXPECT_TRUE(log_has(out, "hello: module has no symbols (stripped?)")) << log_text(out);
}

// module_enforce_rwx_sections() (CONFIG_STRICT_MODULE_RWX, always on for arm64) refuses any
// section that is both SHF_WRITE and SHF_EXECINSTR, whether or not it is SHF_ALLOC.
TEST_F(ElfValidity, WriteExecSectionIsRefused) {
    size_t data = section_index(hello_bytes(), ".data");
    Bytes b = with_shdr(".data", [](Elf64_Shdr& s) { s.sh_flags |= SHF_EXECINSTR; });
    EXPECT_TRUE(open_elf(b));
    expect_run_noexec(b, "hello: section .data (index " + std::to_string(data) +
                             ") has invalid WRITE|EXEC flags");
    size_t comment = section_index(hello_bytes(), ".comment");
    Bytes c = with_shdr(".comment", [](Elf64_Shdr& s) {
        s.sh_flags = SHF_WRITE | SHF_EXECINSTR;  // not SHF_ALLOC
    });
    EXPECT_TRUE(open_elf(c));
    expect_run_noexec(c, "hello: section .comment (index " + std::to_string(comment) +
                             ") has invalid WRITE|EXEC flags");
}

// --- robustness ---

namespace {

// True if `b` opens and has no "vermagic=" in .modinfo: check_modinfo() then fails through
// try_to_force_load(), which returns -ENOEXEC without a message (no CONFIG_MODULE_FORCE_LOAD).
bool silent_vermagic_failure(const Bytes& b) {
    kmodemu::ElfFile elf;
    if (!elf.open(b, kmodemu::Arch::arm64)) return false;
    const kmodemu::ElfSection* mi = elf.find_section(".modinfo", false);
    if (!mi) return true;
    auto d = elf.section_data(mi->index);
    std::string_view text(reinterpret_cast<const char*>(d.data()), d.size());
    for (size_t p = 0; p < text.size();) {
        size_t e = text.find('\0', p);
        if (e == std::string_view::npos) e = text.size();
        if (text.substr(p, e - p).starts_with("vermagic=")) return false;
        p = e + 1;
    }
    return true;
}

}  // namespace

// 2000 deterministic random mutations of the ELF header and the section header table, each
// loaded (and unloaded) in full. Whatever the kernel would do with such a file, kmodemu must not
// crash or throw, and must end like insmod can: success, or an errno (ENOENT for unknown symbols,
// ENOEXEC for invalid ELF, ENOMEM for sections too large to allocate, ENODEV/EINVAL from init),
// a hang or an oops.
TEST_F(ElfValidity, RandomHeaderMutationsNeverCrash) {
    const Bytes& orig = hello_bytes();
    const Elf64_Ehdr h = get_ehdr(orig);
    const size_t shtab = h.e_shoff, shtab_len = size_t(h.e_shnum) * sizeof(Elf64_Shdr);
    const std::set<int> allowed = {
        0, ENOENT, ENOEXEC, ENOMEM, ENODEV, EINVAL, kmodemu::exit_hang, kmodemu::exit_oops};
    constexpr size_t iterations = 2000;

    // The mutations, drawn up front: 1 to 4 byte flips each, half of them in the ELF header and
    // half in the section header table.
    std::mt19937 rng(20240611);
    std::vector<std::vector<std::pair<size_t, uint8_t>>> flips(iterations);
    for (auto& f : flips) {
        int n = 1 + int(rng() % 4);
        for (int k = 0; k < n; ++k) {
            size_t off = rng() % 2 ? rng() % sizeof(Elf64_Ehdr) : shtab + rng() % shtab_len;
            f.emplace_back(off, uint8_t(1 + rng() % 255));
        }
    }
    auto mutated = [&](size_t i) {
        Bytes b = orig;
        for (auto [off, x] : flips[i])
            b[off] ^= x;
        return b;
    };

    kmodemu::RunOptions opts;
    opts.budget = 2'000'000;
    opts.time_limit = 2.0;
    std::vector<ChildRun> runs = run_in_children(iterations, mutated, opts);

    std::map<int, int> seen;
    int crashes = 0, throws = 0, silent = 0;
    for (size_t i = 0; i < iterations; ++i) {
        std::string what;
        for (auto [off, x] : flips[i])
            what += " [" + std::to_string(off) + "]^=" + std::to_string(x);
        SCOPED_TRACE("iteration " + std::to_string(i) + ", byte flips:" + what);
        const ChildRun& r = runs[i];
        if (!r.death.empty()) {
            ADD_FAILURE() << "run_module crashed: " << r.death;
            ++crashes;
            continue;
        }
        if (!r.survived) {
            ADD_FAILURE() << "run_module threw: " << r.threw;
            ++throws;
            continue;
        }
        ++seen[r.exit_status];
        EXPECT_TRUE(allowed.count(r.exit_status)) << "exit status " << r.exit_status;
        if (r.exit_status == ENOEXEC && r.log_lines == 0) {
            ++silent;
            EXPECT_TRUE(silent_vermagic_failure(mutated(i))) << "ENOEXEC without a message";
        }
    }
    std::string summary;
    for (auto [status, count] : seen)
        summary += " " + std::to_string(status) + ":" + std::to_string(count);
    summary += " (silent ENOEXEC:" + std::to_string(silent) +
               ") crashed:" + std::to_string(crashes) + " threw:" + std::to_string(throws);
    RecordProperty("exit_statuses", summary);
    EXPECT_GT(seen[ENOEXEC], 0) << summary;
    EXPECT_GT(seen[0], 0) << summary;
}
