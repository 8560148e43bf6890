// crypto/algapi.c: registering algorithms and templates. The kernel keeps them on
// crypto_alg_list and crypto_template_list; here the list is the set of registered struct
// crypto_alg and struct crypto_template of the modules (the kernel's built-in algorithms are
// the names crypto/api.cc reads from the kit). Registered names are found by crypto_alloc_*().
//
// The self-test: the kit's kernel has CONFIG_CRYPTO_MANAGER and not
// CONFIG_CRYPTO_MANAGER_DISABLE_TESTS, so crypto_register_alg() makes a test larval and waits
// while cryptomgr's thread runs testmgr's alg_test() on the algorithm. Its outcome never changes
// what crypto_register_alg() returns (a failed test only leaves the algorithm without
// CRYPTO_ALG_TESTED, and prints "alg: self-tests for ... failed"): the recordings show 0 for
// every module, with the lines of the tests that failed. kmodemu does not run testmgr (its test
// vectors are not part of the emulated kernel): the algorithm is registered untested (said as a
// diagnostic), and a test's lines are missing where the real test fails. The notification that
// ends crypto_wait_for_test(), CRYPTO_MSG_ALG_LOADED on crypto_chain, is sent.
#include "kernel_stubs/crypto/algapi.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "kernel_stubs/notifier.h"
#include "kernel_stubs/structs.h"

namespace kmodemu::crypto {

namespace {

struct Alg {
    std::string name, driver_name;
};

struct Registry : Kernel::SubsystemState {
    std::map<uint64_t, Alg> algs;                  // crypto_alg_list (the modules' part)
    std::map<uint64_t, std::string> templates;     // crypto_template_list
    std::map<std::string, uint64_t> type_objects;  // crypto_shash_type, ...
};

// crypto/internal.h: enum { CRYPTO_MSG_ALG_REQUEST, CRYPTO_MSG_ALG_REGISTER,
// CRYPTO_MSG_ALG_LOADED, ... }
constexpr uint64_t crypto_msg_alg_loaded = 2;

}  // namespace

uint32_t read_u32(StubCall& c, uint64_t a) {
    uint32_t v = 0;
    auto b = c.read(a, 4);
    std::memcpy(&v, b.data(), 4);
    return v;
}

void write_u32(StubCall& c, uint64_t a, uint32_t v) {
    c.write(a, &v, 4);
}

namespace {

// crypto_check_alg()
int check_alg(StubCall& c, uint64_t alg, const Alg& a) {
    const KernelStructs& s = c.kernel.structs();
    // crypto_check_module_sig(): only in FIPS mode, which the machine is not in.
    if (a.name.empty() || a.driver_name.empty()) return -EINVAL;
    uint32_t alignmask = read_u32(c, alg + s.crypto_alg.alignmask);
    uint32_t blocksize = read_u32(c, alg + s.crypto_alg.blocksize);
    uint32_t flags = read_u32(c, alg + s.crypto_alg.flags);
    int32_t priority = static_cast<int32_t>(read_u32(c, alg + s.crypto_alg.priority));
    if (alignmask & (alignmask + 1)) return -EINVAL;
    // General maximums for all algs.
    if (alignmask > s.crypto.max_algapi_alignmask) return -EINVAL;
    if (blocksize > s.crypto.max_algapi_blocksize) return -EINVAL;
    // Lower maximums for specific alg types.
    if (!c.emu.read_word(alg + s.crypto_alg.type) &&
        (flags & s.crypto.type_mask) == s.crypto.type_cipher) {
        if (alignmask > s.crypto.max_cipher_alignmask) return -EINVAL;
        if (blocksize > s.crypto.max_cipher_blocksize) return -EINVAL;
    }
    if (priority < 0) return -EINVAL;
    write_u32(c, alg + s.crypto_alg.refcnt, 1);  // refcount_set(&alg->cra_refcnt, 1)
    return 0;
}

Alg read_alg(StubCall& c, uint64_t alg) {
    const KernelStructs& s = c.kernel.structs();
    return {c.read_cstr(alg + s.crypto_alg.name, s.crypto_alg.name_len),
            c.read_cstr(alg + s.crypto_alg.driver_name, s.crypto_alg.name_len)};
}

}  // namespace

int register_alg(StubCall& c, uint64_t alg) {
    Kernel& k = c.kernel;
    Registry& r = k.state<Registry>();
    // alg->cra_flags &= ~CRYPTO_ALG_DEAD: the modules' flags never carry it (a kernel-internal
    // state bit); kmodemu keeps no dead algorithms.
    Alg a = read_alg(c, alg);
    if (int err = check_alg(c, alg, a)) return err;
    // __crypto_register_alg(): -EEXIST for the same algorithm, or when an algorithm's driver
    // name is the new one's name or driver name, or its name the new one's driver name. The
    // built-in algorithms are known by their names and driver names together (their aliases):
    // the new driver name among them is a clash; the new name may be a built-in name.
    if (r.algs.count(alg)) return -EEXIST;
    for (const auto& [q, e] : r.algs)
        if (e.driver_name == a.name || e.driver_name == a.driver_name || e.name == a.driver_name)
            return -EEXIST;
    if (builtin(k).count(a.driver_name)) return -EEXIST;
    r.algs[alg] = a;
    // The self-test (see the top of this file), then crypto_wait_for_test()'s notification.
    k.diag("crypto: " + a.driver_name + " (" + a.name +
           ") registered without its self-test (kmodemu does not run testmgr)");
    notifier::call_chain(k, notifier::kernel_chain(k, "crypto_chain"), crypto_msg_alg_loaded, alg,
                         -1, nullptr);
    return 0;
}

void unregister_alg(StubCall& c, uint64_t alg) {
    Registry& r = c.kernel.state<Registry>();
    // crypto_remove_alg(): WARN(ret, "Algorithm %s is not registered", ...)
    if (!r.algs.count(alg))
        c.unimplemented(
            "crypto_unregister_alg (of an algorithm not registered: the kernel's "
            "WARN)");
    // cra_destroy is set on the instances templates make, which no module here creates.
    r.algs.erase(alg);
}

void set_type(StubCall& c, uint64_t alg, const std::string& type_object, uint64_t type_bits) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    Registry& r = k.state<Registry>();
    uint64_t& obj = r.type_objects[type_object];
    if (!obj) obj = k.alloc_data(k.word());
    c.emu.write_word(alg + s.crypto_alg.type, obj);
    uint32_t flags = read_u32(c, alg + s.crypto_alg.flags);
    flags = (flags & ~uint32_t(s.crypto.type_mask)) | uint32_t(type_bits);
    write_u32(c, alg + s.crypto_alg.flags, flags);
}

int register_array(StubCall& c, uint64_t first, int count, uint64_t size,
                   const std::function<int(uint64_t)>& reg,
                   const std::function<void(uint64_t)>& unreg) {
    (void)c;
    int i;
    for (i = 0; i < count; i++) {
        int ret = reg(first + uint64_t(i) * size);
        if (ret) {
            for (--i; i >= 0; --i)
                unreg(first + uint64_t(i) * size);
            return ret;
        }
    }
    return 0;
}

void unregister_array(StubCall& c, uint64_t first, int count, uint64_t size,
                      const std::function<void(uint64_t)>& unreg) {
    (void)c;
    for (int i = count - 1; i >= 0; --i)
        unreg(first + uint64_t(i) * size);
}

void add_type(Kernel& k, const char* sub, const std::string& type, const std::string& types,
              uint64_t Types::*base, uint64_t Types::*size,
              std::function<int(StubCall&, uint64_t)> prepare) {
    auto reg = [base, prepare](StubCall& c, uint64_t alg) -> int {
        if (int err = prepare(c, alg)) return err;
        return register_alg(c, alg + c.kernel.structs().crypto_types.*base);
    };
    auto unreg = [base](StubCall& c, uint64_t alg) {
        unregister_alg(c, alg + c.kernel.structs().crypto_types.*base);
    };
    k.add_function(
        "crypto_register_" + type, sub,
        [reg](StubCall& c) -> uint64_t { return static_cast<uint64_t>(int64_t(reg(c, c.arg(0)))); },
        true);
    k.add_function(
        "crypto_unregister_" + type, sub,
        [unreg](StubCall& c) -> uint64_t {
            unreg(c, c.arg(0));
            return 0;
        },
        true);
    if (!size) return;
    k.add_function(
        "crypto_register_" + types, sub,
        [reg, unreg, size](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(int64_t(register_array(
                c, c.arg(0), c.iarg(1), c.kernel.structs().crypto_types.*size,
                [&](uint64_t a) { return reg(c, a); }, [&](uint64_t a) { unreg(c, a); })));
        },
        true);
    k.add_function(
        "crypto_unregister_" + types, sub,
        [unreg, size](StubCall& c) -> uint64_t {
            unregister_array(c, c.arg(0), c.iarg(1), c.kernel.structs().crypto_types.*size,
                             [&](uint64_t a) { unreg(c, a); });
            return 0;
        },
        true);
}

bool registered_alg(Kernel& k, const std::string& name) {
    for (const auto& [q, e] : k.state<Registry>().algs)
        if (e.name == name || e.driver_name == name) return true;
    return false;
}

bool registered_template(Kernel& k, const std::string& name) {
    for (const auto& [t, n] : k.state<Registry>().templates)
        if (n == name) return true;
    return false;
}

}  // namespace kmodemu::crypto

namespace kmodemu {

void register_crypto_algapi(Kernel& k) {
    using namespace crypto;
    const char* sub = "crypto/algapi";
    k.add_function(
        "crypto_register_alg", sub,
        [](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(int64_t(register_alg(c, c.arg(0))));
        },
        true);
    k.add_function(
        "crypto_unregister_alg", sub,
        [](StubCall& c) -> uint64_t {
            unregister_alg(c, c.arg(0));
            return 0;
        },
        true);
    // crypto_register_algs(algs, count) / crypto_unregister_algs(): an array of struct
    // crypto_alg.
    k.add_function(
        "crypto_register_algs", sub,
        [](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(int64_t(register_array(
                c, c.arg(0), c.iarg(1), c.kernel.structs().crypto_alg.size,
                [&c](uint64_t a) { return register_alg(c, a); },
                [&c](uint64_t a) { unregister_alg(c, a); })));
        },
        true);
    k.add_function(
        "crypto_unregister_algs", sub,
        [](StubCall& c) -> uint64_t {
            unregister_array(c, c.arg(0), c.iarg(1), c.kernel.structs().crypto_alg.size,
                             [&c](uint64_t a) { unregister_alg(c, a); });
            return 0;
        },
        true);
    // crypto_register_template(tmpl): -EEXIST when that template is on the list (the same
    // structure: names may repeat).
    k.add_function(
        "crypto_register_template", sub,
        [](StubCall& c) -> uint64_t {
            Registry& r = c.kernel.state<Registry>();
            uint64_t tmpl = c.arg(0);
            if (r.templates.count(tmpl)) return static_cast<uint64_t>(int64_t(-EEXIST));
            r.templates[tmpl] = c.read_cstr(tmpl + c.kernel.structs().crypto_types.template_name,
                                            c.kernel.structs().crypto_alg.name_len);
            return 0;
        },
        true);
    // crypto_unregister_template(): list_del() and the removal of its instances (kmodemu
    // makes none: no template's create() is called here).
    k.add_function(
        "crypto_unregister_template", sub,
        [](StubCall& c) -> uint64_t {
            c.kernel.state<Registry>().templates.erase(c.arg(0));
            return 0;
        },
        true);
    k.add_function(
        "crypto_register_templates", sub,
        [](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t size = k.structs().crypto_types.template_size;
            auto reg = [&c](uint64_t t) -> int {
                Registry& r = c.kernel.state<Registry>();
                if (r.templates.count(t)) return -EEXIST;
                r.templates[t] = c.read_cstr(t + c.kernel.structs().crypto_types.template_name,
                                             c.kernel.structs().crypto_alg.name_len);
                return 0;
            };
            auto unreg = [&c](uint64_t t) { c.kernel.state<Registry>().templates.erase(t); };
            return static_cast<uint64_t>(
                int64_t(register_array(c, c.arg(0), c.iarg(1), size, reg, unreg)));
        },
        true);
    k.add_function(
        "crypto_unregister_templates", sub,
        [](StubCall& c) -> uint64_t {
            uint64_t size = c.kernel.structs().crypto_types.template_size;
            unregister_array(c, c.arg(0), c.iarg(1), size,
                             [&c](uint64_t t) { c.kernel.state<Registry>().templates.erase(t); });
            return 0;
        },
        true);
}

}  // namespace kmodemu
