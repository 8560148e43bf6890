// fs/nls/nls_base.c: character set tables, registered by their charset name.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Nls : Kernel::SubsystemState {
    std::map<uint64_t, std::string> tables;
};

}  // namespace

void register_nls(Kernel& k) {
    const char* sub = "fs/nls";
    // __register_nls(nls, owner): -EBUSY when a table of that charset is registered (or this
    // one already is).
    k.add_function("__register_nls", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        Nls& n = c.kernel.state<Nls>();
        uint64_t nls = c.arg(0);
        std::string charset = c.read_cstr(c.emu.read_word(nls + s.nls.charset), 64);
        for (const auto& [t, name] : n.tables)
            if (t == nls || name == charset) return static_cast<uint64_t>(int64_t(-EBUSY));
        c.emu.write_word(nls + s.nls.owner, c.arg(1));
        n.tables[nls] = charset;
        return 0;
    });
    k.add_function("unregister_nls", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Nls>().tables.erase(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
