// kmodemu benchmark: load+init+exit of fixtures/hello in process, and whole `kmodemu run`
// processes with their peak RSS, without and with a kit's profile (`--kernel KIT`). Timings are
// medians; each is also reported as a ratio against a baseline measured in the same run (these
// machines are noisy), never asserted.
//
//   kmodemu_bench KMODEMU_BINARY HELLO.ko [--kernel KIT] [iterations]
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "loader/loader.h"
#include "tools/fuzz_exec.h"
#include "tools/runner.h"

#include "bench/bench_util.h"

using namespace kmodemu;
using clk = std::chrono::steady_clock;

namespace {

using bench::cpu_model;
using bench::median;

struct Process {
    double ms;   // wall time
    long kib;    // peak RSS
    int status;  // wait status
};

// Runs argv to completion with stdout/stderr to /dev/null.
Process spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    auto t0 = clk::now();
    pid_t pid = fork();
    if (pid == 0) {
        FILE* n = std::freopen("/dev/null", "w", stdout);
        FILE* e = std::freopen("/dev/null", "w", stderr);
        (void)n;
        (void)e;
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    double ms = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
    return {ms, ru.ru_maxrss, status};
}

}  // namespace

int main(int argc, char** argv) {
    std::string bin, ko, kit;
    int iters = 200;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--kernel" && i + 1 < argc)
            kit = argv[++i];
        else if (bin.empty())
            bin = a;
        else if (ko.empty())
            ko = a;
        else
            iters = std::atoi(a.c_str());
    }
    if (ko.empty() || iters <= 0) {
        std::fprintf(stderr,
                     "usage: kmodemu_bench KMODEMU_BINARY HELLO.ko [--kernel KIT] [iterations]\n");
        return 64;
    }
    std::ifstream in(ko, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (bytes.empty()) {
        std::fprintf(stderr, "kmodemu_bench: cannot read %s\n", ko.c_str());
        return 1;
    }
    struct utsname u {};
    uname(&u);
    std::printf("machine: %s %s, %s, %ld cores\n", u.sysname, u.machine, cpu_model().c_str(),
                sysconf(_SC_NPROCESSORS_ONLN));

    // Baseline in process: opening and closing a Unicorn engine with one page mapped.
    std::vector<double> base, inproc;
    for (int i = 0; i < iters; ++i) {
        auto t0 = clk::now();
        uc_engine* uc;
        uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc);
        uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL);
        uc_close(uc);
        base.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }
    int status = 0;
    for (int i = 0; i < iters; ++i) {
        auto t0 = clk::now();
        RunOutcome out = run_module(bytes, RunOptions{});
        inproc.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
        status |= out.exit_status;
    }
    if (status) {
        std::fprintf(stderr, "kmodemu_bench: hello did not load cleanly\n");
        return 1;
    }
    double b = median(base), m = median(inproc);
    std::printf(
        "in-process load+init+exit of hello: median %.3f ms (goal <= 1 ms); "
        "baseline uc_open+map+close %.3f ms; ratio %.2fx\n",
        m, b, m / b);

    // Warm: one emulated kernel, the module inserted and removed again and again (as repeated
    // insmod/rmmod in one boot, and as a fuzzing loop would run it).
    {
        Emulator emu(ElfFile::sniff_arch(bytes).value_or(Arch::arm64));
        Kernel kernel(emu);
        Loader loader(kernel);
        std::vector<double> warm;
        for (int i = 0; i < iters; ++i) {
            emu.set_budget(100'000'000);
            auto t0 = clk::now();
            LoadResult r = loader.load(bytes, LoadOptions{});
            bool ok = r.err == 0 && r.module && loader.unload(*r.module).err == 0;
            warm.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
            if (!ok) {
                std::fprintf(stderr, "kmodemu_bench: warm load %d failed (%d)\n", i, r.err);
                return 1;
            }
        }
        double w = median(warm);
        std::printf(
            "warm load+init+exit of hello in one emulated kernel: median %.3f ms "
            "(goal <= 1 ms); ratio to the cold run %.2fx\n",
            w, w / m);
    }

    // `kmodemu fuzz`'s executions of hello per second, side by side in this process: fresh (a new
    // emulated kernel each), warm (tools/fuzz_exec.h: forked from a kernel made once, so that
    // each starts from the same state) and the plain warm loop (one kernel loading and
    // unloading hello, which no fuzzer can use as is: every execution would start from the
    // state the previous left).
    {
        FuzzTarget t;
        t.mods = {ModuleInput{ko, bytes, {}}};
        t.params = fuzz_params(bytes);
        std::vector<uint8_t> counters(1 << 16);
        std::vector<uint8_t> input = {0, 0};  // no failing call, seed 0, no parameter given
        // Executions per second of wall time, and per second of CPU time (this process's and
        // its children's, the warm path's server and its children among them once reaped: what
        // a core does, whatever else runs on this machine).
        auto cpu = [] {
            struct rusage self {}, kids {};
            getrusage(RUSAGE_SELF, &self);
            getrusage(RUSAGE_CHILDREN, &kids);
            auto s = [](const timeval& t) { return double(t.tv_sec) + t.tv_usec / 1e6; };
            return s(self.ru_utime) + s(self.ru_stime) + s(kids.ru_utime) + s(kids.ru_stime);
        };
        struct Rate {
            double wall, cpu;
        };
        auto rate = [&](auto&& one, auto&& done) {
            double c0 = cpu();
            auto t0 = clk::now();
            int n = 0;
            double secs = 0;
            do {
                one();
                ++n;
                secs = std::chrono::duration<double>(clk::now() - t0).count();
            } while (secs < 3.0 && n < iters * 40);
            done();
            return Rate{n / secs, n / (cpu() - c0)};
        };
        auto nothing = [] {};
        Rate fresh = rate([&] { execute_fresh(t, input, counters.data(), counters.size()); },
                          nothing);
        auto warm = std::make_unique<WarmExecutor>(t, counters.size());
        warm->run(input, counters.data());  // the server's kernel made
        std::string fell_back;
        Rate hot = rate([&] { warm->run(input, counters.data()); },
                        [&] {
                            fell_back = warm->fresh_reason();
                            warm.reset();  // the server ends: its CPU time is counted
                        });
        Emulator emu(ElfFile::sniff_arch(bytes).value_or(Arch::arm64));
        Kernel kernel(emu);
        Loader loader(kernel);
        Rate loop = rate(
            [&] {
                emu.set_budget(100'000'000);
                LoadResult r = loader.load(bytes, LoadOptions{});
                if (r.module) loader.unload(*r.module);
            },
            nothing);
        std::printf(
            "fuzz executions of hello per CPU second (per wall second): fresh %.0f (%.0f); warm "
            "(fork server%s) %.0f (%.0f), %.1fx fresh; plain warm loop %.0f (%.0f), warm is "
            "%.2fx of it (goal 5000/s)\n",
            fresh.cpu, fresh.wall, fell_back.empty() ? "" : ", ran fresh!", hot.cpu, hot.wall,
            hot.cpu / fresh.cpu, loop.cpu, loop.wall, hot.cpu / loop.cpu);
    }

    // Whole processes: kmodemu run vs /bin/true, and with the kit's profile (read from its
    // cache, KIT/kmodemu-profile.cache, which the first run writes) vs without, interleaved.
    int pruns = std::max(10, iters / 10);
    std::vector<std::string> run_default = {bin, "run", ko};
    std::vector<std::string> run_kit = {bin, "run", "--kernel", kit, ko};
    auto loads = [](const std::vector<std::string>& cmd) {
        Process p = spawn(cmd);
        return WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
    };
    if (!loads(run_default) || (!kit.empty() && !loads(run_kit))) {
        std::fprintf(stderr, "kmodemu_bench: a `kmodemu run` did not load hello cleanly\n");
        return 1;
    }
    std::vector<double> t_true, t_run, t_kit;
    long rss = 0, rss_kit = 0;
    for (int i = 0; i < pruns; ++i) {
        t_true.push_back(spawn({"/bin/true"}).ms);
        Process p = spawn(run_default);
        t_run.push_back(p.ms);
        rss = std::max(rss, p.kib);
        if (kit.empty()) continue;
        p = spawn(run_kit);
        t_kit.push_back(p.ms);
        rss_kit = std::max(rss_kit, p.kib);
    }
    double pt = median(t_true), pr = median(t_run);
    std::printf(
        "process `kmodemu run hello.ko`: median %.2f ms (goal <= 13 ms); /bin/true %.2f ms; "
        "ratio %.1fx\n",
        pr, pt, pr / pt);
    std::printf("peak RSS of `kmodemu run`: %.1f MiB (goal <= 64 MiB)\n", rss / 1024.0);
    if (kit.empty()) {
        std::printf("process `kmodemu run --kernel KIT hello.ko`: not measured (no KIT given)\n");
        return 0;
    }
    double pk = median(t_kit);
    std::printf(
        "process `kmodemu run --kernel KIT hello.ko`: median %.2f ms; `kmodemu run hello.ko` "
        "%.2f ms; ratio %.2fx (goal <= 1.2x); peak RSS %.1f MiB\n",
        pk, pr, pk / pr, rss_kit / 1024.0);
    return 0;
}
