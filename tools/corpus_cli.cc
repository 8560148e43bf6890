// `kmodemu corpus ...` and `kmodemu corpus --merge ...`: the command line.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "kernel_stubs/real_kernel.h"
#include "tools/corpus.h"

namespace kmodemu::corpus {

namespace {

const char* const usage_text =
    "usage: kmodemu corpus [options] [PATH...]\n"
    "       kmodemu corpus --merge OUT.json IN.json...\n"
    "\n"
    "Runs kmodemu over many modules: each module (a .ko, .ko.xz, .ko.zst or .ko.gz; a\n"
    "directory is searched recursively) is loaded into a fresh emulated kernel, after its\n"
    "dependencies when it is in the kit's module tree, its init run with a bounded budget, and\n"
    "unloaded; in forked worker processes. With --kernel KIT and no PATH: the kit's whole tree.\n"
    "Prints a summary (verdicts, modules/s, the missing kernel functions) on stdout.\n"
    "\n"
    "options:\n"
    "  --kernel KIT        load as the kit's kernel would (tools/fetch-kernel-kit)\n"
    "  --jobs N            worker processes (default: the number of CPUs)\n"
    "  --shard I/N         only the modules at positions p of the sorted list with\n"
    "                      p % N == I-1\n"
    "  --json FILE         the report: one record per module, totals, rankings\n"
    "  --junit FILE        JUnit XML, a testcase per module\n"
    "  --expected FILE     the real kernel's verdicts (tools/qemu-oracle ARCH --corpus;\n"
    "                      JSON Lines, xz-compressed or not) to compare with\n"
    "  --budget N          instructions per module (default 20000000)\n"
    "  --time-limit S      wall-clock limit of a module's emulated run (default 5)\n"
    "  --wall-limit S      a worker still on one module after S seconds is killed and the\n"
    "                      module recorded as internal (default 4 x time-limit + 10)\n"
    "  --auto-stub         functions kmodemu lacks are pretended (as kmodemu run --auto-stub)\n"
    "  --quiet             no summary on stdout\n"
    "  --faults            `kmodemu faults` over the modules: each module's first run lists\n"
    "                      the fallible calls its load and init make; for each module whose\n"
    "                      init returned 0 (the others are skipped and counted), one run per\n"
    "                      call with that call failing, each isolated in a worker. --json's\n"
    "                      report: a record per module (its error paths, findings and\n"
    "                      reproducers), totals, and the findings deduplicated by kind and\n"
    "                      location (function+offset, module)\n"
    "  --max-paths N       --faults: error paths per module at most (default 64; 0: all):\n"
    "                      one call per call site first, then the others in order; the\n"
    "                      paths cut are counted\n";

bool parse_unsigned(const std::string& s, uint64_t& v) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
    try {
        v = std::stoull(s);
    } catch (...) {
        return false;
    }
    return true;
}

bool parse_double(const std::string& s, double& v) {
    try {
        size_t n = 0;
        v = std::stod(s, &n);
        return n == s.size() && v >= 0;
    } catch (...) {
        return false;
    }
}

int usage_error(const std::string& msg) {
    std::cerr << "kmodemu: corpus: " << msg << "\n" << usage_text;
    return exit_usage;
}

bool write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        std::cerr << "kmodemu: corpus: cannot write " << path << "\n";
        return false;
    }
    return true;
}

int merge(const std::vector<std::string>& args) {
    if (args.size() < 2) return usage_error("--merge needs OUT.json and at least one IN.json");
    std::vector<json> in;
    for (size_t i = 1; i < args.size(); ++i) {
        std::ifstream f(args[i]);
        if (!f) {
            std::cerr << "kmodemu: corpus: cannot read " << args[i] << "\n";
            return exit_usage;
        }
        try {
            in.push_back(json::parse(f));
        } catch (const json::exception& e) {
            std::cerr << "kmodemu: corpus: " << args[i] << ": " << e.what() << "\n";
            return exit_usage;
        }
    }
    json merged;
    try {
        merged = merge_reports(in);
    } catch (const std::exception& e) {
        std::cerr << "kmodemu: corpus: --merge: " << e.what() << "\n";
        return exit_usage;
    }
    if (!write_text(args[0], merged.dump(1, ' ', false, json::error_handler_t::replace) + "\n"))
        return exit_internal;
    std::cout << summary_table(merged);
    return 0;
}

class Progress {
  public:
    explicit Progress(size_t total) : total_(total), on_(isatty(STDERR_FILENO)) {}
    void record(const json& r) {
        ++done_;
        ++counts_[r.value("verdict", "internal")];
        if (!on_) return;
        auto now = clk::now();
        if (done_ != total_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        double el = std::chrono::duration<double>(now - start_).count();
        char buf[160];
        std::snprintf(buf, sizeof buf, "\r[%zu/%zu] %3.0f%% %6.1f modules/s", done_, total_,
                      100.0 * done_ / total_, el > 0 ? done_ / el : 0.0);
        std::string line = buf;
        for (const auto& [v, c] : counts_)
            line += " " + v + " " + std::to_string(c);
        std::cerr << line << "\033[K" << std::flush;
    }
    void end() {
        if (on_ && done_) std::cerr << "\n";
    }

  private:
    using clk = std::chrono::steady_clock;
    size_t total_, done_ = 0;
    bool on_;
    std::map<std::string, size_t> counts_;
    clk::time_point start_ = clk::now(), last_;
};

double cpu_seconds() {
    auto cpu = [](int who) {
        struct rusage ru {};
        getrusage(who, &ru);
        return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    return cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
}

int fault_main(const std::vector<Job>& jobs, const Options& opts, uint64_t max_paths,
               const std::string& kit, json meta, const std::string& json_path, bool quiet) {
    FaultCorpusOptions fo;
    fo.max_paths = size_t(max_paths);
    fo.kit = kit;
    bool tty = isatty(STDERR_FILENO);
    auto start = std::chrono::steady_clock::now();
    auto last = start;
    fo.progress = [&](const std::string& phase, size_t done, size_t total) {
        if (!tty) return;
        auto now = std::chrono::steady_clock::now();
        if (done != total && now - last < std::chrono::milliseconds(100)) return;
        last = now;
        double el = std::chrono::duration<double>(now - start).count();
        char buf[120];
        std::snprintf(buf, sizeof buf, "\r%s [%zu/%zu] %3.0f%% %6.0f s", phase.c_str(), done, total,
                      total ? 100.0 * done / total : 100.0, el);
        std::cerr << buf << "\033[K" << (done == total ? "\n" : "") << std::flush;
    };
    json report;
    try {
        report = fault_corpus(jobs, opts, fo, std::move(meta));
    } catch (const std::exception& e) {
        std::cerr << "kmodemu: corpus: internal error: " << e.what() << "\n";
        return exit_internal;
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report["meta"]["run"] = {{"jobs", opts.jobs}, {"elapsed_s", elapsed}, {"cpu_s", cpu_seconds()}};
    int rc = 0;
    if (!json_path.empty() &&
        !write_text(json_path, report.dump(1, ' ', false, json::error_handler_t::replace) + "\n"))
        rc = exit_internal;
    if (!quiet) std::cout << fault_summary(report) << std::flush;
    return rc;
}

}  // namespace

int corpus_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "--merge")
        return merge(std::vector<std::string>(args.begin() + 1, args.end()));
    Options opts;
    opts.jobs = std::max(1u, std::thread::hardware_concurrency());
    std::string kit, json_path, junit_path, expected_path;
    unsigned shard_i = 1, shard_n = 1;
    bool quiet = false, sharded = false, faults = false;
    uint64_t max_paths = 64;
    std::vector<std::string> paths;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (a == "-h" || a == "--help") {
            std::cout << usage_text;
            return 0;
        } else if (a == "--kernel") {
            if (!value(kit)) return usage_error("--kernel needs a kit directory");
        } else if (a == "--jobs") {
            uint64_t n;
            if (!value(v) || !parse_unsigned(v, n) || n == 0 || n > 1024)
                return usage_error("--jobs needs a number of workers (1..1024)");
            opts.jobs = unsigned(n);
        } else if (a == "--shard") {
            unsigned si = 0, sn = 0;
            char tail;
            if (!value(v) || std::sscanf(v.c_str(), "%u/%u%c", &si, &sn, &tail) != 2 || !sn ||
                !si || si > sn)
                return usage_error("--shard needs I/N with 1 <= I <= N");
            shard_i = si;
            shard_n = sn;
            sharded = true;
        } else if (a == "--json") {
            if (!value(json_path)) return usage_error("--json needs a file");
        } else if (a == "--junit") {
            if (!value(junit_path)) return usage_error("--junit needs a file");
        } else if (a == "--expected") {
            if (!value(expected_path)) return usage_error("--expected needs a file");
        } else if (a == "--budget") {
            if (!value(v) || !parse_unsigned(v, opts.budget) || !opts.budget)
                return usage_error("--budget needs a number of instructions");
        } else if (a == "--time-limit") {
            if (!value(v) || !parse_double(v, opts.time_limit))
                return usage_error("--time-limit needs seconds");
        } else if (a == "--wall-limit") {
            if (!value(v) || !parse_double(v, opts.wall_limit))
                return usage_error("--wall-limit needs seconds");
        } else if (a == "--auto-stub") {
            opts.auto_stub = true;
        } else if (a == "--faults") {
            faults = true;
        } else if (a == "--max-paths") {
            if (!value(v) || !parse_unsigned(v, max_paths))
                return usage_error("--max-paths needs a number of error paths");
        } else if (a == "--quiet") {
            quiet = true;
        } else if (a == "--merge") {
            return usage_error("--merge comes first: kmodemu corpus --merge OUT.json IN.json...");
        } else if (a.starts_with("-") && a != "-") {
            return usage_error("unknown option " + a);
        } else {
            paths.push_back(a);
        }
    }
    if (kit.empty() && paths.empty()) return usage_error("no modules given (PATH or --kernel)");
    if (faults && (!expected_path.empty() || !junit_path.empty()))
        return usage_error("--faults makes its own report: no --expected or --junit");

    auto t0 = std::chrono::steady_clock::now();
    json meta;
    std::optional<ModuleTree> tree;
    std::optional<oracle::Context> ctx;
    if (!kit.empty()) {
        try {
            // Read once here: the workers share it (copy-on-write after fork).
            opts.profile = KernelProfile::from_kit(kit);
            tree = ModuleTree::of_kit(kit);
            // What a module's run may read from the kit's image (its kallsyms for reports and
            // data sizes, its BTF for prototypes) is read once per process: here, before the
            // workers are forked, so that none of them reads it again.
            RealKernel warm(opts.profile, opts.profile->arch);
            if (const Kallsyms* ks = warm.kallsyms()) ks->find("");  // and its index
            warm.trusted_keys();
            if (const KernelBtf* btf = warm.btf()) {  // and its indexes, made on first use
                btf->function("");
                btf->variable_size("");
            }
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: corpus: --kernel: " << e.what() << "\n";
            return exit_usage;
        }
        meta["kernel"] = opts.profile->release;
        meta["arch"] = arch_name(opts.profile->arch);
        meta["release"] = opts.profile->release;
        std::string version;
        if (auto env = read_kit_env(kit + "/kit.env"))
            if (env->count("KIT_VERSION")) version = env->at("KIT_VERSION");
        ctx = oracle::Context{opts.profile->arch == Arch::arm64, opts.profile->release, version};
    } else {
        meta["kernel"] = "default";
    }
    std::optional<ExpectedFile> expected;
    if (!expected_path.empty()) {
        try {
            expected = read_expected(expected_path);
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: corpus: --expected: " << e.what() << "\n";
            return exit_usage;
        }
        const json& h = expected->header;
        if (ctx && h.contains("release") && h["release"] != ctx->release)
            std::cerr << "kmodemu: corpus: warning: " << expected_path << " is of "
                      << h["release"].get<std::string>() << ", the kit of " << ctx->release << "\n";
        if (!ctx)
            ctx = oracle::Context{h.value("arch", "arm64") == "arm64", h.value("release", ""),
                                  h.value("version", "")};
        meta["expected_file"] = expected_path;
    }

    std::vector<Job> jobs;
    try {
        jobs = collect(paths, tree ? &*tree : nullptr);
    } catch (const std::exception& e) {
        std::cerr << "kmodemu: corpus: " << e.what() << "\n";
        return exit_usage;
    }
    if (sharded) {
        jobs = shard(jobs, shard_i, shard_n);
        meta["shard"] = std::to_string(shard_i) + "/" + std::to_string(shard_n);
    }
    meta["budget"] = opts.budget;
    meta["time_limit"] = opts.time_limit;
    meta["auto_stub"] = opts.auto_stub;

    if (faults) return fault_main(jobs, opts, max_paths, kit, std::move(meta), json_path, quiet);

    std::vector<json> records(jobs.size());
    Progress progress(jobs.size());
    auto t1 = std::chrono::steady_clock::now();
    try {
        run_jobs(jobs, opts, [&](size_t i, json r) {
            if (expected) {
                auto it = expected->modules.find(r.value("module", ""));
                if (it != expected->modules.end())
                    compare_expected(r, it->second, *ctx);
                else
                    r["expected"] = {{"recorded", false}};
            }
            progress.record(r);
            records[i] = std::move(r);
        });
    } catch (const std::exception& e) {
        progress.end();
        std::cerr << "kmodemu: corpus: internal error: " << e.what() << "\n";
        return exit_internal;
    }
    progress.end();
    auto t2 = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(t2 - t0).count();
    double run_s = std::chrono::duration<double>(t2 - t1).count();
    // CPU time of this process and its workers: steadier than wall-clock time on a shared machine.
    auto cpu = [](int who) {
        struct rusage ru {};
        getrusage(who, &ru);
        return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    double cpu_s = cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
    meta["run"] = {{"jobs", opts.jobs},
                   {"elapsed_s", elapsed},
                   {"setup_s", elapsed - run_s},
                   {"cpu_s", cpu_s},
                   {"modules_per_s", elapsed > 0 ? jobs.size() / elapsed : 0.0},
                   {"modules_per_cpu_s", cpu_s > 0 ? jobs.size() / cpu_s : 0.0}};
    json report = make_report(std::move(records), std::move(meta));
    int rc = 0;
    if (!json_path.empty() &&
        !write_text(json_path, report.dump(1, ' ', false, json::error_handler_t::replace) + "\n"))
        rc = exit_internal;
    if (!junit_path.empty() && !write_text(junit_path, junit_xml(report))) rc = exit_internal;
    if (!quiet) std::cout << summary_table(report) << std::flush;
    return rc;
}

}  // namespace kmodemu::corpus
