// crypto/skcipher.c: registering symmetric key ciphers (struct skcipher_alg).
#include <cerrno>

#include "kernel_stubs/crypto/algapi.h"

namespace kmodemu {

void register_crypto_skcipher(Kernel& k) {
    using namespace crypto;
    // skcipher_prepare_alg(): IV, chunk and walk sizes of at most PAGE_SIZE / 8; the chunk
    // size defaults to the block size and the walk size to the chunk size; the type.
    add_type(
        k, "crypto/skcipher", "skcipher", "skciphers", &Types::skcipher_base, &Types::skcipher_size,
        [](StubCall& c, uint64_t alg) -> int {
            const KernelStructs& s = c.kernel.structs();
            const Types& t = s.crypto_types;
            uint64_t max = s.crypto.page_size / 8;
            uint32_t chunksize = read_u32(c, alg + t.skcipher_chunksize);
            uint32_t walksize = read_u32(c, alg + t.skcipher_walksize);
            if (read_u32(c, alg + t.skcipher_ivsize) > max || chunksize > max || walksize > max)
                return -EINVAL;
            uint64_t base = alg + t.skcipher_base;
            if (!chunksize) {
                chunksize = read_u32(c, base + s.crypto_alg.blocksize);
                write_u32(c, alg + t.skcipher_chunksize, chunksize);
            }
            if (!walksize) write_u32(c, alg + t.skcipher_walksize, chunksize);
            set_type(c, base, "crypto_skcipher_type", s.crypto.type_skcipher);
            return 0;
        });
}

}  // namespace kmodemu
