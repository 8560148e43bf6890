// fs/nls/nls_base.c: character set tables, registered by their charset name, found by name or
// alias (load_nls(), with a reference on the table's module), and the kernel's built-in
// "default" table (load_nls_default()'s fallback).
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/module.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Nls : Kernel::SubsystemState {
    std::map<uint64_t, std::string> tables;
    std::vector<uint64_t> order;  // newest first, as register_nls() links them at the head
    uint64_t default_table = 0;   // &default_table, made on first use
    uint64_t uni2char = 0, char2uni = 0;
};

uint64_t ret(int err) {
    return static_cast<uint64_t>(int64_t(err));
}

// find_nls(): the first table whose charset or alias is `charset`, if a reference on its
// module can be had (try_module_get()); else NULL.
uint64_t find_nls(StubCall& c, const std::string& charset) {
    const KernelStructs& s = c.kernel.structs();
    Nls& n = c.kernel.state<Nls>();
    for (uint64_t t : n.order) {
        uint64_t alias = c.emu.read_word(t + s.nls.alias);
        if (n.tables[t] != charset && !(alias && c.read_cstr(alias, 64) == charset)) continue;
        uint64_t owner = c.emu.read_word(t + s.nls.owner);
        return !owner || try_module_get(c.kernel, owner) ? t : 0;
    }
    return 0;
}

// load_nls(charset): try_then_request_module(find_nls(charset), "nls_%s", charset). The
// request (kernel/kmod.cc) cannot load a module on the oracle's machine, which has no
// modprobe, so a table not registered yet is not found.
uint64_t load_nls(StubCall& c, const std::string& charset) {
    return find_nls(c, charset);
}

// default_table: charset "default", Latin-1 both ways (char2uni maps each byte to itself but
// 0; uni2char maps U+0001..U+00FF back), ASCII case tables.
uint64_t default_table(StubCall& c) {
    Kernel& k = c.kernel;
    const KernelStructs& s = k.structs();
    Nls& n = k.state<Nls>();
    if (n.default_table) return n.default_table;
    uint64_t t = k.alloc_data(s.nls.size, 16);
    uint64_t name = k.alloc_data(8, 1);
    c.emu.write(name, "default", 8);
    uint8_t lower[256], upper[256];
    for (int i = 0; i < 256; ++i) {
        lower[i] = static_cast<uint8_t>(i >= 'A' && i <= 'Z' ? i + 32 : i);
        upper[i] = static_cast<uint8_t>(i >= 'a' && i <= 'z' ? i - 32 : i);
    }
    uint64_t tables = k.alloc_data(512, 16);
    c.emu.write(tables, lower, 256);
    c.emu.write(tables + 256, upper, 256);
    c.emu.write_word(t + s.nls.charset, name);
    c.emu.write_word(t + s.nls.uni2char, n.uni2char);
    c.emu.write_word(t + s.nls.char2uni, n.char2uni);
    c.emu.write_word(t + s.nls.charset2lower, tables);
    c.emu.write_word(t + s.nls.charset2upper, tables + 256);
    return n.default_table = t;
}

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
        n.order.insert(n.order.begin(), nls);
        return 0;
    });
    // unregister_nls(nls): -EINVAL for a table not registered.
    k.add_function("unregister_nls", sub, [](StubCall& c) -> uint64_t {
        Nls& n = c.kernel.state<Nls>();
        if (!n.tables.erase(c.arg(0))) return ret(-EINVAL);
        std::erase(n.order, c.arg(0));
        return 0;
    });
    k.add_function("load_nls", sub, [](StubCall& c) -> uint64_t {
        return load_nls(c, c.read_cstr(c.arg(0), 256));
    });
    // unload_nls(nls): module_put(nls->owner); nothing for NULL.
    k.add_function("unload_nls", sub, [](StubCall& c) -> uint64_t {
        if (uint64_t nls = c.arg(0))
            if (uint64_t owner = c.emu.read_word(nls + c.kernel.structs().nls.owner))
                module_put(c.kernel, owner);
        return 0;
    });
    // load_nls_default(): the table of CONFIG_NLS_DEFAULT if registered, else default_table.
    k.add_function("load_nls_default", sub, [](StubCall& c) -> uint64_t {
        const auto& p = c.kernel.config().profile;
        std::string name = "iso8859-1";  // the Kconfig default
        if (auto v = p ? p->config.find("CONFIG_NLS_DEFAULT") : std::nullopt) {
            name = std::string(*v);
            if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
        }
        if (uint64_t t = load_nls(c, name)) return t;
        return default_table(c);
    });
    // default_table's functions (static in fs/nls/nls_base.c, not exports).
    Nls& n = k.state<Nls>();
    // uni2char(uni, out, boundlen): page 0 only, and not U+0000.
    n.uni2char = k.add_function("uni2char", sub, [](StubCall& c) -> uint64_t {
        uint32_t uni = uint16_t(c.arg(0));
        if (int32_t(c.arg(2)) <= 0) return ret(-ENAMETOOLONG);
        if (uni > 0xff || uni == 0) return ret(-EINVAL);
        uint8_t b = static_cast<uint8_t>(uni);
        c.emu.write(c.arg(1), &b, 1);
        return 1;
    }).address;
    // char2uni(rawstring, boundlen, uni): charset2uni[] is the identity but for 0.
    n.char2uni = k.add_function("char2uni", sub, [](StubCall& c) -> uint64_t {
        uint8_t b = 0;
        c.emu.read(c.arg(0), &b, 1);
        uint16_t uni = b;
        c.emu.write(c.arg(2), &uni, 2);
        return b ? 1 : ret(-EINVAL);
    }).address;
}

}  // namespace kmodemu
