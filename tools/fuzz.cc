#include "tools/fuzz.h"

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <span>

#include "tools/fuzz_exec.h"
#include "tools/fuzz_input.h"

#ifdef KMODEMU_LIBFUZZER
// libFuzzer's driver (compiler-rt's libclang_rt.fuzzer_no_main).
extern "C" int LLVMFuzzerRunDriver(int* argc, char*** argv,
                                   int (*cb)(const uint8_t* data, size_t size));

namespace {
// The guest's edge counters: libFuzzer finds them by their section (its extra counters), clears
// them before each execution and reads them after it.
constexpr size_t edge_counters = 1 << 16;
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t guest_edges[edge_counters];
}  // namespace
#else
namespace {
constexpr size_t edge_counters = 1 << 16;  // execute() compiles, though nothing calls it
uint8_t guest_edges[edge_counters];
}  // namespace
#endif

namespace kmodemu {

namespace {

struct Fuzzing {
    FuzzTarget target;
    std::unique_ptr<WarmExecutor> warm;  // --warm; null: every execution in a fresh kernel
    uint64_t execs = 0;
    std::string dict;  // the dictionary file this process wrote, until libFuzzer has read it
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};
Fuzzing* fuzzing = nullptr;

// One execution: the dependencies loaded, then the module with what the input decides, its init
// and (when it succeeded) its exit; in the warm path's child of the kernel made once, or fresh.
[[maybe_unused]] int execute(const uint8_t* data, size_t size) {
    Fuzzing& f = *fuzzing;
    if (!f.dict.empty()) {
        // libFuzzer has read the dictionary this process wrote (a finding ends the process
        // without its exit handlers; -jobs and -fork keep theirs until the end).
        std::filesystem::remove(f.dict);
        f.dict.clear();
    }
    std::span<const uint8_t> in(data, size);
    ExecResult r = f.warm ? f.warm->run(in, guest_edges)
                          : execute_fresh(f.target, in, guest_edges, edge_counters);
    ++f.execs;
    if (r.internal) {
        // A failure of kmodemu is a bug to fix, not a finding: the fuzzer goes on.
        std::cerr << "kmodemu: fuzz: internal error (not a finding): " << r.internal_what
                  << "; input: "
                  << decode_fuzz_input(in, f.target.params, f.target.faults).describe() << "\n";
        return -1;  // not added to the corpus
    }
    if (r.finding) {
        for (const std::string& l : r.finding->report)
            std::cerr << l << "\n";
        std::cerr << "kmodemu: finding: " << r.finding->kind << ": " << r.finding->signature << "\n"
                  << "kmodemu: input: "
                  << decode_fuzz_input(in, f.target.params, f.target.faults).describe() << "\n"
                  << std::flush;
        // libFuzzer's crash handler saves the input (crash-<sha1>) and ends the process.
        __builtin_trap();
    }
    return 0;
}

}  // namespace

int fuzz_main(const std::vector<ModuleInput>& mods, const RunOptions& base,
              const std::vector<std::string>& engine, const std::vector<std::string>& self,
              bool faults, bool warm) {
#ifndef KMODEMU_LIBFUZZER
    (void)mods, (void)base, (void)engine, (void)self, (void)faults, (void)warm;
    std::cerr << "kmodemu: fuzz: this kmodemu was built without libFuzzer (install "
                 "libclang-rt-14-dev or a later libclang-rt-N-dev and configure again)\n";
    return exit_unimplemented;
#else
    static Fuzzing f;
    f.target.mods = mods;
    f.target.base = base;
    f.target.params = fuzz_params(mods.back().bytes);
    f.target.faults = faults;
    fuzzing = &f;
    std::cerr << "kmodemu: fuzz: " << mods.back().path << ": " << f.target.params.size()
              << " parameter(s):";
    for (const FuzzParam& p : f.target.params)
        std::cerr << " " << p.name << ":" << p.type;
    std::cerr << "\n";
    // libFuzzer's -jobs and -fork run this command again (argv[0] and the same arguments): the
    // engine's options first, then -ignore_remaining_args=1 and `fuzz` with kmodemu's own, which
    // libFuzzer passes on untouched (tools/kmodemu.cc accepts that form).
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::vector<std::string> args = {n > 0 ? std::string(exe, size_t(n)) : "kmodemu"};
    auto given = [&](const char* flag) {
        for (const std::string& e : engine)
            if (e.starts_with(flag)) return true;
        return false;
    };
    bool spawns = given("-jobs=") || given("-fork=") || given("-workers=");
    if (!given("-len_control=")) args.push_back("-len_control=0");
    if (!given("-max_len="))
        args.push_back("-max_len=" + std::to_string(fuzz_input_max(f.target.params)));
    // The constants the module's code compares with (cmp #imm) go to libFuzzer as a dictionary
    // of 4-byte little-endian words (Unicorn 2.0.1 reports no ARM comparisons to a hook).
    std::vector<uint32_t> words = compared_constants(mods.back().bytes);
    if (!words.empty() && !given("-dict=")) {
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
        if (!spawns) f.dict = dict;
        std::atexit([] { std::filesystem::remove(dict); });
    }
    args.insert(args.end(), engine.begin(), engine.end());
    args.push_back("-ignore_remaining_args=1");
    args.insert(args.end(), self.begin(), self.end());
    // The warm path when asked for; not in a process that only spawns others.
    if (warm && !spawns) {
        f.warm = std::make_unique<WarmExecutor>(f.target, edge_counters);
    }
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(args.size());
    char** av = argv.data();
    // libFuzzer ends the process itself when done.
    std::atexit([] {
        if (!fuzzing->execs) return;
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - fuzzing->start)
                .count();
        std::cerr << "kmodemu: fuzz: " << fuzzing->execs << " executions in " << secs << " s ("
                  << static_cast<uint64_t>(double(fuzzing->execs) / (secs > 0 ? secs : 1)) << "/s)";
        if (fuzzing->warm && !fuzzing->warm->fresh_reason().empty())
            std::cerr << "; fresh kernels: " << fuzzing->warm->fresh_reason();
        else if (fuzzing->warm)
            std::cerr << "; warm (fork server)";
        std::cerr << "\n";
    });
    return LLVMFuzzerRunDriver(&argc, &av, execute);
#endif
}

}  // namespace kmodemu
