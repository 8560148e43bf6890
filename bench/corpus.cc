// kmodemu corpus benchmark: `kmodemu corpus` over a kit's module tree (or PATHs) as a whole
// process, its modules per second of wall clock and of CPU, where the modules' time goes
// (reading, the relocation count, the run), and the slowest modules; beside a baseline measured
// in the same run: a fresh emulated kernel of the kit made and destroyed (Emulator + Kernel, what
// every module pays before its load). Ratios, never assertions (these machines are shared).
//
//   kmodemu_corpus_bench KMODEMU_BINARY --kernel KIT [--jobs N] [--repeat R] [PATH...]
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

#include "bench/bench_util.h"

using namespace kmodemu;
using clk = std::chrono::steady_clock;
using nlohmann::json;

namespace {

using bench::cpu_model;
using bench::median;

struct Process {
    double wall_s = 0, cpu_s = 0;
    int status = 0;
};

// Runs argv to completion, stdout and stderr to /dev/null; its wall and CPU time (its workers
// included: they are waited for by it).
Process spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(stdout);
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
    Process p;
    struct rusage ru {};
    wait4(pid, &p.status, 0, &ru);
    p.wall_s = std::chrono::duration<double>(clk::now() - t0).count();
    // wait4's rusage covers the child and the children it waited for.
    p.cpu_s =
        ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    std::string bin, kit;
    unsigned jobs = 0, repeat = 1;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--kernel" && i + 1 < argc)
            kit = argv[++i];
        else if (a == "--jobs" && i + 1 < argc)
            jobs = unsigned(std::atoi(argv[++i]));
        else if (a == "--repeat" && i + 1 < argc)
            repeat = unsigned(std::max(1, std::atoi(argv[++i])));
        else if (bin.empty())
            bin = a;
        else
            paths.push_back(a);
    }
    if (bin.empty() || kit.empty()) {
        std::fprintf(stderr,
                     "usage: kmodemu_corpus_bench KMODEMU_BINARY --kernel KIT [--jobs N] "
                     "[--repeat R] [PATH...]\n");
        return 64;
    }
    struct utsname u {};
    uname(&u);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double load[1] = {0};
    getloadavg(load, 1);
    std::printf("machine: %s %s, %s, %ld cores, load average %.2f\n", u.sysname, u.machine,
                cpu_model().c_str(), cores, load[0]);

    // Baseline: a fresh emulated kernel of the kit, made and destroyed.
    std::shared_ptr<const KernelProfile> profile = KernelProfile::from_kit(kit);
    std::vector<double> fresh;
    for (int i = 0; i < 200; ++i) {
        auto t0 = clk::now();
        {
            Emulator emu(profile->arch);
            KernelConfig cfg;
            cfg.profile = profile;
            cfg.release = profile->release;
            cfg.thumb2_kernel = profile->thumb2_kernel;
            Kernel k(emu, cfg);
        }
        fresh.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }
    double base = median(fresh);

    char tmpl[] = "/tmp/kmodemu-corpus-bench-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return 1;
    close(fd);
    std::string out = tmpl;
    std::vector<std::string> cmd = {bin, "corpus", "--kernel", kit, "--json", out, "--quiet"};
    if (jobs) cmd.insert(cmd.end(), {"--jobs", std::to_string(jobs)});
    cmd.insert(cmd.end(), paths.begin(), paths.end());
    std::vector<double> walls, cpus;
    json report;
    for (unsigned r = 0; r < repeat; ++r) {
        Process p = spawn(cmd);
        if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
            std::fprintf(stderr, "kmodemu_corpus_bench: `kmodemu corpus` failed (status %d)\n",
                         p.status);
            std::remove(out.c_str());
            return 1;
        }
        walls.push_back(p.wall_s);
        cpus.push_back(p.cpu_s);
        std::ifstream in(out);
        report = json::parse(in);
    }
    std::remove(out.c_str());
    const json& mods = report["modules"];
    size_t n = mods.size();
    double wall = median(walls), cpu = median(cpus);
    std::printf(
        "process `kmodemu corpus` over %zu modules, %u workers: median %.2f s, "
        "%.1f modules/s (goal >= 100 on 2 cores); %.2f s of CPU, %.1f modules per CPU "
        "second\n",
        n, report["run"].value("jobs", 0u), wall, n / wall, cpu, n / cpu);
    double per_module = cpu * 1000 / double(n);
    std::printf(
        "CPU per module: %.3f ms; baseline: a fresh emulated kernel of the kit, made and "
        "destroyed: median %.3f ms; ratio %.2fx\n",
        per_module, base, per_module / base);

    // Where the modules' time goes (in the workers).
    double read = 0, check = 0, run = 0, total = 0;
    std::map<std::string, size_t> verdicts;
    for (const json& m : mods) {
        const json& ms = m.value("ms", json::object());
        read += ms.value("read", 0.0);
        check += ms.value("check", 0.0);
        run += ms.value("run", 0.0);
        total += ms.value("total", 0.0);
        ++verdicts[m.value("verdict", "")];
    }
    std::printf(
        "modules' own time: %.2f s: reading %.1f%%, relocation count %.1f%%, run "
        "(kernels, loads, inits, exits) %.1f%%\n",
        total / 1000, 100 * read / total, 100 * check / total, 100 * run / total);
    std::printf("verdicts:");
    for (const auto& [v, c] : verdicts)
        std::printf(" %s %zu", v.c_str(), c);
    std::printf("\n");

    std::vector<const json*> slow;
    for (const json& m : mods)
        slow.push_back(&m);
    auto ms_of = [](const json* m) { return m->value("ms", json::object()).value("total", 0.0); };
    std::sort(slow.begin(), slow.end(),
              [&](const json* a, const json* b) { return ms_of(a) > ms_of(b); });
    std::printf("slowest modules (ms: total = read + relocation count + run; x baseline):\n");
    for (size_t i = 0; i < slow.size() && i < 15; ++i) {
        const json& m = *slow[i];
        const json& ms = m["ms"];
        std::printf("  %8.2f %6.2f %6.2f %8.2f %6.1fx  %-18s %2zu deps %10llu instr  %s\n",
                    ms.value("total", 0.0), ms.value("read", 0.0), ms.value("check", 0.0),
                    ms.value("run", 0.0), ms.value("total", 0.0) / base,
                    m.value("verdict", "").c_str(), m.value("deps", json::array()).size(),
                    (unsigned long long)m.value("instructions", uint64_t(0)),
                    m.value("module", "").c_str());
    }
    return 0;
}
