// `kmodemu corpus`: kmodemu over many real modules (a kit's whole module tree, or files and
// directories), each in a fresh emulated kernel, in forked worker processes, with a verdict per
// module, a JSON report (per module, totals, and the ranking of the kernel functions kmodemu
// lacks), JUnit, shards and their merge, and the comparison with the real kernel's verdicts
// recorded under QEMU (tools/qemu-oracle ARCH --corpus).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel_stubs/profile.h"
#include "tools/depmod.h"
#include "tools/oracle.h"
#include "tools/runner.h"

namespace kmodemu::corpus {

using nlohmann::json;

// One module of the corpus and what is loaded for it.
struct Job {
    std::string path;                      // the module's file
    std::string module;                    // its name in reports: relative to the kit's module tree
                                           // (kernel/fs/foo/foo.ko) when in it, else the path
    std::string name;                      // the module's name, as modprobe has it ('-' as '_')
    std::vector<std::string> deps;         // the dependencies' files, in load order (deepest first)
    std::vector<std::string> dep_modules;  // the same, named as `module` is
    std::vector<std::string> params;       // the module's insmod arguments (name=value)
    std::optional<FaultSpec> fail;  // corpus --faults: the call an error path's run makes fail
};

// The modules of PATHs (module files, directories searched recursively for .ko, .ko.xz,
// .ko.zst, .ko.gz), sorted by `module`, without duplicates. A module of `tree` (a kit's module
// tree, or null) is named relative to it and loaded after its dependencies (modprobe's order);
// with no PATHs, every module of `tree`.
std::vector<Job> collect(const std::vector<std::string>& paths, const ModuleTree* tree);

// The jobs of shard `index` (1-based) of `count`: those at positions p with p % count == index - 1
// of the sorted list.
std::vector<Job> shard(const std::vector<Job>& jobs, unsigned index, unsigned count);

struct Options {
    std::shared_ptr<const KernelProfile> profile;  // --kernel's, read once before forking
    unsigned jobs = 1;                             // worker processes
    uint64_t budget = 20'000'000;                  // instructions per module
    double time_limit = 5.0;                       // emulated run's wall clock per module
    bool auto_stub = false;
    // The safety net: a worker still on one module after this many seconds is killed and the
    // module recorded as `internal` (0: 4 × time_limit + 10).
    double wall_limit = 0;
    // A worker is replaced after this many modules (bounds what a worker may accumulate).
    unsigned recycle_after = 400;
    // Test-only: called in the worker before each module, e.g. to crash it.
    std::function<void(const Job&)> worker_hook;
    // What a worker does with a job (default: run_job()); corpus --faults runs a module's
    // first run and each error path as jobs of their own, isolated alike.
    std::function<json(const Job&, const Options&)> run;
};

// The verdict of one run (kmodemu run's exit status is kept beside it in the record).
struct Verdict {
    std::string verdict;  // refused, init_ok, init_errno, unimplemented, oops, bug, warn, hang,
                          // kasan, lockdep, dependency_failed, internal
    std::string reason;   // refused: elf, signature, modinfo, version_magic, symbol_version,
                          // unknown_symbol, namespace, layout, memory, relocation, finalize,
                          // params, decompress, read; else empty
    std::string detail;   // readable: "Unknown symbol foo (err -2)", "init returned -19 ENODEV"
};

// The verdict of an outcome of run_module / run_modules (for the target module).
Verdict classify(const RunOutcome& out);

// The verdicts, in the order reports list them.
const std::vector<std::string>& verdict_names();

// The name of errno `err` (positive): "ENODEV"; "E123" when unknown.
std::string errno_string(int err);

// The relocations of a module's ELF (plain, not compressed) that apply to allocated sections:
// the entries of its SHT_REL and SHT_RELA sections whose target section has SHF_ALLOC, counted
// by type with libelf. nullopt when libelf cannot read the file.
struct RelocationCount {
    bool arm64 = true;
    size_t total = 0;
    std::map<uint32_t, size_t> by_type;
};
std::optional<RelocationCount> count_relocations(std::span<const uint8_t> elf);
// Whether the kernel's arch/arm64/kernel/module.c (apply_relocate_add()) or
// arch/arm/kernel/module.c (apply_relocate(), `thumb2`: CONFIG_THUMB2_KERNEL) handles the type.
bool kernel_handles_relocation(bool arm64, uint32_t type, bool thumb2);
std::string relocation_name(bool arm64, uint32_t type);  // "R_AARCH64_CALL26", "R_ARM_ABS32"

// The files of a job, its dependencies first, as run_modules() takes them (read through the
// worker's cache of decompressed files). False, with `error` (a message) and `err` (an errno)
// and the file that failed in `failed`, when one cannot be read.
bool job_inputs(const Job& job, std::vector<ModuleInput>& inputs, std::string& failed, int& err);

// Runs one job in this process and returns its record (see README "Corpus").
json run_job(const Job& job, const Options& opts);

// Runs the jobs in `opts.jobs` forked workers; each record reaches `on_record` as it arrives
// (in no particular order), with its position in `jobs`. A worker that dies, or overruns the
// wall-clock limit, is replaced and its module recorded as `internal`.
void run_jobs(const std::vector<Job>& jobs, const Options& opts,
              const std::function<void(size_t, json)>& on_record);

// --- the real kernel's verdicts (tools/qemu-oracle ARCH --corpus) ---
struct ExpectedFile {
    json header;
    std::map<std::string, json> modules;  // by "module" (relative to KIT_MODULES)
};
// Reads an expected file (JSON Lines, xz-compressed or plain). Throws std::runtime_error.
ExpectedFile read_expected(const std::string& path);
// Compares a record with the real kernel's result for its module: adds record["expected"]
// ({"rc", "same_status", "same_lines", "cause", ...}).
void compare_expected(json& record, const json& real, const oracle::Context& ctx);

// --- reports ---
// The report of a run: `meta` (kernel, arch, shard, run timing) with the records (sorted by
// module), their totals, the rankings and the comparison summary computed from the records.
json make_report(std::vector<json> records, json meta);
// Joins reports (shards) into one; totals and rankings are recomputed. Throws on reports of
// different kernels.
json merge_reports(const std::vector<json>& reports);
// JUnit XML: a <testcase> per module.
std::string junit_xml(const json& report);
// The summary table printed at the end.
std::string summary_table(const json& report, size_t top = 15);

// --- corpus --faults (tools/corpus_faults.cc) ---
// `kmodemu faults` over the jobs: each module's first run (a job in a worker), then each error
// path of each module whose init returned 0 (a job each, so that a crash of kmodemu on one
// path is recorded and the scan goes on), at most `max_paths` per module (faults.h's
// select_paths()). The report: meta, one record per module, the totals, and the findings
// deduplicated by their signature (kind, and where: function+offset and module), each with
// the reproducer of the first path that has it. `kit` is --kernel's argument, for the
// reproducers. `progress` is called as records arrive (phase "modules" or "paths").
struct FaultCorpusOptions {
    size_t max_paths = 64;
    std::string kit;
    std::function<void(const std::string& phase, size_t done, size_t total)> progress;
};
json fault_corpus(const std::vector<Job>& jobs, const Options& opts, const FaultCorpusOptions& fo,
                  json meta);
std::string fault_summary(const json& report, size_t top = 20);

// `kmodemu corpus ...` (argv[0] is "corpus").
int corpus_main(int argc, char** argv);

}  // namespace kmodemu::corpus
