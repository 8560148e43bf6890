#include "kernel_stubs/bug.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "kernel_stubs/arm_unwind.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "loader/module.h"

namespace kmodemu {

namespace {

constexpr const char* cut_here = "------------[ cut here ]------------";

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

std::string addr_str(Kernel& k, uint64_t v) {
    return fmt("%0*llx", k.arch_info().hex_digits(), (unsigned long long)v);
}

// A frame of the real kernel in a call trace: where `caller` returns to from its call of
// `callee` (empty: its first indirect call), %pS as the kit's kallsyms and code tell it.
std::optional<std::string> kernel_frame(Kernel& k, std::string_view caller,
                                        std::string_view callee) {
    const Kallsyms* ks = k.real().kallsyms();
    std::optional<uint64_t> ret = ks ? ks->return_address(caller, callee) : std::nullopt;
    if (!ret) return std::nullopt;
    std::optional<KernelSymbol> fn = ks->find(caller);
    return fmt("%s+0x%llx/0x%llx", fn->name.c_str(), (unsigned long long)(*ret - fn->addr),
               (unsigned long long)fn->size);
}

// The kernel's caller of a module's init: do_one_initcall(), returning from its call of the
// initcall (its first indirect call) when the kit's kallsyms and code tell where.
std::string initcall_caller(Kernel& k) {
    return kernel_frame(k, "do_one_initcall", "").value_or("do_one_initcall");
}

// Whether the kit's kernel loads a module from a file through init_module_from_file() (6.6+
// kernel/module/main.c: finit_module(2) -> init_module_from_file() -> load_module()); 6.1's
// finit_module(2) calls load_module() itself.
bool has_init_module_from_file(Kernel& k) {
    const Kallsyms* ks = k.real().kallsyms();
    return ks && ks->find("init_module_from_file");
}

// The arm64 kernel's frames below `from` (do_one_initcall(), or a function that calls it) while
// insmod loads a module: finit_module(2) from EL0 (kernel/module/main.c,
// arch/arm64/kernel/syscall.c, entry-common.c, entry.S), each caller at its call of the next; as
// far as the kit's code has the calls. 6.1's __do_sys_finit_module() calls load_module(); 6.12's
// __arm64_sys_finit_module() calls init_module_from_file(), which calls load_module().
std::vector<std::string> insmod_frames(Kernel& k, std::string_view from = "do_one_initcall") {
    bool from_file = has_init_module_from_file(k);
    const char* const syscall_path[][2] = {
        {"do_init_module", "do_one_initcall"},
        {"load_module", "do_init_module"},
        {from_file ? "init_module_from_file" : "__do_sys_finit_module", "load_module"},
        {"__arm64_sys_finit_module", from_file ? "init_module_from_file" : "__do_sys_finit_module"},
    };
    static const char* const entry_path[][2] = {
        {"invoke_syscall", ""},  // the syscall table's entry
        {"el0_svc_common.constprop.0", "invoke_syscall"},
        {"do_el0_svc", "el0_svc_common.constprop.0"},
        {"el0_svc", "do_el0_svc"},
        {"el0t_64_sync_handler", "el0_svc"},
        {"el0t_64_sync", "el0t_64_sync_handler"},
    };
    std::vector<std::string> out;
    bool below = false;
    for (const auto& [caller, callee] : syscall_path) {
        if (!(below |= callee == from)) continue;
        std::optional<std::string> f = kernel_frame(k, caller, callee);
        if (!f) return out;
        out.push_back(*f);
    }
    for (const auto& [caller, callee] : entry_path) {
        if (!(below |= callee == from)) continue;
        std::optional<std::string> f = kernel_frame(k, caller, callee);
        if (!f) break;
        out.push_back(*f);
    }
    return out;
}

// Whether a module's init is running (the exit page is do_one_initcall()'s return from it).
bool in_init(Kernel& k) {
    for (const LoadedModule* m : k.modules)
        if (m->state == ModuleState::coming) return true;
    return false;
}

// %pS of an address: a module or stub symbol, the exit page as the kernel's caller of init.
std::string sym(Kernel& k, uint64_t addr) {
    if (addr == k.layout().exit_page) return in_init(k) ? initcall_caller(k) : "do_one_initcall";
    return k.symbolize(addr, true).value_or("0x" + fmt("%llx", (unsigned long long)addr));
}

bool thumb_state(Kernel& k) {
    return k.arch() == Arch::arm && (k.emu().reg(UC_ARM_REG_CPSR) & (1u << 5));
}

struct BugEntry {
    LoadedModule* mod;
    size_t index;
    uint64_t addr;
    std::string file;
    unsigned line;
    uint16_t flags;
};

// find_bug(): the module's __bug_table entry (struct bug_entry) for a trap address. arm64 uses
// relative pointers (CONFIG_GENERIC_BUG_RELATIVE_POINTERS); ARM absolute ones.
std::optional<BugEntry> find_bug(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    const KernelStructs::BugEntry& l = k.structs().bug_entry;
    std::vector<uint8_t> raw(l.size);
    for (LoadedModule* m : k.modules) {
        for (size_t i = 0; i < m->num_bugs; ++i) {
            uint64_t ent = m->bug_table + i * l.size;
            if (!e.try_read(ent, raw.data(), raw.size())) break;
            uint64_t bug_addr = 0, file = 0;
            if (l.relative) {
                int32_t d1, d2;  // bug_addr_disp, file_disp
                std::memcpy(&d1, raw.data() + l.addr, 4);
                std::memcpy(&d2, raw.data() + l.file, 4);
                bug_addr = ent + l.addr + static_cast<int64_t>(d1);
                file = ent + l.file + static_cast<int64_t>(d2);
            } else {
                std::memcpy(&bug_addr, raw.data() + l.addr, k.word());
                std::memcpy(&file, raw.data() + l.file, k.word());
            }
            if ((bug_addr & ~1ull) != (pc & ~1ull)) continue;
            BugEntry b{m, i, bug_addr, "", 0, 0};
            uint16_t line, flags;
            std::memcpy(&line, raw.data() + l.line, 2);
            std::memcpy(&flags, raw.data() + l.flags, 2);
            b.line = line;
            b.flags = flags | m->bug_flags_done[i];
            if (!e.read_cstring(file, 4096, b.file)) b.file.clear();
            return b;
        }
    }
    return std::nullopt;
}

std::string modules_linked_in(Kernel& k) {
    std::string s = "Modules linked in:";
    for (LoadedModule* m : k.modules) {
        std::string flags = m->taints;
        if (m->state == ModuleState::coming) flags += '+';
        if (m->state == ModuleState::going) flags += '-';
        s += " " + m->name + (flags.empty() ? "" : "(" + flags + ")");
    }
    return s;
}

// dump_stack_print_info() (lib/dump_stack.c): the task, the taints, the release and the first
// word of the UTS version; Debian's kernels add their package version (LINUX_PACKAGE_ID).
std::string cpu_line(Kernel& k) {
    RealKernel& real = k.real();
    std::string debian = real.package_id().empty() ? "" : " " + real.package_id();
    // 6.12 prints the task's effective UID too (insmod runs as root).
    const char* uid = kernel_since(k.config().profile.get(), 6, 12) ? "UID: 0 " : "";
    return fmt("CPU: 0 %sPID: %d Comm: %.20s %s %s %s%s", uid, k.config().pid,
               k.config().comm.c_str(), k.print_tainted().c_str(), k.config().release.c_str(),
               real.uts_build().c_str(), debian.c_str());
}

// dump_stack_print_info() (lib/dump_stack.c): the CPU line and, since 6.10, the taints spelled
// out when the kernel is tainted.
void log_cpu_lines(Kernel& k, int level) {
    k.log(level, cpu_line(k));
    if (k.taints() && kernel_since(k.config().profile.get(), 6, 10))
        k.log(level, k.print_tainted_verbose());
}

// --- 32-bit ARM: __show_regs() (arch/arm/kernel/process.c), __die() and its helpers
// (arch/arm/kernel/traps.c), mem_dump_obj() (mm/util.c) ---

// dump_stack_print_info()'s description of the machine: on arm64 the device tree's model, or its
// compatible string (setup_machine_fdt()), of QEMU's virt board, where the oracle runs; on ARM
// a DT machine without a board file of its own is the kernel's generic one
// (arch/arm/kernel/devtree.c), as kmodemu's emulated board is.
std::string hardware_name(Kernel& k) {
    return std::string("Hardware name: ") + k.arch_info().hardware_name;
}

bool config_enabled(Kernel& k, std::string_view name) {
    const auto& p = k.config().profile;
    return p && p->config.find(name) == "y";
}

// The DACR that __show_regs() reports for a kernel-mode context: with CONFIG_CPU_SW_DOMAIN_PAN
// the one saved at exception entry, DACR_UACCESS_DISABLE (asm/domain.h); else the live
// DACR_INIT. Domains: kernel 0, user 1, io 2, vectors 3; client 1, manager 3.
uint32_t arm_dacr(Kernel& k) {
    auto val = [](uint32_t dom, uint32_t type) { return type << (2 * dom); };
    uint32_t manager = config_enabled(k, "CONFIG_CPU_USE_DOMAINS") ? 3 : 1;
    if (config_enabled(k, "CONFIG_CPU_SW_DOMAIN_PAN"))
        return val(0, 1) | val(2, 1) | val(3, 1) | val(1, 0);
    return val(1, 1) | val(0, manager) | val(2, 1) | val(3, 1);
}

// A CP15 register of the emulated CPU (MRC p15, opc1, crn, crm, opc2).
uint32_t arm_cp15(Kernel& k, uint32_t crn, uint32_t crm, uint32_t opc1, uint32_t opc2) {
    uc_arm_cp_reg r{15, 0, 0, crn, crm, opc1, opc2, 0};
    if (uc_reg_read(k.emu().engine(), UC_ARM_REG_CP_REG, &r) != UC_ERR_OK) return 0;
    return static_cast<uint32_t>(r.val);
}

// The rest of __show_regs() after the registers: the flags line and the CP15 line.
void arm_show_flags(Kernel& k, uint32_t cpsr) {
    static const char* const processor_modes[] = {
        "USER_26", "FIQ_26", "IRQ_26",  "SVC_26",  "UK4_26",  "UK5_26",  "UK6_26",  "UK7_26",
        "UK8_26",  "UK9_26", "UK10_26", "UK11_26", "UK12_26", "UK13_26", "UK14_26", "UK15_26",
        "USER_32", "FIQ_32", "IRQ_32",  "SVC_32",  "UK4_32",  "UK5_32",  "MON_32",  "ABT_32",
        "UK8_32",  "UK9_32", "HYP_32",  "UND_32",  "UK12_32", "UK13_32", "UK14_32", "SYS_32"};
    static const char* const isa_modes[] = {"ARM", "Thumb", "Jazelle", "ThumbEE"};
    char nzcv[5] = {cpsr & (1u << 31) ? 'N' : 'n', cpsr & (1u << 30) ? 'Z' : 'z',
                    cpsr & (1u << 29) ? 'C' : 'c', cpsr & (1u << 28) ? 'V' : 'v', 0};
    uint32_t dacr = arm_dacr(k);
    const char* segment = (dacr & (3u << 2)) == 0 ? "none" : "user";  // DOMAIN_USER no access
    unsigned isa = ((cpsr >> 23) & 2) | ((cpsr >> 5) & 1);            // J and T bits
    k.log(4, fmt("Flags: %s  IRQs o%s  FIQs o%s  Mode %s  ISA %s  Segment %s", nzcv,
                 cpsr & (1u << 7) ? "ff" : "n", cpsr & (1u << 6) ? "ff" : "n",
                 processor_modes[cpsr & 0x1f], isa_modes[isa], segment));
    // Control: the SCTLR that the kernel's __v7_setup (arch/arm/mm/proc-v7.S) makes of the
    // emulated CPU's reset value: v7_crval's clear and mmuset (proc-v7-2level.S, or
    // proc-v7-3level.S with LPAE), the SW bit cleared with CONFIG_SWP_EMULATE, EE with BE8. The
    // emulated CPU itself keeps its MMU off (Unicorn maps flat). Table: its TTBR0 as it is.
    uint32_t sctlr = arm_cp15(k, 1, 0, 0, 0);
    if (config_enabled(k, "CONFIG_CPU_V7")) {
        bool lpae = config_enabled(k, "CONFIG_ARM_LPAE");
        uint32_t clear = lpae ? 0x0122c302 : 0x2120c302, mmuset = lpae ? 0x30c03c7d : 0x10c03c7d;
        if (config_enabled(k, "CONFIG_CPU_ENDIAN_BE8")) mmuset |= 1u << 25;
        if (config_enabled(k, "CONFIG_SWP_EMULATE")) clear |= 1u << 10, mmuset &= ~(1u << 10);
        sctlr = (sctlr & ~clear) | mmuset;
    }
    k.log(4, fmt("Control: %08x  Table: %08x  DAC: %08x", sctlr, arm_cp15(k, 2, 0, 0, 0), dacr));
}

// %pS of the return address of the nth call (BL) from `fn` to `callee` in the kit's kernel
// image ("load_module+0xa90/0x21c8"): what __builtin_return_address(0) in the callee gives.
// Without the image (or on a Thumb-2 kernel, whose BL encoding this does not read), the name.
std::string arm_call_site(Kernel& k, const char* fn, const char* callee, int nth) {
    const Kallsyms* ks = k.config().thumb2_kernel ? nullptr : k.real().kallsyms();
    std::optional<KernelSymbol> f = ks ? ks->find(fn) : std::nullopt;
    std::optional<KernelSymbol> c = f ? ks->find(callee) : std::nullopt;
    std::optional<std::string_view> code = c ? ks->code(f->addr, f->size) : std::nullopt;
    for (size_t o = 0; code && o + 4 <= code->size(); o += 4) {
        uint32_t w;
        std::memcpy(&w, code->data() + o, 4);
        if ((w & 0x0f000000u) != 0x0b000000u || (w >> 28) == 0xf) continue;  // BL<cond>
        int32_t disp = static_cast<int32_t>(w << 8) >> 6;
        if (f->addr + o + 8 + disp != c->addr || --nth) continue;
        return fmt("%s+0x%llx/0x%llx", f->name.c_str(), (unsigned long long)(o + 4),
                   (unsigned long long)f->size);
    }
    return fn;
}

// arm_call_site() when the kit's image has the call.
std::optional<std::string> arm_frame(Kernel& k, const char* fn, const char* callee, int nth = 1) {
    std::string f = arm_call_site(k, fn, callee, nth);
    return f == fn ? std::nullopt : std::optional<std::string>(f);
}

// The heading that 6.12's unwind_backtrace() (arch/arm/kernel/unwind.c) prints before the frames
// (6.1's prints none).
void arm_call_trace_heading(Kernel& k, int level) {
    if (kernel_since(k.config().profile.get(), 6, 12)) k.log(level, "Call trace: ");
}

// The 32-bit ARM kernel's frames of insmod's path below `from` (do_one_initcall() or
// do_init_module()), as unwind_backtrace() prints them: load_module() tail-calls
// do_init_module(), so its frame returns where load_module() was called: into
// sys_finit_module() (6.1), or init_module_from_file() (6.6+), which sys_finit_module() calls;
// vector_swi enters the syscall with lr = ret_fast_syscall (arch/arm/kernel/entry-common.S).
// Empty without the kit's image.
std::vector<std::string> arm_insmod_frames(Kernel& k, std::string_view from) {
    bool from_file = has_init_module_from_file(k);
    const char* const loader = from_file ? "init_module_from_file" : "sys_finit_module";
    const char* const path[][3] = {
        {"do_one_initcall", "do_init_module", "do_one_initcall"},
        {"do_init_module", loader, "load_module"},
        {from_file ? "init_module_from_file" : nullptr, "sys_finit_module",
         "init_module_from_file"},
    };
    std::vector<std::string> out;
    bool below = false;
    for (const auto& [fn, caller, callee] : path) {
        if (!fn || !(below |= fn == from)) continue;
        std::optional<std::string> f = arm_frame(k, caller, callee);
        if (!f) return {};
        out.push_back(std::string(" ") + fn + " from " + *f);
    }
    const Kallsyms* ks = k.config().thumb2_kernel ? nullptr : k.real().kallsyms();
    std::optional<KernelSymbol> ret = ks ? ks->find("ret_fast_syscall") : std::nullopt;
    if (!ret) return {};
    out.push_back(fmt(" sys_finit_module from %s+0x0/0x%llx", ret->name.c_str(),
                      (unsigned long long)ret->size));
    return out;
}

// The first frames of ARM's dump_stack() called from `caller` (its call of `callee`, the
// nth): show_stack() -> unwind_backtrace() (arch/arm/kernel/traps.c, unwind.c), and
// dump_stack() tail-calls dump_stack_lvl(). Empty without the kit's image.
std::vector<std::string> arm_dump_stack_frames(Kernel& k, const char* caller, const char* callee,
                                               int nth = 1) {
    std::optional<std::string> f[] = {arm_frame(k, "show_stack", "unwind_backtrace"),
                                      arm_frame(k, "dump_stack_lvl", "show_stack"),
                                      arm_frame(k, caller, callee, nth)};
    if (!f[0] || !f[1] || !f[2]) return {};
    return {" unwind_backtrace from " + *f[0], " show_stack from " + *f[1],
            " dump_stack_lvl from " + *f[2]};
}

// unwind_backtrace() from the CPU state at `pc`; when it ends where a module's init returns to
// do_one_initcall(), the real kernel's frames below it.
void arm_backtrace(Kernel& k, uint64_t pc, int level) {
    bool to_initcall = false;
    arm::dump_backtrace(k, arm::current_frame(k, pc), level, [&k, &to_initcall](uint64_t a) {
        to_initcall |= a == k.layout().exit_page;
        return sym(k, a);
    });
    if (to_initcall && in_init(k))
        for (const std::string& f : arm_insmod_frames(k, "do_one_initcall"))
            k.log(level, f);
}

// dump_stack() (lib/dump_stack.c): the task and machine lines, then on ARM `own` (the real
// kernel's frames above the emulated kernel function) and the call trace from that function,
// when a guest call is under way.
// `from`: the pc of the frame the trace starts at (0: the CPU's).
void dump_stack_with(Kernel& k, const std::vector<std::string>& own, uint64_t from = 0) {
    log_cpu_lines(k, 4);
    if (k.arch() != Arch::arm) return;
    k.log(4, hardware_name(k));
    uint64_t pc = from ? from : k.emu().pc();
    if (!k.export_at(pc) && !k.real_code_at(pc)) return;
    arm_call_trace_heading(k, 4);
    for (const std::string& f : own)
        k.log(4, f);
    arm_backtrace(k, pc, 4);
}

// kmalloc_info[] names: kmalloc-64 ... kmalloc-512, kmalloc-1k ...
std::string kmalloc_name(uint64_t size) {
    return size >= 1024 ? fmt("kmalloc-%lluk", (unsigned long long)(size / 1024))
                        : fmt("kmalloc-%llu", (unsigned long long)size);
}

// mem_dump_obj(): what a register points to, over kmodemu's memory: kmalloc objects of the
// heap, the emulated task_struct and kmem_cache objects (kmem_dump_obj()); the modules'
// module_alloc() areas and, with CONFIG_VMAP_STACK, the task's stack (vmalloc_dump_obj(),
// which looks up PAGE_ALIGN(ptr) in areas that end with a guard page); the rest of the mapped
// lowmem (virt_addr_valid()). The text follows "Register rN information:".
std::string arm_mem_dump_obj(Kernel& k, uint32_t v) {
    constexpr uint32_t page = 0x1000;
    Kernel::Slab& slab = k.slab();
    const KernelLayout& l = k.layout();
    uint64_t page_offset = 0xc0000000u;
    if (const auto& p = k.config().profile)
        if (auto po = p->config.find("CONFIG_PAGE_OFFSET"))
            page_offset = std::strtoull(std::string(*po).c_str(), nullptr, 0);
    bool lowmem = v >= page_offset && k.emu().is_mapped(v);
    if (lowmem) {
        std::optional<std::pair<uint64_t, uint64_t>> obj;
        std::string cache;
        uint64_t usersize = 0;
        uint64_t task_struct_size = k.structs().task.size;
        constexpr uint64_t kmem_cache_size = 256;  // what kmodemu allocates for one
        for (const auto& [addr, size] : slab.cache_size)
            if (v >= addr && v < addr + kmem_cache_size)
                obj = std::make_pair(addr, kmem_cache_size), cache = "kmem_cache";
        if (!obj && v >= k.current_task() && v < k.current_task() + task_struct_size)
            obj = std::make_pair(k.current_task(), task_struct_size), cache = "task_struct";
        if (!obj) {
            // kmalloc caches are made with usersize = size (create_kmalloc_caches())
            if ((obj = slab.object_at(v)))
                cache = kmalloc_name(obj->second), usersize = obj->second;
        }
        if (obj) {
            std::string s =
                fmt(" slab %s start %08llx pointer offset %llu", cache.c_str(),
                    (unsigned long long)obj->first, (unsigned long long)(v - obj->first));
            if (usersize) s += fmt(" size %llu", (unsigned long long)usersize);
            return s;
        }
    }
    // vm->caller: module_alloc()'s caller, load_module() (move_module() allocates the core
    // first, then the init layout); for the stack, alloc_thread_stack_node()'s: the return
    // from copy_process() into kernel_clone(), where insmod was forked.
    struct Area {
        uint64_t base, pages;
        const char *fn, *callee;
        int nth;
    };
    std::vector<Area> areas;
    for (const LoadedModule* m : k.modules) {
        for (bool init : {false, true}) {
            if (init && m->init_freed) continue;
            uint64_t lo = ~0ull, hi = 0;
            for (const Region& r : m->regions)
                if (r.is_init() == init && r.mapped)
                    lo = std::min(lo, r.base), hi = std::max(hi, r.base + r.mapped);
            if (hi > lo)
                areas.push_back(
                    {lo, (hi - lo + page - 1) / page, "load_module", "module_alloc", init ? 2 : 1});
        }
    }
    if (config_enabled(k, "CONFIG_VMAP_STACK"))
        areas.push_back({l.stack, l.stack_size / page, "kernel_clone", "copy_process", 1});
    uint32_t objp = (v + page - 1) & ~(page - 1);
    for (const Area& a : areas)
        if (objp >= a.base && objp < a.base + (a.pages + 1) * page)
            return fmt(" %llu-page vmalloc region starting at 0x%llx allocated at %s",
                       (unsigned long long)a.pages, (unsigned long long)a.base,
                       arm_call_site(k, a.fn, a.callee, a.nth).c_str());
    if (lowmem) return " non-slab/vmalloc memory";
    if (v == 0) return " NULL pointer";
    if (v == zero_size_ptr) return " zero-size pointer";
    return " non-paged memory";
}

// dump_mem(): the words from bottom to top, eight to a line, each line headed by the low 16
// bits of its 32-byte aligned address.
void arm_dump_mem(Kernel& k, int level, const char* str, uint32_t bottom, uint32_t top) {
    k.log(level, fmt("%s(0x%08x to 0x%08x)", str, bottom, top));
    for (uint32_t first = bottom & ~31u; first < top; first += 32) {
        std::string line = fmt("%04x:", first & 0xffff);
        for (uint32_t i = 0, p = first; i < 8 && p < top; ++i, p += 4) {
            uint32_t val;
            if (p < bottom)
                line += "         ";
            else if (k.emu().try_read(p, &val, 4))
                line += fmt(" %08x", val);
            else
                line += " ????????";
        }
        k.log(level, line);
    }
}

// dump_instr(): four words before the PC and the one at it (Thumb: halfwords, one more after).
std::string arm_dump_instr(Kernel& k, uint64_t pc) {
    bool thumb = thumb_state(k);
    uint32_t addr = static_cast<uint32_t>(pc & ~1ull);
    std::string s = "Code: ";
    for (int i = -4; i < 1 + thumb; ++i) {
        uint32_t val = 0;
        bool ok = thumb ? k.emu().try_read(addr + 2 * i, &val, 2)
                        : k.emu().try_read(addr + 4 * i, &val, 4);
        if (!ok) {
            s += "bad PC value";
            break;
        }
        s += fmt(i == 0 ? "(%0*x) " : "%0*x ", thumb ? 4 : 8, val);
    }
    return s;
}

// __die() after __show_regs(): __show_regs_alloc_free(), the process and its stack, the call
// trace (dump_backtrace()) and the code (dump_instr()).
void arm_die_tail(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    for (int i = 0; i < 13; ++i)
        k.log(1, fmt("Register r%d information:", i) +
                     arm_mem_dump_obj(k, static_cast<uint32_t>(e.reg(UC_ARM_REG_R0 + i))));
    // end_of_stack(): the lowest address of the task's stack (THREAD_INFO_IN_TASK).
    k.log(0, fmt("Process %.*s (pid: %d, stack limit = 0x%s)", 16, k.config().comm.c_str(),
                 k.config().pid, hashed_pointer(k, k.layout().stack).c_str()));
    uint32_t sp = static_cast<uint32_t>(e.sp());
    const KernelLayout& l = k.layout();
    uint32_t top = sp >= l.stack && sp <= l.stack + l.stack_size
                       ? static_cast<uint32_t>(l.stack + l.stack_size)
                       : ((sp & ~static_cast<uint32_t>(l.stack_size - 1)) +
                          static_cast<uint32_t>(l.stack_size));
    arm_dump_mem(k, 0, "Stack: ", sp, top);
    arm_call_trace_heading(k, 0);
    arm_backtrace(k, pc, 0);
    k.log(0, arm_dump_instr(k, pc));
}

}  // namespace

void dump_stack(Kernel& k, std::string_view caller) {
    if (k.arch() == Arch::arm) {
        // dump_stack() tail-calls dump_stack_lvl(): its frame returns into the caller.
        log_cpu_lines(k, 4);
        k.log(4, hardware_name(k));
        std::vector<std::string> frames =
            arm_dump_stack_frames(k, std::string(caller).c_str(), "dump_stack");
        if (frames.empty()) return;  // without the kit's image: no trace to show
        for (const std::string& f : arm_insmod_frames(k, caller))
            frames.push_back(f);
        arm_call_trace_heading(k, 4);
        for (const std::string& f : frames)
            k.log(4, f);
        return;
    }
    if (k.arch() != Arch::arm64) return dump_stack(k);
    // dump_stack() -> dump_stack_lvl() -> show_stack() -> dump_backtrace(), which starts at its
    // own call of arch_stack_walk(); then the caller and its callers.
    log_cpu_lines(k, 4);
    k.log(4, hardware_name(k));
    static const char* const own[][2] = {{"dump_backtrace", "arch_stack_walk"},
                                         {"show_stack", "dump_backtrace"},
                                         {"dump_stack_lvl", "show_stack"},
                                         {"dump_stack", "dump_stack_lvl"}};
    std::vector<std::string> frames;
    for (const auto& [fn, callee] : own)
        if (auto f = kernel_frame(k, fn, callee)) frames.push_back(*f);
    if (auto f = kernel_frame(k, caller, "dump_stack")) frames.push_back(*f);
    if (frames.size() < 5) return;  // without the kit's kallsyms: no trace to show
    k.log(4, "Call trace:");
    for (const std::string& f : frames)
        k.log(4, " " + f);
    for (const std::string& f : insmod_frames(k, caller))
        k.log(4, " " + f);
}

void dump_stack(Kernel& k) {
    dump_stack_with(k, {});
}

namespace {

// __warn() in kernel/panic.c. Returns false when panic_on_warn turns it into a panic. On ARM
// without registers (warn_slowpath_fmt()), `from` is the pc of warn_slowpath_fmt()'s frame when
// the CPU is not in it (0: it is).
void warn(Kernel& k, const std::string& file, unsigned line, uint64_t caller,
          const std::optional<std::string>& message, bool regs, uint64_t from = 0) {
    k.log(4, fmt("WARNING: CPU: 0 PID: %d at %s:%u %s", k.config().pid, file.c_str(), line,
                 sym(k, caller).c_str()));
    if (message) k.printk(*message);
    k.log(4, modules_linked_in(k));
    // ARM has no __WARN_FLAGS: every WARN() is warn_slowpath_fmt(), which passes no registers.
    if (regs && k.arch() != Arch::arm) {
        show_regs(k, caller);
    } else if (k.arch() == Arch::arm && !regs) {
        // The module's warn_slowpath_fmt() (kernel/panic.c): __warn() tail-calls
        // dump_stack_lvl() through dump_stack(). The kit's build calls __warn() at three
        // places; the recorded traces return to the second with a format, the third without.
        std::vector<std::string> own = arm_dump_stack_frames(k, "__warn", "dump_stack");
        std::optional<std::string> w = arm_frame(k, "warn_slowpath_fmt", "__warn", message ? 2 : 3);
        if (own.empty() || !w)
            own.clear();
        else
            own.push_back(" __warn from " + *w);
        dump_stack_with(k, own, from);
    } else {
        dump_stack(k);
    }
    k.log(4, "---[ end trace 0000000000000000 ]---");
    k.add_taint('W');
    if (k.config().panic_on_warn) {
        // check_panic_on_warn()
        k.log(0, "Kernel panic - not syncing: kernel: panic_on_warn set ...");
        throw KernelPanic{"panic_on_warn set"};
    }
}

// The trap of BUG()/WARN() (arm64 brk #0x800 via bug_handler(); ARM's undefined instruction
// via bug_trap): report_bug(), then resume after the trap for a WARN.
std::optional<uint64_t> on_exception(Kernel& k, const Fault& f) {
    Emulator& e = k.emu();
    uint64_t pc = f.pc;
    bool is_trap = false;
    size_t len = 4;
    if (thumb_state(k)) {
        uint16_t insn = 0;
        is_trap = e.try_read(pc, &insn, 2) && insn == 0xde02;  // BUG_INSTR (Thumb)
        len = 2;
    } else {
        uint32_t insn = 0;  // brk #0x800 (BUG_BRK_IMM), BUG_INSTR (ARM)
        is_trap = e.try_read(pc, &insn, 4) && insn == k.arch_info().bug_insn;
    }
    if (!is_trap) return std::nullopt;
    std::optional<BugEntry> b = find_bug(k, pc);
    if (!b) return std::nullopt;
    const KernelStructs::BugFlags& bugflag = k.structs().bugflag;
    bool warning = b->flags & bugflag.warning;
    if (warning && (b->flags & bugflag.once)) {
        if (b->mod->bug_flags_done[b->index]) return pc + len + (thumb_state(k) ? 1 : 0);
        b->mod->bug_flags_done[b->index] = static_cast<uint16_t>(bugflag.done);
    }
    if (!(b->flags & bugflag.no_cut_here)) k.log(4, cut_here);
    if (warning) {
        warn(k, b->file, b->line, pc, std::nullopt, true);
        return pc + len + (thumb_state(k) ? 1 : 0);
    }
    k.log(2, fmt("kernel BUG at %s:%u!", b->file.c_str(), b->line));
    return std::nullopt;  // die(): the oops report follows
}

// The value of a register Capstone names, from the CPU state at the fault (QEMU writes the
// registers back before a memory access can fault, so they hold the state just before the
// faulting instruction; only the PC is left at the start of its block).
std::optional<uint64_t> reg_by_name(Kernel& k, const std::string& n, uint64_t insn_addr) {
    Emulator& e = k.emu();
    if (k.arch() == Arch::arm64) {
        if (n == "sp" || n == "wsp") return e.sp();
        if (n == "xzr" || n == "wzr") return 0;
        if (n.size() >= 2 && (n[0] == 'x' || n[0] == 'w') &&
            std::isdigit(static_cast<unsigned char>(n[1]))) {
            int i = std::stoi(n.substr(1));
            int r = i == 29 ? UC_ARM64_REG_X29 : i == 30 ? UC_ARM64_REG_X30 : UC_ARM64_REG_X0 + i;
            uint64_t v = e.reg(r);
            return n[0] == 'w' ? (v & 0xffffffffu) : v;
        }
        return std::nullopt;
    }
    static const std::map<std::string, int> alias = {{"sb", 9}, {"sl", 10}, {"fp", 11}, {"ip", 12}};
    if (n == "sp") return e.sp();
    if (n == "lr") return e.lr();
    if (n == "pc") return thumb_state(k) ? ((insn_addr + 4) & ~3ull) : insn_addr + 8;
    if (auto it = alias.find(n); it != alias.end()) return e.reg(UC_ARM_REG_R0 + it->second);
    if (n.size() >= 2 && n[0] == 'r' && std::isdigit(static_cast<unsigned char>(n[1])))
        return e.reg(UC_ARM_REG_R0 + std::stoi(n.substr(1)));
    return std::nullopt;
}

// The faulting instruction of a data abort: the first load or store of the block whose
// effective address reaches the fault address. Falls back to the block start.
uint64_t refine_fault_pc(Kernel& k, const Fault& f) {
    bool a64 = k.arch() == Arch::arm64;
    bool thumb = thumb_state(k);
    uint64_t start = f.pc & ~1ull;
    std::vector<uint8_t> code(256);
    size_t have = 0;
    while (have < code.size() && k.emu().try_read(start + have, code.data() + have, 4))
        have += 4;
    if (!have) return f.pc;
    csh h;
    if (cs_open(static_cast<cs_arch>(k.arch_info().capstone_arch),
                thumb ? CS_MODE_THUMB : CS_MODE_ARM, &h) != CS_ERR_OK)
        return f.pc;
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn* insn = nullptr;
    size_t n = cs_disasm(h, code.data(), have, start, 0, &insn);
    uint64_t found = f.pc;
    bool matched = false;
    for (size_t i = 0; i < n && !matched; ++i) {
        const cs_detail* d = insn[i].detail;
        auto name = [&](unsigned r) { return std::string(r ? cs_reg_name(h, r) : ""); };
        if (a64) {
            for (uint8_t o = 0; o < d->arm64.op_count; ++o) {
                const cs_arm64_op& op = d->arm64.operands[o];
                if (op.type != ARM64_OP_MEM) continue;
                auto base = reg_by_name(k, name(op.mem.base), insn[i].address);
                if (!base) continue;
                uint64_t ea = *base + static_cast<int64_t>(op.mem.disp);
                if (op.mem.index) {
                    auto idx = reg_by_name(k, name(op.mem.index), insn[i].address);
                    if (!idx) continue;
                    ea += *idx << (op.shift.type == ARM64_SFT_LSL ? op.shift.value : 0);
                }
                if (f.address >= ea && f.address < ea + 64) found = insn[i].address, matched = true;
            }
        } else {
            for (uint8_t o = 0; o < d->arm.op_count; ++o) {
                const cs_arm_op& op = d->arm.operands[o];
                if (op.type != ARM_OP_MEM) continue;
                auto base = reg_by_name(k, name(op.mem.base), insn[i].address);
                if (!base) continue;
                uint64_t ea = (*base + static_cast<int64_t>(op.mem.disp)) & 0xffffffffu;
                if (op.mem.index) {
                    auto idx = reg_by_name(k, name(op.mem.index), insn[i].address);
                    if (!idx) continue;
                    uint64_t off = (*idx << op.mem.lshift) & 0xffffffffu;
                    ea = (op.mem.scale < 0 ? ea - off : ea + off) & 0xffffffffu;
                }
                if (f.address >= ea && f.address < ea + 64) found = insn[i].address, matched = true;
            }
        }
    }
    if (insn) cs_free(insn, n);
    cs_close(&h);
    return found;
}

// --- arm64: the reports of arch/arm64/mm/fault.c and arch/arm64/kernel/traps.c ---

unsigned config_number(Kernel& k, std::string_view name, unsigned fallback) {
    const auto& p = k.config().profile;
    auto v = p ? p->config.find(name) : std::nullopt;
    return v ? static_cast<unsigned>(std::strtoul(std::string(*v).c_str(), nullptr, 0)) : fallback;
}

// What the walk of an address finds in the page tables the kernel has: the kernel half in
// swapper's (what kmodemu maps), the user half in insmod's (its executable and stack).
struct PageWalk {
    bool user = false, kernel = false;  // TTBR0 / TTBR1; neither: between the halves
    int level = 0;                      // of the first missing entry; 4: the page is mapped
    uint32_t prot = 0;                  // of the mapped page
};

PageWalk walk(Kernel& k, uint64_t addr, unsigned va_bits) {
    PageWalk w;
    w.user = va_bits < 64 && addr < (1ull << va_bits);
    w.kernel = va_bits < 64 && addr >= ~0ull << va_bits;
    if (!w.user && !w.kernel) return w;
    struct Range {
        uint64_t lo, hi;  // inclusive
        uint32_t prot;
    };
    std::vector<Range> ranges;
    for (const uc_mem_region& r : k.emu().regions())
        ranges.push_back({r.begin, r.end, r.perms});
    if (w.user)
        for (const auto& [lo, hi] : k.real().user_mappings(1ull << va_bits))
            ranges.push_back({lo, hi - 1, 0});
    // Four levels of 4 KiB tables (48-bit VAs): 512 GiB, 1 GiB, 2 MiB, 4 KiB per entry.
    for (w.level = 0; w.level < 4; ++w.level) {
        uint64_t span = 1ull << (39 - 9 * w.level), lo = addr & ~(span - 1), hi = lo + span - 1;
        bool present = false;
        for (const Range& r : ranges)
            present |= r.lo <= hi && r.hi >= lo;
        if (!present) return w;
    }
    for (const Range& r : ranges)
        if (addr >= r.lo && addr <= r.hi) w.prot = r.prot;
    return w;
}

// show_pte(): the descriptors of the walk. Tables carry the PXNTable (user) or UXNTable
// (kernel) bit the kernel's populate functions set; a kernel page is PAGE_KERNEL, _RO or _ROX
// (UXN, PXN unless executable, DBM if writable, else RDONLY, DIRTY, AF, inner shareable, nG).
// The physical addresses are the emulated machine's own: the real ones change from boot to boot.
//
// `folded`: a kernel built for 52-bit VAs with 4 KiB pages (five levels, 6.9+) that runs with
// 48: the fifth level is folded at run time, so pgd_offset() indexes the root table as a pgd
// (bits 48 and up of the address) while p4d_offset() indexes it as the real level 0 table.
void show_pte(Kernel& k, uint64_t addr, const PageWalk& w, unsigned va_bits, bool folded) {
    std::string at = fmt("[%016llx]", (unsigned long long)addr);
    if (!w.user && !w.kernel) {
        k.log(1, at + " address between user and kernel address ranges");
        return;
    }
    uint64_t table_bit = w.user ? 1ull << 59 : 1ull << 60;
    uint64_t pgdp = w.user ? 0x42412000 : 0x41858000;
    auto table = [&](int level) {  // the table an entry at `level` points to
        uint64_t index = (addr >> (39 - 9 * level)) & 0xff;
        return table_bit |
               (0x43000000 + (w.user ? 0x800000 : 0) + (uint64_t(level) << 20) + (index << 12)) | 3;
    };
    k.log(1, fmt("%s pgtable: %uk pages, %u-bit VAs, pgdp=%016llx", w.user ? "user" : "swapper", 4u,
                 va_bits, (unsigned long long)pgdp));
    static const char* const names[] = {"pgd", "pud", "pmd", "pte"};
    std::string line = at;
    for (int level = 0; level <= std::min(w.level, 3); ++level) {
        uint64_t v = 0;
        if (level < w.level && level < 3) {
            v = table(level);
        } else if (level == 3 && w.level == 4) {
            v = (1ull << 54) | (1ull << 55) | 0xf03 | (0x44000000 + ((addr >> 12 & 0xfff) << 12));
            if (!(w.prot & UC_PROT_EXEC)) v |= 1ull << 53;
            v |= (w.prot & UC_PROT_WRITE) ? 1ull << 51 : 0x80;
        }
        line += fmt("%s %s=%016llx", level ? "," : "", names[level], (unsigned long long)v);
        if (level == 0 && folded) {
            // The root table's entry at the pgd index: the one of the 512 GiB at that index.
            uint64_t half = w.user ? 0 : ~0ull << va_bits;
            uint64_t root = half | ((addr >> 48) & 0xf) << 39;
            uint64_t pgd = walk(k, root, va_bits).level > 0 ? table(0) : 0;
            line = at + fmt(" %s=%016llx", names[0], (unsigned long long)pgd);
            line += fmt(", p4d=%016llx", (unsigned long long)v);
        } else if (level == 0 && v) {
            line += fmt(", p4d=%016llx", (unsigned long long)v);  // folded
        }
    }
    k.log(1, line);
}

// die_kernel_fault() for a data or instruction abort taken in the kernel: the message of
// __do_kernel_fault(), mem_abort_decode() with the ESR the CPU reports for the fault where
// the walk ends (translation fault at the level of the missing entry, else a level 3
// permission fault), show_pte(), and die()'s line.
void arm64_kernel_fault(Kernel& k, const Fault& f) {
    // vabits_actual: a kernel built for 52-bit VAs runs with 48 on a CPU without them, as the
    // oracle's Cortex-A57 is (no FEAT_LVA / FEAT_LPA2).
    unsigned config_va_bits = config_number(k, "CONFIG_ARM64_VA_BITS", 48);
    unsigned va_bits = std::min(config_va_bits, 48u);
    uint64_t page_size = 1ull << config_number(k, "CONFIG_ARM64_PAGE_SHIFT", 12);
    bool fetch = f.kind == Fault::Kind::fetch;
    PageWalk w = walk(k, f.address, va_bits);
    bool perm = w.level == 4;
    uint64_t fsc = perm ? 0x0f : 0x04 + static_cast<uint64_t>(w.user || w.kernel ? w.level : 0);
    uint64_t ec = fetch ? 0x21 : 0x25;  // ESR_ELx_EC_IABT_CUR / ESR_ELx_EC_DABT_CUR
    uint64_t wnr = !fetch && f.kind == Fault::Kind::write ? 1u << 6 : 0;
    uint64_t esr = ec << 26 | 1u << 25 | wnr | fsc;  // IL: a 32-bit instruction
    const char* msg = perm                    ? (wnr     ? "write to read-only memory"
                                                 : fetch ? "execute from non-executable memory"
                                                         : "read from unreadable memory")
                      : f.address < page_size ? "NULL pointer dereference"
                                              : "paging request";
    k.log(1, fmt("Unable to handle kernel %s at virtual address %016llx", msg,
                 (unsigned long long)f.address));
    static const char* const fault_names[] = {"level 0 translation fault",
                                              "level 1 translation fault",
                                              "level 2 translation fault",
                                              "level 3 translation fault",
                                              "unknown 8",
                                              "level 1 access flag fault",
                                              "level 2 access flag fault",
                                              "level 3 access flag fault",
                                              "unknown 12",
                                              "level 1 permission fault",
                                              "level 2 permission fault",
                                              "level 3 permission fault"};
    k.log(1, "Mem abort info:");
    k.log(1, fmt("  ESR = 0x%016llx", (unsigned long long)esr));
    k.log(1, fmt("  EC = 0x%02llx: %s, IL = 32 bits", (unsigned long long)ec,
                 fetch ? "IABT (current EL)" : "DABT (current EL)"));
    k.log(1, "  SET = 0, FnV = 0");
    k.log(1, "  EA = 0, S1PTW = 0");
    k.log(1, fmt("  FSC = 0x%02llx: %s", (unsigned long long)fsc, fault_names[fsc - 4]));
    if (!fetch) {  // data_abort_decode(): QEMU gives no instruction syndrome (ISV 0)
        k.log(1, "Data abort info:");
        if (kernel_since(k.config().profile.get(), 6, 12)) {
            // 6.12's data_abort_decode() decodes ISS2 (ESR_ELx bits 32 and up) too; QEMU's is 0.
            k.log(1, fmt("  ISV = 0, ISS = 0x%08llx, ISS2 = 0x%08x",
                         (unsigned long long)(esr & 0x1ffffff), 0u));
            k.log(1, fmt("  CM = 0, WnR = %d, TnD = 0, TagAccess = 0", wnr ? 1 : 0));
            k.log(1, "  GCS = 0, Overlay = 0, DirtyBit = 0, Xs = 0");
        } else {
            k.log(1, fmt("  ISV = 0, ISS = 0x%08llx", (unsigned long long)(esr & 0x1ffffff)));
            k.log(1, fmt("  CM = 0, WnR = %d", wnr ? 1 : 0));
        }
    }
    show_pte(k, f.address, w, va_bits, config_va_bits > va_bits);
    k.log(0, fmt("Internal error: Oops: %016llx [#1] SMP", (unsigned long long)esr));
}

// show_pte() of arch/arm/mm/fault.c with classic (non-LPAE) tables: insmod's pgd entry of
// the 2 MiB around the address (user: its executable and stack; kernel: what kmodemu maps)
// points to a table of Linux and hardware ptes (pte_offset_map(), pte[PTE_HWTABLE_PTRS]);
// a missing entry ends the walk. The physical addresses are the emulated machine's own.
void arm_show_pte(Kernel& k, uint64_t addr, uint64_t task_size) {
    bool user = addr < task_size;
    std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> ranges;  // [lo, hi), prot
    if (user) {
        for (const auto& [lo, hi] : k.real().user_mappings(task_size))
            ranges.emplace_back(lo, hi, UC_PROT_READ | UC_PROT_WRITE);
    } else {
        for (const uc_mem_region& r : k.emu().regions())
            if (r.begin >= task_size) ranges.emplace_back(r.begin, r.end + 1, r.perms);
    }
    uint64_t lo = addr & ~0x1fffffull, hi = lo + 0x200000;
    bool table = false;
    std::optional<uint32_t> page;
    for (const auto& [b, e, prot] : ranges) {
        table |= b < hi && e > lo;
        if (addr >= b && addr < e) page = prot;
    }
    // PMD_TYPE_TABLE | PMD_BIT4 | PMD_DOMAIN(DOMAIN_USER or DOMAIN_KERNEL), as recorded
    uint64_t pgd = table ? 0x41e00000 + ((addr >> 21) << 10 & 0xffc00) + (user ? 0x835 : 0x811) : 0;
    std::string line =
        fmt("[%08llx] *pgd=%08llx", (unsigned long long)addr, (unsigned long long)pgd);
    if (table) {
        uint32_t pte = 0, ppte = 0;
        if (page) {
            uint32_t phys = 0x42000000 + static_cast<uint32_t>(addr >> 12 & 0xfff) * 0x1000;
            // L_PTE_PRESENT|YOUNG|MT_WRITEALLOC|DIRTY|SHARED, RDONLY, XN; the hardware's
            // small page with S, TEX, AP0, C, B, APX (read-only) and XN.
            pte = phys | 0x45f | (*page & UC_PROT_WRITE ? 0 : 0x80) |
                  (*page & UC_PROT_EXEC ? 0 : 0x200);
            ppte =
                phys | 0x45e | (*page & UC_PROT_WRITE ? 0 : 0x200) | (*page & UC_PROT_EXEC ? 0 : 1);
        }
        line += fmt(", *pte=%08x, *ppte=%08x", pte, ppte);
    }
    k.log(1, line);
}

// print_pstate() (arch/arm64/kernel/process.c) of a kernel context: EL1h with interrupts on,
// the flags as the CPU has them, no PAN (a Cortex-A57 has none), UAO, TCO, DIT or SSBS.
std::string arm64_pstate(Kernel& k) {
    uint64_t p = (k.emu().reg(UC_ARM64_REG_NZCV) & 0xf0000000) | 0x5;
    auto bit = [&](int n, char set, char clear) { return (p >> n) & 1 ? set : clear; };
    static const char* const btypes[] = {"--", "j-", "-c", "jc"};
    return fmt("pstate: %08llx (%c%c%c%c %c%c%c%c %cPAN %cUAO %cTCO %cDIT %cSSBS BTYPE=%s)",
               (unsigned long long)p, bit(31, 'N', 'n'), bit(30, 'Z', 'z'), bit(29, 'C', 'c'),
               bit(28, 'V', 'v'), bit(9, 'D', 'd'), bit(8, 'A', 'a'), bit(7, 'I', 'i'),
               bit(6, 'F', 'f'), bit(22, '+', '-'), bit(23, '+', '-'), bit(25, '+', '-'),
               bit(24, '+', '-'), bit(12, '+', '-'), btypes[(p >> 10) & 3]);
}

}  // namespace

void show_regs(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    log_cpu_lines(k, 4);
    k.log(4, hardware_name(k));
    if (k.arch() == Arch::arm64) {
        k.log(4, arm64_pstate(k));
        k.log(4, "pc : " + sym(k, pc));
        k.log(4, "lr : " + sym(k, e.lr()));
        k.log(4, "sp : " + addr_str(k, e.sp()));
        // __show_regs(): x29 down to x0, three to a line.
        for (int i = 29; i >= 0;) {
            std::string line;
            do {
                if (!line.empty()) line += ' ';
                int reg = i == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X0 + i;
                line += fmt("x%-2d: %016llx", i, (unsigned long long)e.reg(reg));
            } while (i-- % 3);
            k.log(4, line);
        }
        // show_regs() then dump_backtrace(): the pc, then the frame records (the x29 chain).
        k.log(4, "Call trace:");
        k.log(4, " " + sym(k, pc));
        uint64_t fp = e.reg(UC_ARM64_REG_X29);
        for (int depth = 0; fp && depth < 16; ++depth) {
            uint64_t rec[2];
            if (!e.try_read(fp, rec, sizeof rec) || !rec[1]) break;
            k.log(4, " " + sym(k, rec[1]));
            if (rec[1] == k.layout().exit_page) {
                // The module's init returns into the kernel: the rest of insmod's frames.
                if (in_init(k))
                    for (const std::string& f : insmod_frames(k))
                        k.log(4, " " + f);
                break;
            }
            fp = rec[0];
        }
    } else {
        k.log(4, "PC is at " + sym(k, pc));
        k.log(4, "LR is at " + sym(k, e.lr()));
        uint32_t cpsr = static_cast<uint32_t>(e.reg(UC_ARM_REG_CPSR));
        k.log(4, fmt("pc : [<%08llx>]    lr : [<%08llx>]    psr: %08x",
                     (unsigned long long)(pc & ~1ull), (unsigned long long)e.lr(), cpsr));
        k.log(4, fmt("sp : %08llx  ip : %08llx  fp : %08llx", (unsigned long long)e.sp(),
                     (unsigned long long)e.reg(UC_ARM_REG_R12),
                     (unsigned long long)e.reg(UC_ARM_REG_R11)));
        const int rows[][4] = {{10, 9, 8, -1}, {7, 6, 5, 4}, {3, 2, 1, 0}};
        for (const auto& row : rows) {
            std::string line;
            for (int r : row) {
                if (r < 0) continue;
                if (!line.empty()) line += "  ";
                line += fmt("r%-2d: %08llx", r, (unsigned long long)e.reg(UC_ARM_REG_R0 + r));
            }
            k.log(4, line);
        }
        arm_show_flags(k, cpsr);
    }
}

void report_oops(Kernel& k, const RunResult& r) {
    const Fault& f = r.fault;
    Emulator& e = k.emu();
    bool data = f.kind == Fault::Kind::read || f.kind == Fault::Kind::write;
    uint64_t pc = f.pc ? f.pc : r.pc;
    bool refined = false;
    if (data && f.pc && !f.exact && f.pc != k.layout().exit_page) {
        uint64_t exact = refine_fault_pc(k, f);
        refined = exact != f.pc || f.pc == pc;
        pc = exact;
    }
    bool fetch = f.kind == Fault::Kind::fetch;
    if (k.arch() == Arch::arm64) {
        // __do_kernel_fault() / die() (arch/arm64/mm/fault.c, arch/arm64/kernel/traps.c)
        if (data || fetch) {
            arm64_kernel_fault(k, f);
        } else if (f.kind == Fault::Kind::undefined_instruction) {
            k.log(0, "Internal error: Oops - Undefined instruction: 0000000002000000 [#1] SMP");
        } else {
            k.log(0, "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP");
        }
    } else {
        // arch/arm/mm/fault.c: an address below TASK_SIZE is a user address, which the kernel's
        // domain access control refuses ("page domain fault"); above, a paging request.
        constexpr uint64_t task_size = 0xbf000000;
        if (data || fetch) {
            k.log(1, "8<--- cut here ---");
            if (f.address < task_size && !fetch) {
                unsigned fsr = f.kind == Fault::Kind::write ? 0x81b : 0x01b;
                k.log(1, fmt("Unhandled fault: page domain fault (0x%03x) at 0x%08llx", fsr,
                             (unsigned long long)f.address));
                arm_show_pte(k, f.address, task_size);
                k.log(0, fmt("Internal error: : %x [#1] SMP ARM", fsr));
            } else {
                // 6.12's __do_kernel_fault() says what the access was (FSR_LNX_PF, FSR_WRITE).
                const char* when = !kernel_since(k.config().profile.get(), 6, 12) ? ""
                                   : fetch                                        ? " when execute"
                                   : f.kind == Fault::Kind::write                 ? " when write"
                                                                                  : " when read";
                k.log(1, fmt("Unable to handle kernel paging request at virtual address %s%s",
                             addr_str(k, f.address).c_str(), when));
                arm_show_pte(k, f.address, task_size);
                k.log(0, fmt("Internal error: Oops: %x [#1] SMP ARM", f.kind == Fault::Kind::write
                                                                          ? 0x80f
                                                                      : fetch ? 0x80000007
                                                                              : 0x7));
            }
        } else {
            uint32_t insn = 0;
            bool bug = e.try_read(pc & ~1ull, &insn, 4) &&
                       (insn == 0xe7f001f2 || (insn & 0xffff) == 0xde02);
            k.log(0, bug ? "Internal error: Oops - BUG: 0 [#1] SMP ARM"
                         : "Internal error: Oops - undefined instruction: 0 [#1] SMP ARM");
        }
    }
    // A fault in the guard page below the THREAD_SIZE stack is a kernel stack overflow.
    uint64_t guard = k.layout().stack - 0x1000;
    if ((data || fetch) && f.address >= guard && f.address < k.layout().stack) {
        k.log(0, "Kernel stack overflow");
        k.diag("kernel stack overflow: the access hit the guard page below the " +
               std::to_string(k.layout().stack_size / 1024) + " KiB kernel stack");
    }
    k.log(4, modules_linked_in(k));
    show_regs(k, pc);
    // ARM: the rest of __die(), by unwind tables (arm64's call trace is part of show_regs()).
    if (k.arch() == Arch::arm) arm_die_tail(k, pc);
    // Code: the instruction words around the PC, the faulting one in parentheses.
    uint32_t code[5];
    uint64_t start = (pc & ~3ull) - 16;
    if (e.try_read(start, code, sizeof code)) {
        std::string line = "Code: ";  // dump_kernel_instr(): each word with a space after it
        for (int i = 0; i < 5; ++i)
            line += fmt(i == 4 ? "(%08x) " : "%08x ", code[i]);
        if (k.arch() == Arch::arm64) k.log(0, line);  // ARM: dump_instr() in arm_die_tail()
        // A Thumb instruction may start in the middle of a word.
        if (thumb_state(k) && (pc & 2)) e.try_read(pc & ~1ull, &code[4], 4);
        // The faulting instruction, disassembled (a kmodemu diagnostic, not a kernel line).
        csh h;
        if (cs_open(static_cast<cs_arch>(k.arch_info().capstone_arch),
                    thumb_state(k) ? CS_MODE_THUMB : CS_MODE_ARM, &h) == CS_ERR_OK) {
            cs_insn* insn = nullptr;
            size_t n =
                cs_disasm(h, reinterpret_cast<const uint8_t*>(&code[4]), 4, pc & ~1ull, 1, &insn);
            if (n)
                k.diag(fmt("faulting instruction at %s: %s %s", sym(k, pc).c_str(),
                           insn[0].mnemonic, insn[0].op_str));
            if (insn) cs_free(insn, n);
            cs_close(&h);
        }
    }
    k.log(0, "---[ end trace 0000000000000000 ]---");
    // make_task_dead(): arm64 takes a BUG()'s brk with interrupts masked (el1_dbg()); its data
    // aborts and undefined instructions run with the interrupted context's (enabled).
    if (k.arch() == Arch::arm64 && f.kind == Fault::Kind::exception)
        k.log(6, fmt("note: %s[%d] exited with irqs disabled", k.config().comm.c_str(),
                     k.config().pid));
    if (data && !refined && !f.exact)
        k.diag(
            "the reported PC is the start of the faulting basic block (Unicorn 2.0.1 does not "
            "sync the PC within a block)");
}

namespace {

// 32-bit ARM: the stack and link register as the function's code leaves them at its trap, for
// the unwinder to read with the kernel's own unwind entry: the registers its prologue pushes
// (push / str lr, [sp, #-4]!; sub sp, sp, #imm), and lr returned to by a call just before.
void arm_enter_function(StubCall& c, uint64_t entry, uint64_t trap) {
    Emulator& e = c.emu;
    uint64_t sp = e.sp(), lr = e.lr();
    uint32_t prev = 0;
    for (uint64_t at = entry; at < trap; at += 4) {
        uint32_t w = e.read_u32(at);
        if (w == 0xe52de004u && at + 4 < trap) {
            // ftrace's `push {lr}; bl __gnu_mcount_nc`, which pops it again (as does the
            // `add sp, sp, #4` that ftrace_make_nop() makes of the call): no frame.
            uint32_t next = e.read_u32(at + 4);
            if (next == 0xe28dd004u || ((next & 0x0f000000u) == 0x0b000000u && next >> 28 == 0xe)) {
                prev = next;
                at += 4;
                continue;
            }
        }
        if ((w & 0xffff0000u) == 0xe92d0000u || w == 0xe52de004u) {  // push {list} / push {lr}
            uint32_t list = w == 0xe52de004u ? 1u << 14 : w & 0xffffu;
            sp -= 4 * static_cast<uint64_t>(__builtin_popcount(list));
            uint64_t slot = sp;
            for (int r = 0; r < 16; ++r) {
                if (!(list & (1u << r))) continue;
                uint32_t v = static_cast<uint32_t>(r == 14 ? lr : e.reg(UC_ARM_REG_R0 + r));
                c.write(slot, &v, 4);
                slot += 4;
            }
        } else if ((w & 0xfffff000u) == 0xe24dd000u) {  // sub sp, sp, #imm (rotated)
            uint32_t imm = w & 0xff, rot = ((w >> 8) & 0xf) * 2;
            sp -= rot ? (imm >> rot) | (imm << (32 - rot)) : imm;
        }
        prev = w;
    }
    e.set_sp(sp);
    if ((prev & 0x0f000000u) == 0x0b000000u && (prev >> 28) != 0xf) e.set_lr(trap);  // bl
}

}  // namespace

void set_printk_flags(Emulator& e) {
    constexpr uint64_t nzcv = 0xf0000000, zc = 0x60000000;
    int reg = e.info().reg_flags;
    e.set_reg(reg, (e.reg(reg) & ~nzcv) | zc);
}

namespace {

// The trap of the kernel function `fn` that its BUG() at file:line is, from its __bug_table
// entries of `file` (all of them when none is): the nth by line, the function's nth check in
// source order, when nth >= 0 (the lines move from version to version, their order does not);
// else the one for `line`, else the first.
std::optional<KernelBug> select_bug(Kernel& k, const KernelSymbol& fn, std::string_view file,
                                    unsigned line, int nth) {
    const Kallsyms* ks = k.real().kallsyms();
    if (!ks) return std::nullopt;
    std::vector<KernelBug> all = ks->bugs_in(fn, k.structs().bug_entry), bugs;
    for (const KernelBug& b : all)
        if (b.file == file) bugs.push_back(b);
    if (bugs.empty()) bugs = all;
    if (bugs.empty()) return std::nullopt;
    if (nth >= 0) {
        std::stable_sort(bugs.begin(), bugs.end(),
                         [](const KernelBug& a, const KernelBug& b) { return a.line < b.line; });
        if (static_cast<size_t>(nth) < bugs.size()) return bugs[nth];
        return std::nullopt;
    }
    for (const KernelBug& b : bugs)
        if (b.line == line) return b;
    return bugs.front();
}

}  // namespace

void kernel_function_bug(StubCall& c, std::string_view file, unsigned line, int nth,
                         std::optional<uint64_t> lr) {
    Kernel& k = c.kernel;
    const Export* e = k.export_at(c.slot);
    const Kernel::RealCode* code = e ? k.real_code(e->name) : nullptr;
    std::optional<KernelBug> bug =
        code ? select_bug(k, code->symbol, file, line, nth) : std::nullopt;
    if (!bug) kernel_bug(c, file, line);
    uint64_t trap = code->addr + (bug->addr - code->symbol.addr);
    if (k.arch() == Arch::arm && !thumb_state(k)) {
        arm_enter_function(c, code->addr, trap);
        if (lr) c.emu.set_lr(*lr);
    }
    kernel_bug(c, bug->file, bug->line, {trap});
}

void kernel_function_bug(StubCall& c, std::string_view file, unsigned line,
                         const std::string& callee, const std::vector<uint64_t>& chain) {
    Kernel& k = c.kernel;
    const Export* e = k.export_at(c.slot);
    const Kallsyms* ks = k.real().kallsyms();
    // A kernel without `callee` has inlined it into the function the module called (6.12's
    // kfree() inlines slab_free(), 6.1's calls __kmem_cache_free()): the BUG() is in its code.
    if (e && ks && !ks->find(callee) && k.real_code(e->name)) kernel_function_bug(c, file, line);
    if (k.arch() == Arch::arm64 && e && ks) {
        const Kernel::RealCode* caller = k.real_code(e->name);
        const Kernel::RealCode* inner = caller ? k.real_code(callee) : nullptr;
        std::optional<uint64_t> ret = inner ? ks->return_address(e->name, callee) : std::nullopt;
        std::optional<KernelBug> bug =
            ret ? select_bug(k, inner->symbol, file, line, -1) : std::nullopt;
        if (bug) {
            uint64_t trap = inner->addr + (bug->addr - inner->symbol.addr);
            kernel_bug(c, bug->file, bug->line,
                       {caller->addr + (*ret - caller->symbol.addr), trap});
        }
    }
    kernel_bug(c, file, line, chain);
}

void register_bug(Kernel& k) {
    const char* sub = "bug";
    k.emu().set_exception_handler([&k](const Fault& f) { return on_exception(k, f); });
    // __warn_printk(fmt, ...): the cut-here line and the WARN's message, before its brk.
    k.add_function("__warn_printk", sub, [](StubCall& c) {
        c.kernel.log(4, cut_here);
        c.kernel.printk(format_guest_args(c, c.arg(0), 1));
        set_printk_flags(c.emu);
        return uint64_t(0);
    });
    // warn_slowpath_fmt(file, line, taint, fmt, ...) (ARM and others without __WARN_FLAGS).
    k.add_function("warn_slowpath_fmt", sub, [](StubCall& c) {
        c.kernel.log(4, cut_here);
        std::string file = c.read_cstr(c.arg(0));
        unsigned line = static_cast<unsigned>(c.arg(1));
        std::optional<std::string> msg;
        if (c.arg(3)) msg = format_guest_args(c, c.arg(3), 4);
        warn(c.kernel, file, line, c.ret_addr(), msg, false);
        return uint64_t(0);
    });
}

namespace {

// The registers of a trap inside the kernel functions of `chain` (see kernel_bug()); returns the
// pc. arm64: the frame record each prologue pushes (the caller's x29 and x30), so that the call
// trace walks from the innermost function through its callers into the module, and x30 in the
// innermost function (the kernel's own lr is a call made there). ARM unwinds by unwind tables,
// which stubs have none of: the innermost function with the module's return address in lr, as
// a tail call leaves them.
uint64_t enter_kernel_frames(StubCall& c, const std::vector<uint64_t>& chain) {
    std::vector<uint64_t> fns = chain.empty() ? std::vector<uint64_t>{c.slot} : chain;
    if (c.kernel.arch() == Arch::arm64) {
        Emulator& e = c.emu;
        uint64_t sp = e.sp(), fp = e.reg(UC_ARM64_REG_X29), ret = e.lr();
        for (uint64_t fn : fns) {
            sp -= 16;
            const uint64_t rec[2] = {fp, ret};
            c.write(sp, rec, sizeof rec);
            fp = sp;
            ret = fn;
        }
        e.set_sp(sp);
        e.set_reg(UC_ARM64_REG_X29, fp);
        e.set_lr(ret);
    }
    return fns.back();
}

}  // namespace

void kernel_bug(StubCall& c, std::string_view file, unsigned line,
                const std::vector<uint64_t>& chain) {
    Kernel& k = c.kernel;
    Emulator& e = c.emu;
    uint64_t pc = enter_kernel_frames(c, chain);
    // report_bug(): BUG() has no BUGFLAG_NO_CUT_HERE.
    k.log(4, cut_here);
    k.log(2, fmt("kernel BUG at %s:%u!", std::string(file).c_str(), line));
    // The trap instruction at the pc, where the kernel's BUG() has it (brk #0x800, BUG_INSTR),
    // for die() and the Code: line. The run ends with this oops, so the stub is not called again.
    const ArchInfo& arch = k.arch_info();
    if (thumb_state(k)) {
        const uint16_t insn = 0xde02;
        e.write(pc & ~1ull, &insn, sizeof insn);
    } else {
        e.write_u32(pc, arch.bug_insn);
    }
    e.flush_code(pc & ~1ull, 4);
    RunResult r;
    r.reason = RunResult::Reason::fault;
    // As the emulator reports the trap: QEMU's EXCP_UDEF is an undefined instruction.
    r.fault.exception_index = arch.bug_exception_index;
    r.fault.kind =
        arch.bug_exception_index == 1 ? Fault::Kind::undefined_instruction : Fault::Kind::exception;
    r.fault.pc = r.fault.address = r.pc = pc;
    throw GuestFault{r};
}

void kernel_warn(StubCall& c, std::string_view file, unsigned line, std::string_view message) {
    Kernel& k = c.kernel;
    Emulator& e = c.emu;
    // __warn_printk(): the cut-here line, then the message at the default level.
    k.log(4, cut_here);
    k.printk(std::string(message) + "\n");
    bool a64 = k.arch() == Arch::arm64;
    uint64_t sp = e.sp(), fp = a64 ? e.reg(UC_ARM64_REG_X29) : 0, lr = e.lr();
    uint64_t pc = enter_kernel_frames(c, {});
    warn(k, std::string(file), line, pc, std::nullopt, true);
    // The kernel function returns to the module: its frame is gone.
    e.set_sp(sp);
    if (a64) e.set_reg(UC_ARM64_REG_X29, fp);
    e.set_lr(lr);
}

std::optional<uint64_t> kernel_callee_warn(StubCall& c, std::string_view file, unsigned line,
                                           const std::string& callee, std::string_view message) {
    Kernel& k = c.kernel;
    Emulator& e = c.emu;
    const Export* ex = k.export_at(c.slot);
    const Kallsyms* ks = k.real().kallsyms();
    const Kernel::RealCode* outer = ex && ks ? k.real_code(ex->name) : nullptr;
    const Kernel::RealCode* inner = outer ? k.real_code(callee) : nullptr;
    std::optional<uint64_t> ret = inner ? ks->return_address(ex->name, callee) : std::nullopt;
    // An address of the kit's kernel in the copy of its function.
    auto copy = [](const Kernel::RealCode* code, uint64_t addr) {
        return code->addr + (addr - code->symbol.addr);
    };
    if (ret && k.arch() == Arch::arm64) {
        // __WARN_FLAGS(): __warn_printk() prints the message, then the brk of callee's
        // __bug_table entry traps into __warn() with the registers there.
        if (std::optional<KernelBug> bug = select_bug(k, inner->symbol, file, line, -1)) {
            k.log(4, cut_here);
            k.printk(std::string(message) + "\n");
            set_printk_flags(e);
            uint64_t sp = e.sp(), fp = e.reg(UC_ARM64_REG_X29), lr = e.lr();
            uint64_t trap = copy(inner, bug->addr);
            enter_kernel_frames(c, {copy(outer, *ret), trap});
            warn(k, bug->file, bug->line, trap, std::nullopt, true);
            // Callee and its caller's code up to the call return: their frames are gone.
            e.set_sp(sp);
            e.set_reg(UC_ARM64_REG_X29, fp);
            e.set_lr(lr);
            return std::nullopt;
        }
    }
    const Export* slowpath = k.find_export("warn_slowpath_fmt");
    std::optional<uint64_t> warn_ret =
        ret && slowpath ? ks->return_address(callee, "warn_slowpath_fmt") : std::nullopt;
    if (warn_ret && k.arch() == Arch::arm && !thumb_state(k)) {
        // warn_slowpath_fmt(file, line, taint, fmt, ...) called by callee, which the function
        // the module called calls: their prologues' frames on the stack for the unwinder.
        k.log(4, cut_here);
        uint64_t sp = e.sp(), lr = e.lr();
        arm_enter_function(c, outer->addr, copy(outer, *ret));
        uint64_t at = copy(inner, *warn_ret);
        arm_enter_function(c, inner->addr, at);
        warn(k, std::string(file), line, at, std::string(message) + "\n", false, slowpath->address);
        // Callee returns by popping pc: the link register stays its last call's return.
        uint64_t callee_lr = e.lr();
        e.set_sp(sp);
        e.set_lr(lr);
        return callee_lr;
    }
    kernel_warn(c, file, line, message);
    return std::nullopt;
}

}  // namespace kmodemu
