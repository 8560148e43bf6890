// crypto/shash.c: registering synchronous hashes (struct shash_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_shash(Kernel& k) {
    using namespace crypto;
    // shash_prepare_alg(): the size limits, export and import set together, the type. The
    // kernel then fills the methods left NULL with its defaults (shash_finup_unaligned(),
    // shash_default_export(), shash_no_setkey(), ...), code the emulated kernel does not have:
    // they stay NULL here; of them only statesize = descsize, for an algorithm without export.
    add_type(k, "crypto/shash", "shash", "shashes", &Types::shash_base, &Types::shash_size,
             [](StubCall& c, uint64_t alg) -> int {
                 const KernelStructs& s = c.kernel.structs();
                 const Types& t = s.crypto_types;
                 uint32_t descsize = read_u32(c, alg + t.shash_descsize);
                 if (read_u32(c, alg + t.shash_digestsize) > s.crypto.hash_max_digestsize ||
                     descsize > s.crypto.hash_max_descsize ||
                     read_u32(c, alg + t.shash_statesize) > s.crypto.hash_max_statesize)
                     return -EINVAL;
                 bool exp = c.emu.read_word(alg + t.shash_export) != 0;
                 bool imp = c.emu.read_word(alg + t.shash_import) != 0;
                 if (exp != imp) return -EINVAL;
                 set_type(c, alg + t.shash_base, "crypto_shash_type", s.crypto.type_shash);
                 if (!exp) write_u32(c, alg + t.shash_statesize, descsize);
                 return 0;
             });
}

}  // namespace kmodemu
