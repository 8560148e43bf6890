// net/ipv4/tcp_input.c: the clean_acked_data_enabled static key that TLS offload uses.
#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_tcp_input(Kernel& k) {
    const char* sub = "net/ipv4/tcp_input";
    // clean_acked_data_flush(): static_key_deferred_flush(&clean_acked_data_enabled), which
    // flushes the key's delayed work. Only clean_acked_data_disable() (a connection's TLS offload
    // ending, static_branch_slow_dec_deferred()) queues that work, and no connection exists in
    // the emulated kernel (clean_acked_data_enable/disable are not emulated): nothing is pending,
    // and the flush returns at once, as the kernel's does then.
    k.add_function(
        "clean_acked_data_flush", sub, [](StubCall&) -> uint64_t { return 0; }, true);
}

}  // namespace kmodemu
