// A module as the loader placed it: its memory regions, symbols, struct module, parameters and
// lifecycle state. Several can be held at once (dependencies loaded side by side).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "emulator/emulator.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

// A module's state (include/linux/module.h enum module_state); the kernel's values of it are
// KernelStructs::module_state.
enum class ModuleState { live, coming, going, unformed };
uint64_t module_state_value(const KernelStructs& s, ModuleState state);

// One of the module's memory regions (mirrors mod->mem[] / core_layout + init_layout).
struct Region {
    enum class Type { text, rodata, ro_after_init, data, init_text, init_rodata, init_data };
    Type type;
    uint64_t base = 0;
    uint64_t size = 0;    // bytes used
    uint64_t mapped = 0;  // page-rounded size mapped in the emulator
    bool is_init() const {
        return type == Type::init_text || type == Type::init_rodata || type == Type::init_data;
    }
};

const char* region_name(Region::Type t);

struct ModuleSymbol {
    std::string name;
    uint64_t address = 0;
    uint64_t size = 0;
    bool is_function = false;
};

// An ARM unwind table (struct unwind_table) that module_finalize() registers: one .ARM.exidx*
// section and the text section it describes.
struct UnwindTable {
    uint64_t start = 0, size = 0;      // the index entries
    uint64_t text = 0, text_size = 0;  // begin_addr .. end_addr
    bool init = false;                 // removed when init memory is freed
};

// A symbol the module exports (find_module_sections(): mod->syms from __ksymtab, mod->gpl_syms
// from __ksymtab_gpl, their CRCs from __kcrctab and __kcrctab_gpl).
struct ModuleExport {
    std::string name;
    uint64_t address = 0;
    bool gpl_only = false;
    std::optional<uint32_t> crc;
    std::string ns;  // its namespace, empty when none
};

struct LoadedModule {
    std::string name;
    Arch arch = Arch::arm64;
    std::string vermagic;
    std::string license;
    std::map<std::string, std::vector<std::string>> modinfo;
    std::vector<Region> regions;
    std::vector<ModuleSymbol> symbols;  // defined function/object symbols, by address
    uint64_t this_module = 0;           // address of struct module
    uint64_t init = 0;                  // mod->init (0 when none)
    uint64_t exit = 0;                  // mod->exit (0 when none)
    uint64_t kp = 0;                    // __param
    size_t num_kp = 0;
    uint64_t ctors = 0;
    size_t num_ctors = 0;
    uint64_t bug_table = 0;  // __bug_table (struct bug_entry[])
    size_t num_bugs = 0;
    std::vector<uint16_t> bug_flags_done;
    uint64_t jump_entries = 0;  // __jump_table (struct jump_entry[]): mod->jump_entries
    size_t num_jump_entries = 0;  // BUGFLAG_DONE per entry (the table may be read-only)
    ModuleState state = ModuleState::unformed;
    std::string taints;  // module_flags_taint(): "OE" for an unsigned out-of-tree module
    bool init_freed = false;
    uint64_t percpu = 0;       // mod->percpu: the module's per-cpu area (one CPU), 0 when none
    uint64_t percpu_size = 0;  // its mapped, page-rounded size
    // mod->refcnt: MODULE_REF_BASE, plus the loader's reference while init runs, plus
    // try_module_get()/__module_get() references; module_refcount() is refcnt - MODULE_REF_BASE.
    int refcnt = 0;
    std::vector<UnwindTable> unwind_tables;  // ARM: mod->arch.unwind_list
    std::vector<ModuleExport> exports;       // sorted by name, as the module's ksymtabs are
    // module_use links (ref_module()): the modules whose exports this one uses (mod->target_list)
    // and the modules that use this one's (mod->source_list).
    std::vector<LoadedModule*> uses;
    std::vector<LoadedModule*> users;
    bool using_gplonly_symbols = false;

    const ModuleExport* find_export(std::string_view sym) const;
    bool contains(uint64_t addr) const;
    bool within_init(uint64_t addr) const;
    // "func+0x1c/0x40 [mod]" (with_offset) or "func [mod]"
    std::optional<std::string> symbolize(uint64_t addr, bool with_offset) const;
    // Sets the state here and in the guest's struct module (mod->state).
    void set_state(Emulator& emu, const KernelStructs& structs, ModuleState s);
};

}  // namespace kmodemu
