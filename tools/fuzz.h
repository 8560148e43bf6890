// `kmodemu fuzz`: coverage-guided fuzzing of a module's load, init and exit, driven in this
// process by libFuzzer (LLVMFuzzerRunDriver) when kmodemu was built with it.
#pragma once

#include <string>
#include <vector>

#include "tools/runner.h"

namespace kmodemu {

// Fuzzes the last of `mods` (the others are its dependencies, loaded first) with `base` as the
// run options of every execution; `engine` are libFuzzer's options and corpus directories.
// `self` are kmodemu's own arguments ("fuzz", its options, the module), for libFuzzer's -jobs
// and -fork, which run the command again. `faults` false: inputs decide no failing call
// (--no-fail). `warm`: executions forked from a kernel made once (tools/fuzz_exec.h), not
// each in a fresh emulated kernel. Returns libFuzzer's status (it ends the process itself on a finding).
int fuzz_main(const std::vector<ModuleInput>& mods, const RunOptions& base,
              const std::vector<std::string>& engine, const std::vector<std::string>& self,
              bool faults = true, bool warm = false);

}  // namespace kmodemu
