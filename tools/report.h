// The --json report of a run.
#pragma once

#include <nlohmann/json.hpp>

#include "tools/runner.h"

namespace kmodemu {

nlohmann::json make_report(const RunOutcome& out, const std::string& path);

}  // namespace kmodemu
