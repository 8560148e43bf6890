// crypto/aead.c: registering AEAD algorithms (struct aead_alg).
#include <algorithm>
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_aead(Kernel& k) {
    using namespace crypto;
    // aead_prepare_alg(): the largest of maxauthsize, ivsize and chunksize at most
    // PAGE_SIZE / 8; the chunk size defaults to the block size; the type.
    add_type(k, "crypto/aead", "aead", "aeads", &Types::aead_base, &Types::aead_size,
             [](StubCall& c, uint64_t alg) -> int {
                 const KernelStructs& s = c.kernel.structs();
                 const Types& t = s.crypto_types;
                 uint32_t chunksize = read_u32(c, alg + t.aead_chunksize);
                 uint32_t largest = std::max({read_u32(c, alg + t.aead_maxauthsize),
                                              read_u32(c, alg + t.aead_ivsize), chunksize});
                 if (largest > s.crypto.page_size / 8) return -EINVAL;
                 uint64_t base = alg + t.aead_base;
                 if (!chunksize)
                     write_u32(c, alg + t.aead_chunksize,
                               read_u32(c, base + s.crypto_alg.blocksize));
                 set_type(c, base, "crypto_aead_type", s.crypto.type_aead);
                 return 0;
             });
}

}  // namespace kmodemu
