// fs/open.c: opening files from the kernel. The emulated machine has no files of its own: its root
// is the initramfs the oracle boots (busybox and the modules), so the paths modules open at init
// (/etc/target, configuration files) do not exist: -ENOENT. Pseudo file systems are not emulated.
#include <cerrno>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

void register_open(Kernel& k) {
    const char* sub = "fs/open";
    // filp_open(filename, flags, mode): ERR_PTR(-ENOENT) for a path that does not exist.
    k.add_function("filp_open", sub, [](StubCall& c) -> uint64_t {
        std::string path = c.read_cstr(c.arg(0), 4096);
        for (const char* pseudo : {"/dev/", "/proc/", "/sys/", "/lib/", "/bin/", "/init"})
            if (path.starts_with(pseudo))
                c.unimplemented("filp_open of " + path + " (a path the machine has)");
        return static_cast<uint64_t>(int64_t(-ENOENT)) & c.emu.info().word_mask();
    });
}

}  // namespace kmodemu
