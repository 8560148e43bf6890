// kmodemu — load an ARM/AArch64 Linux kernel module like insmod, in an emulator.
//
//   kmodemu run [options] MODULE.ko [name=value ...]
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "tools/corpus.h"
#include "tools/report.h"
#include "tools/runner.h"

namespace po = boost::program_options;
using namespace kmodemu;

namespace {

void usage(std::ostream& os, const po::options_description& desc) {
    os << "usage: kmodemu run [options] MODULE.ko [name=value ...]\n\n"
          "Loads MODULE.ko into an emulated kernel like insmod, runs its init, and unloads it\n"
          "like rmmod when init succeeded. Prints the kernel log lines; exits with insmod's\n"
          "status (0, or the errno), 139 on an oops, 124 on a hang, 64 on a usage error,\n"
          "70 on an internal error.\n\n"
       << desc;
}

int run(int argc, char** argv) {
    po::options_description desc("options");
    desc.add_options()("help,h", "show this help")(
        "no-unload", "do not unload the module after a successful init")(
        "json", po::value<std::string>(), "write a JSON report to FILE")(
        "budget", po::value<uint64_t>()->default_value(200'000'000), "instruction budget")(
        "time-limit", po::value<double>()->default_value(20.0), "wall-clock limit in seconds")(
        "auto-stub", "exported functions kmodemu lacks become stubs returning 0 (reported)")(
        "panic-on-warn", "a WARN panics the kernel, as the panic_on_warn sysctl does")(
        "kernel", po::value<std::string>(),
        "load as the kernel of KIT would (a directory made by tools/fetch-kernel-kit): its "
        "vermagic, exported symbols with CRCs, GPL-only flags, namespaces and configuration")(
        "arm-kernel", po::value<std::string>()->default_value("thumb2"),
        "32-bit ARM: the emulated kernel is built as `thumb2` (accepts Thumb-2 relocations) or "
        "`arm` (like Debian's armmp: refuses them)");
    po::options_description hidden;
    hidden.add_options()("module", po::value<std::string>())(
        "params", po::value<std::vector<std::string>>()->multitoken());
    po::positional_options_description pos;
    pos.add("module", 1).add("params", -1);
    po::options_description all;
    all.add(desc).add(hidden);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "kmodemu: " << e.what() << "\n";
        usage(std::cerr, desc);
        return exit_usage;
    }
    if (vm.count("help")) {
        usage(std::cout, desc);
        return 0;
    }
    if (!vm.count("module")) {
        std::cerr << "kmodemu: no module given\n";
        usage(std::cerr, desc);
        return exit_usage;
    }
    std::string path = vm["module"].as<std::string>();
    RunOptions opts;
    if (vm.count("params")) opts.params = vm["params"].as<std::vector<std::string>>();
    for (const std::string& p : opts.params) {
        if (p.empty() || p[0] == '=') {
            std::cerr << "kmodemu: bad module parameter '" << p << "'\n";
            return exit_usage;
        }
    }
    opts.unload = !vm.count("no-unload");
    opts.budget = vm["budget"].as<uint64_t>();
    opts.time_limit = vm["time-limit"].as<double>();
    opts.auto_stub = vm.count("auto-stub") > 0;
    std::string arm_kernel = vm["arm-kernel"].as<std::string>();
    if (arm_kernel != "thumb2" && arm_kernel != "arm") {
        std::cerr << "kmodemu: --arm-kernel must be thumb2 or arm\n";
        return exit_usage;
    }
    opts.thumb2_kernel = arm_kernel == "thumb2";
    opts.panic_on_warn = vm.count("panic-on-warn") > 0;
    if (vm.count("kernel")) {
        try {
            opts.profile = KernelProfile::from_kit(vm["kernel"].as<std::string>());
        } catch (const std::exception& e) {
            std::cerr << "kmodemu: --kernel: " << e.what() << "\n";
            return exit_usage;
        }
    }

    std::vector<uint8_t> bytes;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
        uint8_t buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
            bytes.insert(bytes.end(), buf, buf + n);
        bool bad = std::ferror(f);
        std::fclose(f);
        if (bad) {
            std::cerr << "kmodemu: can't read '" << path << "': " << std::strerror(EIO) << "\n";
            return EIO;
        }
    } else {
        // busybox insmod: can't read '<file>': No such file or directory
        int err = errno;
        std::cerr << "kmodemu: can't read '" << path << "': " << std::strerror(err) << "\n";
        return err;
    }

    RunOutcome out = run_module(
        std::move(bytes), opts, [](const LogLine& l) { std::cout << l.text << "\n"
                                                                 << std::flush; },
        [](const std::string& d) { std::cerr << "kmodemu: " << d << "\n"; });
    for (const std::string& s : out.auto_stubs)
        std::cerr << "kmodemu: auto-stub: " << s << " (pretended: returns "
                  << out.auto_stub_returns[s] << ", does nothing)\n";
    if (out.ending == "errno")
        std::cerr << "kmodemu: can't insert '" << path << "': " << std::strerror(out.exit_status)
                  << "\n";
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
    if (argc < 2 || std::string(argv[1]) != "run") {
        if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
            std::cout << "usage: kmodemu run [options] MODULE.ko [name=value ...]\n";
            return 0;
        }
        std::cerr << "usage: kmodemu run [options] MODULE.ko [name=value ...]\n";
        return exit_usage;
    }
    try {
        return run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
        std::cerr << "kmodemu: internal error: " << e.what() << "\n";
        return exit_internal;
    }
}
