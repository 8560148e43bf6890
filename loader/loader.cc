#include "loader/loader.h"
#include "loader/util.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "kernel_stubs/arm_unwind.h"
#include "kernel_stubs/bug.h"
#include "kernel_stubs/kernel/rcu/rcu.h"
#include "kernel_stubs/module.h"
#include "kernel_stubs/module_sig.h"
#include "kernel_stubs/notifier.h"
#include "kernel_stubs/profile.h"
#include "loader/arch/aarch64.h"
#include "loader/arch/arm.h"
#include "loader/modinfo.h"
#include "loader/params.h"

namespace kmodemu {

namespace {

constexpr uint64_t page = 0x1000;
constexpr uint64_t shf_ro_after_init = 0x00200000;  // kernel-internal SHF_RO_AFTER_INIT
constexpr unsigned taint_proprietary_module = 0, taint_oot_module = 12;  // TAINT_*
constexpr int module_ref_base = 1;  // MODULE_REF_BASE (kernel/module/main.c)

uint64_t align_up(uint64_t v, uint64_t a) {
    return a > 1 ? (v + a - 1) / a * a : v;
}

}  // namespace

const char* phase_name(LoadResult::Phase p) {
    switch (p) {
        case LoadResult::Phase::elf:
            return "elf";
        case LoadResult::Phase::modinfo:
            return "modinfo";
        case LoadResult::Phase::layout:
            return "layout";
        case LoadResult::Phase::symbols:
            return "symbols";
        case LoadResult::Phase::relocation:
            return "relocation";
        case LoadResult::Phase::finalize:
            return "finalize";
        case LoadResult::Phase::coming:
            return "coming";
        case LoadResult::Phase::params:
            return "params";
        case LoadResult::Phase::init:
            return "init";
        case LoadResult::Phase::live:
            return "live";
    }
    return "?";
}

const char* region_name(Region::Type t) {
    switch (t) {
        case Region::Type::text:
            return "text";
        case Region::Type::rodata:
            return "rodata";
        case Region::Type::ro_after_init:
            return "ro_after_init";
        case Region::Type::data:
            return "data";
        case Region::Type::init_text:
            return "init_text";
        case Region::Type::init_rodata:
            return "init_rodata";
        case Region::Type::init_data:
            return "init_data";
    }
    return "?";
}

bool LoadedModule::contains(uint64_t addr) const {
    for (const Region& r : regions)
        if (r.size && addr >= r.base && addr < r.base + r.size) return true;
    return false;
}

bool LoadedModule::within_init(uint64_t addr) const {
    for (const Region& r : regions)
        if (r.is_init() && addr >= r.base && addr < r.base + r.mapped) return true;
    return false;
}

// find_kallsyms_symbol() (kernel/module/kallsyms.c): the closest preceding named symbol; its
// size runs to the next symbol, or to the end of the text of the layout the address is in.
std::optional<std::string> LoadedModule::symbolize(uint64_t addr, bool with_offset) const {
    const Region* in = nullptr;
    for (const Region& r : regions)
        if (r.mapped && addr >= r.base && addr < r.base + r.mapped) in = &r;
    if (!in) return std::nullopt;
    const ModuleSymbol* best = nullptr;
    uint64_t nextval = in->base + in->mapped;
    for (const ModuleSymbol& s : symbols) {
        if (s.address <= addr && (!best || s.address > best->address)) best = &s;
        if (s.address > addr && s.address < nextval) nextval = s.address;
    }
    if (!best || best->address < in->base) return std::nullopt;
    if (!with_offset) return best->name + " [" + name + "]";
    return format("%s+0x%llx/0x%llx [%s]", best->name.c_str(),
                  (unsigned long long)(addr - best->address),
                  (unsigned long long)(nextval - best->address), name.c_str());
}

uint64_t module_state_value(const KernelStructs& s, ModuleState state) {
    switch (state) {
        case ModuleState::live:
            return s.module_state.live;
        case ModuleState::coming:
            return s.module_state.coming;
        case ModuleState::going:
            return s.module_state.going;
        case ModuleState::unformed:
            return s.module_state.unformed;
    }
    return s.module_state.unformed;
}

void LoadedModule::set_state(Emulator& emu, const KernelStructs& structs, ModuleState s) {
    state = s;
    uint32_t v = static_cast<uint32_t>(module_state_value(structs, s));  // an enum
    if (this_module) emu.write(this_module + structs.module.state, &v, 4);
}

Loader::Loader(Kernel& kernel)
    : k_(kernel), arch_(ArchLoader::create(kernel.arch(), kernel.config().thumb2_kernel)) {
    if (!arch_) throw EmulatorError(std::string("no loader for ") + arch_name(kernel.arch()));
    if (auto* a64 = dynamic_cast<Aarch64Loader*>(arch_.get())) {
        if (const Export* cb = k_.find_export("alt_cb_patch_nops"))
            a64->alt_cb_patch_nops = cb->address;
        a64->kernel_text_start = k_.layout().stub_text;
        a64->kernel_text_end = k_.layout().stub_text + k_.layout().stub_text_size;
        if (k_.config().cpucaps) a64->cpucaps = *k_.config().cpucaps;
    }
    if (auto* arm = dynamic_cast<ArmLoader*>(arch_.get())) {
        // fixed_plts[]: FTRACE_ADDR, MCOUNT_ADDR
        if (const Export* e = k_.find_export("ftrace_caller"))
            arm->fixed_plts[0] = static_cast<uint32_t>(e->address);
        if (const Export* e = k_.find_export("__gnu_mcount_nc"))
            arm->fixed_plts[1] = static_cast<uint32_t>(e->address);
        if (const Export* e = k_.find_export("__pv_offset"); e && !e->is_function)
            k_.emu().read(e->address, &arm->pv_offset, 8);
    }
}

Loader::~Loader() = default;

bool Loader::guest_call(uint64_t fn, std::initializer_list<uint64_t> args, uint64_t& ret,
                        std::optional<RunResult>& abort, std::optional<std::string>& panic) {
    try {
        std::vector<uint64_t> v(args);
        RunResult r = k_.emu().call(fn, v);
        if (r.reason != RunResult::Reason::returned) {
            abort = r;
            return false;
        }
        ret = r.retval;
        return true;
    } catch (const KernelPanic& p) {
        panic = p.message;
        return false;
    } catch (const GuestFault& f) {
        abort = f.result;
        return false;
    }
}

LoadResult Loader::load(std::vector<uint8_t> bytes, const LoadOptions& opts) {
    LoadResult res;
    auto log_err = [&](const std::string& m) {
        if (!m.empty()) k_.log(3, m);
    };
    auto fail = [&](int err) {
        res.err = err;
        return res;
    };

    // --- module_sig_check() (kernel/module/signing.c): before the ELF is looked at. A
    // signature whose signer the kernel has no key for, or none, is allowed (the module taints
    // later); any other failure of the check fails the load. The ELF is then read without it.
    bool sig_ok = false;
    if (k_.config().module_sig) {
        const KernelProfile* p = k_.config().profile.get();
        const TrustedKeys* keys = p && !p->kit_dir.empty() ? k_.real().trusted_keys() : nullptr;
        SigCheck sig = check_module_signature(bytes, keys);
        if (sig.signed_) bytes.resize(sig.content_len);
        if (sig.err && sig.err != -ENODATA && sig.err != -ENOPKG && sig.err != -ENOKEY)
            return fail(sig.err);
        sig_ok = sig.err == 0;
        res.signer = sig.signer;
    }

    // --- elf_validity_check() / setup_load_info() ---
    auto elf = std::make_unique<ElfFile>();
    if (Status st = elf->open(std::move(bytes), k_.arch()); !st) {
        log_err(st.message);
        return fail(st.err);
    }
    res.phase = LoadResult::Phase::modinfo;
    auto& secs = elf->sections();
    ModInfo info;
    if (const ElfSection* mi = elf->find_section(".modinfo", false))
        info = ModInfo(elf->section_data(mi->index));
    std::string name = info.get("name").value_or("");
    const ElfSection* modsec = elf->find_section(".gnu.linkonce.this_module", true);
    if (!modsec) {
        k_.log(4, (name.empty() ? "(missing .modinfo name field)" : name) +
                      ": No module found in object");
        return fail(-ENOEXEC);
    }
    if (!elf->symtab_index()) {
        k_.log(4, (name.empty() ? "(missing .modinfo section or name field)" : name) +
                      ": module has no symbols (stripped?)");
        return fail(-ENOEXEC);
    }
    const KernelStructs& structs = k_.structs();
    if (name.empty()) {
        // The name from struct module in the file image (mod->name, MODULE_NAME_LEN bytes).
        auto d = elf->section_data(modsec->index);
        uint64_t off = structs.module.name;
        if (d.size() > off) {
            const char* p = reinterpret_cast<const char*>(d.data() + off);
            name.assign(p, strnlen(p, std::min<size_t>(structs.module.name_len, d.size() - off)));
        }
    }

    // __versions: struct modversion_info { unsigned long crc; char name[64 - sizeof(long)]; }
    const KernelProfile* prof = k_.config().profile.get();
    std::map<std::string, uint32_t> versions;
    const ElfSection* vers_sec = elf->find_section("__versions", false);
    if (vers_sec) {
        auto d = elf->section_data(vers_sec->index);
        const KernelStructs::ModversionInfo& mv = structs.modversion_info;
        for (size_t off = 0; off + mv.size <= d.size(); off += mv.size) {
            uint32_t crc;  // the low word of the unsigned long (little-endian)
            std::memcpy(&crc, d.data() + off + mv.crc, 4);
            const char* nm = reinterpret_cast<const char*>(d.data() + off + mv.name);
            versions[std::string(nm, strnlen(nm, mv.size - mv.name))] = crc;
        }
    }
    bool has_crcs = vers_sec != nullptr;
    // check_version() (kernel/module/version.c): true when the symbol's CRC may be used.
    auto check_version = [&](const std::string& sym, uint32_t crc) {
        if (!has_crcs) return false;  // try_to_force_load() without MODULE_FORCE_LOAD
        auto it = versions.find(sym);
        if (it == versions.end()) {
            k_.log(4, name + ": no symbol version for " + sym);
            return true;
        }
        if (it->second == crc) return true;
        k_.log(4, name + ": disagrees about version of symbol " + sym);
        return false;
    };
    // Every kernel has a profile; the default one (no kit) checks neither vermagic nor CRCs.
    bool checks = !prof->generic;
    // check_modstruct_version()
    if (checks && prof->modversions) {
        auto ml = prof->exports.find("module_layout");
        if (ml && !check_version("module_layout", ml->crc)) return fail(-ENOEXEC);
    }

    // check_modinfo(): vermagic, taints, license.
    auto vermagic = info.get("vermagic");
    if (!vermagic) {
        // try_to_force_load() without CONFIG_MODULE_FORCE_LOAD.
        return fail(-ENOEXEC);
    }
    if (checks && !same_magic(*vermagic, prof->vermagic, has_crcs)) {
        k_.log(3, format("%s: version magic '%s' should be '%s'", name.c_str(), vermagic->c_str(),
                         prof->vermagic.c_str()));
        return fail(-ENOEXEC);
    }
    std::vector<std::string> import_ns = info.all("import_ns");
    std::string mod_taints;
    // add_taint_module(): the kernel's taint now, the module's flags with it.
    auto taint = [&](char flag) {
        k_.add_taint(flag);
        mod_taints += flag;
    };
    auto tainted = [&](unsigned flag) { return (k_.taints() >> flag) & 1; };
    std::string license = info.get("license").value_or("unspecified");
    bool gplok = license_is_gpl_compatible(license);
    // The taints a module's .modinfo brings: check_modinfo() in 6.1, before the layout; since
    // 6.4 module_augment_kernel_taints(), after layout_and_allocate() and with the signature's
    // taint, where the proprietary taint the module itself set is said again (prev_taint).
    const bool augment = kernel_since(prof, 6, 4);
    auto modinfo_taints = [&] {
        bool prev_taint = tainted(taint_proprietary_module);
        if (!info.get("intree")) {
            // Said once, while the kernel is not yet tainted O.
            if (!tainted(taint_oot_module))
                k_.log(4, name + ": loading out-of-tree module taints kernel.");
            taint('O');
        }
        if (info.get("staging")) {
            taint('C');
            k_.log(4, name +
                          ": module is from the staging directory, the quality is unknown, you "
                          "have been warned.");
        }
        if (!gplok) {
            // module_license_taint_check()
            if (!tainted(taint_proprietary_module))
                k_.log(4, name + ": module license '" + license + "' taints kernel.");
            // add_taint(TAINT_PROPRIETARY_MODULE, LOCKDEP_NOW_UNRELIABLE)
            if (k_.debug_locks) k_.log(4, "Disabling lock debugging due to kernel taint");
            k_.debug_locks = false;
            taint('P');
        }
        return prev_taint;
    };
    // An unsigned module taints (pr_notice_once(): the message only for the first).
    auto signature_taint = [&] {
        if (!k_.config().module_sig || sig_ok) return;
        if (k_.printed_once.insert("module_sig").second)
            k_.log(5, name +
                          ": module verification failed: signature and/or required key missing - "
                          "tainting kernel");
        taint('E');
    };
    if (!augment) modinfo_taints();

    // --- layout_and_allocate() ---
    res.phase = LoadResult::Phase::layout;
    // add_unformed_module() (6.1) / early_mod_check()'s module_patient_check_exists() (6.4+): a
    // module of that name is already loaded.
    for (const LoadedModule* m : k_.modules)
        if (m->name == name) return fail(-EEXIST);
    if (Status st = arch_->frob_sections(*elf, name); !st) {
        log_err(st.message);
        return fail(st.err);
    }
    size_t pcpu = 0;
    for (auto& s : secs) {
        if (!s.index) continue;
        if (s.name == "__versions" || s.name == ".modinfo") s.hdr.sh_flags &= ~uint64_t(SHF_ALLOC);
        if (s.name == ".data..percpu" && (s.hdr.sh_flags & SHF_ALLOC)) {
            pcpu = s.index;
            s.hdr.sh_flags &= ~uint64_t(SHF_ALLOC);
        }
        // module_enforce_rwx_sections(): every section, allocated or not.
        if ((s.hdr.sh_flags & SHF_WRITE) && (s.hdr.sh_flags & SHF_EXECINSTR)) {
            k_.log(3, format("%s: section %s (index %zu) has invalid WRITE|EXEC flags",
                             name.c_str(), s.name.c_str(), s.index));
            return fail(-ENOEXEC);
        }
        if (s.name == ".data..ro_after_init" || s.name == "__jump_table")
            s.hdr.sh_flags |= shf_ro_after_init;
    }

    // layout_sections(): core then init, by mask, in section-header order.
    struct Mask {
        uint64_t need, skip;
    };
    const Mask masks[] = {{SHF_EXECINSTR | SHF_ALLOC, 0},
                          {SHF_ALLOC, SHF_WRITE},
                          {shf_ro_after_init | SHF_ALLOC, 0},
                          {SHF_WRITE | SHF_ALLOC, 0}};
    size_t n = secs.size();
    std::vector<int> placed(n, -1);      // region type index
    std::vector<uint64_t> offset(n, 0);  // within its layout
    uint64_t layout_size[2] = {0, 0};    // core, init
    uint64_t type_start[7] = {0}, type_end[7] = {0};
    for (int init = 0; init < 2; ++init) {
        for (int m = 0; m < 4; ++m) {
            if (init && m == 2) continue;  // no init ro_after_init
            int type = init ? (m == 0 ? 4 : m == 1 ? 5 : 6) : m;
            type_start[type] = layout_size[init];
            for (auto& s : secs) {
                if (!s.index || placed[s.index] >= 0) continue;
                uint64_t f = s.hdr.sh_flags;
                if ((f & masks[m].need) != masks[m].need || (f & masks[m].skip)) continue;
                if (arch_->is_init_section(s.name) != bool(init)) continue;
                // Sizes beyond the module area cannot be allocated (module_alloc() fails);
                // checking here also keeps the arithmetic below from wrapping.
                uint64_t limit = k_.layout().modules_size;
                if (s.hdr.sh_addralign > limit || s.hdr.sh_size > limit) {
                    k_.log(4, name + ": unable to allocate memory");
                    return fail(-ENOMEM);
                }
                uint64_t off =
                    align_up(layout_size[init], s.hdr.sh_addralign ? s.hdr.sh_addralign : 1);
                offset[s.index] = off;
                placed[s.index] = type;
                layout_size[init] = off + s.hdr.sh_size;
                if (layout_size[init] > limit) {
                    k_.log(4, name + ": unable to allocate memory");
                    return fail(-ENOMEM);
                }
            }
            type_end[type] = layout_size[init];
            layout_size[init] = align_up(layout_size[init], page);  // strict_align()
        }
    }
    // Since 6.4 (struct module_memory) each type of memory is an allocation of its own
    // (module_memory_alloc() in enum mod_mem_type order: text, data, rodata, ro_after_init,
    // then init text, data, rodata), a vmalloc area with its guard page after it; 6.1 has one
    // core and one init allocation with the types page-aligned in mask order.
    if (kernel_since(prof, 6, 4)) {
        const int order[2][4] = {{0, 3, 1, 2}, {4, 6, 5, -1}};  // our types: see the masks
        uint64_t new_start[7] = {0};
        for (int init = 0; init < 2; ++init) {
            uint64_t cursor = 0;
            for (int t : order[init]) {
                if (t < 0 || type_end[t] == type_start[t]) continue;
                new_start[t] = cursor;
                cursor += align_up(type_end[t] - type_start[t], page) + page;
            }
            layout_size[init] = cursor;
        }
        for (auto& s : secs)
            if (s.index && placed[s.index] >= 0)
                offset[s.index] += new_start[placed[s.index]] - type_start[placed[s.index]];
        for (int t = 0; t < 7; ++t) {
            type_end[t] += new_start[t] - type_start[t];
            type_start[t] = new_start[t];
        }
    }
    // Allocate: core, then init, in the module area (module_alloc()).
    uint64_t core_base = k_.layout().modules;
    for (LoadedModule* m : k_.modules) {
        for (const Region& r : m->regions)
            core_base = std::max(core_base, r.base + r.mapped);
        core_base = std::max(core_base, m->percpu + m->percpu_size);
    }
    core_base = align_up(core_base, page);
    uint64_t init_base = core_base + layout_size[0];
    // load_module(), once layout_and_allocate() has succeeded.
    if (augment) {
        bool prev_taint = modinfo_taints();
        signature_taint();
        if (!prev_taint && tainted(taint_proprietary_module))
            k_.log(4, name + ": module license taints kernel.");
    } else {
        signature_taint();
    }
    if (pcpu && secs[pcpu].hdr.sh_size > k_.layout().modules_size) {
        // percpu_modalloc()
        k_.log(4, format("%s: Could not allocate %llu bytes percpu data", name.c_str(),
                         (unsigned long long)secs[pcpu].hdr.sh_size));
        return fail(-ENOMEM);
    }
    uint64_t pcpu_size = pcpu ? align_up(secs[pcpu].hdr.sh_size, page) : 0;
    uint64_t pcpu_base = init_base + layout_size[1];
    if (pcpu_base + pcpu_size > k_.layout().modules + k_.layout().modules_size) {
        k_.log(3, name + ": unable to allocate memory");
        return fail(-ENOMEM);
    }
    std::vector<uint8_t> core_img(layout_size[0]), init_img(layout_size[1]), pcpu_img(pcpu_size);

    ModuleImage img;
    img.name = name;
    img.elf = elf.get();
    img.addr.assign(n, 0);
    img.host.assign(n, nullptr);
    img.is_init.assign(n, false);
    std::vector<std::string> arch_log;
    img.log = &arch_log;
    for (auto& s : secs) {
        if (placed[s.index] < 0 && s.index != pcpu) continue;
        bool init = placed[s.index] >= 4;
        uint8_t* host;
        if (s.index == pcpu) {
            img.addr[s.index] = pcpu_base;
            host = pcpu_img.data();
        } else {
            img.addr[s.index] = (init ? init_base : core_base) + offset[s.index];
            host = (init ? init_img.data() : core_img.data()) + offset[s.index];
        }
        img.host[s.index] = host;
        img.is_init[s.index] = init;
        if (s.hdr.sh_type != SHT_NOBITS) {
            auto d = elf->section_data(s.index);
            if (!d.empty()) std::memcpy(host, d.data(), d.size());
        }
    }
    // PLT bookkeeping (the sections were resized by frob_sections).
    for (auto& s : secs) {
        if (s.name == ".plt") img.plt_shndx = s.index, img.plt_max = s.hdr.sh_size / 12;
        if (s.name == ".init.plt")
            img.init_plt_shndx = s.index, img.init_plt_max = s.hdr.sh_size / 12;
    }

    // --- simplify_symbols() ---
    res.phase = LoadResult::Phase::symbols;
    size_t nsyms = elf->num_symbols();
    img.sym_value.assign(nsyms, 0);
    int sym_err = 0;
    bool using_gplonly = false;           // mod->using_gplonly_symbols
    std::vector<LoadedModule*> uses;      // the modules whose exports resolved symbols
    for (size_t i = 1; i < nsyms; ++i) {
        const GElf_Sym& sym = elf->symbol(i);
        std::string_view sname = elf->symbol_name(i);
        img.sym_value[i] = sym.st_value;
        switch (sym.st_shndx) {
            case SHN_COMMON:
                if (sname.starts_with("__gnu_lto")) break;
                k_.log(4, format("%s: please compile with -fno-common", name.c_str()));
                sym_err = -ENOEXEC;
                break;
            case SHN_ABS:
                break;
            case SHN_UNDEF: {
                // resolve_symbol() (kernel/module/main.c): find_symbol() in the kernel's exports
                // (check_exported_symbol() skips the _gpl ones for a proprietary module),
                // check_version(), verify_namespace_is_imported(). Without a kit these are the
                // default kernel's exports: a stub that no real kernel exports is not found.
                // Then the loaded modules' exports, newest first.
                std::string sn(sname);
                auto ps = prof->exports.find(sn);
                bool in_kernel = ps && !(ps->gpl_only && !gplok);
                std::optional<FoundModuleSymbol> owner;
                if (!in_kernel) owner = find_module_symbol(k_, sn, gplok);
                int err = 0;
                bool gpl_only = in_kernel ? ps->gpl_only : owner && owner->sym->gpl_only;
                std::optional<uint32_t> crc;
                if (in_kernel && prof->modversions) crc = ps->crc;
                if (owner) crc = owner->sym->crc;
                // (A view of the owner's string itself: `owner ? owner->sym->ns : ""` would be a
                // temporary std::string, gone by the time the view is read.)
                std::string_view ns = in_kernel ? ps->ns
                                      : owner   ? std::string_view(owner->sym->ns)
                                                : std::string_view();
                if (gpl_only) using_gplonly = true;
                if (!in_kernel && !owner) {
                    if (GELF_ST_BIND(sym.st_info) == STB_WEAK) break;
                    err = -ENOENT;
                } else if (owner && owner->owner->taints.find('P') != std::string::npos &&
                           using_gplonly) {
                    // inherit_taint()
                    k_.log(3, format("%s: module using GPL-only symbols uses symbols %s from "
                                     "proprietary module %s.",
                                     name.c_str(), sn.c_str(), owner->owner->name.c_str()));
                    err = -EPERM;
                } else if (checks && crc && !check_version(sn, *crc)) {
                    err = -EINVAL;
                } else if (!ns.empty() && std::find(import_ns.begin(), import_ns.end(), ns) ==
                                              import_ns.end()) {
                    k_.log(3, format("%s: module uses symbol (%s) from namespace %s, but does not "
                                     "import it.",
                                     name.c_str(), sn.c_str(), std::string(ns).c_str()));
                    err = -EINVAL;
                } else if (owner && owner->owner->state == ModuleState::coming) {
                    // ref_module() -> strong_try_module_get(): resolve_symbol_wait() waits 30 s
                    // for the owner's init, which cannot end while this load runs.
                    k_.log(4, format("%s: gave up waiting for init of module %s.", name.c_str(),
                                     owner->owner->name.c_str()));
                    err = -EBUSY;
                } else if (owner && owner->owner->state == ModuleState::going) {
                    err = -ENOENT;
                }
                if (err) {
                    k_.log(4,
                           format("%s: Unknown symbol %s (err %d)", name.c_str(), sn.c_str(), err));
                    sym_err = err;
                    break;
                }
                if (owner) {
                    if (owner->owner->taints.find('P') != std::string::npos &&
                        mod_taints.find('P') == std::string::npos) {
                        k_.log(4, format("%s: module uses symbols %s from proprietary module %s, "
                                         "inheriting taint.",
                                         name.c_str(), sn.c_str(), owner->owner->name.c_str()));
                        if (k_.debug_locks) k_.log(4, "Disabling lock debugging due to kernel taint");
                        k_.debug_locks = false;
                        taint('P');
                    }
                    if (std::find(uses.begin(), uses.end(), owner->owner) == uses.end())
                        uses.push_back(owner->owner);
                    img.sym_value[i] = owner->sym->address;
                    break;
                }
                // The kernel resolves it; when kmodemu does not implement it, it is bound
                // lazily and the load goes on.
                const Export* e = k_.find_export(sn);
                if (!e) e = &bind_unimplemented(sn, opts.auto_stub, res);
                img.sym_value[i] = e->address;
                break;
            }
            default:
                if (sym.st_shndx >= n) {
                    k_.log(3, format("kmodemu: %s: symbol %zu has a bad section index %u",
                                     name.c_str(), i, unsigned(sym.st_shndx)));
                    sym_err = -ENOEXEC;
                    break;
                }
                img.sym_value[i] = sym.st_value + img.addr[sym.st_shndx];
                break;
        }
    }
    if (sym_err) return fail(sym_err);
    if (!res.unimplemented.empty()) {
        std::string names;
        for (const std::string& n : res.unimplemented)
            names += (names.empty() ? "" : ", ") + n;
        k_.diag("exported by " + prof->kernels +
                " but not implemented by kmodemu, bound lazily (a call stops the run; "
                "--auto-stub pretends them): " +
                names);
    }

    // --- apply_relocations() ---
    res.phase = LoadResult::Phase::relocation;
    for (auto& s : secs) {
        if (!s.index) continue;
        uint32_t infosec = s.hdr.sh_info;
        if (infosec >= n) continue;
        if (!(secs[infosec].hdr.sh_flags & SHF_ALLOC) && !(infosec && infosec == pcpu)) continue;
        if (s.hdr.sh_type != SHT_REL && s.hdr.sh_type != SHT_RELA) continue;
        if (!img.host[infosec]) continue;
        Status st = arch_->apply_relocations(img, s.index);
        for (auto& m : arch_log)
            k_.log(3, m);
        arch_log.clear();
        if (!st) {
            log_err(st.message);
            return fail(st.err);
        }
    }

    res.plt_entries = img.plt_used + img.init_plt_used;
    res.relocation_types = img.applied;
    for (const auto& [type, count] : img.applied)
        res.relocations_applied += count;
    size_t alternatives_before = 0;
    if (auto* a64 = dynamic_cast<Aarch64Loader*>(arch_.get()))
        alternatives_before = a64->alternatives_applied;

    // --- post_relocation(): module_finalize() ---
    res.phase = LoadResult::Phase::finalize;
    if (Status st = arch_->finalize(img); !st) {
        log_err(st.message);
        return fail(st.err);
    }

    if (auto* a64 = dynamic_cast<Aarch64Loader*>(arch_.get()))
        res.alternatives_applied = a64->alternatives_applied - alternatives_before;

    // ftrace_module_init() -> ftrace_process_locs() -> ftrace_make_nop(): with
    // CONFIG_DYNAMIC_FTRACE, every mcount call site listed in __mcount_loc becomes the
    // architecture's nop before the module runs. ARM (arch/arm/kernel/ftrace.c): the
    // `bl __gnu_mcount_nc` after `push {lr}` becomes `add sp, sp, #4` (add.w in a Thumb-2
    // kernel). arm64 modules have patchable-entry nops already.
    bool dynamic_ftrace = !prof || prof->generic ||
                          prof->config.find("CONFIG_DYNAMIC_FTRACE") == std::string_view("y");
    const ElfSection* mcount = elf->find_section("__mcount_loc", true);
    if (k_.arch() == Arch::arm && dynamic_ftrace && mcount && img.host[mcount->index]) {
        for (uint64_t off = 0; off + 4 <= mcount->hdr.sh_size; off += 4) {
            uint32_t ip = 0;
            std::memcpy(&ip, img.host[mcount->index] + off, 4);
            for (const ElfSection& t : secs) {
                uint64_t a = img.addr[t.index];
                if (!a || !img.host[t.index] || !(t.hdr.sh_flags & SHF_EXECINSTR) || ip < a ||
                    ip + 4 > a + t.hdr.sh_size)
                    continue;
                uint8_t* at = img.host[t.index] + (ip - a);
                uint32_t insn = 0;
                std::memcpy(&insn, at, 4);
                if ((insn & 0x0f000000u) == 0x0b000000u && (insn >> 28) == 0xe) {  // ARM BL
                    uint32_t nop = 0xe28dd004u;
                    std::memcpy(at, &nop, 4);
                } else if ((insn & 0xd000f800u) == 0xd000f000u) {  // Thumb BL (hw1, hw2)
                    uint16_t nop[2] = {0xf10d, 0x0d04};            // add.w sp, sp, #4
                    std::memcpy(at, nop, 4);
                }
                break;
            }
        }
    }
    // arm64 (arch/arm64/kernel/ftrace.c ftrace_init_nop()): with DYNAMIC_FTRACE_WITH_REGS or
    // _ARGS, modules are built with patchable function entries (__patchable_function_entries);
    // the first nop of each function's entry becomes `mov x9, x30`. With
    // DYNAMIC_FTRACE_WITH_CALL_OPS (6.12) two of the nops come before the function (where the
    // ftrace_ops pointer goes) and the entry points at them (ftrace_call_adjust()): told here
    // by a function symbol starting 8 bytes after the entry. A BTI landing pad is skipped.
    const ElfSection* patchable = elf->find_section("__patchable_function_entries", true);
    if (k_.arch() == Arch::arm64 && dynamic_ftrace && patchable && img.host[patchable->index]) {
        std::set<uint64_t> functions;
        for (size_t i = 1; i < nsyms; ++i)
            if (GELF_ST_TYPE(elf->symbol(i).st_info) == STT_FUNC)
                functions.insert(img.sym_value[i]);
        constexpr uint32_t nop = 0xd503201fu, bti_c = 0xd503245fu, mov_x9_x30 = 0xaa1e03e9u;
        for (uint64_t off = 0; off + 8 <= patchable->hdr.sh_size; off += 8) {
            uint64_t ip = 0;
            std::memcpy(&ip, img.host[patchable->index] + off, 8);
            if (functions.count(ip + 8)) ip += 8;  // CALL_OPS: past the ops literal
            for (const ElfSection& t : secs) {
                uint64_t a = img.addr[t.index];
                if (!a || !img.host[t.index] || !(t.hdr.sh_flags & SHF_EXECINSTR) || ip < a ||
                    ip + 8 > a + t.hdr.sh_size)
                    continue;
                uint8_t* at = img.host[t.index] + (ip - a);
                uint32_t insn = 0;
                std::memcpy(&insn, at, 4);
                if (insn == bti_c) {
                    at += 4;
                    std::memcpy(&insn, at, 4);
                }
                // ftrace_modify_code() with validation: only a nop is replaced.
                if (insn == nop) std::memcpy(at, &mov_x9_x30, 4);
                break;
            }
        }
    }

    // --- the formed module ---
    auto mod = std::make_unique<LoadedModule>();
    mod->name = name;
    mod->arch = k_.arch();
    mod->vermagic = *vermagic;
    mod->license = license;
    for (char t : std::string_view("PFSRMBUDAWCIOELKXTN"))  // module_flags_taint(): in order
        if (mod_taints.find(t) != std::string::npos) mod->taints += t;
    mod->modinfo = info.tags();
    mod->this_module = img.addr[modsec->index];
    for (int t = 0; t < 7; ++t) {
        bool init = t >= 4;
        Region r;
        r.type = static_cast<Region::Type>(t);
        r.base = (init ? init_base : core_base) + type_start[t];
        r.size = type_end[t] - type_start[t];
        r.mapped = align_up(r.size, page);
        mod->regions.push_back(r);
    }
    // mod->init and mod->exit as the relocated struct module has them (the relocations of
    // .gnu.linkonce.this_module against init_module and cleanup_module put them there).
    for (auto [field, out] :
         {std::pair{structs.module.init, &mod->init}, std::pair{structs.module.exit, &mod->exit}}) {
        if (field + k_.word() > modsec->hdr.sh_size) continue;
        uint64_t v = 0;
        std::memcpy(&v, img.host[modsec->index] + field, k_.word());
        *out = v;
    }
    // Symbols for reports (kallsyms).
    for (size_t i = 1; i < nsyms; ++i) {
        const GElf_Sym& sym = elf->symbol(i);
        int type = GELF_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF ||
            sym.st_shndx >= n || !img.addr[sym.st_shndx])
            continue;
        std::string sn(elf->symbol_name(i));
        if (sn.empty() || sn == "init_module" || sn == "cleanup_module") continue;
        mod->symbols.push_back({sn, img.sym_value[i], sym.st_size, type == STT_FUNC});
    }
    // find_module_sections()
    if (const ElfSection* p = elf->find_section("__param", true)) {
        mod->kp = img.addr[p->index];
        mod->num_kp = p->hdr.sh_size / structs.kernel_param.size;
    }
    if (const ElfSection* b = elf->find_section("__bug_table", true)) {
        mod->bug_table = img.addr[b->index];
        mod->num_bugs = b->hdr.sh_size / structs.bug_entry.size;
        mod->bug_flags_done.assign(mod->num_bugs, 0);
    }
    if (const ElfSection* j = elf->find_section("__jump_table", true)) {
        mod->jump_entries = img.addr[j->index];
        mod->num_jump_entries = j->hdr.sh_size / structs.jump_entry_size;
    }
    if (k_.arch() == Arch::arm) arm::add_unwind_tables(*mod, *elf, img.addr);  // module_finalize()
    const ElfSection* ctors = elf->find_section(".ctors", true);
    const ElfSection* init_array = elf->find_section(".init_array", true);
    if (ctors && init_array) {
        k_.log(4, name + ": has both .ctors and .init_array.");
        return fail(-EINVAL);
    }
    if (const ElfSection* c = ctors ? ctors : init_array) {
        mod->ctors = img.addr[c->index];
        mod->num_ctors = c->hdr.sh_size / k_.word();
    }

    // find_module_sections(): the module's exports (__ksymtab, __ksymtab_gpl, struct
    // kernel_symbol: place-relative offsets with CONFIG_HAVE_ARCH_PREL32_RELOCATIONS, else
    // pointers) and their CRCs (__kcrctab, __kcrctab_gpl), as relocated.
    {
        auto cstr_at = [&](uint64_t addr) -> std::string {
            std::span<uint8_t> b = img.bytes_at(addr);
            const char* p = reinterpret_cast<const char*>(b.data());
            return b.empty() ? std::string() : std::string(p, strnlen(p, b.size()));
        };
        std::optional<std::string_view> prel = prof->config.find("CONFIG_HAVE_ARCH_PREL32_RELOCATIONS");
        bool prel32 = prof->generic || prof->kit_dir.empty() ? k_.arch() == Arch::arm64
                                                             : prel == std::string_view("y");
        uint64_t w = k_.word();
        for (bool gpl : {false, true}) {
            const ElfSection* tab = elf->find_section(gpl ? "__ksymtab_gpl" : "__ksymtab", true);
            const ElfSection* crcs = elf->find_section(gpl ? "__kcrctab_gpl" : "__kcrctab", true);
            if (!tab || !img.host[tab->index]) continue;
            uint64_t entry = prel32 ? 12 : 3 * w;
            for (uint64_t off = 0; off + entry <= tab->hdr.sh_size; off += entry) {
                uint64_t at = img.addr[tab->index] + off;
                const uint8_t* h = img.host[tab->index] + off;
                uint64_t f[3] = {0, 0, 0};
                for (int k = 0; k < 3; ++k) {
                    if (prel32) {
                        int32_t v;
                        std::memcpy(&v, h + 4 * k, 4);
                        f[k] = at + 4 * k + static_cast<uint64_t>(int64_t(v));
                    } else {
                        std::memcpy(&f[k], h + w * k, w);
                    }
                }
                ModuleExport e;
                e.address = f[0];
                e.name = cstr_at(f[1]);
                e.gpl_only = gpl;
                if (f[2] && (!prel32 || f[2] != at + 8)) e.ns = cstr_at(f[2]);
                if (crcs && img.host[crcs->index]) {
                    uint64_t i = off / entry;
                    if (const uint8_t* c = img.host_at(img.addr[crcs->index] + 4 * i, 4)) {
                        uint32_t v;
                        std::memcpy(&v, c, 4);
                        e.crc = v;
                    }
                }
                if (!e.name.empty()) mod->exports.push_back(std::move(e));
            }
        }
        std::stable_sort(mod->exports.begin(), mod->exports.end(),
                         [](const ModuleExport& a, const ModuleExport& b) { return a.name < b.name; });
        // complete_formation() -> verify_exported_symbols(): no export may be anyone else's.
        for (const ModuleExport& e : mod->exports) {
            std::string owner;
            if (!prof->generic && prof->exports.find(e.name))
                owner = "kernel";
            else if (auto f = find_module_symbol(k_, e.name, true))
                owner = f->owner->name;
            if (owner.empty()) continue;
            k_.log(3, format("%s: exports duplicate symbol %s (owned by %s)", name.c_str(),
                             e.name.c_str(), owner.c_str()));
            return fail(-ENOEXEC);
        }
    }

    // --- move to the emulator; complete_formation(): RO, NX, ROX ---
    // Each region is mapped with its final protection (uc_mem_write ignores protections), which
    // costs fewer mapping operations than mapping RW and protecting afterwards.
    Emulator& emu = k_.emu();
    for (const Region& r : mod->regions) {
        if (!r.mapped) continue;
        uint32_t prot = prot_rw;
        if (r.type == Region::Type::text || r.type == Region::Type::init_text) prot = prot_rx;
        if (r.type == Region::Type::rodata || r.type == Region::Type::init_rodata) prot = prot_read;
        emu.map(r.base, r.mapped, prot);
        const std::vector<uint8_t>& src = r.is_init() ? init_img : core_img;
        uint64_t base = r.is_init() ? init_base : core_base;
        uint64_t off = r.base - base;
        emu.write(r.base, src.data() + off, std::min<uint64_t>(r.mapped, src.size() - off));
        if (prot & prot_exec) emu.flush_code(r.base, r.mapped);
        // `kmodemu fuzz`: the module's own code is what its coverage counts.
        if (prot & prot_exec) emu.add_edge_coverage_range(r.base, r.size);
    }
    if (pcpu_size) {
        // percpu_modalloc() + percpu_modcopy(); percpu_modfree() in free_module().
        emu.map(pcpu_base, pcpu_size, prot_rw);
        emu.write(pcpu_base, pcpu_img.data(), pcpu_img.size());
        mod->percpu = pcpu_base;
        mod->percpu_size = pcpu_size;
    }
    // module_unload_init(): MODULE_REF_BASE, and the reference held while init runs.
    mod->refcnt = module_ref_base + 1;

    LoadedModule& m = *mod;
    modules_.push_back(std::move(mod));
    k_.modules.push_back(&m);
    m.using_gplonly_symbols = using_gplonly;
    for (LoadedModule* owner : uses) ref_module(m, *owner);  // resolve_symbol()
    res.module = &m;
    m.set_state(emu, k_.structs(), ModuleState::coming);

    // prepare_coming_module(): COMING to module notifiers (robust: failures unwind with GOING).
    res.phase = LoadResult::Phase::coming;
    try {
        jump_label_add_module(k_, m);  // jump_label_module_nb, the first of the chain
        int err = notifier::call_module_notifiers_robust(k_, ModuleState::coming,
                                                         ModuleState::going, m.this_module);
        if (err) {
            free_module(m);
            return fail(err);
        }
    } catch (const KernelPanic& p) {
        res.panic = p.message;
        return fail(-EFAULT);
    } catch (const GuestFault& f) {
        res.abort = f.result;
        return fail(-EFAULT);
    }

    // parse_args(mod->name, mod->args, mod->kp, ...)
    res.phase = LoadResult::Phase::params;
    {
        ParamResult pr = parse_module_args(k_, m, opts.args);
        if (pr.abort || pr.panic) {
            res.abort = pr.abort;
            res.panic = pr.panic;
            return fail(-EFAULT);
        }
        if (pr.err) {
            going(m);
            free_module(m);
            res.module = nullptr;
            return fail(pr.err);
        }
    }

    res.phase = LoadResult::Phase::init;
    int err = run_init(m, res);
    if (res.abort || res.panic) return fail(err);
    if (err < 0) {
        res.module = nullptr;
        return fail(err);
    }
    res.phase = LoadResult::Phase::live;
    return res;
}

// do_init_module()
int Loader::run_init(LoadedModule& m, LoadResult& res) {
    Emulator& emu = k_.emu();
    uint64_t ret = 0;
    // do_mod_ctors()
    for (size_t i = 0; i < m.num_ctors; ++i) {
        uint64_t fn = emu.read_word(m.ctors + i * k_.word());
        if (!guest_call(fn, {}, ret, res.abort, res.panic)) return -EFAULT;
    }
    if (m.init) {
        res.init_ran = true;
        if (!guest_call(m.init, {}, ret, res.abort, res.panic)) return -EFAULT;
        // initcall_t returns int: sign-extend w0 / r0.
        res.init_ret = static_cast<int32_t>(ret);
    }
    if (res.init_ret < 0) {
        // do_init_module()'s failure: MODULE_STATE_GOING, then synchronize_rcu() (what the
        // failed init queued with call_rcu() and kfree_rcu() runs and is freed), the GOING
        // notifiers and free_module().
        m.set_state(emu, k_.structs(), ModuleState::going);
        try {
            rcu_synchronize(k_);
        } catch (const KernelPanic& p) {
            res.panic = p.message;
        } catch (const GuestFault& f) {
            res.abort = f.result;
        }
        going(m);
        free_module(m);
        return static_cast<int>(res.init_ret);
    }
    if (res.init_ret > 0) {
        k_.log(4, format("do_init_module: '%s'->init suspiciously returned %d, it should follow "
                         "0/-E convention",
                         m.name.c_str(), int(res.init_ret)));
        k_.log(4, "do_init_module: loading module anyway...");
        dump_stack(k_, "do_init_module");
    }
    m.set_state(emu, k_.structs(), ModuleState::live);
    try {
        notifier::call_module_notifiers(k_, ModuleState::live, m.this_module);
    } catch (const KernelPanic& p) {
        res.panic = p.message;
        return -EFAULT;
    } catch (const GuestFault& f) {
        res.abort = f.result;
        return -EFAULT;
    }
    // Drop the initial reference (module_put()).
    if (m.refcnt > 0) --m.refcnt;
    // Free init memory: later accesses fault like a use of freed init memory. Each init region
    // alone (since 6.4 guard pages lie between them).
    for (const Region& r : m.regions)
        if (r.is_init() && r.mapped) emu.unmap(r.base, r.mapped);
    m.init_freed = true;
    // module_enable_rodata_ro_after_init()
    for (const Region& r : m.regions)
        if (r.type == Region::Type::ro_after_init && r.mapped)
            emu.protect(r.base, r.mapped, prot_read);
    return 0;
}

// An export of the profile's kernel that kmodemu does not implement. Data (a name in the kit's
// exports-data.txt, from the image's kallsyms, or marked data in the default kernel's export
// list) is a zeroed object of the kernel's size for it where the kit tells it, else of one page,
// which holds the pointers, counters and most structures modules read. A function is bound lazily:
// a call stops the run (Kernel::add_lazy); with --auto-stub it returns 0 instead, reported as
// pretended.
const Export& Loader::bind_unimplemented(const std::string& name, bool auto_stub, LoadResult& res) {
    const KernelProfile* prof = k_.config().profile.get();
    if (!data_exports_ && prof && !prof->kit_dir.empty()) {
        data_exports_.emplace();
        std::ifstream in(prof->kit_dir + "/exports-data.txt");
        std::string line;
        while (std::getline(in, line))
            if (!line.empty() && line[0] != '#') data_exports_->insert(line);
    }
    // The default kernel knows its data exports from the kits it was made of (the D flag of
    // kernel_stubs/exports/ARCH.txt).
    bool data = data_exports_ ? data_exports_->count(name) > 0 : false;
    if (prof && prof->kit_dir.empty())
        if (auto s = prof->exports.find(name)) data = s->data;
    if (data) {
        // The kernel's size for it: up to the next symbol in kallsyms when it lists data
        // (CONFIG_KALLSYMS_ALL, as Debian's arm64 6.12), or a per-CPU variable's in BTF; else
        // one page.
        size_t size = 0x1000;
        std::string source = "size unknown: one page";
        if (prof && !prof->kit_dir.empty()) {
            const Kallsyms* ks = k_.real().kallsyms();
            auto sym = ks ? ks->find(name) : std::nullopt;
            const KernelBtf* btf = k_.real().btf();
            uint32_t var = 0;
            if (btf) var = btf->variable_size(name).value_or(0);
            if (sym && std::strchr("DdBbRrVv", sym->type) && sym->size && sym->size <= (16 << 20)) {
                size = sym->size;
                source = "the kernel's size, from kallsyms";
            } else if (var) {
                size = var;
                source = "the kernel's size, from BTF";
            }
        }
        Export& e = k_.add_data(name, "auto-stub", size);
        e.auto_stub = true;
        res.auto_stub_data.push_back(name);
        k_.diag(format("auto-stub: %s is data in %s: a zeroed object of %zu bytes (%s; pretended)",
                       name.c_str(), prof->kernels.c_str(), size, source.c_str()));
        return e;
    }
    if (auto_stub) {
        // The prototype from the kit's BTF, else from the compiled-in table (the default
        // kernel; kits without BTF).
        std::optional<Prototype> proto;
        if (const KernelBtf* btf = prof && !prof->kit_dir.empty() ? k_.real().btf() : nullptr)
            proto = btf->function(name);
        if (!proto) proto = default_prototype(name);
        res.auto_stubs.push_back(name);
        return k_.add_auto_stub(name, proto);
    }
    res.unimplemented.push_back(name);
    return k_.add_lazy(name);
}

void Loader::going(LoadedModule& m) {
    m.set_state(k_.emu(), k_.structs(), ModuleState::going);
    try {
        notifier::call_module_notifiers(k_, ModuleState::going, m.this_module);
    } catch (const KernelPanic&) {
    } catch (const GuestFault&) {
    }
}

void Loader::free_module(LoadedModule& m) {
    Emulator& emu = k_.emu();
    module_unload_free(m);
    destroy_module_params(k_, m);
    for (const Region& r : m.regions) {
        if (!r.mapped) continue;
        if (r.is_init() && m.init_freed) continue;
        // Regions were mapped per layout; unmap page by page range.
        emu.unmap(r.base, r.mapped);
    }
    if (m.percpu_size) emu.unmap(m.percpu, m.percpu_size);  // percpu_modfree()
    m.percpu = m.percpu_size = 0;
    m.state = ModuleState::unformed;
    std::erase(k_.modules, &m);
}

// delete_module(2)
UnloadResult Loader::unload(LoadedModule& m) {
    UnloadResult res;
    // Modules that use this one's exports (a non-empty source_list).
    if (!m.users.empty()) {
        res.err = -EWOULDBLOCK;
        return res;
    }
    if (m.state != ModuleState::live) {
        res.err = -EBUSY;
        return res;
    }
    if (m.init && !m.exit) {
        res.err = -EBUSY;
        return res;
    }
    // try_stop_module() -> try_release_module_ref(): only a module nobody holds a reference to
    // stops (rmmod without --force: EWOULDBLOCK).
    if (m.refcnt - module_ref_base != 0) {
        res.err = -EWOULDBLOCK;
        return res;
    }
    m.refcnt = 0;
    m.set_state(k_.emu(), k_.structs(), ModuleState::going);
    if (m.exit) {
        res.exit_ran = true;
        uint64_t ret;
        if (!guest_call(m.exit, {}, ret, res.abort, res.panic)) {
            res.err = -EFAULT;
            return res;
        }
    }
    try {
        notifier::call_module_notifiers(k_, ModuleState::going, m.this_module);
    } catch (const KernelPanic& p) {
        res.panic = p.message;
        res.err = -EFAULT;
        return res;
    } catch (const GuestFault& f) {
        res.abort = f.result;
        res.err = -EFAULT;
        return res;
    }
    free_module(m);
    return res;
}

}  // namespace kmodemu
