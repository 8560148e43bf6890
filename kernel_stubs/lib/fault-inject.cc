// Fault injection: lib/fault-inject.c's should_fail() as mm/failslab.c and mm/fail_page_alloc.c
// ask it for allocations, and a named call failing for any fallible function of the table.
#include "kernel_stubs/lib/fault-inject.h"

#include <cerrno>
#include <charconv>
#include <map>
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "loader/module.h"

namespace kmodemu {

namespace {

using F = FailureForm;

// The fallible functions kmodemu implements: name as the source calls it, the exports that
// implement it (each kernel version's), how a failure looks. Allocations come first.
const std::vector<FallibleFunction>& table() {
    static const std::vector<FallibleFunction> t = {
        // --- the slab and page allocators: NULL, as failslab / fail_page_alloc make them fail
        // (kzalloc() and kcalloc() are kmalloc(), kvzalloc() is kvmalloc()) ---
        {"kmalloc",
         {"__kmalloc", "__kmalloc_noprof", "kmalloc_trace", "__kmalloc_cache_noprof",
          "kmalloc_large", "kmalloc_large_noprof", "__kmalloc_large_noprof"},
         F::null,
         true},
        {"kmalloc_node",
         {"__kmalloc_node", "__kmalloc_node_noprof", "kmalloc_node_trace",
          "__kmalloc_cache_node_noprof", "kmalloc_large_node", "kmalloc_large_node_noprof",
          "__kmalloc_large_node_noprof"},
         F::null,
         true},
        {"kvmalloc", {"kvmalloc_node", "__kvmalloc_node_noprof"}, F::null, true},
        {"krealloc", {"krealloc", "krealloc_noprof"}, F::null, true},
        {"kmem_cache_alloc",
         {"kmem_cache_alloc", "kmem_cache_alloc_noprof", "kmem_cache_alloc_lru",
          "kmem_cache_alloc_lru_noprof", "kmem_cache_alloc_node", "kmem_cache_alloc_node_noprof"},
         F::null,
         true},
        {"vmalloc", {"vmalloc", "vmalloc_noprof"}, F::null, true},
        {"vzalloc", {"vzalloc", "vzalloc_noprof"}, F::null, true},
        {"__get_free_pages", {"__get_free_pages", "get_free_pages_noprof"}, F::null, true},
        {"get_zeroed_page", {"get_zeroed_page", "get_zeroed_page_noprof"}, F::null, true},
        {"alloc_pages",
         {"alloc_pages", "alloc_pages_noprof", "__alloc_pages", "__alloc_pages_noprof"},
         F::null,
         true},
        {"folio_alloc",
         {"folio_alloc", "folio_alloc_noprof", "__folio_alloc", "__folio_alloc_noprof"},
         F::null,
         true},
        {"kmemdup", {"kmemdup", "kmemdup_noprof"}, F::null, true},
        {"kstrdup", {"kstrdup"}, F::null, true},
        {"kstrndup", {"kstrndup"}, F::null, true},
        {"kstrdup_const", {"kstrdup_const"}, F::null, true},
        {"kasprintf", {"kasprintf"}, F::null, true},
        {"kvasprintf", {"kvasprintf"}, F::null, true},
        {"devm_kmalloc", {"devm_kmalloc"}, F::null, true},
        {"devm_kmemdup", {"devm_kmemdup"}, F::null, true},
        {"devm_kstrdup", {"devm_kstrdup"}, F::null, true},
        {"devm_kasprintf", {"devm_kasprintf"}, F::null, true},
        {"devres_alloc", {"__devres_alloc_node"}, F::null, true},

        // --- functions that return NULL on failure ---
        {"alloc_percpu", {"__alloc_percpu", "__alloc_percpu_gfp", "pcpu_alloc_noprof"}, F::null},
        {"kmem_cache_create",
         {"kmem_cache_create", "kmem_cache_create_usercopy", "__kmem_cache_create_args"},
         F::null},
        {"mempool_create",
         {"mempool_create", "mempool_create_node", "mempool_create_node_noprof"},
         F::null},
        {"alloc_workqueue", {"alloc_workqueue"}, F::null},
        {"cdev_alloc", {"cdev_alloc"}, F::null},
        {"platform_device_alloc", {"platform_device_alloc"}, F::null},
        {"kobject_create_and_add", {"kobject_create_and_add"}, F::null},
        {"kset_create_and_add", {"kset_create_and_add"}, F::null},
        {"proc_mkdir",
         {"proc_mkdir", "proc_mkdir_data", "proc_mkdir_mode", "_proc_mkdir"},
         F::null},
        {"proc_create",
         {"proc_create", "proc_create_data", "proc_create_seq_private", "proc_create_single_data"},
         F::null},
        {"bdi_alloc", {"bdi_alloc"}, F::null},
        {"shrinker_alloc", {"shrinker_alloc"}, F::null},
        {"register_sysctl",
         {"register_sysctl", "register_sysctl_sz", "register_sysctl_table"},
         F::null},
        {"register_net_sysctl", {"register_net_sysctl", "register_net_sysctl_sz"}, F::null},
        {"netlink_kernel_create", {"__netlink_kernel_create"}, F::null},

        // --- functions that return ERR_PTR(-errno) ---
        {"class_create", {"class_create", "__class_create"}, F::err_ptr},
        {"device_create", {"device_create"}, F::err_ptr},
        {"platform_device_register_full", {"platform_device_register_full"}, F::err_ptr},
        {"tty_alloc_driver", {"__tty_alloc_driver"}, F::err_ptr},
        {"debugfs_create_dir", {"debugfs_create_dir"}, F::err_ptr},
        {"debugfs_create_file", {"debugfs_create_file", "debugfs_create_file_unsafe"}, F::err_ptr},
        {"gpiod_get",
         {"gpiod_get", "gpiod_get_index", "gpiod_get_optional", "gpiod_get_index_optional"},
         F::err_ptr},
        {"devm_gpiod_get",
         {"devm_gpiod_get", "devm_gpiod_get_index", "devm_gpiod_get_optional",
          "devm_gpiod_get_index_optional"},
         F::err_ptr},
        {"key_create_or_update", {"key_create_or_update"}, F::err_ptr},
        {"keyring_alloc", {"keyring_alloc"}, F::err_ptr},
        {"crypto_alloc_base", {"crypto_alloc_base"}, F::err_ptr},
        {"crypto_alloc_shash", {"crypto_alloc_shash"}, F::err_ptr},
        {"crypto_alloc_ahash", {"crypto_alloc_ahash"}, F::err_ptr},
        {"crypto_alloc_skcipher", {"crypto_alloc_skcipher"}, F::err_ptr},
        {"crypto_alloc_sync_skcipher", {"crypto_alloc_sync_skcipher"}, F::err_ptr},
        {"crypto_alloc_lskcipher", {"crypto_alloc_lskcipher"}, F::err_ptr},
        {"crypto_alloc_aead", {"crypto_alloc_aead"}, F::err_ptr},
        {"crypto_alloc_akcipher", {"crypto_alloc_akcipher"}, F::err_ptr},
        {"crypto_alloc_kpp", {"crypto_alloc_kpp"}, F::err_ptr},
        {"crypto_alloc_rng", {"crypto_alloc_rng"}, F::err_ptr},
        {"crypto_alloc_acomp", {"crypto_alloc_acomp"}, F::err_ptr},
        {"crypto_alloc_sig", {"crypto_alloc_sig"}, F::err_ptr},

        // --- functions that return -errno ---
        {"register_chrdev", {"__register_chrdev"}, F::error},
        {"register_chrdev_region", {"register_chrdev_region"}, F::error},
        {"alloc_chrdev_region", {"alloc_chrdev_region"}, F::error},
        {"cdev_add", {"cdev_add"}, F::error},
        {"register_blkdev", {"__register_blkdev"}, F::error},
        {"misc_register", {"misc_register"}, F::error},
        {"platform_driver_register", {"__platform_driver_register"}, F::error},
        {"platform_register_drivers", {"__platform_register_drivers"}, F::error},
        {"platform_driver_probe", {"__platform_driver_probe"}, F::error},
        {"platform_device_register", {"platform_device_register"}, F::error},
        {"platform_device_add", {"platform_device_add"}, F::error},
        {"platform_device_add_data", {"platform_device_add_data"}, F::error},
        {"platform_device_add_resources", {"platform_device_add_resources"}, F::error},
        {"platform_add_devices", {"platform_add_devices"}, F::error},
        {"pci_register_driver", {"__pci_register_driver"}, F::error},
        {"i2c_register_driver", {"i2c_register_driver"}, F::error},
        {"spi_register_driver", {"__spi_register_driver"}, F::error},
        {"register_virtio_driver",
         {"register_virtio_driver", "__register_virtio_driver"},
         F::error},
        {"sdio_register_driver", {"sdio_register_driver", "__sdio_register_driver"}, F::error},
        {"serio_register_driver", {"__serio_register_driver"}, F::error},
        {"amba_driver_register", {"amba_driver_register", "__amba_driver_register"}, F::error},
        {"auxiliary_driver_register", {"__auxiliary_driver_register"}, F::error},
        {"serdev_device_driver_register", {"__serdev_device_driver_register"}, F::error},
        {"mipi_dsi_driver_register", {"mipi_dsi_driver_register_full"}, F::error},
        {"driver_register", {"driver_register"}, F::error},
        {"driver_attach", {"driver_attach"}, F::error},
        {"driver_create_file", {"driver_create_file"}, F::error},
        {"bus_register", {"bus_register"}, F::error},
        {"class_register", {"class_register", "__class_register"}, F::error},
        {"class_create_file", {"class_create_file_ns"}, F::error},
        {"class_interface_register", {"class_interface_register"}, F::error},
        {"device_add", {"device_add"}, F::error},
        {"device_register", {"device_register"}, F::error},
        {"dev_set_name", {"dev_set_name"}, F::error},
        {"kobject_add", {"kobject_add"}, F::error},
        {"kobject_init_and_add", {"kobject_init_and_add"}, F::error},
        {"kobject_set_name", {"kobject_set_name"}, F::error},
        {"kset_register", {"kset_register"}, F::error},
        {"sysfs_create_file", {"sysfs_create_file_ns"}, F::error},
        {"sysfs_create_group", {"sysfs_create_group"}, F::error},
        {"sysfs_create_groups", {"sysfs_create_groups"}, F::error},
        {"sysfs_create_link", {"sysfs_create_link"}, F::error},
        {"attribute_container_register", {"attribute_container_register"}, F::error},
        {"transport_class_register", {"transport_class_register"}, F::error},
        {"anon_transport_class_register", {"anon_transport_class_register"}, F::error},
        {"input_register_handler", {"input_register_handler"}, F::error},
        {"led_trigger_register", {"led_trigger_register"}, F::error},
        {"cpufreq_register_governor", {"cpufreq_register_governor"}, F::error},
        {"tty_register_driver", {"tty_register_driver"}, F::error},
        {"tty_register_ldisc", {"tty_register_ldisc"}, F::error},
        {"bdi_register", {"bdi_register"}, F::error},
        {"register_filesystem", {"register_filesystem"}, F::error},
        {"register_nls", {"__register_nls"}, F::error},
        {"load_nls", {"load_nls"}, F::null},
        {"dst_cache_init", {"dst_cache_init"}, F::error},
        {"gro_cells_init", {"gro_cells_init"}, F::error},
        {"alloc_cpumask_var", {"alloc_cpumask_var_node"}, F::null},  // false
        {"register_shrinker", {"register_shrinker"}, F::error},
        {"cpuhp_setup_state", {"__cpuhp_setup_state", "__cpuhp_setup_state_cpuslocked"}, F::error},
        {"cpuhp_state_add_instance", {"__cpuhp_state_add_instance"}, F::error},
        {"init_srcu_struct", {"init_srcu_struct"}, F::error},
        {"percpu_counter_init", {"__percpu_counter_init", "__percpu_counter_init_many"}, F::error},
        {"mempool_init", {"mempool_init", "mempool_init_node", "mempool_init_noprof"}, F::error},
        {"request_firmware", {"request_firmware"}, F::error},
        {"request_firmware_nowait", {"request_firmware_nowait"}, F::error},
        {"request_module", {"__request_module"}, F::error},
        {"idr_alloc", {"idr_alloc"}, F::error},
        {"idr_alloc_cyclic", {"idr_alloc_cyclic"}, F::error},
        {"ida_alloc", {"ida_alloc_range"}, F::error},
        {"xa_alloc", {"__xa_alloc"}, F::error},
        {"xa_alloc_cyclic", {"__xa_alloc_cyclic"}, F::error},
        {"xa_insert", {"__xa_insert"}, F::error},
        {"crypto_register_alg", {"crypto_register_alg"}, F::error},
        {"crypto_register_algs", {"crypto_register_algs"}, F::error},
        {"crypto_register_template", {"crypto_register_template"}, F::error},
        {"crypto_register_templates", {"crypto_register_templates"}, F::error},
        {"x509_load_certificate_list", {"x509_load_certificate_list"}, F::error},
        {"register_pernet_subsys", {"register_pernet_subsys"}, F::error},
        {"register_pernet_device", {"register_pernet_device"}, F::error},
        {"register_netdevice_notifier", {"register_netdevice_notifier"}, F::error},
        {"register_netdevice_notifier_net", {"register_netdevice_notifier_net"}, F::error},
        {"rtnl_link_register", {"rtnl_link_register", "__rtnl_link_register"}, F::error},
        {"rtnl_register_module", {"rtnl_register_module"}, F::error},
        {"genl_register_family", {"genl_register_family"}, F::error},
        {"proto_register", {"proto_register"}, F::error},
        {"sock_register", {"sock_register"}, F::error},
        {"sock_diag_register", {"sock_diag_register"}, F::error},
        {"inet6_register_protosw", {"inet6_register_protosw"}, F::error},
        {"nf_register_sockopt", {"nf_register_sockopt"}, F::error},
        {"register_qdisc", {"register_qdisc"}, F::error},
        {"register_tcf_proto_ops", {"register_tcf_proto_ops"}, F::error},
        {"tcf_register_action", {"tcf_register_action"}, F::error},
        {"tcf_em_register", {"tcf_em_register"}, F::error},
        {"tcp_register_congestion_control", {"tcp_register_congestion_control"}, F::error},
        {"textsearch_register", {"textsearch_register"}, F::error},
        {"xfrm_input_register_afinfo", {"xfrm_input_register_afinfo"}, F::error},
        {"cn_add_callback", {"cn_add_callback"}, F::error},
    };
    return t;
}

// Kernel-internal errnos (include/linux/errno.h), which the C library has no names for.
constexpr std::pair<const char*, int> kernel_errnos[] = {
    {"ERESTARTSYS", 512},
    {"ERESTARTNOINTR", 513},
    {"ERESTARTNOHAND", 514},
    {"ENOIOCTLCMD", 515},
    {"ERESTART_RESTARTBLOCK", 516},
    {"EPROBE_DEFER", 517},
    {"EOPENSTALE", 518},
    {"ENOPARAM", 519},
    {"EBADHANDLE", 521},
    {"ENOTSYNC", 522},
    {"EBADCOOKIE", 523},
    {"ENOTSUPP", 524},
    {"ETOOSMALL", 525},
    {"ESERVERFAULT", 526},
    {"EBADTYPE", 527},
    {"EJUKEBOX", 528},
    {"EIOCBQUEUED", 529},
    {"ERECALLCONFLICT", 530},
    {"ENOGRACE", 531},
};
// The highest errno of include/uapi/asm-generic/errno.h (EHWPOISON); arm and arm64 use these
// numbers, as the C library of this host does.
constexpr int max_uapi_errno = 133;

std::string form_string(FailureForm f, int err) {
    switch (f) {
        case F::error:
            return "-" + errno_string(err);
        case F::err_ptr:
            return "ERR_PTR(-" + errno_string(err) + ")";
        case F::null:
            break;
    }
    return "NULL";
}

}  // namespace

const std::vector<FallibleFunction>& fallible_functions() {
    return table();
}

const FallibleFunction* find_fallible(std::string_view name) {
    for (const FallibleFunction& f : table())
        if (f.name == name) return &f;
    for (const FallibleFunction& f : table())
        for (const char* e : f.exports)
            if (e == name) return &f;
    return nullptr;
}

std::optional<int> parse_errno(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (s.front() >= '0' && s.front() <= '9') {
        int v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        // MAX_ERRNO (include/linux/err.h): what IS_ERR_VALUE() takes for an error.
        if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 4095) return std::nullopt;
        return v;
    }
    for (int e = 1; e <= max_uapi_errno; ++e)
        if (const char* n = strerrorname_np(e); n && s == n) return e;
    for (const auto& [n, v] : kernel_errnos)
        if (s == n) return v;
    return std::nullopt;
}

std::string errno_string(int err) {
    if (err >= 1 && err <= max_uapi_errno)
        if (const char* n = strerrorname_np(err)) return n;
    for (const auto& [n, v] : kernel_errnos)
        if (v == err) return n;
    return std::to_string(err);
}

std::optional<FaultSpec> parse_fault_spec(std::string_view text, std::string& error) {
    auto bad = [&](const std::string& why) -> std::optional<FaultSpec> {
        error = "'" + std::string(text) + "': " + why;
        return std::nullopt;
    };
    size_t c1 = text.find(':');
    if (c1 == std::string_view::npos || c1 == 0) return bad("expected NAME:NTH:ERRNO");
    std::string_view name = text.substr(0, c1), rest = text.substr(c1 + 1);
    size_t c2 = rest.find(':');
    std::string_view nth_s = rest.substr(0, c2);
    std::string_view err_s = c2 == std::string_view::npos ? "" : rest.substr(c2 + 1);
    const FallibleFunction* f = find_fallible(name);
    if (!f)
        return bad(std::string(name) +
                   " is not a fallible kernel function kmodemu implements (--fail-list lists "
                   "them)");
    FaultSpec s;
    s.function = f->name;
    auto [p, ec] = std::from_chars(nth_s.data(), nth_s.data() + nth_s.size(), s.nth);
    if (nth_s.empty() || ec != std::errc() || p != nth_s.data() + nth_s.size() || s.nth == 0)
        return bad("NTH must be a call number from 1");
    if (err_s.empty()) {
        if (c2 != std::string_view::npos || f->form != F::null)
            return bad(std::string(f->name) + " fails with an errno: give ERRNO (e.g. EBUSY)");
        s.err = ENOMEM;
        return s;
    }
    if (err_s.front() == '-') err_s.remove_prefix(1);
    std::optional<int> e = parse_errno(err_s);
    if (!e) return bad("ERRNO must be an errno name (EBUSY) or a number from 1 to 4095");
    s.err = *e;
    return s;
}

// --- the hook (Kernel::dispatch) ---

FaultCounters::FaultCounters(uint64_t seed)
    : rng(seed * 0x9e3779b97f4a7c15ull + 0x6b6d6f64656d75ull) {
    if (!rng) rng = 1;
}

double FaultCounters::uniform() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return static_cast<double>((rng * 0x2545f4914f6cdd1dull) >> 11) * 0x1p-53;
}

void Kernel::mark_fallible() {
    for (const FallibleFunction& f : table())
        for (const char* n : f.exports)
            if (Export* e = find_export(n); e && e->is_function) e->fallible = &f;
}

bool Kernel::set_execution(uint64_t seed, const FaultPlan& faults) {
    if (faults_ || random_drawn(*this)) return false;
    config_.seed = seed;
    config_.faults = faults;
    return true;
}

std::optional<uint64_t> Kernel::inject_fault(Export& e, StubCall& call) {
    const FaultPlan& plan = config_.faults;
    if (!faults_) faults_ = std::make_unique<FaultCounters>(plan.seed);
    const FallibleFunction& f = *e.fallible;
    uint64_t nth = ++faults_->calls[f.name];
    uint64_t alloc = f.allocation ? ++faults_->allocations : 0;

    InjectedFault inj;
    for (const FaultSpec& s : plan.fail)
        if (s.function == f.name && s.nth == nth) {
            inj.reason = "--fail";
            inj.err = s.err;
        }
    if (inj.reason.empty() && alloc) {
        inj.err = ENOMEM;
        if (plan.fail_alloc && alloc == plan.fail_alloc)
            inj.reason = "--fail-alloc";
        else if (plan.fail_alloc_every && alloc % plan.fail_alloc_every == 0)
            inj.reason = "--fail-alloc-every";
        // should_fail(): a call fails when the probability (percent) beats the random number.
        else if (plan.probability > 0 && faults_->uniform() * 100.0 < plan.probability)
            inj.reason = "--fail-probability";
    }
    if (plan.record) {
        FallibleCall fc;
        fc.function = f.name;
        fc.export_name = e.name;
        fc.nth = nth;
        fc.caller = call.ret_addr();
        fc.where = symbolize(fc.caller, true).value_or(hex(fc.caller));
        for (const LoadedModule* m : modules)
            if (m->contains(fc.caller)) fc.module = m->name;
        fc.failed = !inj.reason.empty();
        fallible_calls.push_back(std::move(fc));
    }
    if (inj.reason.empty()) return std::nullopt;

    inj.function = f.name;
    inj.export_name = e.name;
    inj.nth = nth;
    inj.allocation = alloc;
    inj.returned = form_string(f.form, inj.err);
    inj.caller = call.ret_addr();
    inj.where = symbolize(inj.caller, true).value_or(hex(inj.caller));
    std::string which = e.name == f.name ? f.name : f.name + std::string(" (") + e.name + ")";
    std::string count = "call " + std::to_string(nth) + " of " + which;
    if (alloc) count += ", allocation " + std::to_string(alloc);
    diag("fault injection (" + inj.reason + "): " + count + " fails: returns " + inj.returned +
         ", from " + inj.where);
    injected_faults.push_back(inj);
    // What the function has done, when it fails, before the point where it can fail: run with
    // the same arguments before the failure is returned. device_register() fails in
    // device_add(), after device_initialize(); kobject_init_and_add() in kobject_add_varg(),
    // after kobject_init(): the caller's error path then puts the object, as the kernel asks
    // ("Always use put_device() to give up the reference initialized in this function
    // instead"), and its release frees it.
    static const std::map<std::string_view, const char*> preludes = {
        {"device_register", "device_initialize"},
        {"kobject_init_and_add", "kobject_init"},
    };
    if (auto it = preludes.find(f.name); it != preludes.end())
        if (Export* pre = find_export(it->second)) pre->fn(call);

    uint64_t v = f.form == F::null ? 0 : static_cast<uint64_t>(-static_cast<int64_t>(inj.err));
    if (word() == 4) v &= 0xffffffffu;
    return v;
}

}  // namespace kmodemu
