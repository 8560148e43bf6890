#include "kernel_stubs/kernel.h"

#include <algorithm>
#include <cstring>

#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "loader/module.h"

namespace kmodemu {

namespace {
constexpr uint64_t page = 0x1000;
constexpr size_t slot_size = 4;
}  // namespace

KernelLayout KernelLayout::for_arch(Arch arch, bool thumb2_kernel) {
    if (arch == Arch::arm64) {
        // arm64 6.1 with 48-bit VAs: MODULES_VADDR 0xffff800000000000, 128 MiB, then the kernel
        // image at KIMAGE_VADDR 0xffff800008000000; the linear map at 0xffff000000000000.
        return KernelLayout{
            .stub_text = 0xffff800008010000ull,
            .stub_text_size = 0x20000,
            .exit_page = 0xffff80000800f000ull,  // the page below the stubs
            .data = 0xffff800009000000ull,
            .data_size = 0x40000,
            .heap = 0xffff000010000000ull,
            .heap_size = 0x10000000,
            .stack = 0xffff800008ffc000ull,  // just below the data, a guard page below it
            .stack_size = arch_info(arch).thread_size,  // THREAD_SIZE
            // The upper half of MODULES_VADDR..MODULES_END: within CALL26 range of the
            // kernel text, as module_alloc() prefers (no PLTs needed).
            .modules = 0xffff800004000000ull,
            .modules_size = 0x4000000,
        };
    }
    // ARM 3G/1G split: modules below PAGE_OFFSET (0xc0000000), kernel text after.
    // arch/arm/include/asm/memory.h: MODULES_VADDR is PAGE_OFFSET - SZ_8M in a Thumb-2 kernel
    // (BL.W reaches ±16 MiB), PAGE_OFFSET - SZ_16M otherwise; module_alloc() fills it from the
    // bottom, so the first module of a boot lands at MODULES_VADDR.
    uint64_t modules = thumb2_kernel ? 0xbf800000u : 0xbf000000u;
    return KernelLayout{
        .stub_text = 0xc0100000u,
        .stub_text_size = 0x20000,
        .exit_page = 0xc00ff000u,
        .data = 0xc1000000u,
        .data_size = 0x40000,
        .heap = 0xc4000000u,
        .heap_size = 0x8000000,
        .stack = 0xc0ffe000u,
        .stack_size = arch_info(arch).thread_size,  // THREAD_SIZE
        .modules = modules,
        .modules_size = 0xc0000000u - modules,
    };
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

void Kernel::diag(std::string text) {
    diags_.push_back(std::move(text));
    if (on_diag) on_diag(diags_.back());
}

uint64_t StubCall::arg(unsigned i) const {
    unsigned in_regs = emu.info().arg_regs;
    if (i < in_regs) return emu.arg(i);
    // Further arguments are on the stack, one word each (AAPCS).
    return emu.read_word(emu.sp() + (i - in_regs) * emu.word_size());
}

void StubCall::fault(uint64_t addr, bool is_write) const {
    if (const Export* e = kernel.export_at(slot)) {
        if (const Kernel::RealCode* code = kernel.real_code(e->name); code && code->self_contained)
            throw ResumeAt{code->addr};
    }
    RunResult r;
    r.reason = RunResult::Reason::fault;
    r.fault.kind = is_write ? Fault::Kind::write : Fault::Kind::read;
    r.fault.unmapped = !emu.is_mapped(addr);
    r.fault.address = addr;
    r.fault.pc = slot;
    r.pc = slot;
    throw GuestFault{r};
}

void StubCall::check_read(uint64_t addr, uint64_t n) const {
    if (auto bad = emu.first_inaccessible(addr, n, prot_read)) fault(*bad, false);
}

void StubCall::check_write(uint64_t addr, uint64_t n) const {
    if (auto bad = emu.first_inaccessible(addr, n, prot_write)) fault(*bad, true);
}

std::vector<uint8_t> StubCall::read(uint64_t addr, size_t n) const {
    check_read(addr, n);
    std::vector<uint8_t> out(n);
    if (!emu.try_read(addr, out.data(), n)) fault(addr, false);
    return out;
}

void StubCall::write(uint64_t addr, const void* data, size_t n) const {
    if (n == 0) return;
    // uc_mem_write() ignores page protections: a write to read-only memory (module text or
    // rodata) is found here, where the kernel would take a permission fault.
    check_write(addr, n);
    if (uc_mem_write(emu.engine(), addr, data, n) != UC_ERR_OK) fault(addr, true);
}

std::string StubCall::read_cstr(uint64_t addr, size_t max) const {
    std::string out;
    if (!emu.read_cstring(addr, max, out)) fault(addr + out.size(), false);
    return out;
}

int64_t StubCall::sarg(unsigned i) const {
    uint64_t v = arg(i);
    if (emu.word_size() == 4) return static_cast<int32_t>(v);
    return static_cast<int64_t>(v);
}

Kernel::Kernel(Emulator& emu, KernelConfig config)
    : emu_(emu),
      config_(std::move(config)),
      layout_(config_.layout ? *config_.layout
                             : KernelLayout::for_arch(emu.arch(), config_.thumb2_kernel)) {
    // Without a kit: the default kernel, whose exports are those of the real kernels kmodemu
    // has profiles of (kernel_stubs/exports/); stubs beyond them stay internal.
    if (!config_.profile) config_.profile = KernelProfile::default_for(emu.arch());
    data_next_ = layout_.data;
    map_layout();
    slab_ = std::make_unique<Slab>(*this);
    register_printk(*this);
    register_slab(*this);
    register_string(*this);
    register_notifier(*this);
    register_locking(*this);
    register_list(*this);
    register_params(*this);
    register_module_api(*this);
    register_misc(*this);
    if (emu.arch() == Arch::arm) register_arm(*this);
    register_bug(*this);
    register_sort(*this);
    register_driver_core(*this);
    register_char_dev(*this);
    register_debugfs(*this);
    register_find_bit(*this);
    register_workqueue(*this);
    register_ethtool(*this);
    register_led_triggers(*this);
    register_misc_devices(*this);
    register_procfs(*this);
    register_sysctl_tables(*this);
    register_net_namespace(*this);
    register_netlink(*this);
    register_input(*this);
    register_acpi(*this);
    register_idr(*this);
    register_crypto_api(*this);
    register_crypto_algapi(*this);
    register_crypto_shash(*this);
    register_crypto_ahash(*this);
    register_crypto_skcipher(*this);
    register_crypto_aead(*this);
    register_crypto_kpp(*this);
    register_crypto_akcipher(*this);
    register_crypto_rng(*this);
    register_crypto_scomp(*this);
    register_swait(*this);
    register_arm64_cpufeature(*this);
    register_drm_nomodeset(*this);
    register_hv_common(*this);
    register_nls(*this);
    register_filesystems(*this);
    register_fs_context(*this);
    register_super(*this);
    register_namespace(*this);
    register_inode(*this);
    register_dcache(*this);
    register_libfs(*this);
    register_lockref(*this);
    register_bitmap(*this);
    register_rbtree(*this);
    register_ctype(*this);
    register_parser(*this);
    register_tcp_ulp(*this);
    register_tcp_input(*this);
    register_l3mdev(*this);
    register_nfs_ssc(*this);
    register_hrtimer(*this);  // after register_misc(): the clock's HZ
    register_rtnetlink(*this);
    register_netdev(*this);
    register_eth(*this);
    register_qdiscs(*this);
    register_tc_actions(*this);
    register_tc_classifiers(*this);
    register_tc_ematches(*this);
    register_tcp_cong(*this);
    register_textsearch(*this);
    register_nf_sockopt(*this);
    register_sock_diag(*this);
    register_skbuff(*this);
    register_dst_cache(*this);
    register_gro_cells(*this);
    register_dquot(*this);
    register_list_lru(*this);
    register_addrconf_core(*this);
    register_fbmem(*this);
    register_cpumask(*this);
    register_genetlink(*this);
    register_sock_proto(*this);
    register_socket(*this);
    register_connector(*this);
    register_inet_protocols(*this);
    register_inet6_protocols(*this);
    register_af_inet(*this);
    register_af_inet6(*this);
    register_user_namespace(*this);
    register_devices(*this);
    register_platform(*this);
    register_devres(*this);
    register_transport_class(*this);
    register_tty_io(*this);
    register_serio(*this);
    register_virtio(*this);
    register_sdio_bus(*this);
    register_gpiolib(*this);
    register_gpiolib_devres(*this);
    register_mdio_boardinfo(*this);
    register_property(*this);
    register_of(*this);
    register_ioremap(*this);
    register_lib_devres(*this);
    register_irq_manage(*this);
    register_amba(*this);
    register_mipi_dsi(*this);
    register_serdev(*this);
    register_auxiliary(*this);
    register_tty_ldisc(*this);
    register_tty_baudrate(*this);
    register_timers(*this);
    register_wait(*this);
    register_random(*this);
    register_once(*this);
    register_jump_label(*this);
    register_xarray(*this);
    register_sched_core(*this);
    register_kthread(*this);
    register_completion(*this);
    register_regmap(*this);
    register_shrinkers(*this);
    register_kobject(*this);
    register_sysfs(*this);
    register_timekeeping(*this);
    register_hweight(*this);
    register_int_sqrt(*this);
    register_hexdump(*this);
    register_xfrm_input(*this);
    register_xfrm_state(*this);
    register_xfrm_policy(*this);
    register_rhashtable(*this);
    register_inet_fragment(*this);
    register_xfrm4_protocol(*this);
    register_xfrm6_protocol(*this);
    register_lwtunnel(*this);
    register_percpu_counter(*this);
    register_mmu_notifier(*this);
    register_kobject_uevent(*this);
    register_rcu(*this);
    register_softirq(*this);
    register_keys(*this);
    register_firmware_loader(*this);
    register_genhd(*this);
    register_mempool(*this);
    register_backing_dev(*this);
    register_cpuhp(*this);
    register_cpufreq(*this);
    register_kmod(*this);
    register_uuid(*this);
    register_dmaengine(*this);
    register_percpu(*this);
    register_srcu(*this);
    register_fpsimd(*this);
    register_pci_search(*this);
    register_pci_iospace(*this);
    register_resource(*this);
    register_page_alloc(*this);
    register_logic_pio(*this);
    register_zpool(*this);
    register_cred(*this);
    register_open(*this);
    mark_fallible();  // last: the fallible functions among all the above
}

namespace {
constexpr char taint_true[] = "PFSRMBUDAWCIOELKXTN";
constexpr char taint_false[] = "G                  ";
// taint_flags[].desc (kernel/panic.c, 6.10+), in the same order.
constexpr const char* taint_desc[] = {
    "PROPRIETARY_MODULE", "FORCED_MODULE", "CPU_OUT_OF_SPEC", "FORCED_RMMOD", "MACHINE_CHECK",
    "BAD_PAGE",           "USER",          "DIE",             "OVERRIDDEN_ACPI_TABLE",
    "WARN",               "CRAP",          "FIRMWARE_WORKAROUND", "OOT_MODULE",
    "UNSIGNED_MODULE",    "SOFTLOCKUP",    "LIVEPATCH",       "AUX",
    "RANDSTRUCT",         "TEST"};
static_assert(sizeof taint_desc / sizeof *taint_desc == sizeof taint_true - 1);
}  // namespace

void Kernel::add_taint(char flag) {
    for (unsigned i = 0; taint_true[i]; ++i)
        if (taint_true[i] == flag) taints_ |= 1u << i;
}

std::string Kernel::print_tainted() const {
    if (!taints_) return "Not tainted";
    std::string s = "Tainted: ";
    for (unsigned i = 0; taint_true[i]; ++i)
        s += (taints_ >> i) & 1 ? taint_true[i] : taint_false[i];
    return s;
}

std::string Kernel::print_tainted_verbose() const {
    std::string s = "Tainted: ";
    const char* sep = "";
    for (unsigned i = 0; taint_true[i]; ++i)
        if ((taints_ >> i) & 1) {
            s += std::string(sep) + "[" + taint_true[i] + "]=" + taint_desc[i];
            sep = ", ";
        }
    return s;
}

void Kernel::add_taint_bit(unsigned flag) {
    if (flag < sizeof taint_true - 1) taints_ |= 1u << flag;
}

const KernelStructs& Kernel::structs() const {
    return config_.profile->structs;
}

Kernel::~Kernel() = default;

void Kernel::map_layout() {
    // The exit page and the stub text in one mapping when they are neighbours, and the stack
    // with the data above it (the page below the stack stays unmapped: the guard).
    bool joined = layout_.exit_page + 0x1000 == layout_.stub_text;
    if (joined) emu_.map(layout_.exit_page, layout_.stub_text_size + 0x1000, prot_rx);
    emu_.add_trap_range(
        layout_.stub_text, layout_.stub_text_size, [this](uint64_t slot) { dispatch(slot); },
        !joined);
    emu_.set_exit_page(layout_.exit_page, !joined);
    if (layout_.stack + layout_.stack_size == layout_.data) {
        emu_.map(layout_.stack, layout_.stack_size + layout_.data_size, prot_rw);
    } else {
        emu_.map(layout_.data, layout_.data_size, prot_rw);
        emu_.map(layout_.stack, layout_.stack_size, prot_rw);
    }
    emu_.set_sp(layout_.stack + layout_.stack_size - 16 * 4);

    // The current task: arm64 keeps `current` in sp_el0; ARM (CURRENT_POINTER_IN_TPIDRURO) in
    // TPIDRURO. Modules dereference it inline (get_current()).
    // Its pid, tgid and comm are where the kit's struct task_struct has them, so that what a
    // module reads of `current` is what reports name (CPU: 0 PID: ... Comm: ...).
    const KernelStructs::Task& tl = structs().task;
    task_ = alloc_data(tl.size, 64);
    int32_t pid = config_.pid;
    emu_.write(task_ + tl.pid, &pid, 4);
    emu_.write(task_ + tl.tgid, &pid, 4);
    std::string comm = config_.comm.substr(0, tl.comm_len - 1);  // __set_task_comm(): strscpy
    emu_.write(task_ + tl.comm, comm.c_str(), comm.size() + 1);
    insmod_task_ = task_;
    set_current_task(task_);
}

void Kernel::set_current_task(uint64_t task) {
    task_ = task;
    if (emu_.arch() == Arch::arm64) {
        emu_.set_reg(UC_ARM64_REG_SP_EL0, task);
    } else {
        // TPIDRURO: CP15 c13, c0, 3.
        uc_arm_cp_reg reg{15, 0, 0, 13, 0, 0, 3, task};
        if (uc_reg_write(emu_.engine(), UC_ARM_REG_CP_REG, &reg) != UC_ERR_OK)
            throw EmulatorError("cannot set TPIDRURO");
    }
}

Export& Kernel::add_function(std::string name, std::string subsystem, StubFn fn, bool gpl) {
    if (by_slot_.size() >= layout_.stub_text_size / slot_size)
        throw EmulatorError("emulated kernel: out of stub slots");
    if (Export* existing = find_export(name)) {
        // A later, real implementation replaces an earlier one (e.g. an auto-stub).
        existing->fn = std::move(fn);
        existing->subsystem = std::move(subsystem);
        existing->auto_stub = false;
        return *existing;
    }
    auto e = std::make_unique<Export>();
    e->name = std::move(name);
    e->subsystem = std::move(subsystem);
    e->fn = std::move(fn);
    e->gpl_only = gpl;
    e->is_function = true;
    e->address = layout_.stub_text + by_slot_.size() * slot_size;
    by_slot_.push_back(e.get());
    by_name_[e->name] = e.get();
    exports_.push_back(std::move(e));
    return *exports_.back();
}

void Kernel::add_functions(std::initializer_list<const char*> names, const std::string& subsystem,
                           const StubFn& fn, bool gpl) {
    for (const char* n : names)
        add_function(n, subsystem, fn, gpl);
}

Export& Kernel::add_data(std::string name, std::string subsystem, size_t size, const void* init,
                         bool gpl) {
    auto e = std::make_unique<Export>();
    e->name = std::move(name);
    e->subsystem = std::move(subsystem);
    e->is_function = false;
    e->gpl_only = gpl;
    e->address = alloc_data(size ? size : 1);
    if (init) emu_.write(e->address, init, size);
    by_name_[e->name] = e.get();
    exports_.push_back(std::move(e));
    return *exports_.back();
}

Export& Kernel::add_alias(std::string name, std::string subsystem, const Export& of) {
    auto e = std::make_unique<Export>(of);
    e->name = std::move(name);
    e->subsystem = std::move(subsystem);
    e->calls = 0;
    by_name_[e->name] = e.get();
    exports_.push_back(std::move(e));
    return *exports_.back();
}

Export& Kernel::add_auto_stub(std::string name, std::optional<Prototype> proto) {
    StubFn fn = [](StubCall&) { return uint64_t(0); };
    if (proto && proto->ret == Prototype::Ret::pointer) {
        // A zeroed object of the pointee's size (a page for void * or an unknown size), never
        // NULL: the module goes on as after a successful call, not down an error path the real
        // kernel would not take. Each call returns a fresh object, as an allocator would.
        uint64_t size = proto->pointee_size ? proto->pointee_size : 0x1000;
        fn = [size](StubCall& c) { return c.kernel.slab().alloc(size, gfp_zero); };
    }
    Export& e = add_function(std::move(name), "auto-stub", std::move(fn));
    e.auto_stub = true;
    e.prototype = proto;
    return e;
}

Export& Kernel::add_lazy(std::string name) {
    std::string fn = name;
    return add_function(std::move(name), "unimplemented",
                        [fn](StubCall& c) -> uint64_t { c.unimplemented(fn); });
}

void StubCall::unimplemented(const std::string& what) const {
    UnimplementedCall u;
    u.function = what;
    u.caller = ret_addr();
    u.where = kernel.symbolize(u.caller, true).value_or(hex(u.caller));
    for (const LoadedModule* m : kernel.modules)
        if (m->contains(u.caller)) u.module = m->name;
    kernel.unimplemented_call = u;
    throw KernelPanic{(u.module.empty() ? std::string("the kernel") : u.module) + " called " +
                      u.function + ", which kmodemu does not implement"};
}

const Export* Kernel::find_export(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

Export* Kernel::find_export(std::string_view name) {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

const Export* Kernel::export_at(uint64_t addr) const {
    if (addr >= layout_.stub_text && addr < layout_.stub_text + layout_.stub_text_size) {
        size_t idx = (addr - layout_.stub_text) / slot_size;
        return idx < by_slot_.size() ? by_slot_[idx] : nullptr;
    }
    return nullptr;
}

uint64_t Kernel::alloc_data(size_t size, size_t align) {
    uint64_t addr = (data_next_ + align - 1) & ~static_cast<uint64_t>(align - 1);
    if (addr + size > layout_.data + layout_.data_size)
        throw EmulatorError("emulated kernel: out of static data space");
    data_next_ = addr + size;
    return addr;
}

void Kernel::dispatch(uint64_t slot) {
    size_t idx = (slot - layout_.stub_text) / slot_size;
    if (idx >= by_slot_.size()) {
        throw EmulatorError("guest called an unassigned kernel stub slot");
    }
    Export& e = *by_slot_[idx];
    ++e.calls;
    StubCall call(*this, emu_);
    call.slot = slot;
    std::optional<size_t> recorded;  // the index of this call in fallible_calls
    if (e.fallible && faults_armed && (config_.faults.any() || config_.faults.record)) {
        std::optional<uint64_t> failed = inject_fault(e, call);
        if (config_.faults.record) recorded = fallible_calls.size() - 1;
        if (failed) {
            emu_.set_return(*failed);
            return;
        }
    }
    uint64_t ret;
    try {
        try {
            ret = e.fn(call);
        } catch (const GuestMemoryError& m) {
            // The kernel function dereferenced a bad pointer it was given: it would oops there.
            call.fault(m.address, m.is_write);
        }
    } catch (const ResumeAt& r) {
        emu_.resume_at(r.pc);
        return;
    }
    if (recorded && e.fallible->allocation) {
        FallibleCall& fc = fallible_calls[*recorded];
        if (uint64_t n = slab().ksize(ret)) {
            fc.object = ret;
            fc.object_size = n;
        }
    }
    emu_.set_return(ret);
}

uint64_t Kernel::call_guest(uint64_t fn, std::initializer_list<uint64_t> args) {
    std::vector<uint64_t> v(args);
    RunResult r = emu_.call(fn, v);
    if (r.reason != RunResult::Reason::returned) throw GuestFault{r};
    return r.retval;
}

std::map<std::string, uint64_t> Kernel::call_counts() const {
    std::map<std::string, uint64_t> out;
    for (const auto& e : exports_)
        if (e->calls) out[e->name] = e->calls;
    return out;
}

// --- the log: printk record handling, mirroring vprintk_store() in kernel/printk/printk.c ---

void Kernel::log(int level, std::string_view text) {
    // Busybox dmesg (klogctl) prints every line of a multi-line record as a line of its own.
    size_t start = 0;
    for (;;) {
        size_t nl = text.find('\n', start);
        LogLine line{
            level, std::string(text.substr(
                       start, nl == std::string_view::npos ? std::string_view::npos : nl - start))};
        log_.push_back(line);
        if (on_log) on_log(log_.back());
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
}

void Kernel::flush_log() {
    if (!has_pending_) return;
    has_pending_ = false;
    log(pending_level_ < 0 ? config_.default_message_loglevel : pending_level_, pending_);
    pending_.clear();
}

void Kernel::printk(std::string_view text) {
    // printk_parse_prefix(): any number of KERN_SOH + level/flag pairs.
    int level = -1;
    bool cont = false;
    while (text.size() >= 2 && text[0] == '\001') {
        char c = text[1];
        if (c >= '0' && c <= '7') {
            level = c - '0';
        } else if (c == 'c') {
            cont = true;
        } else if (c != 'd') {
            break;
        }
        text.remove_prefix(2);
    }
    bool newline = !text.empty() && text.back() == '\n';
    if (newline) text.remove_suffix(1);

    if (has_pending_ && cont) {
        pending_ += text;
    } else {
        flush_log();
        pending_.assign(text);
        pending_level_ = level;
        has_pending_ = true;
    }
    if (newline) flush_log();
}

RealKernel& Kernel::real() const {
    if (!real_) real_ = std::make_unique<RealKernel>(config_.profile, arch());
    return *real_;
}

namespace {
constexpr uint64_t real_code_size = 0x10000;  // the area after the stub text for real code
}  // namespace

const Kernel::RealCode* Kernel::real_code(const std::string& export_name) {
    for (const auto& c : real_code_)
        if (c->export_name == export_name) return c->addr ? c.get() : nullptr;
    auto code = std::make_unique<RealCode>();
    code->export_name = export_name;
    const Kallsyms* ks = real().kallsyms();
    std::optional<KernelSymbol> sym = ks ? ks->find(export_name) : std::nullopt;
    std::optional<std::string_view> bytes = sym ? ks->code(sym->addr, sym->size) : std::nullopt;
    uint64_t area = layout_.stub_text + layout_.stub_text_size;
    if (bytes && !real_code_next_ && !emu_.is_mapped(area)) {
        emu_.map(area, real_code_size, prot_rx);
        emu_.add_precise_range(area, real_code_size);
        real_code_next_ = area;
    }
    // Placed at the real function's offset within 64 bytes (cache-line alignment as linked).
    uint64_t at = ((real_code_next_ + 63) & ~63ull) + (sym ? sym->addr & 63 : 0);
    if (bytes && real_code_next_ && at + bytes->size() <= area + real_code_size) {
        emu_.write(at, bytes->data(), bytes->size());
        real_code_next_ = at + bytes->size();
        code->addr = at;
        code->symbol = *sym;
        code->self_contained = real().self_contained(*sym);
    }
    real_code_.push_back(std::move(code));
    return real_code_.back()->addr ? real_code_.back().get() : nullptr;
}

const Kernel::RealCode* Kernel::real_code_at(uint64_t addr) const {
    for (const auto& c : real_code_)
        if (c->addr && addr >= c->addr && addr - c->addr < c->symbol.size) return c.get();
    return nullptr;
}

std::optional<std::string> Kernel::symbolize(uint64_t addr, bool with_offset) const {
    // %pS of kernel text (sprint_symbol()): the name kallsyms has for the address, with the
    // offset into the function and its size; without the kit's kallsyms, the stub's.
    if (const RealCode* c = real_code_at(addr)) {
        if (!with_offset) return c->symbol.name;
        char buf[64];
        std::snprintf(buf, sizeof buf, "+0x%llx/0x%llx", (unsigned long long)(addr - c->addr),
                      (unsigned long long)c->symbol.size);
        return c->symbol.name + buf;
    }
    if (const Export* e = export_at(addr)) {
        const Kallsyms* ks = real().kallsyms();
        if (auto sym = ks ? ks->find(e->name) : std::nullopt) {
            if (!with_offset) return sym->name;
            return sym->name + "+0x0/" + hex(sym->size);
        }
        if (!with_offset) return e->name;
        return e->name + "+0x0/0x4";
    }
    for (const LoadedModule* m : modules) {
        if (auto s = m->symbolize(addr, with_offset)) return s;
    }
    return std::nullopt;
}

}  // namespace kmodemu
