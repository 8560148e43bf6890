// oracle_normalise — the comparison view of a real-kernel result file (tools/qemu-oracle):
// every case's exit statuses and kernel log lines after the normalisation rules of
// tools/oracle.cc, the same the differential suite applies. `qemu-oracle --check` diffs two such
// views.
//
//   oracle_normalise FILE     the normalised view of FILE
//   oracle_normalise --rules  the rules: name, kind (boot | known) and reason
#include <cstdio>
#include <string>

#include "tools/oracle.h"

using namespace kmodemu::oracle;

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--rules") {
        for (const Rule& r : rules())
            std::printf("%-24s %-5s %s\n", r.name, r.kind == RuleKind::boot ? "boot" : "known",
                        r.reason);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: oracle_normalise FILE | --rules\n");
        return 64;
    }
    auto file = read_results(argv[1]);
    if (!file || file->header.empty()) {
        std::fprintf(stderr, "oracle_normalise: %s: not a result file of tools/qemu-oracle\n",
                     argv[1]);
        return 1;
    }
    Context ctx{file->arm64, file->release, file->version};
    for (const std::string& name : file->order) {
        const Expected& e = file->cases.at(name);
        std::printf("case %s\nrc %s\n", name.c_str(), e.rc.c_str());
        for (const std::string& l : normalise(e.log, ctx))
            std::printf("log %s\n", l.c_str());
        if (e.unload_rc) {
            std::printf("unload-rc %s\n", e.unload_rc->c_str());
            for (const std::string& l : normalise(e.unload_log, ctx))
                std::printf("unload-log %s\n", l.c_str());
        }
        std::printf("end\n");
    }
    return 0;
}
