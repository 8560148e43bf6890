// Debian's own modules against the real kernel's recording of them (tests/oracle/corpus/
// <release>.jsonl.xz, made by tools/qemu-oracle ARCH --corpus): the suites of the emulated
// kernel's subsystems check that the modules which need a subsystem get the real kernel's exit
// status and lines, on every kit of the build whose release has a recording.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fixture_util.h"
#include "tools/corpus.h"
#include "tools/depmod.h"

namespace fx {

// The committed recording of a kernel release, or "" when there is none.
inline std::string recording_of(const std::string& release) {
    std::string f = std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/corpus/" + release + ".jsonl.xz";
    return std::filesystem::exists(f) ? f : "";
}

// The oracle's context of a recording (its kernel's arch, release and version).
inline kmodemu::oracle::Context recording_context(const kmodemu::KernelProfile& profile,
                                                  const kmodemu::corpus::ExpectedFile& real) {
    kmodemu::oracle::Context ctx{profile.arch == kmodemu::Arch::arm64, profile.release, ""};
    if (real.header.contains("version")) ctx.version = real.header["version"];
    return ctx;
}

// Runs each of `modules` (paths relative to a kit's module tree, e.g.
// "kernel/net/rfkill/rfkill.ko") with its dependencies as `kmodemu corpus --kernel KIT
// --expected` does, on every kit with a recording that has the module, and expects the real
// kernel's exit status and module lines. A module no recording has is not counted; at least
// one run must be checked per module on some kit (the arm64 recordings hold every module).
inline void expect_real_verdicts(const std::vector<std::string>& modules) {
    using namespace kmodemu;
    std::map<std::string, unsigned> checked;
    for (const std::string& kit : kits()) {
        auto profile = KernelProfile::from_kit(kit);
        std::string file = recording_of(profile->release);
        if (file.empty()) continue;
        corpus::ExpectedFile real = corpus::read_expected(file);
        ModuleTree tree = ModuleTree::of_kit(kit);
        auto env = read_kit_env(kit + "/kit.env");
        ASSERT_TRUE(env && env->count("KIT_MODULES")) << kit;
        std::vector<corpus::Job> jobs;
        for (const std::string& m : modules) {
            if (!real.modules.count(m)) continue;
            std::vector<corpus::Job> j = corpus::collect({env->at("KIT_MODULES") + "/" + m}, &tree);
            if (j.size() == 1) jobs.push_back(j[0]);
        }
        corpus::Options opts;
        opts.profile = profile;
        opts.jobs = 2;
        oracle::Context ctx = recording_context(*profile, real);
        corpus::run_jobs(jobs, opts, [&](size_t, corpus::json rec) {
            std::string m = rec["module"];
            corpus::compare_expected(rec, real.modules.at(m), ctx);
            const corpus::json& e = rec["expected"];
            EXPECT_TRUE(e["same_status"] == true && e["same_lines"] == true)
                << profile->release << " " << m << ": " << e.value("cause", std::string())
                << "\n  kmodemu: " << rec.value("detail", std::string()) << "\n  log: "
                << rec["log"].dump() << "\n  real: " << real.modules.at(m)["log"].dump();
            ++checked[m];
        });
    }
    for (const std::string& m : modules)
        EXPECT_GT(checked[m], 0u) << m << ": no kit of the build has a recording of it";
}

}  // namespace fx
