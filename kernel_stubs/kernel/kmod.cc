// kernel/kmod.c: __request_module(). The kernel runs modprobe_path (/sbin/modprobe) in user
// space and waits for it; the oracle's machine (a busybox initramfs with insmod and rmmod, see
// tools/qemu-oracle) has no /sbin/modprobe, so call_usermodehelper()'s exec fails and the
// request returns -ENOENT, printing nothing.
#include <cerrno>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_kmod(Kernel& k) {
    // __request_module(wait, fmt, ...)
    k.add_function("__request_module", "kernel/kmod",
                   [](StubCall&) -> uint64_t { return static_cast<uint64_t>(int64_t(-ENOENT)); });
}

}  // namespace kmodemu
