// The module list's side of kernel/module/main.c: find_symbol() over the loaded modules'
// exports, and the module_use links between modules (ref_module(), module_unload_free()).
#pragma once

#include <optional>
#include <string_view>

#include "kernel_stubs/kernel.h"
#include "loader/module.h"

namespace kmodemu {

struct ModuleSymbol;

// find_symbol() past vmlinux: each formed module, newest first (list_add_rcu() puts a module at
// the head of `modules`); a GPL-only export is skipped when !gplok.
struct FoundModuleSymbol {
    LoadedModule* owner = nullptr;
    const ModuleExport* sym = nullptr;
};
std::optional<FoundModuleSymbol> find_module_symbol(Kernel& k, std::string_view name, bool gplok);

// ref_module(): `user` uses `owner`'s exports. 0 when linked (or already), -EBUSY while the owner
// is still coming, -ENOENT when it is going (strong_try_module_get()).
int ref_module(LoadedModule& user, LoadedModule& owner);

// jump_label_add_module() (kernel/jump_label.c), the COMING notifier of static keys: the
// module's branches on keys that are not in their initial state are patched.
void jump_label_add_module(Kernel& k, LoadedModule& m);

// module_unload_free(): drops the references `m` holds on the modules it used.
void module_unload_free(LoadedModule& m);
// try_module_get() / module_put() on a struct module address, for the kernel's own callers
// (NULL: built-in code, always succeeds).
bool try_module_get(Kernel& k, uint64_t mod);
void module_put(Kernel& k, uint64_t mod);

}  // namespace kmodemu
