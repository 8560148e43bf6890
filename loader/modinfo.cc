#include "loader/modinfo.h"

namespace kmodemu {

ModInfo::ModInfo(std::span<const uint8_t> section) {
    size_t i = 0;
    while (i < section.size()) {
        // Runs of NULs separate entries (module_next_tag_pair()).
        if (section[i] == 0) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < section.size() && section[end] != 0)
            ++end;
        std::string entry(reinterpret_cast<const char*>(section.data() + i), end - i);
        size_t eq = entry.find('=');
        if (eq != std::string::npos) tags_[entry.substr(0, eq)].push_back(entry.substr(eq + 1));
        i = end;
    }
}

std::optional<std::string> ModInfo::get(const std::string& tag) const {
    auto it = tags_.find(tag);
    if (it == tags_.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
}

std::vector<std::string> ModInfo::all(const std::string& tag) const {
    auto it = tags_.find(tag);
    return it == tags_.end() ? std::vector<std::string>{} : it->second;
}

bool license_is_gpl_compatible(const std::string& l) {
    return l == "GPL" || l == "GPL v2" || l == "GPL and additional rights" || l == "Dual BSD/GPL" ||
           l == "Dual MIT/GPL" || l == "Dual MPL/GPL";
}

}  // namespace kmodemu
