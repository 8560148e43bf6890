// An emulated kernel of a kit for the suites that call its exports directly, as a module would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace fx {

// Whether the kernel logged exactly this line.
inline bool has_log(const kmodemu::Kernel& k, const std::string& text) {
    for (const kmodemu::LogLine& l : k.log_lines())
        if (l.text == text) return true;
    return false;
}

struct KitKernel {
    // The emulator of the kit's architecture.
    explicit KitKernel(const char* kit = KMODEMU_KIT_ARM64)
        : KitKernel(kmodemu::KernelProfile::from_kit(kit)) {}
    explicit KitKernel(std::shared_ptr<const kmodemu::KernelProfile> profile)
        : emu(profile->arch), k(emu, config(profile)), s(k.structs()) {}
    static kmodemu::KernelConfig config(std::shared_ptr<const kmodemu::KernelProfile> profile) {
        kmodemu::KernelConfig c;
        c.profile = std::move(profile);
        return c;
    }
    // The export `fn` called from the guest with `args`.
    uint64_t call(const char* fn, std::initializer_list<uint64_t> args) {
        const kmodemu::Export* e = k.find_export(fn);
        EXPECT_TRUE(e) << fn;
        return e ? k.call_guest(e->address, args) : 0;
    }
    uint64_t str(const std::string& v) {
        uint64_t p = k.slab_alloc(v.size() + 1, 0);
        emu.write(p, v.c_str(), v.size() + 1);
        return p;
    }
    std::string cstr(uint64_t p) {
        std::string out;
        emu.read_cstring(p, 256, out);
        return out;
    }
    uint64_t zeroed(uint64_t size) { return k.slab_alloc(size, kmodemu::gfp_zero); }
    bool logged(const std::string& line) const { return has_log(k, line); }

    kmodemu::Emulator emu;
    kmodemu::Kernel k;
    const kmodemu::KernelStructs& s;
};

}  // namespace fx
