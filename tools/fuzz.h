// `kmodemu fuzz`: coverage-guided fuzzing of a module's load, init and exit, driven in this
// process by libFuzzer (LLVMFuzzerRunDriver) when kmodemu was built with it.
#pragma once

#include <string>
#include <vector>

#include "tools/runner.h"

namespace kmodemu {

// Fuzzes the last of `mods` (the others are its dependencies, loaded first) with `base` as the
// run options of every execution; `engine` are libFuzzer's options and corpus directories.
// `faults` false: inputs decide no failing call (--no-fail). Returns libFuzzer's status (it ends
// the process itself on a finding).
int fuzz_main(const std::vector<ModuleInput>& mods, const RunOptions& base,
              const std::vector<std::string>& engine, bool faults = true);

}  // namespace kmodemu
