// crypto/kpp.c: registering key-agreement protocol primitives (struct kpp_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_kpp(Kernel& k) {
    using namespace crypto;
    // kpp_prepare_alg(): the type.
    add_type(k, "crypto/kpp", "kpp", "kpps", &Types::kpp_base, nullptr,
             [](StubCall& c, uint64_t alg) {
                 const KernelStructs& s = c.kernel.structs();
                 set_type(c, alg + s.crypto_types.kpp_base, "crypto_kpp_type", s.crypto.type_kpp);
                 return 0;
             });
}

}  // namespace kmodemu
