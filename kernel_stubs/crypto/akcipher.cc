// crypto/akcipher.c: registering asymmetric ciphers (struct akcipher_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_akcipher(Kernel& k) {
    using namespace crypto;
    // akcipher_prepare_alg(): the type. crypto_register_akcipher() first sets the operations
    // left NULL to the kernel's akcipher_default_op() (-ENOSYS), code the emulated kernel does
    // not have: they stay NULL here.
    add_type(k, "crypto/akcipher", "akcipher", "akciphers", &Types::akcipher_base, nullptr,
             [](StubCall& c, uint64_t alg) {
                 const KernelStructs& s = c.kernel.structs();
                 set_type(c, alg + s.crypto_types.akcipher_base, "crypto_akcipher_type",
                          s.crypto.type_akcipher);
                 return 0;
             });
}

}  // namespace kmodemu
