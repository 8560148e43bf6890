// Crypto registration (crypto/algapi.c and the algorithm types), simple wait queues, arm64's
// CPU features, nomodeset and Hyper-V: Debian's modules that need them get the real kernel's
// exit status and lines; and the registration's error cases through the stubs.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "emulator/emulator.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "tests/recorded_modules.h"

using namespace kmodemu;

namespace {

TEST(KitFscrypto, ModulesGetTheRealKernelsVerdicts) {
    std::vector<std::string> modules;
    for (const char* m : {
             "kernel/crypto/aes_ti",                  // crypto_register_alg
             "kernel/crypto/des_generic",             // crypto_register_algs
             "kernel/arch/arm64/crypto/sha1-ce",      // cpu_have_feature, crypto_register_shash
             "kernel/arch/arm64/crypto/sha3-ce",      // cpu_have_feature: -ENODEV (no SHA3)
             "kernel/crypto/sha3_generic",            // crypto_register_shashes
             "kernel/arch/arm64/crypto/ghash-ce",     // crypto_register_aead
             "kernel/crypto/chacha_generic",          // crypto_register_skciphers
             "kernel/crypto/curve25519-generic",      // crypto_register_kpp
             "kernel/crypto/ecrdsa_generic",          // crypto_register_akcipher
             "kernel/crypto/lz4",                     // crypto_register_scomp
             "kernel/crypto/authenc",                 // crypto_register_template
             "kernel/crypto/ctr",                     // crypto_register_templates
             "kernel/drivers/gpu/drm/arm/hdlcd",      // drm_firmware_drivers_only
             "kernel/drivers/hv/hv_vmbus",            // hv_is_hyperv_initialized
             "kernel/crypto/adiantum",                // __init_swait_queue_head
         }) {
        modules.push_back(std::string(m) + ".ko");
        // 6.12's (sha3_generic and ctr are built into it)
        if (!std::string(m).ends_with("sha3_generic") && !std::string(m).ends_with("/ctr"))
            modules.push_back(std::string(m) + ".ko.xz");
    }
    fx::expect_real_verdicts(modules);
}

// A struct crypto_alg in guest memory.
struct Alg {
    Kernel& k;
    uint64_t at;
    Alg(Kernel& k, const std::string& name, const std::string& driver) : k(k) {
        const KernelStructs& s = k.structs();
        at = k.slab_alloc(s.crypto_alg.size, gfp_zero);
        k.emu().write(at + s.crypto_alg.name, name.c_str(), name.size() + 1);
        k.emu().write(at + s.crypto_alg.driver_name, driver.c_str(), driver.size() + 1);
    }
    void set_u32(uint64_t field, uint32_t v) { k.emu().write(at + field, &v, 4); }
    uint32_t u32(uint64_t field) {
        uint32_t v = 0;
        k.emu().read(at + field, &v, 4);
        return v;
    }
};

int64_t call(Kernel& k, const char* fn, std::initializer_list<uint64_t> args) {
    return static_cast<int32_t>(k.call_guest(k.find_export(fn)->address, args));
}

TEST(KitFscrypto, RegistrationChecksAndNameClashes) {
    for (Arch arch : {Arch::arm64, Arch::arm}) {
        Emulator emu(arch);
        Kernel k(emu);
        const KernelStructs& s = k.structs();
        Alg a(k, "fsc", "fsc-generic");
        EXPECT_EQ(call(k, "crypto_register_alg", {a.at}), 0);
        EXPECT_EQ(a.u32(s.crypto_alg.refcnt), 1u);
        EXPECT_EQ(call(k, "crypto_register_alg", {a.at}), -EEXIST);  // the same algorithm
        Alg same_driver(k, "other", "fsc-generic");
        EXPECT_EQ(call(k, "crypto_register_alg", {same_driver.at}), -EEXIST);
        Alg driver_is_name(k, "x", "fsc");  // a driver name that is a registered name
        EXPECT_EQ(call(k, "crypto_register_alg", {driver_is_name.at}), -EEXIST);
        Alg second(k, "fsc", "fsc-other");  // another driver of the same algorithm
        EXPECT_EQ(call(k, "crypto_register_alg", {second.at}), 0);
        Alg no_driver(k, "y", "");
        EXPECT_EQ(call(k, "crypto_register_alg", {no_driver.at}), -EINVAL);
        Alg bad_mask(k, "z", "z-generic");
        bad_mask.set_u32(s.crypto_alg.alignmask, 2);  // not 2^n - 1
        EXPECT_EQ(call(k, "crypto_register_alg", {bad_mask.at}), -EINVAL);
        bad_mask.set_u32(s.crypto_alg.alignmask, 3);
        bad_mask.set_u32(s.crypto_alg.priority, uint32_t(-1));
        EXPECT_EQ(call(k, "crypto_register_alg", {bad_mask.at}), -EINVAL);
        bad_mask.set_u32(s.crypto_alg.priority, 100);
        EXPECT_EQ(call(k, "crypto_register_alg", {bad_mask.at}), 0);
        // Unregistered, the name can be registered again.
        call(k, "crypto_unregister_alg", {a.at});
        Alg again(k, "w", "fsc-generic");
        EXPECT_EQ(call(k, "crypto_register_alg", {again.at}), 0);

        // A template: the same one twice is -EEXIST.
        uint64_t tmpl = k.slab_alloc(s.crypto_types.template_size, gfp_zero);
        emu.write(tmpl + s.crypto_types.template_name, "fsct", 5);
        EXPECT_EQ(call(k, "crypto_register_template", {tmpl}), 0);
        EXPECT_EQ(call(k, "crypto_register_template", {tmpl}), -EEXIST);
        call(k, "crypto_unregister_template", {tmpl});
        EXPECT_EQ(call(k, "crypto_register_template", {tmpl}), 0);
    }
}

TEST(KitFscrypto, ShashPreparation) {
    Emulator emu(Arch::arm64);
    Kernel k(emu);
    const KernelStructs& s = k.structs();
    const KernelStructs::CryptoTypes& t = s.crypto_types;
    uint64_t sh = k.slab_alloc(t.shash_size, gfp_zero);
    auto set = [&](uint64_t field, uint32_t v) { emu.write(sh + field, &v, 4); };
    auto get = [&](uint64_t field) {
        uint32_t v = 0;
        emu.read(sh + field, &v, 4);
        return v;
    };
    emu.write(sh + t.shash_base + s.crypto_alg.name, "fsh", 4);
    emu.write(sh + t.shash_base + s.crypto_alg.driver_name, "fsh-generic", 12);
    set(t.shash_digestsize, uint32_t(s.crypto.hash_max_digestsize + 1));
    EXPECT_EQ(call(k, "crypto_register_shash", {sh}), -EINVAL);
    set(t.shash_digestsize, 32);
    set(t.shash_descsize, 104);
    set(t.shash_base + s.crypto_alg.flags, uint32_t(s.crypto.type_cipher));
    EXPECT_EQ(call(k, "crypto_register_shash", {sh}), 0);
    // The type bits are the shash's, its cra_type set; without export, statesize = descsize.
    EXPECT_EQ(get(t.shash_base + s.crypto_alg.flags) & s.crypto.type_mask, s.crypto.type_shash);
    EXPECT_NE(emu.read_word(sh + t.shash_base + s.crypto_alg.type), 0u);
    EXPECT_EQ(get(t.shash_statesize), 104u);
    EXPECT_EQ(call(k, "crypto_register_shash", {sh}), -EEXIST);
}

}  // namespace
