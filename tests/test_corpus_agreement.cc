// The corpus against the real kernel, on a fixed sample sized for CI: kmodemu must give at least
// as many modules the real kernel's exit status as tests/oracle/corpus/agreement.txt says (a
// floor that rises as the emulated kernel grows), for every kit the build has and the file names.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "recorded_modules.h"

using namespace kmodemu;

namespace {

struct Floor {
    std::string release;
    unsigned every = 1;
    size_t same = 0;
};

std::vector<Floor> floors() {
    std::vector<Floor> out;
    std::ifstream in(std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/corpus/agreement.txt");
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        Floor f;
        if (ss >> f.release >> f.every >> f.same) out.push_back(f);
    }
    return out;
}

}  // namespace

TEST(CorpusAgreement, TheSampleGetsTheRealKernelsExitStatusAtLeastAsOftenAsRecorded) {
    std::vector<Floor> fl = floors();
    ASSERT_FALSE(fl.empty()) << "tests/oracle/corpus/agreement.txt names no kernel";
    size_t checked = 0;
    for (const std::string& kit : fx::kits()) {
        auto profile = KernelProfile::from_kit(kit);
        for (const Floor& f : fl) {
            if (f.release != profile->release) continue;
            SCOPED_TRACE(f.release);
            ++checked;
            std::string file = fx::recording_of(f.release);
            ASSERT_FALSE(file.empty()) << "agreement.txt names a release with no recording";
            corpus::ExpectedFile real = corpus::read_expected(file);
            ModuleTree tree = ModuleTree::of_kit(kit);
            std::vector<corpus::Job> all = corpus::collect({}, &tree);
            // Every EVERY-th of the modules the recording has (all of them, or its own sample).
            std::vector<corpus::Job> recorded_jobs, sample;
            for (const corpus::Job& j : all)
                if (real.modules.count(j.module)) recorded_jobs.push_back(j);
            EXPECT_GE(recorded_jobs.size(), 500u) << "a recording of too few modules";
            for (size_t i = 0; i < recorded_jobs.size(); i += f.every)
                sample.push_back(recorded_jobs[i]);
            corpus::Options opts;
            opts.profile = profile;
            opts.jobs = 2;
            oracle::Context ctx = fx::recording_context(*profile, real);
            size_t same = 0, recorded = 0;
            corpus::run_jobs(sample, opts, [&](size_t, corpus::json rec) {
                auto it = real.modules.find(rec["module"].get<std::string>());
                if (it == real.modules.end()) return;
                ++recorded;
                corpus::compare_expected(rec, it->second, ctx);
                if (rec["expected"]["same_status"] == true) ++same;
            });
            EXPECT_EQ(recorded, sample.size()) << "modules of the sample the recording lacks";
            EXPECT_GE(same, f.same) << "of " << sample.size() << " sampled modules, " << same
                                    << " get the real kernel's exit status; the floor is "
                                    << f.same;
            std::cout << "[ corpus   ] " << f.release << ": " << same << " of " << sample.size()
                      << " sampled modules get the real kernel's exit status (floor " << f.same
                      << ")\n";
        }
    }
    EXPECT_GT(checked, 0u) << "no kit of the build is named in agreement.txt";
}
