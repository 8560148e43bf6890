// .modinfo: tag=value pairs (get_modinfo() / get_next_modinfo() in kernel/module/main.c).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kmodemu {

class ModInfo {
  public:
    ModInfo() = default;
    explicit ModInfo(std::span<const uint8_t> section);
    // The first value of `tag`, as get_modinfo() returns it.
    std::optional<std::string> get(const std::string& tag) const;
    std::vector<std::string> all(const std::string& tag) const;
    const std::map<std::string, std::vector<std::string>>& tags() const { return tags_; }

  private:
    std::map<std::string, std::vector<std::string>> tags_;
};

// include/linux/license.h license_is_gpl_compatible()
bool license_is_gpl_compatible(const std::string& license);

}  // namespace kmodemu
