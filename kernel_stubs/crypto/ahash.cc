// crypto/ahash.c: registering asynchronous hashes (struct ahash_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_ahash(Kernel& k) {
    using namespace crypto;
    // ahash_prepare_alg(): the size limits (a state size is required), the type.
    add_type(k, "crypto/ahash", "ahash", "ahashes", &Types::ahash_base, &Types::ahash_size,
             [](StubCall& c, uint64_t alg) -> int {
                 const KernelStructs& s = c.kernel.structs();
                 const Types& t = s.crypto_types;
                 uint32_t statesize = read_u32(c, alg + t.ahash_statesize);
                 if (read_u32(c, alg + t.ahash_digestsize) > s.crypto.hash_max_digestsize ||
                     statesize > s.crypto.hash_max_statesize || statesize == 0)
                     return -EINVAL;
                 set_type(c, alg + t.ahash_base, "crypto_ahash_type", s.crypto.type_ahash);
                 return 0;
             });
}

}  // namespace kmodemu
