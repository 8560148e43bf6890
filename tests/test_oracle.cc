// The differential suite: every case of tests/oracle/cases-ARCH.txt, run under Debian's real
// kernel in QEMU by tools/qemu-oracle (recorded in tests/oracle/ARCH.expected) and here under
// kmodemu with the same kernel's profile, must end with the same exit status and print the same
// lines in the same order: the module's own lines and the kernel's lines about it exactly; for
// oopses and WARNs the first line, the file:line and the pc / "PC is at" line.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>

#include "kernel_stubs/profile.h"
#include "tools/runner.h"

using namespace kmodemu;

namespace {

struct Case {
    std::string arch, name, module;
    std::vector<std::string> params;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.arch << "/" << c.name;
}

struct Expected {
    int rc = -1;
    std::vector<std::string> log;
    std::optional<int> unload_rc;
    std::vector<std::string> unload_log;
};

std::vector<Case> read_cases(const std::string& arch) {
    std::vector<Case> out;
    std::ifstream in(std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/cases-" + arch + ".txt");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        Case c;
        c.arch = arch;
        ss >> c.name >> c.module;
        std::string p;
        while (ss >> p)
            c.params.push_back(p);
        if (!c.name.empty()) out.push_back(c);
    }
    return out;
}

std::map<std::string, Expected> read_expected(const std::string& arch) {
    std::map<std::string, Expected> out;
    std::ifstream in(std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/" + arch + ".expected");
    std::string line, current;
    while (std::getline(in, line)) {
        if (line.starts_with("case ")) {
            current = line.substr(5);
            out[current] = Expected{};
        } else if (current.empty()) {
            continue;
        } else if (line.starts_with("rc ")) {
            out[current].rc = std::atoi(line.c_str() + 3);
        } else if (line.starts_with("log ")) {
            out[current].log.push_back(line.substr(4));
        } else if (line == "log") {
            out[current].log.push_back("");
        } else if (line.starts_with("unload-rc ")) {
            out[current].unload_rc = std::atoi(line.c_str() + 10);
        } else if (line.starts_with("unload-log ")) {
            out[current].unload_log.push_back(line.substr(11));
        } else if (line == "end") {
            current.clear();
        }
    }
    return out;
}

const std::vector<std::string> module_prefixes = {
    "hello: ",      "faulty: ", "arith: ", "sorter: ", "unknown_sym: ",
    "ns_missing: ", "arr: ",    "label: ", "keys: "};
const std::vector<std::string> kernel_prefixes = {"Invalid ELF",
                                                  "Invalid architecture",
                                                  "do_init_module: ",
                                                  "Disabling lock debugging",
                                                  "------------[ cut here ]------------",
                                                  "Unable to handle kernel",
                                                  "Division by zero"};

// The comparable form of a log line, or nullopt when the suite does not compare it.
std::optional<std::string> comparable(const std::string& l) {
    static const std::regex warning(R"(^WARNING: CPU: \d+ PID: \d+ at (?:.*/)?([^/]+:\d+) (.*)$)");
    static const std::regex bug(R"(^kernel BUG at (?:.*/)?([^/]+:\d+)!$)");
    static const std::regex pc64(R"(^pc : ([^+ ]+)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?( \[\w+\])?$)");
    static const std::regex pc32(R"(^PC is at ([^+ ]+)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?( \[\w+\])?$)");
    std::smatch m;
    if (std::regex_match(l, m, warning)) return "WARNING at " + m[1].str() + " " + m[2].str();
    if (std::regex_match(l, m, bug)) return "kernel BUG at " + m[1].str();
    if (std::regex_match(l, m, pc64) || std::regex_match(l, m, pc32))
        return "pc in " + l.substr(l.find(l[0] == 'p' ? ": " : "at ") + 2);
    for (const auto& p : module_prefixes)
        if (l.starts_with(p)) return l;
    for (const auto& p : kernel_prefixes)
        if (l.starts_with(p)) return l;
    return std::nullopt;
}

// The comparable lines, in order. After an oops only its own report counts: the dying insmod
// makes the real kernel print more (e.g. a context-tracking WARNING on arm64) that is no part of
// the module's behaviour.
std::vector<std::string> filter(const std::vector<std::string>& lines) {
    static const std::regex addr(R"((virtual address |at 0x)([0-9a-f]{8,16}))");
    std::vector<std::string> out;
    bool in_oops = false;
    for (const auto& l : lines) {
        auto c = comparable(l);
        if (!c) continue;
        if (c->starts_with("Unable to handle kernel") || c->starts_with("kernel BUG at") ||
            c->starts_with("Unhandled fault:")) {
            in_oops = true;
            // Module addresses differ between kernels (KASLR); NULL-page ones do not.
            std::smatch m;
            if (std::regex_search(*c, m, addr) && std::stoull(m[2].str(), nullptr, 16) > 0xffff)
                *c = std::regex_replace(*c, addr, "$1<address>");
        }
        out.push_back(*c);
        if (in_oops && c->starts_with("pc in ")) break;
    }
    return out;
}

std::string kit_for(const std::string& arch) {
    return arch == "arm64" ? KMODEMU_KIT_ARM64 : KMODEMU_KIT_ARMHF;
}

std::shared_ptr<const KernelProfile> profile_for(const std::string& arch) {
    static std::map<std::string, std::shared_ptr<const KernelProfile>> cache;
    auto& p = cache[arch];
    if (!p) p = KernelProfile::from_kit(kit_for(arch));
    return p;
}

class Oracle : public ::testing::TestWithParam<Case> {};

std::vector<Case> all_cases() {
    std::vector<Case> v = read_cases("arm64");
    for (Case& c : read_cases("armhf"))
        v.push_back(c);
    return v;
}

}  // namespace

TEST(OracleFiles, EachArchitectureHasAtLeast25CasesAllRecorded) {
    for (const char* arch : {"arm64", "armhf"}) {
        auto cases = read_cases(arch);
        auto expected = read_expected(arch);
        EXPECT_GE(cases.size(), 25u) << arch;
        for (const Case& c : cases)
            EXPECT_TRUE(expected.count(c.name)) << arch << " " << c.name;
    }
}

TEST_P(Oracle, SameAsTheRealKernel) {
    const Case& c = GetParam();
    auto expected = read_expected(c.arch);
    ASSERT_TRUE(expected.count(c.name)) << "no recorded result: run tools/qemu-oracle " << c.arch;
    const Expected& e = expected.at(c.name);

    std::string path = std::string(KMODEMU_FIXTURES) + "/" + c.module;
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path;
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    RunOptions opts;
    opts.params = c.params;
    opts.profile = profile_for(c.arch);
    opts.budget = 20'000'000;
    RunOutcome out = run_module(bytes, opts);

    EXPECT_EQ(out.exit_status, e.rc) << "insmod exit status";
    std::vector<std::string> load_lines, unload_lines;
    for (size_t i = 0; i < out.log.size(); ++i)
        (i < out.load_log_lines ? load_lines : unload_lines).push_back(out.log[i].text);
    EXPECT_EQ(filter(load_lines), filter(e.log)) << "insmod's kernel log";
    if (e.unload_rc) {
        ASSERT_TRUE(out.unload.has_value()) << "the real rmmod ran";
        EXPECT_EQ(out.unload->err, -*e.unload_rc);
        EXPECT_EQ(filter(unload_lines), filter(e.unload_log)) << "rmmod's kernel log";
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, Oracle, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                             return i.param.arch + "_" + i.param.name;
                         });
