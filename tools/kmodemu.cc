// kmodemu — load an ARM/AArch64 Linux kernel module like insmod, in an emulator.
//
//   kmodemu run [options] MODULE.ko [name=value ...] [MODULE.ko [name=value ...] ...]
//   kmodemu faults [run options] MODULE.ko [name=value ...]
//   kmodemu fuzz [run options] MODULE.ko [name=value ...] [-- LIBFUZZER_OPTIONS]
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <unistd.h>

#include "tools/corpus.h"
#include "tools/coverage.h"
#include "tools/depmod.h"
#include "tools/faults.h"
#include "tools/fuzz.h"
#include "tools/fuzz_input.h"
#include "tools/report.h"
#include "tools/runner.h"

namespace po = boost::program_options;
using namespace kmodemu;

namespace {

// The subcommands that take `kmodemu run`'s options.
enum class Mode { run, faults, fuzz };

void usage(std::ostream& os, const po::options_description& desc, Mode mode) {
    if (mode == Mode::fuzz) {
        os << "usage: kmodemu fuzz [options] MODULE [name=value ...] [-- LIBFUZZER_OPTIONS]\n\n"
              "Coverage-guided fuzzing of a module's load, init and exit with libFuzzer, in this\n"
              "process: each input decides the module's parameter values (typed from its\n"
              "parmtype), a kernel call made to fail and the seed; the coverage is the edges of\n"
              "the module's own code. An oops, BUG, WARN, lock report or hang is a finding: its\n"
              "report and signature are printed and libFuzzer saves the input (crash-*, see\n"
              "-artifact_prefix); `kmodemu run --replay FILE MODULE` reproduces it. The options\n"
              "after -- are libFuzzer's (-runs=N, -seed=N, -max_total_time=S, -jobs=N, -fork=N,\n"
              "CORPUS_DIR, ...).\n\n"
           << desc;
        return;
    }
    if (mode == Mode::faults) {
        os << "usage: kmodemu faults [options] MODULE [name=value ...]\n\n"
              "Runs the module's init error paths one by one: a first run records the calls of\n"
              "fallible kernel functions (kmodemu run --fail-list) that its load and init make;\n"
              "then one run per call, each in a fresh emulated kernel, with that call failing\n"
              "(NULL, ERR_PTR(-ENOMEM) or -ENOMEM, as the function fails) and the lock checks of\n"
              "--lockdep on. Reports per error path the call, what init returned and the\n"
              "findings: oops, BUG, panic, WARN, hang, lockdep (lock and sleep-in-atomic\n"
              "reports), double-free, invalid-free, leak (objects the module allocated still\n"
              "allocated after its init failed), unload (rmmod failed); findings the run without\n"
              "a failure has too are left out. An init that returns 0 after a failed call is\n"
              "noted (ignored-failure), not counted as a finding. Each path with findings or\n"
              "notes comes with its `kmodemu run --fail` reproducer. Exits 0 when no error path\n"
              "has a finding, 1 when one has, 64 on a usage error, 70 on an internal error.\n\n"
           << desc;
        return;
    }
    os << "usage: kmodemu run [options] MODULE [name=value ...] [MODULE [name=value ...] ...]\n\n"
          "Loads each MODULE (a .ko file, plain or compressed) into one emulated kernel like\n"
          "insmod, in order, each resolving its imports against the kernel and the modules\n"
          "before it; runs their init, and unloads them like rmmod (the last first) when all\n"
          "succeeded. With --kernel KIT, a MODULE may be a module name of the kit, and the\n"
          "dependencies of a module of the kit's tree are loaded first, as modprobe does.\n"
          "Prints the kernel log lines; exits with insmod's status (0, or the errno), 139 on an\n"
          "oops, 124 on a hang, 69 when an unimplemented kernel function was called, 64 on a\n"
          "usage error, 70 on an internal error.\n\n"
       << desc;
}

// `kmodemu run`, `faults` and `fuzz` arguments, parsed: the options, and the modules in load order
// (the one asked for last) with their bytes and parameters.
struct RunArgs {
    po::variables_map vm;
    RunOptions opts;
    std::vector<ModuleInput> inputs;
    bool modprobe = false;
    std::string path;  // of the module asked for
};

// Parses the arguments of `kmodemu run` (or `faults`, `fuzz`); nullopt to go on, or the exit
// status.
std::optional<int> parse_run_args(int argc, char** argv, RunArgs& ra, Mode mode) {
    bool fuzz = mode == Mode::fuzz;
    po::options_description desc("options");
    desc.add_options()("help,h", "show this help")(
        "no-unload", "do not unload the module after a successful init")(
        "json", po::value<std::string>(), "write a JSON report to FILE")(
        "coverage", po::value<std::string>(),
        "write what the module executed to FILE: drcov (FILE.drcov, for binary coverage "
        "viewers: one module entry per executable region) or an lcov tracefile (FILE.info: "
        "functions by symbol, and a pseudo-line per instruction of each region)")(
        "budget", po::value<uint64_t>()->default_value(200'000'000), "instruction budget")(
        "time-limit", po::value<double>()->default_value(20.0), "wall-clock limit in seconds")(
        "settle", po::value<uint64_t>()->default_value(1000),
        "virtual milliseconds that pass after each init: queued work and expiring timers run")(
        "seed", po::value<uint64_t>()->default_value(0),
        "seed of the emulated kernel's random numbers (get_random_bytes(), ...) and of "
        "--fail-probability")(
        "fail-alloc", po::value<uint64_t>(),
        "fault injection: the Nth allocation (kmalloc family, kmem_cache_alloc*, vmalloc "
        "family, __get_free_pages, devm_kmalloc, kmemdup, kstrdup, ...) of the module asked "
        "for fails, returning NULL as failslab makes it")(
        "fail-alloc-every", po::value<uint64_t>(), "fault injection: every Nth allocation fails")(
        "fail-probability", po::value<double>(),
        "fault injection: each allocation fails with probability P percent (failslab's "
        "probability; the random numbers come from --seed)")(
        "fail", po::value<std::vector<std::string>>()->composing(),
        "fault injection: the NTH call of the kernel function NAME fails with -ERRNO (NULL or "
        "ERR_PTR(-ERRNO) for a function whose failure looks so), without running; "
        "NAME:NTH:ERRNO, e.g. register_chrdev:1:EBUSY; repeatable")(
        "fail-list", "list the kernel functions --fail can make fail, and how they fail")(
        "lockdep",
        "lock checks as a kernel with lockdep (CONFIG_PROVE_LOCKING) and "
        "CONFIG_DEBUG_ATOMIC_SLEEP reports them: recursive locking, bad unlock balance, locks "
        "held when returning to user space, sleeping in atomic context (Debian's kernels have "
        "neither; without it only what they do happens)")(
        "auto-stub", "exported functions kmodemu lacks become stubs returning 0 (reported)")(
        "panic-on-warn", "a WARN panics the kernel, as the panic_on_warn sysctl does")(
        "ktap", "print the result as KTAP (version 1), one test per insmod and rmmod, the kernel "
                "lines as diagnostics")(
        "no-deps", "with --kernel: do not load the dependencies of the kit's modules")(
        "kernel", po::value<std::string>(),
        "load as the kernel of KIT would (a directory made by tools/fetch-kernel-kit): its "
        "vermagic, exported symbols with CRCs, GPL-only flags, namespaces and configuration")(
        "device", po::value<std::vector<std::string>>()->composing(),
        "declare a device of the machine, there before the modules load: "
        "BUS:NAME[:compatible=STR][:mmio=BASE+SIZE][:irq=N] (BUS: platform; compatible= gives "
        "it a device-tree node with that compatible string, as the board's device tree would); a "
        "driver a module registers binds to it and probes; repeatable")(
        "mmio-value", po::value<std::vector<std::string>>()->composing(),
        "ADDR=VALUE[,VALUE...]: successive reads of the device register at physical address "
        "ADDR return these values, the last repeating (other registers read what was last "
        "written, initially 0); repeatable")(
        "irq", po::value<std::vector<std::string>>()->composing(),
        "N@MS: raise interrupt line N (of a --device) MS virtual milliseconds after the init of "
        "the module asked for started; its handlers run in hardirq context, then their threads; "
        "repeatable")(
        "arm-kernel", po::value<std::string>()->default_value("thumb2"),
        "32-bit ARM: the emulated kernel is built as `thumb2` (accepts Thumb-2 relocations) or "
        "`arm` (like Debian's armmp: refuses them)");
    desc.add_options()("no-fail",
                       fuzz ? "inputs decide no failing call (their fault bytes are ignored): "
                              "only parameter values and the seed"
                            : "with --replay: the input's failing call is ignored, as `kmodemu "
                              "fuzz --no-fail` ignored it");
    if (fuzz)
        desc.add_options()("warm",
                           "fork each execution from an emulated kernel made once, with the "
                           "dependencies loaded (a fork server; exactly a fresh kernel's "
                           "execution, and a crash of kmodemu ends only its child), rather than "
                           "make a fresh kernel per execution");
    if (!fuzz)
        desc.add_options()("replay", po::value<std::string>(),
                           "run with what the `kmodemu fuzz` input in FILE decides (parameter "
                           "values, a failing call, the seed) and report a finding as the fuzzer "
                           "does");
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>()->multitoken());
    po::positional_options_description pos;
    pos.add("args", -1);
    po::options_description all;
    all.add(desc).add(hidden);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "kmodemu: " << e.what() << "\n";
        usage(std::cerr, desc, mode);
        return exit_usage;
    }
    if (vm.count("help")) {
        usage(std::cout, desc, mode);
        return 0;
    }
    if (vm.count("fail-list")) {
        for (const FallibleFunction& f : fallible_functions()) {
            const char* how = f.form == FailureForm::null      ? "NULL"
                              : f.form == FailureForm::err_ptr ? "ERR_PTR(-ERRNO)"
                                                               : "-ERRNO";
            std::cout << f.name << " " << how << (f.allocation ? " allocation" : "");
            for (const char* e : f.exports)
                std::cout << " " << e;
            std::cout << "\n";
        }
        return 0;
    }
    if (!vm.count("args")) {
        std::cerr << "kmodemu: no module given\n";
        usage(std::cerr, desc, mode);
        return exit_usage;
    }
    RunOptions opts;
    opts.unload = !vm.count("no-unload");
    opts.budget = vm["budget"].as<uint64_t>();
    opts.settle_ms = vm["settle"].as<uint64_t>();
    opts.seed = vm["seed"].as<uint64_t>();
    opts.time_limit = vm["time-limit"].as<double>();
    opts.auto_stub = vm.count("auto-stub") > 0;
    std::string arm_kernel = vm["arm-kernel"].as<std::string>();
    if (arm_kernel != "thumb2" && arm_kernel != "arm") {
        std::cerr << "kmodemu: --arm-kernel must be thumb2 or arm\n";
        return exit_usage;
    }
    opts.thumb2_kernel = arm_kernel == "thumb2";
    opts.panic_on_warn = vm.count("panic-on-warn") > 0;
    opts.faults.seed = opts.seed;
    opts.lockdep = vm.count("lockdep") > 0;
    for (const char* o : {"fail-alloc", "fail-alloc-every"}) {
        if (!vm.count(o)) continue;
        uint64_t n = vm[o].as<uint64_t>();
        if (n == 0) {
            std::cerr << "kmodemu: --" << o << ": N counts allocations from 1\n";
            return exit_usage;
        }
        (std::string(o) == "fail-alloc" ? opts.faults.fail_alloc : opts.faults.fail_alloc_every) =
            n;
    }
    if (vm.count("fail-probability")) {
        double p = vm["fail-probability"].as<double>();
        if (!(p >= 0 && p <= 100)) {
            std::cerr << "kmodemu: --fail-probability: P is a percentage, from 0 to 100\n";
            return exit_usage;
        }
        opts.faults.probability = p;
    }
    if (vm.count("fail")) {
        for (const std::string& f : vm["fail"].as<std::vector<std::string>>()) {
            std::string error;
            std::optional<FaultSpec> spec = parse_fault_spec(f, error);
            if (!spec) {
                std::cerr << "kmodemu: --fail: " << error << "\n";
                return exit_usage;
            }
            opts.faults.fail.push_back(*spec);
        }
    }
    if (mode == Mode::faults && (opts.faults.any() || vm.count("fail-list"))) {
        std::cerr << "kmodemu: faults makes the calls fail itself: no --fail* options\n";
        return exit_usage;
    }
    // With a failure injected, the module's allocations are recorded, so that the objects an
    // init that failed leaves allocated are reported (as `kmodemu faults` finds them).
    if (opts.faults.any()) opts.faults.record = true;
    for (const char* o : {"device", "mmio-value", "irq"}) {
        if (!vm.count(o)) continue;
        for (const std::string& v : vm[o].as<std::vector<std::string>>()) {
            std::string error;
            bool ok = false;
            if (std::string(o) == "device") {
                std::optional<DeviceSpec> d = parse_device_spec(v, error);
                if ((ok = d.has_value())) opts.devices.push_back(*d);
            } else if (std::string(o) == "mmio-value") {
                std::optional<MmioValueSpec> m = parse_mmio_value(v, error);
                if ((ok = m.has_value())) opts.mmio_values.push_back(*m);
            } else {
                std::optional<IrqRaise> r = parse_irq_raise(v, error);
                if ((ok = r.has_value())) opts.irqs.push_back(*r);
            }
            if (!ok) {
                std::cerr << "kmodemu: --" << o << ": " << error << "\n";
                usage(std::cerr, desc, mode);
                return exit_usage;
            }
        }
    }
    opts.coverage = vm.count("coverage") > 0;
    if (opts.coverage) {
        const std::string& c = vm["coverage"].as<std::string>();
        if (!c.ends_with(".drcov") && !c.ends_with(".info")) {
            std::cerr << "kmodemu: --coverage: the file's extension says the format: .drcov or "
                         ".info (lcov)\n";
            return exit_usage;
        }
    }
    std::optional<ModuleTree> tree;
    if (vm.count("kernel")) {
        std::string kit = vm["kernel"].as<std::string>();
        try {
            opts.profile = KernelProfile::from_kit(kit);
            tree = ModuleTree::of_kit(kit);
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: --kernel: " << e.what() << "\n";
            return exit_usage;
        }
    }

    // The modules and each one's parameters: a word with '=' that names no file is a
    // parameter of the module before it.
    struct Wanted {
        std::string path;  // as given, or the file in the kit's tree
        std::vector<std::string> params;
        bool requested = true;  // named on the command line (not a dependency)
    };
    std::vector<Wanted> wanted;
    for (const std::string& a : vm["args"].as<std::vector<std::string>>()) {
        bool is_file = access(a.c_str(), F_OK) == 0;
        if (!is_file && a.find('=') != std::string::npos && !wanted.empty()) {
            if (a[0] == '=') {
                std::cerr << "kmodemu: bad module parameter '" << a << "'\n";
                return exit_usage;
            }
            wanted.back().params.push_back(a);
            continue;
        }
        if (!is_file && a.find('=') != std::string::npos) {
            std::cerr << "kmodemu: bad module parameter '" << a << "' (no module before it)\n";
            return exit_usage;
        }
        wanted.push_back({a, {}, true});
    }
    // modprobe: a module of the kit's tree (by name or path) comes after its dependencies;
    // one already in the list is not loaded twice.
    bool modprobe = false;
    if (tree) {
        std::vector<Wanted> ordered;
        std::set<std::string> seen;
        for (Wanted& w : wanted) {
            std::optional<std::string> rel = tree->find(w.path);
            if (!rel) {
                if (access(w.path.c_str(), F_OK) != 0 && w.path.find('/') == std::string::npos &&
                    !w.path.ends_with(".ko")) {
                    // modprobe: FATAL: Module NAME not found in directory DIR
                    std::cerr << "kmodemu: FATAL: Module " << w.path << " not found in directory "
                              << tree->dir() << "\n";
                    return ENOENT;
                }
                ordered.push_back(std::move(w));
                continue;
            }
            modprobe = true;
            std::vector<std::string> order = tree->load_order(*rel);
            if (vm.count("no-deps")) order = {*rel};
            for (const std::string& r : order) {
                if (!seen.insert(r).second) continue;
                std::string file = tree->dir() + "/" + r;
                if (r == *rel)
                    ordered.push_back({file, std::move(w.params), true});
                else
                    ordered.push_back({file, {}, false});
            }
        }
        wanted = std::move(ordered);
    }

    std::vector<ModuleInput> inputs;
    for (const Wanted& w : wanted) {
        ModuleInput in;
        in.path = w.path;
        in.params = w.params;
        if (FILE* f = std::fopen(w.path.c_str(), "rb")) {
            uint8_t buf[65536];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
                in.bytes.insert(in.bytes.end(), buf, buf + n);
            bool bad = std::ferror(f);
            std::fclose(f);
            if (bad) {
                std::cerr << "kmodemu: can't read '" << w.path << "': " << std::strerror(EIO)
                          << "\n";
                return EIO;
            }
        } else {
            // busybox insmod: can't read '<file>': No such file or directory
            int err = errno;
            std::cerr << "kmodemu: can't read '" << w.path << "': " << std::strerror(err) << "\n";
            return err;
        }
        inputs.push_back(std::move(in));
    }
    opts.params = inputs.back().params;
    ra.opts = std::move(opts);
    ra.modprobe = modprobe;
    ra.path = inputs.back().path;
    ra.inputs = std::move(inputs);
    ra.vm = std::move(vm);
    return std::nullopt;
}

// Reads a file; false when it cannot be read.
bool read_file(const std::string& path, std::vector<uint8_t>& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

int run(int argc, char** argv, Mode mode) {
    RunArgs ra;
    if (std::optional<int> st = parse_run_args(argc, argv, ra, mode)) return *st;
    po::variables_map& vm = ra.vm;
    RunOptions& opts = ra.opts;
    std::vector<ModuleInput>& inputs = ra.inputs;
    bool modprobe = ra.modprobe;
    std::string path = ra.path;
    std::optional<FuzzDecision> replay;
    if (vm.count("replay")) {
        std::vector<uint8_t> data;
        if (!read_file(vm["replay"].as<std::string>(), data)) {
            std::cerr << "kmodemu: --replay: can't read '" << vm["replay"].as<std::string>()
                      << "'\n";
            return exit_usage;
        }
        replay = decode_fuzz_input(data, fuzz_params(inputs.back().bytes), !vm.count("no-fail"));
        opts = apply_fuzz_decision(opts, *replay);
        inputs.back().params = opts.params;
        std::cerr << "kmodemu: replay: " << replay->describe() << "\n";
    }

    if (mode == Mode::faults) {
        // The reproducer: `kmodemu run` with the options given (the reports' aside).
        std::vector<std::string> args = vm["args"].as<std::vector<std::string>>();
        std::string module_arg;
        for (const std::string& a : args)
            module_arg += (module_arg.empty() ? "" : " ") + a;
        std::string reproduce = "kmodemu run --lockdep";
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--json" || a == "--coverage") {
                ++i;
                continue;
            }
            if (a.starts_with("--json=") || a.starts_with("--coverage=") || a == "--lockdep" ||
                std::find(args.begin(), args.end(), a) != args.end())
                continue;
            reproduce += " " + a;
        }
        FaultScan scan = scan_faults(inputs, opts);
        print_fault_scan(std::cout, scan, reproduce, module_arg);
        if (vm.count("json")) {
            std::ofstream js(vm["json"].as<std::string>());
            js << fault_scan_json(scan, reproduce, module_arg).dump(2) << "\n";
            if (!js) {
                std::cerr << "kmodemu: cannot write the JSON report\n";
                return exit_internal;
            }
        }
        if (opts.coverage && scan.coverage) {
            std::string error;
            if (!write_coverage(vm["coverage"].as<std::string>(), *scan.coverage, error)) {
                std::cerr << "kmodemu: " << error << "\n";
                return exit_usage;
            }
        }
        return scan.findings() ? 1 : 0;
    }

    bool ktap = vm.count("ktap") > 0;
    auto on_log = [ktap](const LogLine& l) {
        if (!ktap) std::cout << l.text << "\n" << std::flush;
    };
    RunOutcome out = run_modules(std::move(inputs), opts, on_log, [](const std::string& d) {
        std::cerr << "kmodemu: " << d << "\n";
    });
    for (const FallibleCall& c : out.leaked)
        std::cerr << "kmodemu: leak: " << c.object_size << " bytes from " << c.function << " ("
                  << c.export_name << ") at " << c.where
                  << " still allocated after the init failed\n";
    for (const std::string& s : out.auto_stubs)
        std::cerr << "kmodemu: auto-stub: " << s << " (pretended: returns "
                  << out.auto_stub_returns[s] << ", does nothing)\n";
    if (out.ending == "errno") {
        const RunOutcome::Step* failed = out.steps.empty() ? nullptr : &out.steps.back();
        if (modprobe) {
            // kmod's modprobe (insmod()): the module asked for is named, whichever failed.
            std::string name = module_name_of_path(path);
            std::string why = std::strerror(out.exit_status);
            if (out.exit_status == EEXIST) why = "Module already in kernel";
            if (out.exit_status == ENOENT)
                why = "Unknown symbol in module, or unknown parameter (see dmesg)";
            std::cerr << "kmodemu: ERROR: could not insert '" << name << "': " << why << "\n";
        } else {
            std::cerr << "kmodemu: can't insert '" << (failed ? failed->path : path)
                      << "': " << std::strerror(out.exit_status) << "\n";
        }
    }
    for (const RunOutcome::Step& st : out.steps)
        if (st.unload_status && *st.unload_status)
            // busybox rmmod
            std::cerr << "kmodemu: can't unload module '" << st.name
                      << "': " << std::strerror(*st.unload_status) << "\n";
    for (const DeviceOutcome& d : out.devices)
        std::cerr << "kmodemu: device " << d.spec << " (" << d.name << "): "
                  << (d.probed ? "bound to " + d.driver : std::string("no driver bound")) << ", "
                  << d.mmio_reads << " MMIO reads, " << d.mmio_writes << " MMIO writes, " << d.irqs
                  << " interrupts handled\n";
    if (replay) {
        if (std::optional<Finding> f = find_finding(out))
            std::cerr << "kmodemu: finding: " << f->kind << ": " << f->signature << "\n";
        else
            std::cerr << "kmodemu: replay: no finding\n";
    }
    if (ktap) std::cout << ktap_report(out);
    if (opts.coverage && out.coverage) {
        std::string error;
        if (!write_coverage(vm["coverage"].as<std::string>(), *out.coverage, error)) {
            std::cerr << "kmodemu: " << error << "\n";
            return exit_usage;
        }
    }
    if (vm.count("json")) {
        std::ofstream js(vm["json"].as<std::string>());
        js << make_report(out, path).dump(2) << "\n";
        if (!js) {
            std::cerr << "kmodemu: cannot write the JSON report\n";
            return exit_internal;
        }
    }
    return out.exit_status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "corpus") {
        try {
            return corpus::corpus_main(argc - 1, argv + 1);
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: corpus: internal error: " << e.what() << "\n";
            return exit_internal;
        }
    }
    // `kmodemu fuzz [options] MODULE [-- ENGINE_OPTIONS]`, or as libFuzzer's -jobs and -fork run
    // it again: `kmodemu ENGINE_OPTIONS -ignore_remaining_args=1 fuzz [options] MODULE`.
    int fuzz_at = argc >= 2 && std::string(argv[1]) == "fuzz" ? 1 : 0;
    for (int i = 1; !fuzz_at && i + 1 < argc; ++i)
        if (std::string(argv[i]) == "-ignore_remaining_args=1" &&
            std::string(argv[i + 1]) == "fuzz")
            fuzz_at = i + 1;
    if (fuzz_at) {
        try {
            std::vector<std::string> engine(argv + 1, argv + fuzz_at - (fuzz_at > 1));
            // The options before "--" are kmodemu's, those after it libFuzzer's.
            int split = argc;
            for (int i = fuzz_at + 1; i < argc; ++i)
                if (std::string(argv[i]) == "--") {
                    split = i;
                    break;
                }
            RunArgs ra;
            if (std::optional<int> st =
                    parse_run_args(split - fuzz_at, argv + fuzz_at, ra, Mode::fuzz))
                return *st;
            engine.insert(engine.end(), argv + std::min(split + 1, argc), argv + argc);
            std::vector<std::string> self(argv + fuzz_at, argv + split);
            return fuzz_main(ra.inputs, ra.opts, engine, self, !ra.vm.count("no-fail"),
                             ra.vm.count("warm") > 0);
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: fuzz: internal error: " << e.what() << "\n";
            return exit_internal;
        }
    }
    bool faults = argc >= 2 && std::string(argv[1]) == "faults";
    if (argc < 2 || (std::string(argv[1]) != "run" && !faults)) {
        if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
            std::cout << "usage: kmodemu run [options] MODULE.ko [name=value ...]\n"
                         "       kmodemu faults [options] MODULE.ko [name=value ...]\n"
                         "       kmodemu fuzz [options] MODULE.ko [-- LIBFUZZER_OPTIONS]\n"
                         "       kmodemu corpus [options]\n";
            return 0;
        }
        std::cerr << "usage: kmodemu run [options] MODULE.ko [name=value ...]\n";
        return exit_usage;
    }
    try {
        return run(argc - 1, argv + 1, faults ? Mode::faults : Mode::run);
    } catch (const std::exception& e) {
        std::cerr << "kmodemu: internal error: " << e.what() << "\n";
        return exit_internal;
    }
}
