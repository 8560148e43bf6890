// `kmodemu fuzz` inputs and findings, shared with `kmodemu run --replay`: what one input decides
// (the module's parameter values, typed from its `parmtype` modinfo; a call made to fail; the
// seed), and the kernel-style report of what went wrong in a run, with a signature by which
// findings are deduplicated.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tools/runner.h"

namespace kmodemu {

// A parameter of the module as modinfo declares it (parmtype=NAME:TYPE, "int", "charp",
// "array of int", ...), in the module's order.
struct FuzzParam {
    std::string name;
    std::string type;
};
// The parameters of a module file (plain or compressed); empty when it has none or is unreadable.
std::vector<FuzzParam> fuzz_params(std::vector<uint8_t> module_file);

// The constants the module's code compares registers with (arm64 `cmp Rn, #imm`, ARM `cmp Rn,
// #imm`) or moves into one (arm64 `movz Wd, #imm16`, ARM `movw Rd, #imm16`: those too wide for
// a cmp), for the fuzzer's dictionary.
std::vector<uint32_t> compared_constants(std::vector<uint8_t> module_file);
// The longest input that still decides something, for the parameters.
size_t fuzz_input_max(const std::vector<FuzzParam>& params);

// What an input decides. The input is read in order, missing bytes read as zero:
//   byte 0   fault: below 0x80 none; with 0x40 set, --fail-alloc (byte 1 % 16 + 1); else
//            --fail of the fallible function (byte 1) % count, its call (byte 2) % 4 + 1, the
//            errno (byte 3) of a short list
//   next     the seed (one byte)
//   then     per parameter, a byte: bit 0 set gives the parameter a value, read after it:
//            integers 4 bytes little-endian (8 for long, ulong, llong, ullong), booleans bit 1 of
//            the control byte, strings a length byte (% 32) and that many bytes (as letters).
struct FuzzDecision {
    std::vector<std::string> params;  // name=value
    FaultPlan faults;
    uint64_t seed = 0;
    // The decision as `kmodemu run` options: "--seed 3 --fail kmalloc:1:ENOMEM magic=1337".
    std::string describe() const;
};
// `faults` false (--no-fail): the fault bytes are read and ignored, no call fails.
FuzzDecision decode_fuzz_input(std::span<const uint8_t> data, const std::vector<FuzzParam>& params,
                               bool faults = true);
// The run options of `base` with the decision applied (its parameters after the given ones).
RunOptions apply_fuzz_decision(const RunOptions& base, const FuzzDecision& d);

// What a run found: an oops, a panic, a BUG, a WARN, a lock report or a hang.
struct Finding {
    std::string kind;       // "oops", "panic", "BUG", "WARNING", "lockdep", "hang"
    std::string signature;  // the report's first line (long numbers masked) and the pc's symbol
    std::vector<std::string> report;  // the kernel log from the report's first line
};
// nullopt when the run ended as the kernel allows (0, an errno; an unimplemented function or an
// internal error of kmodemu are no findings).
std::optional<Finding> find_finding(const RunOutcome& out);

}  // namespace kmodemu
