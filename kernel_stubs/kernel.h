// The emulated kernel: one export table that every subsystem file fills, the kernel log, the
// guest-memory layout of the emulated kernel (stub text, data, heap, stack, current task) and
// the state that stubs share.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "emulator/emulator.h"
#include "kernel_stubs/btf.h"
#include "kernel_stubs/lib/fault-inject.h"
#include "kernel_stubs/real_kernel.h"

namespace kmodemu {

class Kernel;
struct LoadedModule;

std::string hex(uint64_t v);  // "0x..."

// The arguments of one call into the emulated kernel, by the architecture's calling convention.
class StubCall {
  public:
    StubCall(Kernel& kernel, Emulator& emu) : kernel(kernel), emu(emu) {}
    Kernel& kernel;
    Emulator& emu;
    uint64_t arg(unsigned i) const;  // i-th word-sized integer argument
    int64_t sarg(unsigned i) const;  // the same, sign-extended from int/long
    int32_t iarg(unsigned i) const { return static_cast<int32_t>(arg(i)); }
    uint64_t ret_addr() const { return emu.lr(); }
    uint64_t slot = 0;  // the stub's address (the guest PC of the call)

    // Guest memory access from a stub; a bad address is a guest fault inside the kernel
    // function (the kernel would oops there too), thrown as GuestFault.
    std::vector<uint8_t> read(uint64_t addr, size_t n) const;
    void write(uint64_t addr, const void* data, size_t n) const;
    std::string read_cstr(uint64_t addr, size_t max = 1 << 20) const;
    // The same check without the access: faults at the first byte of [addr, addr + n) the
    // function may not read (unmapped) or write (unmapped or read-only).
    void check_read(uint64_t addr, uint64_t n) const;
    void check_write(uint64_t addr, uint64_t n) const;
    // The kernel function faults at addr. When the kit's image has its code and the code is
    // self-contained (a leaf routine such as __memset), that code runs from the function's entry
    // instead of the stub, so that the oops is the kernel's own (thrown as ResumeAt); otherwise
    // the call ends in a fault at the stub (thrown as GuestFault).
    [[noreturn]] void fault(uint64_t addr, bool is_write) const;
    // The call needs what kmodemu does not implement (`what`: the function, or the function and
    // the case of it): the run stops there as at a lazily bound export (exit status 69).
    [[noreturn]] void unimplemented(const std::string& what) const;
};

// Thrown by a stub to continue the guest at pc instead of returning to the caller (the
// registers are as the caller left them: a tail call).
struct ResumeAt {
    uint64_t pc;
};

using StubFn = std::function<uint64_t(StubCall&)>;

// One symbol the emulated kernel exports (EXPORT_SYMBOL / EXPORT_SYMBOL_GPL).
struct Export {
    std::string name;
    uint64_t address = 0;
    bool is_function = true;
    bool gpl_only = false;
    bool auto_stub = false;              // pretended: returns 0 and does nothing (reported as such)
    std::optional<Prototype> prototype;  // an auto-stub's, when known (kernel_stubs/btf.h)
    std::string subsystem;               // the kernel_stubs file that provides it
    StubFn fn;                           // for functions
    uint64_t calls = 0;
    // A function that can be made to fail (kernel_stubs/lib/fault-inject.cc), and how.
    const FallibleFunction* fallible = nullptr;
};

struct LogLine {
    int level;  // 0..7, the KERN_<level>; -1 when the record has none (default level applies)
    std::string text;
};

// Thrown by a stub when the emulated kernel would panic (e.g. __stack_chk_fail, fortify_panic).
struct KernelPanic {
    std::string message;
};

// The guest called an export that the profile's kernel has and kmodemu does not implement (bound
// lazily at load time, as the real kernel resolves it): the run stops there.
struct UnimplementedCall {
    std::string function;
    std::string module;   // the caller's module, or empty when the caller is not in a module
    uint64_t caller = 0;  // the return address
    std::string where;    // the caller symbolized: "hello_init+0x24/0x80 [hello]"
};

// Guest memory layout of the emulated kernel. Module memory is placed within ±128 MiB (arm64)
// or ±32 MiB (ARM) of the stub text, like a kernel without module PLTs (module_alloc()).
struct KernelLayout {
    uint64_t stub_text;  // trap slots, one per exported function
    uint64_t stub_text_size;
    uint64_t exit_page;  // return address of guest calls
    uint64_t data;       // exported data objects, task_struct, ...
    uint64_t data_size;
    uint64_t heap;        // kmalloc arena (linear-map-like)
    uint64_t heap_size;   // reserved; mapped on demand in chunks
    uint64_t stack;       // lowest address of the kernel stack (a guard page below)
    uint64_t stack_size;  // THREAD_SIZE
    uint64_t modules;     // module_alloc() area
    uint64_t modules_size;
    // thumb2_kernel: ARM's MODULES_VADDR is PAGE_OFFSET - 8 MiB in a Thumb-2 kernel, 16 MiB else.
    static KernelLayout for_arch(Arch arch, bool thumb2_kernel = true);
};

// Thrown by Kernel::call_guest when the outermost guest call ended abnormally (fault, budget).
struct GuestFault {
    RunResult result;
};

// Everything the stubs need to know about the kernel being emulated.
struct KernelConfig {
    std::string release = "6.1.0-kmodemu";
    int default_message_loglevel = 4;  // CONFIG_MESSAGE_LOGLEVEL_DEFAULT
    bool module_sig = true;            // CONFIG_MODULE_SIG: unsigned modules taint with a message
    uint64_t stack_canary = 0x6b6d6f64656d7521ull;
    // The current task (insmod): its pid (and tgid) and comm.
    int pid = 1234;
    std::string comm = "insmod";
    // CONFIG_THUMB2_KERNEL: Thumb relocations are accepted and module PLTs are Thumb-2. The
    // generic profile behaves as a Thumb-2 kernel so that Thumb-2 modules run.
    bool thumb2_kernel = true;
    bool panic_on_warn = false;  // the panic_on_warn sysctl
    uint64_t seed = 0;           // of the kernel's random numbers (get_random_*())
    // arm64: the modelled CPU's capabilities (cpucap numbers of the target kernel); alternatives
    // for them are applied. Unset: ARM64_ALWAYS_BOOT and ARM64_ALWAYS_SYSTEM only.
    std::optional<std::set<unsigned>> cpucaps;
    std::optional<KernelLayout> layout;  // overrides the architecture's default layout
    // The target kernel (tools/fetch-kernel-kit kit); null: the built-in default profile
    // (KernelProfile::default_for the architecture), which the Kernel puts here.
    std::shared_ptr<const struct KernelProfile> profile;
    FaultPlan faults;  // the calls made to fail (--fail-alloc, --fail, ...)
    // --lockdep: lock checks as a kernel with CONFIG_PROVE_LOCKING and CONFIG_DEBUG_ATOMIC_SLEEP
    // reports them (Debian's kernels have neither: without it, only what they do is modelled).
    bool lockdep = false;
};

class Kernel {
  public:
    Kernel(Emulator& emu, KernelConfig config = {});
    ~Kernel();

    Emulator& emu() { return emu_; }
    Arch arch() const { return emu_.arch(); }
    const ArchInfo& arch_info() const { return emu_.info(); }
    const KernelConfig& config() const { return config_; }
    // The layout of the kernel's structures: the profile's (a kit's layout.env, or the default
    // kernel's).
    const struct KernelStructs& structs() const;
    const KernelLayout& layout() const { return layout_; }
    unsigned word() const { return emu_.word_size(); }

    // --- the export table ---
    Export& add_function(std::string name, std::string subsystem, StubFn fn, bool gpl = false);
    // One function under each name different kernel versions export it by (6.1's kmalloc_trace
    // is 6.12's __kmalloc_cache_noprof); each name has its own slot and call count.
    void add_functions(std::initializer_list<const char*> names, const std::string& subsystem,
                       const StubFn& fn, bool gpl = false);
    // A data export of `size` bytes (zeroed, or `init`), 16-byte aligned.
    Export& add_data(std::string name, std::string subsystem, size_t size,
                     const void* init = nullptr, bool gpl = false);
    const Export* find_export(std::string_view name) const;
    Export* find_export(std::string_view name);
    // An auto-stub for a function kmodemu does not implement, marked as pretended: returns what
    // its prototype makes a success (0; for a pointer, a fresh zeroed object of the pointee's
    // size), 0 when the prototype is not known.
    Export& add_auto_stub(std::string name, std::optional<Prototype> proto = std::nullopt);
    // Lazy binding of an export kmodemu does not implement: a call records the UnimplementedCall
    // and ends the run (a KernelPanic that the runner reports as such, not as a panic).
    Export& add_lazy(std::string name);
    std::optional<UnimplementedCall> unimplemented_call;
    // A second name for an existing data export (a linker-script alias: jiffies = jiffies_64).
    Export& add_alias(std::string name, std::string subsystem, const Export& of);
    const std::vector<std::unique_ptr<Export>>& exports() const { return exports_; }
    // The export whose stub slot or data object contains addr, if any.
    const Export* export_at(uint64_t addr) const;

    // --- kernel data allocation (static objects of the emulated kernel) ---
    uint64_t alloc_data(size_t size, size_t align = 16);

    // --- the kernel log ---
    void log(int level, std::string_view text);  // a whole record; text may hold newlines
    // printk()'s record handling: KERN_SOH level prefix, KERN_CONT, default level.
    void printk(std::string_view formatted);
    void flush_log();
    const std::vector<LogLine>& log_lines() const { return log_; }
    std::function<void(const LogLine&)> on_log;  // streaming sink (the CLI prints as it goes)

    // kmodemu's own diagnostics about the guest (not kernel log lines): stderr and reports.
    void diag(std::string text);
    const std::vector<std::string>& diagnostics() const { return diags_; }
    std::function<void(const std::string&)> on_diag;

    // --- taints (kernel/panic.c taint_flags, 6.1 order) ---
    void add_taint(char flag);
    // By TAINT_* number.
    void add_taint_bit(unsigned flag);
    // lib/debug_locks.c: cleared by the first taint that makes lock debugging unreliable.
    bool debug_locks = true;
    // The printk_once()/pr_*_once() sites that have printed.
    std::set<std::string> printed_once;
    std::string print_tainted() const;  // "Tainted: G           OE     " / "Not tainted"
    // 6.10+: "Tainted: [O]=OOT_MODULE, [E]=UNSIGNED_MODULE" (print_tainted_verbose())
    std::string print_tainted_verbose() const;
    uint32_t taints() const { return taints_; }

    // --- the current task ---
    uint64_t current_task() const { return task_; }
    // The task insmod runs as (the first task, made with the kernel).
    uint64_t insmod_task() const { return insmod_task_; }
    // A task switch (kernel_stubs/kernel/sched/sched.h): `current` is now `task`, in the
    // register where the architecture keeps it.
    void set_current_task(uint64_t task);

    // --- modules known to the kernel (for module notifiers and symbolization) ---
    std::vector<LoadedModule*> modules;
    // Symbolizes a guest address: "func+0x10/0x40 [mod]" or a stub name.
    std::optional<std::string> symbolize(uint64_t addr, bool with_offset) const;

    // Guest-side storage for kernel objects keyed by name (e.g. module_notify_list).
    std::map<std::string, uint64_t> objects;

    // Counters of kernel functions called, by name (for reports).
    std::map<std::string, uint64_t> call_counts() const;

    // Subsystem state, owned here so subsystems can keep state between calls.
    struct Slab;
    Slab& slab() { return *slab_; }
    uint64_t slab_alloc(uint64_t size, uint64_t gfp_flags);  // kmalloc() for other subsystems
    // The state of one emulated subsystem (the driver model's buses, the char device regions,
    // debugfs, ...), made on first use: the kernel's own globals of that subsystem.
    struct SubsystemState {
        virtual ~SubsystemState() = default;
    };
    template <class T>
    T& state() {
        std::unique_ptr<SubsystemState>& p = states_[std::type_index(typeid(T))];
        if (!p) p = std::make_unique<T>();
        return static_cast<T&>(*p);
    }

    // Calls a guest function from a stub and returns its result.
    uint64_t call_guest(uint64_t fn, std::initializer_list<uint64_t> args);

    // --- fault injection (kernel_stubs/lib/fault-inject.h) ---
    // The plan of config().faults applies while armed (the runner arms it for the module asked
    // for, so that its dependencies load undisturbed).
    bool faults_armed = false;
    // `kmodemu fuzz`'s warm path: what one execution decides, set in a kernel made with other
    // values before the module asked for loads: the seed of the random numbers (false, and
    // nothing set, when they were drawn already: the kernel would differ from one made with
    // the seed) and the fault plan (counted from the arming, as in a kernel made with it).
    bool set_execution(uint64_t seed, const FaultPlan& faults);
    std::vector<InjectedFault> injected_faults;  // the calls made to fail, in order
    std::vector<FallibleCall> fallible_calls;    // with config().faults.record: every call

    // --- the real kernel of the kit (identity, kallsyms, code), read on first use ---
    RealKernel& real() const;
    // The real kernel's code of a function the emulated kernel exports, copied into the
    // emulated kernel's text (after the stubs), where symbolize() names it as the kernel does.
    struct RealCode {
        std::string export_name;
        uint64_t addr = 0;    // of the copy
        KernelSymbol symbol;  // of the real function
        bool self_contained = false;
    };
    const RealCode* real_code(const std::string& export_name);
    const RealCode* real_code_at(uint64_t addr) const;  // the copy containing addr

  private:
    void dispatch(uint64_t slot);
    void mark_fallible();
    // The failure a call of a fallible function returns when the plan makes it fail.
    std::optional<uint64_t> inject_fault(Export& e, StubCall& call);
    void map_layout();

    Emulator& emu_;
    KernelConfig config_;
    KernelLayout layout_;
    std::vector<std::unique_ptr<Export>> exports_;
    std::unordered_map<std::string_view, Export*> by_name_;
    std::vector<Export*> by_slot_;
    uint64_t data_next_;
    uint64_t task_ = 0;
    uint64_t insmod_task_ = 0;
    std::vector<LogLine> log_;
    std::vector<std::string> diags_;
    uint32_t taints_ = 0;
    std::string pending_;  // a record without its newline yet (pr_cont may extend it)
    int pending_level_ = -1;
    bool has_pending_ = false;
    std::unique_ptr<Slab> slab_;
    std::map<std::type_index, std::unique_ptr<SubsystemState>> states_;
    mutable std::unique_ptr<RealKernel> real_;
    std::vector<std::unique_ptr<RealCode>> real_code_;
    uint64_t real_code_next_ = 0;
    std::unique_ptr<FaultCounters> faults_;
};

// Subsystem registration, one per kernel_stubs file.
void register_printk(Kernel& k);
void register_slab(Kernel& k);
void register_string(Kernel& k);
void register_notifier(Kernel& k);
void register_locking(Kernel& k);
void register_list(Kernel& k);
void register_params(Kernel& k);
void register_module_api(Kernel& k);
void register_misc(Kernel& k);
void register_arm(Kernel& k);  // 32-bit ARM only
void register_bug(Kernel& k);
void register_sort(Kernel& k);
void register_driver_core(Kernel& k);  // drivers/base, and the platform, I2C and PCI buses
void register_char_dev(Kernel& k);     // fs/char_dev.c
void register_debugfs(Kernel& k);      // fs/debugfs/inode.c
void register_find_bit(Kernel& k);     // lib/find_bit.c
void register_workqueue(Kernel& k);    // kernel/workqueue.c (work on the virtual clock)
void register_ethtool(Kernel& k);      // net/ethtool/common.c
void register_led_triggers(Kernel& k);  // drivers/leds/led-triggers.c
void register_misc_devices(Kernel& k);  // drivers/char/misc.c
void register_procfs(Kernel& k);        // fs/proc/generic.c
void register_sysctl_tables(Kernel& k);  // fs/proc/proc_sysctl.c
void register_net_namespace(Kernel& k);  // net/core/net_namespace.c
void register_netlink(Kernel& k);        // net/netlink/af_netlink.c
void register_input(Kernel& k);          // drivers/input/input.c
void register_acpi(Kernel& k);           // drivers/acpi (disabled: a device-tree machine)
void register_idr(Kernel& k);            // lib/idr.c
void register_crypto_api(Kernel& k);     // crypto/api.c (lookups)
void register_crypto_algapi(Kernel& k);   // crypto/algapi.c (registration)
void register_crypto_shash(Kernel& k);    // crypto/shash.c
void register_crypto_ahash(Kernel& k);    // crypto/ahash.c
void register_crypto_skcipher(Kernel& k);  // crypto/skcipher.c
void register_crypto_aead(Kernel& k);      // crypto/aead.c
void register_crypto_kpp(Kernel& k);       // crypto/kpp.c
void register_crypto_akcipher(Kernel& k);  // crypto/akcipher.c
void register_crypto_rng(Kernel& k);       // crypto/rng.c
void register_crypto_scomp(Kernel& k);     // crypto/scompress.c
void register_swait(Kernel& k);            // kernel/sched/swait.c
void register_arm64_cpufeature(Kernel& k);  // arch/arm64/kernel/cpufeature.c (arm64 only)
void register_drm_nomodeset(Kernel& k);     // drivers/gpu/drm/drm_nomodeset.c
void register_hv_common(Kernel& k);         // drivers/hv/hv_common.c (arm64 only)
void register_nls(Kernel& k);            // fs/nls/nls_base.c
void register_filesystems(Kernel& k);    // fs/filesystems.c
void register_fs_context(Kernel& k);     // fs/fs_context.c
void register_super(Kernel& k);          // fs/super.c
void register_namespace(Kernel& k);      // fs/namespace.c (internal mounts)
void register_inode(Kernel& k);          // fs/inode.c
void register_dcache(Kernel& k);         // fs/dcache.c
void register_libfs(Kernel& k);          // fs/libfs.c
void register_lockref(Kernel& k);        // lib/lockref.c
void register_bitmap(Kernel& k);         // lib/bitmap.c
void register_rbtree(Kernel& k);         // lib/rbtree.c
void register_ctype(Kernel& k);          // lib/ctype.c
void register_parser(Kernel& k);         // lib/parser.c
void register_tcp_ulp(Kernel& k);        // net/ipv4/tcp_ulp.c
void register_tcp_input(Kernel& k);      // net/ipv4/tcp_input.c (clean_acked_data_flush)
void register_l3mdev(Kernel& k);         // net/l3mdev/l3mdev.c
void register_nfs_ssc(Kernel& k);        // fs/nfs_common/nfs_ssc.c
void register_cred(Kernel& k);           // kernel/cred.c (after init_user_ns)
void register_open(Kernel& k);           // fs/open.c
void register_hrtimer(Kernel& k);        // kernel/time/hrtimer.c
void register_rtnetlink(Kernel& k);      // net/core/rtnetlink.c
void register_devices(Kernel& k);        // drivers/base/core.c (struct device)
void register_timers(Kernel& k);         // kernel/time/timer.c (timers on the virtual clock)
void register_wait(Kernel& k);           // kernel/sched/wait.c (wait queue heads)
void register_random(Kernel& k);         // drivers/char/random.c (seeded)
bool random_drawn(Kernel& k);  // drivers/char/random.c: whether the seed was used yet
void register_once(Kernel& k);           // lib/once.c
void register_jump_label(Kernel& k);     // kernel/jump_label.c
void register_xarray(Kernel& k);         // lib/xarray.c
void register_sched_core(Kernel& k);     // kernel/sched/core.c
void register_completion(Kernel& k);     // kernel/sched/completion.c
void register_shrinkers(Kernel& k);      // mm/shrinker.c (6.1: mm/vmscan.c)
void register_kobject(Kernel& k);        // lib/kobject.c
void register_kobject_uevent(Kernel& k);  // lib/kobject_uevent.c (nobody listens)
void register_timekeeping(Kernel& k);    // kernel/time/timekeeping.c (a fixed boot date)
void register_mmu_notifier(Kernel& k);   // mm/mmu_notifier.c
void register_xfrm_input(Kernel& k);     // net/xfrm/xfrm_input.c
void register_xfrm_state(Kernel& k);     // net/xfrm/xfrm_state.c (transform types)
void register_xfrm_policy(Kernel& k);    // net/xfrm/xfrm_policy.c (xfrm_if_cb)
void register_rhashtable(Kernel& k);     // lib/rhashtable.c
void register_inet_fragment(Kernel& k);  // net/ipv4/inet_fragment.c
void register_xfrm4_protocol(Kernel& k);  // net/ipv4/xfrm4_protocol.c
void register_xfrm6_protocol(Kernel& k);  // net/ipv6/xfrm6_protocol.c
void register_lwtunnel(Kernel& k);        // net/core/lwtunnel.c
void register_percpu_counter(Kernel& k);  // lib/percpu_counter.c
void register_int_sqrt(Kernel& k);       // lib/math/int_sqrt.c
void register_hexdump(Kernel& k);        // lib/hexdump.c
void register_hweight(Kernel& k);        // lib/hweight.c
void register_sysfs(Kernel& k);          // fs/sysfs (names of files, groups and links)
void register_regmap(Kernel& k);         // drivers/base/regmap/regmap.c (no regmap is made)
void register_rcu(Kernel& k);            // kernel/rcu/tree.c (callbacks on the virtual clock)
void register_softirq(Kernel& k);        // kernel/softirq.c
void register_keys(Kernel& k);           // security/keys (X.509 asymmetric keys, keyrings)
void register_firmware_loader(Kernel& k);  // drivers/base/firmware_loader (no firmware files)
void register_netdev(Kernel& k);         // net/core/dev.c (netdevice notifiers)
void register_eth(Kernel& k);            // net/ethernet/eth.c
void register_qdiscs(Kernel& k);         // net/sched/sch_api.c
void register_tc_actions(Kernel& k);     // net/sched/act_api.c
void register_tc_classifiers(Kernel& k);  // net/sched/cls_api.c
void register_tc_ematches(Kernel& k);    // net/sched/ematch.c
void register_tcp_cong(Kernel& k);       // net/ipv4/tcp_cong.c
void register_textsearch(Kernel& k);     // lib/textsearch.c
void register_nf_sockopt(Kernel& k);     // net/netfilter/nf_sockopt.c
void register_sock_diag(Kernel& k);      // net/core/sock_diag.c
void register_skbuff(Kernel& k);         // net/core/skbuff.c
void register_dst_cache(Kernel& k);      // net/core/dst_cache.c
void register_gro_cells(Kernel& k);      // net/core/gro_cells.c
void register_dquot(Kernel& k);          // fs/quota/dquot.c
void register_list_lru(Kernel& k);       // mm/list_lru.c
void register_addrconf_core(Kernel& k);  // net/ipv6/addrconf_core.c
void register_fbmem(Kernel& k);          // drivers/video/fbdev/core/fbmem.c
void register_cpumask(Kernel& k);        // lib/cpumask.c
void register_genetlink(Kernel& k);      // net/netlink/genetlink.c
void register_sock_proto(Kernel& k);     // net/core/sock.c (proto_register)
void register_socket(Kernel& k);         // net/socket.c (sock_register)
void register_connector(Kernel& k);      // drivers/connector/connector.c
void register_inet_protocols(Kernel& k);   // net/ipv4/protocol.c
void register_inet6_protocols(Kernel& k);  // net/ipv6/protocol.c
void register_af_inet(Kernel& k);        // net/ipv4/af_inet.c (inet_register_protosw)
void register_af_inet6(Kernel& k);       // net/ipv6/af_inet6.c (inet6_register_protosw)
void register_user_namespace(Kernel& k);  // kernel/user_namespace.c (init_user_ns)
void register_platform(Kernel& k);       // drivers/base/platform.c
void register_devres(Kernel& k);         // drivers/base/devres.c
void register_transport_class(Kernel& k);  // drivers/base/transport_class.c, attribute_container.c
void register_tty_io(Kernel& k);         // drivers/tty/tty_io.c
void register_serio(Kernel& k);          // drivers/input/serio/serio.c
void register_virtio(Kernel& k);         // drivers/virtio/virtio.c
void register_sdio_bus(Kernel& k);       // drivers/mmc/core/sdio_bus.c
void register_gpiolib(Kernel& k);        // drivers/gpio/gpiolib.c (consumers)
void register_gpiolib_devres(Kernel& k);  // drivers/gpio/gpiolib-devres.c
void register_mdio_boardinfo(Kernel& k);  // drivers/net/phy/mdio-boardinfo.c
void register_property(Kernel& k);       // drivers/base/property.c (firmware nodes)
void register_of(Kernel& k);             // drivers/of/base.c, property.c, device.c
void register_ioremap(Kernel& k);        // ioremap(), iounmap() (arch/*/mm/ioremap.c)
void register_lib_devres(Kernel& k);     // lib/devres.c (devm_ioremap*)
void register_irq_manage(Kernel& k);     // kernel/irq/manage.c, kernel/irq/devres.c
void register_amba(Kernel& k);           // drivers/amba/bus.c
void register_mipi_dsi(Kernel& k);       // drivers/gpu/drm/drm_mipi_dsi.c
void register_serdev(Kernel& k);         // drivers/tty/serdev/core.c
void register_auxiliary(Kernel& k);      // drivers/base/auxiliary.c
void register_tty_ldisc(Kernel& k);      // drivers/tty/tty_ldisc.c
void register_tty_baudrate(Kernel& k);   // drivers/tty/tty_baudrate.c
void register_kthread(Kernel& k);        // kernel/kthread.c (kernel threads on the scheduler)

void register_genhd(Kernel& k);          // block/genhd.c (block device majors)
void register_mempool(Kernel& k);        // mm/mempool.c
void register_backing_dev(Kernel& k);    // mm/backing-dev.c
void register_cpuhp(Kernel& k);          // kernel/cpu.c (CPU hotplug states, two CPUs)
void register_cpufreq(Kernel& k);        // drivers/cpufreq/cpufreq.c (governors)
void register_kmod(Kernel& k);           // kernel/kmod.c (no modprobe on the machine)
void register_uuid(Kernel& k);           // lib/uuid.c
void register_dmaengine(Kernel& k);      // drivers/dma/dmaengine.c (no DMA device)
void register_percpu(Kernel& k);         // mm/percpu.c
void register_srcu(Kernel& k);           // kernel/rcu/srcutree.c
void register_fpsimd(Kernel& k);         // arch/arm64/kernel/fpsimd.c (kernel-mode NEON)
void register_pci_search(Kernel& k);     // drivers/pci/search.c (no PCI device)
void register_pci_iospace(Kernel& k);    // drivers/pci/pci.c (the host bridge's I/O window)
void register_resource(Kernel& k);       // kernel/resource.c (ioport and iomem trees)
void register_page_alloc(Kernel& k);     // mm/page_alloc.c (pages and their struct page)
void register_logic_pio(Kernel& k);      // lib/logic_pio.c (inb()/outb() of arm64)
void register_zpool(Kernel& k);          // mm/zpool.c (zpool drivers)

}  // namespace kmodemu
