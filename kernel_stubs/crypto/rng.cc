// crypto/rng.c: registering random number generators (struct rng_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_rng(Kernel& k) {
    using namespace crypto;
    // crypto_register_rng(): a seed of at most PAGE_SIZE / 8 bytes; the type.
    add_type(k, "crypto/rng", "rng", "rngs", &Types::rng_base, &Types::rng_size,
             [](StubCall& c, uint64_t alg) -> int {
                 const KernelStructs& s = c.kernel.structs();
                 const Types& t = s.crypto_types;
                 if (read_u32(c, alg + t.rng_seedsize) > s.crypto.page_size / 8) return -EINVAL;
                 set_type(c, alg + t.rng_base, "crypto_rng_type", s.crypto.type_rng);
                 return 0;
             });
}

}  // namespace kmodemu
