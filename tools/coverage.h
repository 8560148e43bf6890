// Coverage export (--coverage FILE): what the module executed, as drcov (binary coverage
// viewers: Lighthouse, bncov, Cartographer) or as an lcov tracefile (genhtml), chosen by the
// file's extension.
#pragma once

#include <ostream>
#include <string>

#include "tools/runner.h"

namespace kmodemu {

// drcov version 2, flavour drcov: one module table entry per executable region of the module
// ("hello.ko" for its .text, "hello.ko:init_text" for its init text, each with the region's
// load address), and a basic-block table of (offset in the region, size, entry) records.
void write_drcov(std::ostream& os, const ModuleCoverage& cov);

// An lcov tracefile: one record (SF) per executable region, named "MODULE.ko:REGION"; a line
// is an instruction of the region (line N: the instruction at offset (N - 1) * 4, or * 2 for
// 32-bit ARM's Thumb-sized granule), so that every function (FN at its first instruction,
// FNDA its entries: the runs of its first block) and every instruction of it (DA: the runs of
// the blocks that executed it, 0 when none did) is listed by symbol + offset order.
void write_lcov(std::ostream& os, const ModuleCoverage& cov);

// Writes by the extension of `path`: .drcov or .info (lcov); false with `error` set on an
// unknown extension or a write failure.
bool write_coverage(const std::string& path, const ModuleCoverage& cov, std::string& error);

}  // namespace kmodemu
