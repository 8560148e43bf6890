// crypto/scompress.c: registering synchronous compression algorithms (struct scomp_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_scomp(Kernel& k) {
    using namespace crypto;
    // scomp_prepare_alg(): the type.
    add_type(k, "crypto/scompress", "scomp", "scomps", &Types::scomp_base, &Types::scomp_size,
             [](StubCall& c, uint64_t alg) {
                 const KernelStructs& s = c.kernel.structs();
                 set_type(c, alg + s.crypto_types.scomp_base, "crypto_scomp_type",
                          s.crypto.type_scompress);
                 return 0;
             });
}

}  // namespace kmodemu
