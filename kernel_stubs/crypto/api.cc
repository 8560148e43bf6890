// crypto/api.c: looking an algorithm up by name (crypto_alloc_*()). The kernel's algorithms
// are those built into it: the kit's modules.builtin.modinfo lists their MODULE_ALIAS_CRYPTO()
// names ("crypto-sha256"); the modules add theirs (crypto/algapi.cc). A name the kernel lacks
// makes it request_module("crypto-NAME"), which fails on a machine without modprobe (the QEMU
// oracle's, as insmod alone loads modules): -ENOENT. A template instance ("hmac(sha256)") exists when its template and its
// algorithms do. An algorithm the kernel has is not modelled: the run stops there.
#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "kernel_stubs/crypto/algapi.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

namespace kmodemu {

namespace {

// The crypto aliases of the kit's built-in modules, read once per kit and process.
std::shared_ptr<const std::set<std::string>> builtin_algorithms(const std::string& kit_dir) {
    static std::mutex m;
    static std::map<std::string, std::shared_ptr<const std::set<std::string>>> cache;
    std::lock_guard<std::mutex> lock(m);
    auto& entry = cache[kit_dir];
    if (entry) return entry;
    auto names = std::make_shared<std::set<std::string>>();
    std::ifstream env(kit_dir + "/kit.env");
    std::string line, moddir;
    while (std::getline(env, line))
        if (line.starts_with("KIT_MODULES=")) moddir = line.substr(12);
    std::ifstream in(moddir + "/modules.builtin.modinfo", std::ios::binary);
    // NUL-separated "module.alias=crypto-NAME" records.
    while (std::getline(in, line, '\0')) {
        size_t at = line.find(".alias=crypto-");
        if (at != std::string::npos) names->insert(line.substr(at + 14));
    }
    entry = names;
    return entry;
}

// "tmpl(a,b)" -> {"tmpl", {"a", "b"}}; a plain name has no arguments.
bool split_template(const std::string& name, std::string& tmpl, std::vector<std::string>& args) {
    size_t open = name.find('(');
    if (open == std::string::npos || name.back() != ')') return false;
    tmpl = name.substr(0, open);
    int depth = 0;
    std::string cur;
    for (size_t i = open + 1; i + 1 < name.size(); ++i) {
        char ch = name[i];
        if (ch == '(') ++depth;
        if (ch == ')') --depth;
        if (ch == ',' && depth == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    args.push_back(cur);
    return true;
}

bool kernel_has(Kernel& k, const std::set<std::string>& algs, const std::string& name) {
    if (algs.count(name) || crypto::registered_alg(k, name)) return true;
    std::string tmpl;
    std::vector<std::string> args;
    if (!split_template(name, tmpl, args) ||
        !(algs.count(tmpl) || crypto::registered_template(k, tmpl)))
        return false;
    for (const std::string& a : args)
        if (!kernel_has(k, algs, a)) return false;
    return true;
}

}  // namespace

const std::set<std::string>& crypto::builtin(Kernel& k) {
    static const std::set<std::string> none;
    const KernelProfile* prof = k.config().profile.get();
    if (!prof || prof->kit_dir.empty()) return none;
    return *builtin_algorithms(prof->kit_dir);
}

void register_crypto_api(Kernel& k) {
    const KernelProfile* prof = k.config().profile.get();
    std::string kit = prof ? prof->kit_dir : "";
    // crypto_alloc_*(alg_name, type, mask)
    k.add_functions({"crypto_alloc_shash", "crypto_alloc_ahash", "crypto_alloc_skcipher",
                     "crypto_alloc_sync_skcipher", "crypto_alloc_aead", "crypto_alloc_base",
                     "crypto_alloc_akcipher", "crypto_alloc_kpp", "crypto_alloc_rng",
                     "crypto_alloc_acomp", "crypto_alloc_lskcipher", "crypto_alloc_sig"},
                    "crypto", [kit](StubCall& c) -> uint64_t {
                        std::string name = c.read_cstr(c.arg(0), 128);
                        if (kit.empty())
                            c.unimplemented("the crypto API (the default kernel does not know "
                                            "its built-in algorithms; give --kernel KIT)");
                        if (!kernel_has(c.kernel, *builtin_algorithms(kit), name))
                            return static_cast<uint64_t>(int64_t(-ENOENT));
                        c.unimplemented("the crypto API (the kernel's algorithm " + name + ")");
                    },
                    true);
    // crypto_destroy_tfm(mem, tfm): nothing for an error pointer or NULL (no lookup above
    // ever gives a transform, so there is never another).
    k.add_function("crypto_destroy_tfm", "crypto", [](StubCall& c) -> uint64_t {
        int64_t mem = c.kernel.word() == 4 ? int32_t(c.arg(0)) : int64_t(c.arg(0));
        if (mem == 0 || (mem < 0 && mem >= -4095)) return 0;
        c.unimplemented("crypto_destroy_tfm (of a transform)");
    }, true);
}

}  // namespace kmodemu
