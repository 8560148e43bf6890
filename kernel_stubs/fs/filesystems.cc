// fs/filesystems.c: file system types, registered by name; and the sysfs mount points
// (fs/sysfs/dir.c sysfs_create_mount_point()) that file systems make under /sys/fs.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Filesystems : Kernel::SubsystemState {
    std::map<uint64_t, std::string> types;
};

}  // namespace

void register_filesystems(Kernel& k) {
    const char* sub = "fs/filesystems";
    // register_filesystem(fs): -EBUSY when a type of that name is registered. struct
    // file_system_type begins with its name.
    k.add_function("register_filesystem", sub, [](StubCall& c) -> uint64_t {
        Filesystems& f = c.kernel.state<Filesystems>();
        uint64_t fs = c.arg(0);
        std::string name = c.read_cstr(c.emu.read_word(fs), 64);
        if (name.find('.') != std::string::npos)
            c.unimplemented("register_filesystem of a name with a '.' (the kernel BUG()s)");
        for (const auto& [t, n] : f.types)
            if (n == name) return static_cast<uint64_t>(int64_t(-EBUSY));
        f.types[fs] = name;
        return 0;
    });
    // unregister_filesystem(): -EINVAL when it was not registered.
    k.add_function("unregister_filesystem", sub, [](StubCall& c) -> uint64_t {
        return c.kernel.state<Filesystems>().types.erase(c.arg(0))
                   ? 0
                   : static_cast<uint64_t>(int64_t(-EINVAL));
    });
    k.add_function("sysfs_create_mount_point", "fs/sysfs",
                   [](StubCall&) -> uint64_t { return 0; }, true);
    k.add_function("sysfs_remove_mount_point", "fs/sysfs",
                   [](StubCall&) -> uint64_t { return 0; }, true);
}

}  // namespace kmodemu
