// `kmodemu faults`: the module's init error paths, one by one. A first run records the calls
// of fallible kernel functions that load and init make (kernel_stubs/lib/fault-inject.h); then,
// in a fresh emulated kernel each time, one run per call with that call failing (its nth call
// of the function returns NULL, ERR_PTR(-ENOMEM) or -ENOMEM), lock checks on, deterministic.
// Each error path is reported with what init returned and what went wrong.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/runner.h"

namespace kmodemu {

// What went wrong in a run. Kinds: "oops", "BUG", "panic", "WARN", "hang", "lockdep" (lockdep's
// and might_sleep()'s reports), "double-free", "invalid-free", "leak" (after a failed init:
// an object the module allocated is still allocated), "unload" (rmmod failed); and, as a note
// that is not a crash, "ignored-failure": init returned 0 after the failed call (an allocation
// or a registration; debugfs_* aside, whose failures callers are meant to ignore).
struct FaultFinding {
    std::string kind;
    std::string detail;
    bool operator==(const FaultFinding&) const = default;
};

// The findings of one run's outcome (notes aside).
std::vector<FaultFinding> run_findings(const RunOutcome& out);

struct FaultPath {
    FallibleCall call;     // the call made to fail, as the first run made it
    FaultSpec fail;        // the --fail that makes it fail
    bool reached = false;  // the run made the call fail (it is deterministic: always, unless
                           // the run stopped before)
    std::string ending;    // of the run: "ok", "errno", "oops", ...
    int exit_status = 0;
    std::optional<int64_t> init_ret;
    std::vector<FaultFinding> findings;  // those of the first run left out
    std::vector<FaultFinding> notes;     // ignored-failure
    std::string unimplemented;           // the kernel function that stopped the run, if any
};

struct FaultScan {
    std::string module;
    std::string arch;
    std::string ending;  // the first run's
    int exit_status = 0;
    std::optional<int64_t> init_ret;
    std::vector<FaultFinding> baseline_findings;  // the first run's own
    std::vector<FallibleCall> calls;              // the fallible calls load and init made
    std::vector<FaultPath> paths;
    std::vector<size_t> selected;  // fault_baseline(): the calls to make fail (select_paths)
    std::optional<ModuleCoverage> coverage;  // of all the runs, with opts.coverage
    size_t paths_with_findings() const;
    size_t findings() const;
    size_t notes() const;
};

// The first run: the fallible calls (`calls`) and, of them, those to make fail (`selected`,
// select_paths() with `max_paths`, 0: all); sets `opts` as the error paths' runs want them.
FaultScan fault_baseline(const std::vector<ModuleInput>& mods, RunOptions& opts, size_t max_paths);
// The calls to make fail, by their index in `calls`, in order: all of them when they are at most
// `max_paths` (or it is 0); else one call of each site (function and caller) first, then the
// others in order, up to `max_paths`.
std::vector<size_t> select_paths(const std::vector<FallibleCall>& calls, size_t max_paths);
// One error path: the run with call `c` failing (opts as fault_baseline() left them); the
// findings of `baseline` are left out; the run's coverage merged into *coverage when given.
FaultPath fault_path(const std::vector<ModuleInput>& mods, const RunOptions& opts,
                     const FallibleCall& c, const std::vector<FaultFinding>& baseline,
                     std::optional<ModuleCoverage>* coverage = nullptr);
// Where a finding happened, from its text: its first symbol+offset with the module when the text
// names one ("foo_init+0x24 [foo]", "__memset+0xc8"), or "".
std::string finding_location(const std::string& detail);

// Runs the scan. `on_path` is called after each error path's run.
FaultScan scan_faults(const std::vector<ModuleInput>& mods, RunOptions opts,
                      const std::function<void(const FaultPath&)>& on_path = {});

// --fail's argument for the path ("kmalloc:2:ENOMEM").
std::string fail_argument(const FaultSpec& s);

// `reproduce`: the command line of `kmodemu run` before its --fail (with the module after).
void print_fault_scan(std::ostream& os, const FaultScan& scan, const std::string& reproduce,
                      const std::string& module_arg);
nlohmann::json fault_scan_json(const FaultScan& scan, const std::string& reproduce,
                               const std::string& module_arg);

}  // namespace kmodemu
