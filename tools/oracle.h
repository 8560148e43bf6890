// The real-kernel oracle's recorded results (tests/oracle/<release>.expected, made by
// tools/qemu-oracle) and the rules that normalise a kernel log before kmodemu's lines and the
// real kernel's are compared. Every rule is here, with its name, its kind and its reason; the
// differential suite (tests/test_oracle.cc) and `qemu-oracle --check` (through
// tools/oracle_normalise) apply the same ones, and nothing else is ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kmodemu::oracle {

// One case's recorded result.
struct Expected {
    std::string rc;  // insmod's exit status: a number, or "hang"
    std::vector<std::string> log;
    std::optional<std::string> unload_rc;
    std::vector<std::string> unload_log;
};

// A result file: its header's kernel and the cases in file order.
struct ResultFile {
    std::string header;   // the first `#` line
    std::string release;  // e.g. 6.1.0-57-arm64
    std::string version;  // Debian's package version, e.g. 6.1.192-3
    bool arm64 = true;    // the header names qemu-system-aarch64
    std::vector<std::string> order;
    std::map<std::string, Expected> cases;
};

// Reads a result file; nullopt when it cannot be read.
std::optional<ResultFile> read_results(const std::string& path);

// The file holding the recording of a kernel release: DIR/<release>.expected.
std::string results_path(const std::string& dir, const std::string& release);

struct Context {
    bool arm64 = true;
    std::string release;  // the kernel release the log came from
    std::string version;  // its Debian package version
};

enum class RuleKind {
    boot,   // differs between two boots of the same kernel (or two checkouts): never a difference
    known,  // kmodemu does not match the real kernel here yet: a known difference
};

struct Rule {
    const char* name;
    RuleKind kind;
    const char* reason;
};

// Every rule, in the order they apply.
const std::vector<Rule>& rules();

// A kernel log (one step: insmod's or rmmod's lines) in its comparable form.
std::vector<std::string> normalise(std::vector<std::string> lines, const Context& ctx);

}  // namespace kmodemu::oracle
