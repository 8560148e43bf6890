// lib/textsearch.c: the text search algorithms' registry (ts_ops), by name. Debian builds no
// algorithm in (ts_bm, ts_fsm and ts_kmp are modules).
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct TextSearch : Kernel::SubsystemState {
    std::map<uint64_t, std::string> registered;  // struct ts_ops * -> its name
};

}  // namespace

void register_textsearch(Kernel& k) {
    const char* sub = "lib/textsearch";
    // textsearch_register(ops): -EINVAL for incomplete ops, -EEXIST for a name taken.
    k.add_function("textsearch_register", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::TsOps& l = c.kernel.structs().ts_ops;
        Emulator& e = c.emu;
        uint64_t ops = c.arg(0);
        uint64_t name = e.read_word(ops + l.name);
        if (!name || !e.read_word(ops + l.find) || !e.read_word(ops + l.init) ||
            !e.read_word(ops + l.get_pattern) || !e.read_word(ops + l.get_pattern_len))
            return static_cast<uint64_t>(-int64_t(EINVAL));
        std::string n = c.read_cstr(name);
        TextSearch& ts = c.kernel.state<TextSearch>();
        for (const auto& [other, o] : ts.registered)
            if (o == n) return static_cast<uint64_t>(-int64_t(EEXIST));
        ts.registered[ops] = n;
        return 0;
    });
    // textsearch_unregister(ops): -ENOENT when not registered.
    k.add_function("textsearch_unregister", sub, [](StubCall& c) -> uint64_t {
        if (!c.kernel.state<TextSearch>().registered.erase(c.arg(0)))
            return static_cast<uint64_t>(-int64_t(ENOENT));
        return 0;
    });
}

}  // namespace kmodemu
