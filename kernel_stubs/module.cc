// Module reference counting and the module-facing kernel API (kernel/module/main.c).
#include "loader/module.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr int module_ref_base = 1;  // MODULE_REF_BASE

// The loaded module whose struct module is at `mod`; null for NULL (THIS_MODULE of built-in
// code). A pointer to no module the kernel knows is a bug of the caller: the kernel would
// count in whatever memory it points at; kmodemu says so and leaves it alone.
LoadedModule* module_at(StubCall& c, uint64_t mod, const char* fn) {
    if (!mod) return nullptr;
    for (LoadedModule* m : c.kernel.modules)
        if (m->this_module == mod) return m;
    c.kernel.diag(std::string(fn) + "(" + hex(mod) + "): not a struct module of a loaded module");
    return nullptr;
}

}  // namespace

void register_module_api(Kernel& k) {
    const char* sub = "module";
    // module_layout exists for its CRC only (check_modstruct_version()); never called.
    k.add_function("module_layout", sub, [](StubCall&) { return uint64_t(0); });
    // try_module_get(): a reference unless the module is going (module_is_live()) or its count
    // already dropped to 0 (atomic_inc_not_zero()).
    k.add_function("try_module_get", sub, [](StubCall& c) -> uint64_t {
        LoadedModule* m = module_at(c, c.arg(0), "try_module_get");
        if (!m) return 1;
        if (m->state == ModuleState::going || m->refcnt == 0) return 0;
        ++m->refcnt;
        return 1;
    });
    k.add_function("__module_get", sub, [](StubCall& c) -> uint64_t {
        if (LoadedModule* m = module_at(c, c.arg(0), "__module_get")) ++m->refcnt;
        return 0;
    });
    // module_put(): atomic_dec_if_positive(), WARN_ON() a count that would go negative (kmodemu
    // reports that as a diagnostic).
    k.add_function("module_put", sub, [](StubCall& c) -> uint64_t {
        LoadedModule* m = module_at(c, c.arg(0), "module_put");
        if (!m) return 0;
        if (m->refcnt > 0)
            --m->refcnt;
        else
            c.kernel.diag("module_put(" + m->name + "): the reference count is already 0");
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
}

}  // namespace kmodemu
