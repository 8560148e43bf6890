// drivers/cpufreq/cpufreq.c: the CPU frequency governors, registered by name. Debian's kernels
// build the performance and schedutil governors in (CONFIG_CPU_FREQ_GOV_PERFORMANCE=y,
// CONFIG_CPU_FREQ_GOV_SCHEDUTIL=y): they are registered at boot.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Governors : Kernel::SubsystemState {
    std::map<std::string, uint64_t> by_name{{"performance", 0}, {"schedutil", 0}};
};

}  // namespace

void register_cpufreq(Kernel& k) {
    const char* sub = "drivers/cpufreq/cpufreq";
    // cpufreq_register_governor(governor): -EINVAL for NULL, -EBUSY when a governor of its name
    // (find_governor(): compared case-insensitively) is registered.
    k.add_function(
        "cpufreq_register_governor", sub,
        [](StubCall& c) -> uint64_t {
            uint64_t gov = c.arg(0);
            if (!gov) return static_cast<uint64_t>(int64_t(-EINVAL));
            const KernelStructs& s = c.kernel.structs();
            std::string name =
                c.read_cstr(gov + s.cpufreq_governor.name, s.cpufreq_governor.name_len);
            auto lower = [](std::string v) {
                for (char& ch : v)
                    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                return v;
            };
            auto& g = c.kernel.state<Governors>().by_name;
            for (const auto& [n, p] : g)
                if (lower(n) == lower(name)) return static_cast<uint64_t>(int64_t(-EBUSY));
            g[name] = gov;
            return 0;
        },
        true);
    // cpufreq_unregister_governor(governor): no policy uses it (the machine has no cpufreq
    // driver), so it is only taken off the list.
    k.add_function(
        "cpufreq_unregister_governor", sub,
        [](StubCall& c) -> uint64_t {
            auto& g = c.kernel.state<Governors>().by_name;
            for (auto it = g.begin(); it != g.end(); ++it)
                if (it->second && it->second == c.arg(0)) {
                    g.erase(it);
                    break;
                }
            return 0;
        },
        true);
}

}  // namespace kmodemu
