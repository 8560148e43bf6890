// The generic module loader: load_module(), do_init_module() and delete_module() of
// kernel/module/main.c, over the emulated kernel and an ArchLoader.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "loader/arch/arch.h"
#include "loader/elf_file.h"
#include "loader/module.h"

namespace kmodemu {

struct LoadOptions {
    std::string args;  // "name=value ..." as insmod passes them
    // Functions the kernel exports and kmodemu does not implement return 0 (auto-stubs) instead
    // of stopping the run when called.
    bool auto_stub = false;
};

// How far a load got and how it ended.
struct LoadResult {
    enum class Phase {
        elf,
        modinfo,
        layout,
        symbols,
        relocation,
        finalize,
        coming,
        params,
        init,
        live
    };
    Phase phase = Phase::elf;
    int err = 0;                       // 0 or -errno: what init_module(2) returns
    std::optional<RunResult> abort;    // a guest fault/budget/timeout that ended the load
    std::optional<std::string> panic;  // a kernel panic raised by a stub
    bool init_ran = false;
    int64_t init_ret = 0;            // init's return value (int, sign-extended)
    LoadedModule* module = nullptr;  // set once the module is formed
    // --auto-stub: functions that return 0, and zeroed data objects (the kit's
    // exports-data.txt).
    std::vector<std::string> auto_stubs;
    std::vector<std::string> auto_stub_data;
    // Functions exported by the profile's kernel that kmodemu does not implement, bound lazily
    // (a call stops the run).
    std::vector<std::string> unimplemented;
    // The certificate that verified the module's signature (module_sig_check()); empty when
    // the module is unsigned or its signer is not a key of the kernel.
    std::string signer;
    // Relocations applied to allocated sections (apply_relocations()), in all and by type.
    size_t relocations_applied = 0;
    std::map<uint32_t, size_t> relocation_types;
    size_t plt_entries = 0;
    size_t alternatives_applied = 0;  // arm64 .altinstructions entries patched                  //
                                      // module PLT entries emitted (branches out of range)
};

const char* phase_name(LoadResult::Phase p);

struct UnloadResult {
    int err = 0;
    std::optional<RunResult> abort;
    std::optional<std::string> panic;
    bool exit_ran = false;
};

class Loader {
  public:
    explicit Loader(Kernel& kernel);
    ~Loader();

    // init_module(2): load, relocate, run init. Kernel messages go to the kernel log.
    LoadResult load(std::vector<uint8_t> bytes, const LoadOptions& opts);
    // delete_module(2) of a live module: exit, GOING notifiers, free.
    UnloadResult unload(LoadedModule& mod);

    ArchLoader& arch_loader() { return *arch_; }

  private:
    int run_init(LoadedModule& mod, LoadResult& res);
    void free_module(LoadedModule& mod);
    void going(LoadedModule& mod);
    const Export& bind_unimplemented(const std::string& name, bool auto_stub, LoadResult& res);
    bool guest_call(uint64_t fn, std::initializer_list<uint64_t> args, uint64_t& ret,
                    std::optional<RunResult>& abort, std::optional<std::string>& panic);

    Kernel& k_;
    std::unique_ptr<ArchLoader> arch_;
    std::vector<std::unique_ptr<LoadedModule>> modules_;
    std::optional<std::unordered_set<std::string>> data_exports_;  // read on first use
};

}  // namespace kmodemu
