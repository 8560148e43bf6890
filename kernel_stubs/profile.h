// A kernel profile: what kmodemu knows of a target kernel (release, vermagic, exports with CRCs,
// GPL-only flags and namespaces, the configuration that changes loading), read from a Debian
// kernel kit made by tools/fetch-kernel-kit. Without one, a built-in generic profile applies.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "emulator/emulator.h"

namespace kmodemu {

struct ProfileSymbol {
    uint32_t crc = 0;
    bool gpl_only = false;
    std::string ns;  // symbol namespace, empty when none
};

struct KernelProfile {
    std::string name = "generic";
    Arch arch = Arch::arm64;
    bool generic = true;  // no checks of vermagic/CRCs, any architecture, all stubs exported
    std::string release;
    std::string vermagic;  // VERMAGIC_STRING
    bool modversions = false;
    bool thumb2_kernel = true;
    int hz = 250;
    std::unordered_map<std::string, ProfileSymbol> exports;  // vmlinux's, from Module.symvers
    std::map<std::string, std::string> config;               // CONFIG_* = value

    // Reads a kit directory (kit.env, Module.symvers, the kernel's config). Throws
    // std::runtime_error with a readable message when the kit is unusable.
    static std::shared_ptr<KernelProfile> from_kit(const std::string& dir);
};

// same_magic() (kernel/module/version.c): with CRCs, only what follows the release counts.
bool same_magic(const std::string& amagic, const std::string& bmagic, bool has_crcs);

}  // namespace kmodemu
