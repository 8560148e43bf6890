// security/keys/key.c and keyring.c: keys and keyrings as the modules that load certificates
// use them (cfg80211's regulatory keyring). A keyring is made empty; key_create_or_update()
// instantiates a key of the "asymmetric" type from an X.509 certificate (asymmetric_key_preparse()
// with the x509 parser), described as x509_key_preparse() describes it, and links it into the
// keyring. Other key types are not emulated.
#include <cerrno>
#include <map>
#include <set>

#include "kernel_stubs/crypto/asymmetric_keys/x509.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Keys : Kernel::SubsystemState {
    std::map<uint64_t, std::set<uint64_t>> keyrings;  // keyring -> the keys linked in it
    std::set<uint64_t> keys;                          // every key (and keyring) alive
    std::map<uint64_t, std::string> types;            // struct key_type * -> its name
};

uint64_t err_ptr(Kernel& k, int err) {
    return static_cast<uint64_t>(int64_t(err)) & k.emu().info().word_mask();
}

// key_alloc(): a struct key with its description and a usage count of 1.
uint64_t new_key(Kernel& k, const std::string& description) {
    const KernelStructs::Key& s = k.structs().key;
    uint64_t key = k.slab_alloc(s.size, gfp_zero);
    uint64_t desc = k.slab_alloc(description.size() + 1, 0);
    if (!key || !desc) return 0;
    k.emu().write(desc, description.c_str(), description.size() + 1);
    k.emu().write_word(key + s.description, desc);
    uint32_t one = 1;
    k.emu().write(key + s.usage, &one, 4);
    k.state<Keys>().keys.insert(key);
    return key;
}

uint32_t usage(Kernel& k, uint64_t key) {
    uint32_t u = 0;
    k.emu().read(key + k.structs().key.usage, &u, 4);
    return u;
}

void set_usage(Kernel& k, uint64_t key, uint32_t u) {
    k.emu().write(key + k.structs().key.usage, &u, 4);
}

// key_put(): the last reference frees the key (the kernel's garbage collector, later).
void put_key(Kernel& k, uint64_t key) {
    Keys& ks = k.state<Keys>();
    if (!key || !ks.keys.count(key)) return;
    uint32_t u = usage(k, key);
    if (u > 1) {
        set_usage(k, key, u - 1);
        return;
    }
    auto ring = ks.keyrings.find(key);
    if (ring != ks.keyrings.end()) {
        std::set<uint64_t> linked = std::move(ring->second);
        ks.keyrings.erase(ring);
        for (uint64_t l : linked)
            put_key(k, l);
    }
    ks.keys.erase(key);
    k.slab().free(k.emu().read_word(key + k.structs().key.description));
    k.slab().free(key);
}

}  // namespace

// key_create_or_update(keyring_ref, type, description, payload, plen, perm, flags) for an
// asymmetric key: the key's reference (possessed, as the keyring's), or an ERR_PTR.
uint64_t key_create_asymmetric(StubCall& c, uint64_t keyring_ref, uint64_t payload, uint64_t plen) {
    Kernel& k = c.kernel;
    Keys& ks = k.state<Keys>();
    uint64_t keyring = keyring_ref & ~uint64_t(1);
    if (!ks.keyrings.count(keyring)) return err_ptr(k, -ENOTDIR);
    std::vector<uint8_t> der = c.read(payload, plen);
    std::optional<std::string> desc = x509_key_description(der);
    if (!desc) return err_ptr(k, -EBADMSG);
    uint64_t key = new_key(k, *desc);
    if (!key) return err_ptr(k, -ENOMEM);
    // __key_link(): the keyring holds a reference of its own.
    set_usage(k, key, 2);
    ks.keyrings[keyring].insert(key);
    return key | (keyring_ref & 1);
}

void register_keys(Kernel& k) {
    const char* sub = "security/keys/key";
    // keyring_alloc(description, uid, gid, cred, perm, flags, restrict_link, dest): an empty
    // keyring.
    k.add_function("keyring_alloc", sub, [](StubCall& c) -> uint64_t {
        uint64_t ring = new_key(c.kernel, c.arg(0) ? c.read_cstr(c.arg(0)) : "");
        if (!ring) return err_ptr(c.kernel, -ENOMEM);
        c.kernel.state<Keys>().keyrings[ring];
        return ring;
    });
    k.add_function("key_create_or_update", sub, [](StubCall& c) -> uint64_t {
        std::string type = c.read_cstr(c.arg(1));
        if (type != "asymmetric")
            c.unimplemented("key_create_or_update (of a key of type " + type + ")");
        return key_create_asymmetric(c, c.arg(0), c.arg(3), c.arg(4));
    });
    // register_key_type(ktype): -EEXIST for a name taken; said at KERN_NOTICE. The types built
    // into Debian's kernels (user, logon, keyring, asymmetric, ...) are not ones a module
    // registers.
    k.add_function("register_key_type", sub, [](StubCall& c) -> uint64_t {
        Keys& ks = c.kernel.state<Keys>();
        std::string name = c.read_cstr(c.emu.read_word(c.arg(0) + c.kernel.structs().key.type_name));
        for (const auto& [t, n] : ks.types)
            if (n == name) return static_cast<uint64_t>(int64_t(-EEXIST));
        ks.types[c.arg(0)] = name;
        c.kernel.log(5, "Key type " + name + " registered");
        return 0;
    });
    // unregister_key_type(ktype): its keys garbage-collected (none are made here), said.
    k.add_function("unregister_key_type", sub, [](StubCall& c) -> uint64_t {
        Keys& ks = c.kernel.state<Keys>();
        std::string name = c.read_cstr(c.emu.read_word(c.arg(0) + c.kernel.structs().key.type_name));
        ks.types.erase(c.arg(0));
        c.kernel.log(5, "Key type " + name + " unregistered");
        return 0;
    });
    // key_revoke(key): KEY_FLAG_REVOKED set, once; then the type's revoke(): a keyring's
    // (keyring_revoke()) drops its links. The keys of other types made here have no revoke.
    k.add_function("key_revoke", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t key = c.arg(0);
        if (!k.state<Keys>().keys.count(key)) c.unimplemented("key_revoke (of a key not made here)");
        const KernelStructs::Key& s = k.structs().key;
        uint64_t flags = c.emu.read_word(key + s.flags), bit = uint64_t(1) << s.flag_revoked;
        if (flags & bit) return 0;
        c.emu.write_word(key + s.flags, flags | bit);
        Keys& ks = k.state<Keys>();
        if (auto ring = ks.keyrings.find(key); ring != ks.keyrings.end()) {
            std::set<uint64_t> linked = std::move(ring->second);
            ring->second.clear();
            for (uint64_t l : linked) put_key(k, l);
        }
        return 0;
    });
    k.add_function("key_put", sub, [](StubCall& c) -> uint64_t {
        put_key(c.kernel, c.arg(0));
        return 0;
    });
    // x509_load_certificate_list(cert_list, list_size, keyring) (crypto/asymmetric_keys/
    // x509_loader.c, 6.7+): each DER certificate of the list into the keyring, each said.
    k.add_function(
        "x509_load_certificate_list", "crypto/asymmetric_keys/x509_loader",
        [](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t p = c.arg(0), end = c.arg(0) + c.arg(1);
            while (p < end) {
                // Each certificate begins with an ASN.1 SEQUENCE tag of a two-byte length.
                std::vector<uint8_t> h = c.read(p, std::min<uint64_t>(4, end - p));
                if (end - p < 4 || (h[0] != 0x30 && h[1] != 0x82)) {
                    k.log(3, "Problem parsing in-kernel X.509 certificate list");
                    return 0;
                }
                uint64_t plen = ((uint64_t(h[2]) << 8) | h[3]) + 4;
                if (plen > end - p) {
                    k.log(3, "Problem parsing in-kernel X.509 certificate list");
                    return 0;
                }
                uint64_t key = key_create_asymmetric(c, c.arg(2) | 1, p, plen);
                int64_t err = static_cast<int64_t>(key);
                if (k.word() == 4) err = static_cast<int32_t>(key);
                if (err < 0 && err >= -4095) {
                    k.log(3, "Problem loading in-kernel X.509 certificate (" + std::to_string(err) +
                                 ")");
                } else {
                    uint64_t kp = key & ~uint64_t(1);
                    std::string desc;
                    k.emu().read_cstring(k.emu().read_word(kp + k.structs().key.description), 4096,
                                         desc);
                    k.log(5, "Loaded X.509 cert '" + desc + "'");
                    put_key(k, kp);
                }
                p += plen;
            }
            return 0;
        },
        true);
}

}  // namespace kmodemu
