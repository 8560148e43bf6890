// One insmod (+ rmmod) of a module in a fresh emulated kernel: the job behind `kmodemu run`,
// the end-to-end tests and the benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "loader/loader.h"

namespace kmodemu {

// Exit statuses of `kmodemu run` beyond the errno values insmod reports.
constexpr int exit_oops = 139;     // init oopsed (insmod killed by SIGSEGV under a real kernel)
constexpr int exit_hang = 124;     // instruction budget or time limit ran out
constexpr int exit_usage = 64;     // EX_USAGE
constexpr int exit_internal = 70;  // EX_SOFTWARE: a bug or resource failure of kmodemu
// EX_UNAVAILABLE: the module called a kernel function kmodemu does not implement.
constexpr int exit_unimplemented = 69;

struct RunOptions {
    std::vector<std::string> params;  // name=value, as on the insmod command line
    bool unload = true;               // rmmod after a successful init
    uint64_t budget = 200'000'000;    // instructions
    double time_limit = 20.0;         // seconds of wall clock (0 = none)
    bool auto_stub = false;
    std::optional<KernelLayout> layout;
    bool thumb2_kernel = true;  // ARM: CONFIG_THUMB2_KERNEL of the emulated kernel
    bool panic_on_warn = false;
    std::string kernel_kit;  // a kit directory: load as its kernel would (empty: generic)
    std::shared_ptr<const KernelProfile> profile;  // or the profile itself, already read
    std::optional<std::set<unsigned>> cpucaps;     // arm64 CPU capabilities modelled
};

struct RunOutcome {
    int exit_status = 0;
    std::string arch;
    std::string module_name;
    std::string vermagic;
    LoadResult load;
    std::optional<UnloadResult> unload;
    std::string ending;  // "ok", "errno", "oops", "panic", "hang", "internal", "unimplemented"
    std::vector<LogLine> log;
    size_t load_log_lines = 0;  // how many of them insmod produced (the rest: rmmod)
    std::vector<std::string> diagnostics;
    std::map<std::string, uint64_t> calls;
    std::vector<std::string> auto_stubs;
    // What each auto-stub returns, by its prototype: "0", "0 (void)", "a zeroed object of 24
    // bytes", "0 (prototype unknown)".
    std::map<std::string, std::string> auto_stub_returns;
    std::vector<std::string> unimplemented;               // bound lazily
    std::optional<UnimplementedCall> unimplemented_call;  // the call that stopped the run
    std::string kernel;                                   // the profile's name
    std::string compression;  // of the module file: "none", "xz", "zstd", "gzip"
    uint64_t instructions = 0;
};

// Joins insmod arguments the way busybox insmod does (values with spaces are quoted).
std::string join_module_args(const std::vector<std::string>& params);

RunOutcome run_module(std::vector<uint8_t> bytes, const RunOptions& opts,
                      std::function<void(const LogLine&)> on_log = {},
                      std::function<void(const std::string&)> on_diag = {});

const char* errno_name(int err);  // "ENODEV" for 19, ...

}  // namespace kmodemu
