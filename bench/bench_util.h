// What the benchmarks share: the median of samples and the machine's CPU model.
#pragma once

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace kmodemu::bench {

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
    return "unknown";
}

}  // namespace kmodemu::bench
