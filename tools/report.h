// The --json report of a run.
#pragma once

#include <nlohmann/json.hpp>

#include "tools/runner.h"

namespace kmodemu {

nlohmann::json make_report(const RunOutcome& out, const std::string& path);

// KTAP (version 1), as kselftest prints it: one test per insmod and per rmmod that ran, the
// kernel lines as `# ` diagnostic lines before the test they came from.
std::string ktap_report(const RunOutcome& out);

}  // namespace kmodemu
