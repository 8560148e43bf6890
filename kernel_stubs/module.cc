// Module reference counting and the module-facing kernel API (kernel/module/main.c).
#include "kernel_stubs/module.h"

#include <algorithm>
#include <cerrno>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"
#include "loader/module.h"

namespace kmodemu {

namespace {

constexpr int module_ref_base = 1;  // MODULE_REF_BASE

// The loaded module whose struct module is at `mod`; null for NULL (THIS_MODULE of built-in
// code). A pointer to no module the kernel knows is a bug of the caller: the kernel would
// count in whatever memory it points at; kmodemu says so and leaves it alone.
LoadedModule* module_at(Kernel& k, uint64_t mod, const char* fn) {
    if (!mod) return nullptr;
    for (LoadedModule* m : k.modules)
        if (m->this_module == mod) return m;
    k.diag(std::string(fn) + "(" + hex(mod) + "): not a struct module of a loaded module");
    return nullptr;
}

LoadedModule* module_at(StubCall& c, uint64_t mod, const char* fn) {
    return module_at(c.kernel, mod, fn);
}

// strong_try_module_get(): -EBUSY while the module is still coming, -ENOENT when it is going.
int strong_try_module_get(LoadedModule& m) {
    if (m.state == ModuleState::coming) return -EBUSY;
    if (m.state == ModuleState::going || m.refcnt == 0) return -ENOENT;
    ++m.refcnt;
    return 0;
}

}  // namespace

const ModuleExport* LoadedModule::find_export(std::string_view sym) const {
    // find_exported_symbol_in_section(): a bsearch, the tables being sorted by name.
    auto it = std::lower_bound(exports.begin(), exports.end(), sym,
                               [](const ModuleExport& e, std::string_view n) { return e.name < n; });
    return it != exports.end() && it->name == sym ? &*it : nullptr;
}

std::optional<FoundModuleSymbol> find_module_symbol(Kernel& k, std::string_view name, bool gplok) {
    for (auto it = k.modules.rbegin(); it != k.modules.rend(); ++it) {
        LoadedModule* m = *it;
        if (m->state == ModuleState::unformed) continue;
        const ModuleExport* e = m->find_export(name);
        if (e && (gplok || !e->gpl_only)) return FoundModuleSymbol{m, e};
    }
    return std::nullopt;
}

// try_module_get(): a reference unless the module is going (module_is_live()) or its count
// already dropped to 0 (atomic_inc_not_zero()).
bool try_module_get(Kernel& k, uint64_t mod) {
    LoadedModule* m = module_at(k, mod, "try_module_get");
    if (!m) return true;
    if (m->state == ModuleState::going || m->refcnt == 0) return false;
    ++m->refcnt;
    return true;
}

// module_put(): atomic_dec_if_positive(), WARN_ON() a count that would go negative (kmodemu
// reports that as a diagnostic).
void module_put(Kernel& k, uint64_t mod) {
    LoadedModule* m = module_at(k, mod, "module_put");
    if (!m) return;
    if (m->refcnt > 0)
        --m->refcnt;
    else
        k.diag("module_put(" + m->name + "): the reference count is already 0");
}

int ref_module(LoadedModule& user, LoadedModule& owner) {
    if (&user == &owner) return 0;
    if (std::find(user.uses.begin(), user.uses.end(), &owner) != user.uses.end()) return 0;
    if (int err = strong_try_module_get(owner)) return err;
    // add_module_usage()
    user.uses.push_back(&owner);
    owner.users.push_back(&user);
    return 0;
}

void module_unload_free(LoadedModule& m) {
    for (LoadedModule* owner : m.uses) {
        std::erase(owner->users, &m);
        if (owner->refcnt > 0) --owner->refcnt;  // module_put()
    }
    m.uses.clear();
}

void register_module_api(Kernel& k) {
    const char* sub = "module";
    // module_layout exists for its CRC only (check_modstruct_version()); never called.
    k.add_function("module_layout", sub, [](StubCall&) { return uint64_t(0); });
    k.add_function("try_module_get", sub, [](StubCall& c) -> uint64_t {
        return try_module_get(c.kernel, c.arg(0));
    });
    k.add_function("__module_get", sub, [](StubCall& c) -> uint64_t {
        if (LoadedModule* m = module_at(c, c.arg(0), "__module_get")) ++m->refcnt;
        return 0;
    });
    k.add_function("module_put", sub, [](StubCall& c) -> uint64_t {
        module_put(c.kernel, c.arg(0));
        return 0;
    });
    // module_refcount(): refcnt - MODULE_REF_BASE; it reads mod->refcnt, so NULL oopses there.
    const uint64_t refcnt = k.structs().module.refcnt;
    k.add_function("module_refcount", sub, [refcnt](StubCall& c) -> uint64_t {
        uint64_t mod = c.arg(0);
        if (!mod) c.fault(mod + refcnt, false);
        LoadedModule* m = module_at(c, mod, "module_refcount");
        return static_cast<uint32_t>(m ? m->refcnt - module_ref_base : 0);
    });
    // __symbol_get() (symbol_get()): find_symbol() with GPL-only symbols allowed, then only a
    // GPL-only one is given (since "modules: only allow symbol_get of EXPORT_SYMBOL_GPL
    // modules", 6.5, in 6.1's stable updates), with a reference on its module
    // (strong_try_module_get()); NULL when it is not exported or its module is not live. A
    // symbol of the kernel itself needs no reference.
    k.add_function("__symbol_get", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        std::string name = c.read_cstr(c.arg(0), 256);
        auto refuse = [&] {
            k.log(4, "failing symbol_get of non-GPLONLY symbol " + name + ".");
            return uint64_t(0);
        };
        const KernelProfile* prof = k.config().profile.get();
        if (auto ks = prof ? prof->exports.find(name) : std::nullopt) {
            if (!ks->gpl_only) return refuse();
            const Export* e = k.find_export(name);
            if (!e) k.diag("symbol_get(" + name + "): kmodemu does not implement it; NULL");
            return e ? e->address : 0;
        }
        auto found = find_module_symbol(k, name, true);
        if (!found) return 0;
        if (!found->sym->gpl_only) return refuse();
        if (strong_try_module_get(*found->owner)) return 0;
        return found->sym->address;
    }, true);
    // __symbol_put() (symbol_put()): BUG() when the symbol is not exported; drops the owner's
    // reference.
    k.add_function("__symbol_put", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(0), 256);
        if (c.kernel.find_export(name)) return 0;
        auto found = find_module_symbol(c.kernel, name, true);
        if (!found) {
            c.kernel.diag("__symbol_put(" + name + "): not an exported symbol (the kernel BUG()s)");
            return 0;
        }
        if (found->owner->refcnt > 0) --found->owner->refcnt;
        return 0;
    });
    // symbol_put_addr(): the reference on the module whose text holds addr (kernel: none).
    k.add_function("symbol_put_addr", sub, [](StubCall& c) -> uint64_t {
        uint64_t addr = c.arg(0);
        for (LoadedModule* m : c.kernel.modules)
            if (m->contains(addr)) {
                if (m->refcnt > 0) --m->refcnt;
                break;
            }
        return 0;
    }, true);
}

}  // namespace kmodemu
