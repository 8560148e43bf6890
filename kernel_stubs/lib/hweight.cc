// lib/hweight.c: the software population counts (arm64 and ARM kernels without a popcount
// instruction in use call these).
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_hweight(Kernel& k) {
    for (auto [name, mask] :
         {std::pair{"__sw_hweight8", 0xffull}, std::pair{"__sw_hweight16", 0xffffull},
          std::pair{"__sw_hweight32", 0xffffffffull}}) {
        uint64_t m = mask;
        k.add_function(name, "lib/hweight", [m](StubCall& c) -> uint64_t {
            return static_cast<uint64_t>(__builtin_popcountll(c.arg(0) & m));
        });
    }
    // __sw_hweight64(w): a u64 argument, in r0:r1 on ARM.
    k.add_function("__sw_hweight64", "lib/hweight", [](StubCall& c) -> uint64_t {
        uint64_t w = c.kernel.word() == 4 ? (c.arg(0) & 0xffffffffu) | (c.arg(1) << 32) : c.arg(0);
        return static_cast<uint64_t>(__builtin_popcountll(w));
    });
}

}  // namespace kmodemu
