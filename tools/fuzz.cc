#include "tools/fuzz.h"

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tools/fuzz_input.h"

#ifdef KMODEMU_LIBFUZZER
// libFuzzer's driver (compiler-rt's libclang_rt.fuzzer_no_main) and its table of recent
// comparisons, fed the guest's.
extern "C" int LLVMFuzzerRunDriver(int* argc, char*** argv,
                                   int (*cb)(const uint8_t* data, size_t size));
extern "C" void __sanitizer_cov_trace_cmp4(uint32_t a, uint32_t b);
extern "C" void __sanitizer_cov_trace_cmp8(uint64_t a, uint64_t b);

namespace {
// The guest's edge counters: libFuzzer finds them by their section (its extra counters), clears
// them before each execution and reads them after it.
constexpr size_t edge_counters = 1 << 16;
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t guest_edges[edge_counters];
}  // namespace
#endif

namespace kmodemu {

namespace {

struct FuzzTarget {
    std::vector<ModuleInput> mods;
    RunOptions base;
    std::vector<FuzzParam> params;
    bool faults = true;
    EdgeCoverage coverage;
    uint64_t execs = 0;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};
FuzzTarget* target = nullptr;

// One execution: a fresh emulated kernel loads the dependencies, then the module with what the
// input decides, runs its init and (when it succeeded) its exit.
[[maybe_unused]] int execute(const uint8_t* data, size_t size) {
    FuzzTarget& t = *target;
    FuzzDecision d = decode_fuzz_input({data, size}, t.params, t.faults);
    RunOptions opts = apply_fuzz_decision(t.base, d);
    opts.coverage = &t.coverage;
    std::vector<ModuleInput> mods = t.mods;
    mods.back().params = opts.params;
    RunOutcome out;
    try {
        out = run_modules(std::move(mods), opts);
    } catch (const std::exception& e) {
        // A failure of kmodemu is a bug to fix, not a finding: the fuzzer goes on.
        std::cerr << "kmodemu: fuzz: internal error (not a finding): " << e.what()
                  << "; input: " << d.describe() << "\n";
        return -1;  // not added to the corpus
    }
    ++t.execs;
    if (out.ending == "internal") {
        std::cerr << "kmodemu: fuzz: internal error (not a finding); input: " << d.describe()
                  << "\n";
        return -1;
    }
    if (std::optional<Finding> f = find_finding(out)) {
        for (const std::string& l : f->report)
            std::cerr << l << "\n";
        std::cerr << "kmodemu: finding: " << f->kind << ": " << f->signature << "\n"
                  << "kmodemu: input: " << d.describe() << "\n"
                  << std::flush;
        // libFuzzer's crash handler saves the input (crash-<sha1>) and ends the process.
        __builtin_trap();
    }
    return 0;
}

}  // namespace

int fuzz_main(const std::vector<ModuleInput>& mods, const RunOptions& base,
              const std::vector<std::string>& engine, bool faults) {
#ifndef KMODEMU_LIBFUZZER
    (void)mods, (void)base, (void)engine, (void)faults;
    std::cerr << "kmodemu: fuzz: this kmodemu was built without libFuzzer (install "
                 "libclang-rt-14-dev or a later libclang-rt-N-dev and configure again)\n";
    return exit_unimplemented;
#else
    static FuzzTarget t;
    t.mods = mods;
    t.base = base;
    t.params = fuzz_params(mods.back().bytes);
    t.faults = faults;
    t.coverage.counters = guest_edges;
    t.coverage.size = edge_counters;
    t.coverage.on_cmp = [](uint64_t, uint64_t a, uint64_t b, unsigned bits) {
        if (bits <= 32 || (a >> 32 == 0 && b >> 32 == 0))
            __sanitizer_cov_trace_cmp4(uint32_t(a), uint32_t(b));
        else
            __sanitizer_cov_trace_cmp8(a, b);
    };
    target = &t;
    std::cerr << "kmodemu: fuzz: " << mods.back().path << ": " << t.params.size()
              << " parameter(s):";
    for (const FuzzParam& p : t.params)
        std::cerr << " " << p.name << ":" << p.type;
    std::cerr << "\n";
    // Unicorn 2.0.1 reports no ARM comparisons to the hook above: the constants the module's code
    // compares with (cmp #imm) go to libFuzzer as a dictionary of 4-byte little-endian words.
    std::vector<std::string> args = {"kmodemu-fuzz", "-len_control=0",
                                     "-max_len=" + std::to_string(fuzz_input_max(t.params))};
    std::vector<uint32_t> words = compared_constants(mods.back().bytes);
    if (!words.empty()) {
        static std::string dict = (std::filesystem::temp_directory_path() /
                                   ("kmodemu-fuzz-" + std::to_string(getpid()) + ".dict"))
                                      .string();
        std::ofstream d(dict);
        for (uint32_t w : words) {
            char line[64];
            std::snprintf(line, sizeof line, "\"\\x%02x\\x%02x\\x%02x\\x%02x\"\n", w & 0xff,
                          (w >> 8) & 0xff, (w >> 16) & 0xff, w >> 24);
            d << line;
        }
        args.push_back("-dict=" + dict);
        std::atexit([] { std::filesystem::remove(dict); });
    }
    args.insert(args.end(), engine.begin(), engine.end());
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(args.size());
    char** av = argv.data();
    // libFuzzer ends the process itself when done.
    std::atexit([] {
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - target->start).count();
        std::cerr << "kmodemu: fuzz: " << target->execs << " executions in " << secs << " s ("
                  << static_cast<uint64_t>(double(target->execs) / (secs > 0 ? secs : 1))
                  << "/s)\n";
    });
    return LLVMFuzzerRunDriver(&argc, &av, execute);
#endif
}

}  // namespace kmodemu
