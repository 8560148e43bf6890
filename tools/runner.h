// One insmod (+ rmmod) of a module in a fresh emulated kernel: the job behind `kmodemu run`,
// the end-to-end tests and the benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel_stubs/drivers/base/machine.h"
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

struct RunOutcome;

struct RunOptions {
    std::vector<std::string> params;  // name=value, as on the insmod command line
    bool unload = true;               // rmmod after a successful init
    // Virtual time that passes after each successful init (the settle phase): the work queued
    // and the timers that expire in it run (kernel_stubs/kernel/time/clock.h).
    uint64_t settle_ms = 1000;
    uint64_t seed = 0;  // of the emulated kernel's random numbers
    uint64_t budget = 200'000'000;    // instructions
    double time_limit = 20.0;         // seconds of wall clock (0 = none)
    bool auto_stub = false;
    std::optional<KernelLayout> layout;
    bool thumb2_kernel = true;  // ARM: CONFIG_THUMB2_KERNEL of the emulated kernel
    bool panic_on_warn = false;
    std::string kernel_kit;  // a kit directory: load as its kernel would (empty: generic)
    std::shared_ptr<const KernelProfile> profile;  // or the profile itself, already read
    std::optional<std::set<unsigned>> cpucaps;     // arm64 CPU capabilities modelled
    // Fault injection: the calls made to fail, counted from the insmod of the last module (the
    // one asked for; its dependencies load undisturbed) to the end of the run.
    FaultPlan faults;
    // Lock checks as a kernel with lockdep and CONFIG_DEBUG_ATOMIC_SLEEP reports them (Debian's
    // kernels have neither: by default only what they do happens).
    bool lockdep = false;
    // Record the blocks the module asked for executes (RunOutcome::coverage; --coverage).
    bool coverage = false;
    // The machine's declared devices (--device), register values (--mmio-value) and the
    // interrupts raised (--irq), counted from the start of the last module's load.
    std::vector<DeviceSpec> devices;
    std::vector<MmioValueSpec> mmio_values;
    std::vector<IrqRaise> irqs;
    // `kmodemu fuzz`: the edges (and comparisons) of the last module's code are counted here.
    EdgeCoverage* edge_coverage = nullptr;
    // Called once, before the last module (the one asked for) loads, in the kernel its
    // dependencies were loaded into: `kmodemu fuzz`'s warm path forks there (tools/fuzz_exec.h)
    // and returns in each child with what its execution decides (the kernel's seed and fault
    // plan, set with Kernel::set_execution; the module's parameters).
    std::function<void(Kernel&, std::vector<std::string>& params)> before_target;
    // Called with the outcome once the run is over, before the emulated kernel is destroyed (the
    // warm path's child ends there: tearing the kernel down would only copy its pages).
    std::function<void(const RunOutcome&)> on_outcome;
};

// What the module asked for executed (--coverage): its executable regions, its functions and
// the blocks that ran in them (tools/coverage.h writes it as drcov or lcov).
struct ModuleCoverage {
    std::string module;  // its name
    std::string path;    // the file, as given (set by the caller)
    Arch arch = Arch::arm64;
    struct Section {
        std::string name;  // the region ("text", "init_text")
        uint64_t base = 0, size = 0;
    };
    std::vector<Section> sections;
    std::vector<ModuleSymbol> functions;  // by address
    std::map<uint64_t, Emulator::CoveredBlock> blocks;  // those inside the sections
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
    std::vector<InjectedFault> injected_faults;  // the calls fault injection made fail
    // With faults.record: every call of a fallible function from the insmod of the last module
    // on, and how many of them its load and init made (the rest: the settle phase and rmmod).
    std::vector<FallibleCall> fallible_calls;
    size_t init_fallible_calls = 0;
    // After an init that failed, with faults.record: the objects the module's own allocations
    // made (kmalloc and the like, devm_* aside) that are still allocated, as kmemleak would
    // find them unreferenced once the module's memory is freed.
    std::vector<FallibleCall> leaked;
    std::optional<ModuleCoverage> coverage;
    bool lockdep = false;                        // the lock checks ran as --lockdep
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
    // A run of several modules (run_modules): each module's step in load order, and the
    // dependency whose load failed (then the outcome above is that dependency's).
    struct Step {
        std::string path;
        std::string name;
        int exit_status = 0;     // insmod's status for this module
        std::string ending;      // as `ending` above
        size_t log_begin = 0;    // its insmod's lines: log[log_begin, log_end)
        size_t log_end = 0;
        std::optional<int> unload_status;  // rmmod's, when it ran
        size_t unload_log_begin = 0;       // its rmmod's lines
        size_t unload_log_end = 0;
    };
    std::vector<Step> steps;
    std::string failed_dependency;  // path of the dependency that stopped the run, if any
    std::vector<DeviceOutcome> devices;  // what became of each declared device
};

// One module of a multi-module run.
struct ModuleInput {
    std::string path;            // for messages and reports
    std::vector<uint8_t> bytes;  // the file as read (plain or compressed)
    std::vector<std::string> params;
};

// Joins insmod arguments the way busybox insmod does (values with spaces are quoted).
std::string join_module_args(const std::vector<std::string>& params);

RunOutcome run_module(std::vector<uint8_t> bytes, const RunOptions& opts,
                      std::function<void(const LogLine&)> on_log = {},
                      std::function<void(const std::string&)> on_diag = {});

// Loads the modules in order into one emulated kernel (as insmod A; insmod B; ... or modprobe
// with the dependencies first): each resolves its imports against the kernel's and the earlier
// modules' exports. Stops at the first module whose load or init fails; then (opts.unload)
// unloads the live ones in reverse order, as rmmod would. The outcome is the last module's (or
// the one that failed), with every module's step.
RunOutcome run_modules(std::vector<ModuleInput> mods, const RunOptions& opts,
                       std::function<void(const LogLine&)> on_log = {},
                       std::function<void(const std::string&)> on_diag = {});

const char* errno_name(int err);  // "ENODEV" for 19, ...

}  // namespace kmodemu
