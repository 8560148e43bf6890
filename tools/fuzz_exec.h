// One execution of `kmodemu fuzz`: the module asked for loaded into an emulated kernel (its
// dependencies first), its init and exit run with what an input decides (tools/fuzz_input.h).
//
// Fresh: a new emulated kernel per execution (run_modules), ~3 ms on fixtures/hello.
// Warm: a fork server, as AFL's. A server process makes the emulated kernel once and loads the
// dependencies; at the point where the module asked for would load (RunOptions::before_target)
// it forks one child per execution. The child sets what the input decides (Kernel::
// set_execution, the parameters), runs the module and writes its result and edge counters to
// memory shared with the fuzzer, then ends. The child's copy of the server's memory is the
// snapshot: host state (the emulated kernel's registries, slab, log) and guest memory (Unicorn's
// RAM and CPU) alike, copied on write by the host kernel, page by page, only where the child
// writes. Nothing the child does reaches the next execution, so a warm execution is exactly a
// fresh one (tests/test_kit_fuzz.cc compares them), and a crash of kmodemu in a child ends that
// child only (reported as an internal error, not a finding).
//
// When the server cannot be exact, WarmExecutor::run() runs fresh: when the dependencies drew
// random numbers from the seed before the fork point (the seed is an input's), or a
// dependency failed to load (every execution ends there).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tools/fuzz_input.h"
#include "tools/runner.h"

namespace kmodemu {

// What to fuzz: the module asked for (last) and its dependencies, the run options of every
// execution, the module's parameters, and whether inputs decide a failing call.
struct FuzzTarget {
    std::vector<ModuleInput> mods;
    RunOptions base;
    std::vector<FuzzParam> params;
    bool faults = true;
};

// What an execution ended with: the verdict, the kernel log and kmodemu's diagnostics, the
// finding if any.
struct ExecResult {
    std::string ending;  // RunOutcome::ending ("ok", "errno", "oops", ...)
    int exit_status = 0;
    std::vector<std::string> log, diagnostics;
    std::optional<Finding> finding;
    // kmodemu itself failed (an exception; a warm child that died): a bug of kmodemu, never a
    // finding.
    bool internal = false;
    std::string internal_what;
};

// An execution in a fresh emulated kernel; the edges go to `counters` (`size` of them, a power
// of two) when given.
ExecResult execute_fresh(const FuzzTarget& t, std::span<const uint8_t> input,
                         uint8_t* counters = nullptr, size_t size = 0);

class WarmExecutor {
  public:
    // Starts the server (the kernel is made in it, then the dependencies load).
    WarmExecutor(FuzzTarget t, size_t counters = 1 << 16);
    ~WarmExecutor();
    WarmExecutor(const WarmExecutor&) = delete;
    WarmExecutor& operator=(const WarmExecutor&) = delete;

    // One execution; the edge counters are copied to `counters` (the size given above) when
    // given. Fresh when the server cannot be exact (see above).
    ExecResult run(std::span<const uint8_t> input, uint8_t* counters = nullptr);
    // Why executions run fresh, empty while warm.
    const std::string& fresh_reason() const { return fresh_reason_; }
    uint64_t warm_runs() const { return warm_runs_; }
    uint64_t fresh_runs() const { return fresh_runs_; }

  private:
    void start();
    void stop();

    FuzzTarget t_;
    size_t counters_;
    std::string fresh_reason_;
    uint64_t warm_runs_ = 0, fresh_runs_ = 0;
    pid_t server_ = -1;
    int req_ = -1, resp_ = -1;  // pipes to and from the server
    uint8_t* shm_ = nullptr;    // counters, then the input, then the result
    size_t shm_size_ = 0;
};

}  // namespace kmodemu
