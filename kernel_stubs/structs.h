// The kernel structures the emulated kernel reads or writes in guest memory, laid out as the
// target kernel lays them out, with the kernel's constants that go with them. Nothing here is
// written by hand: a kit's KIT/layout.env comes from tools/kit-layout (a probe compiled with the
// kit's own headers, configuration and Kbuild, as the kernel computes its asm-offsets), and the
// default kernel's from the layout.env of its kits, kernel_stubs/exports/layout-ARCH.env
// (tools/gen-default-layout), compiled into the binary.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arch.h"

namespace kmodemu {

struct KernelStructs {
    // Sizes, offsets and values in bytes; `size` is sizeof(struct ...).
    struct Task {  // struct task_struct: what modules read of `current` inline
        uint64_t size, pid, tgid, comm, comm_len, preempt_count;  // thread_info.preempt_count
        uint64_t state;                                           // __state
    } task;
    struct Module {  // struct module (THIS_MODULE); name_len is MODULE_NAME_LEN
        uint64_t size, state, name, name_len, init, exit, refcnt;
    } module;
    struct ModuleStates {  // enum module_state
        uint64_t live, coming, going, unformed;
    } module_state;
    struct ModversionInfo {  // struct modversion_info, the entries of __versions
        uint64_t size, crc, name;
    } modversion_info;
    struct KernelParam {  // struct kernel_param (__param); fl_unsafe: KERNEL_PARAM_FL_UNSAFE
        uint64_t size, name, mod, ops, perm, level, flags, arg, fl_unsafe;
    } kernel_param;
    struct KernelParamOps {  // struct kernel_param_ops; fl_noarg: KERNEL_PARAM_OPS_FL_NOARG
        uint64_t size, flags, set, get, free, fl_noarg;
    } kernel_param_ops;
    struct KparamString {
        uint64_t size, maxlen, string;
    } kparam_string;
    struct KparamArray {
        uint64_t size, max, elemsize, num, ops, elem;
    } kparam_array;
    struct NotifierBlock {
        uint64_t size, notifier_call, next, priority;
    } notifier_block;
    struct NotifierHead {  // where the chain's first notifier_block pointer is
        uint64_t size, head;
    } atomic_notifier_head, blocking_notifier_head, raw_notifier_head;
    struct Mutex {
        uint64_t size, owner, wait_list;
    } mutex;
    struct RwSemaphore {
        uint64_t size, count, owner, wait_list;
    } rwsem;
    struct ListHead {  // and LIST_POISON1, LIST_POISON2 (with POISON_POINTER_DELTA)
        uint64_t size, next, prev, poison1, poison2;
    } list_head;
    struct BugEntry {  // struct bug_entry; relative: CONFIG_GENERIC_BUG_RELATIVE_POINTERS
        uint64_t size, relative, addr, file, line, flags;
    } bug_entry;
    struct BugFlags {  // BUGFLAG_*
        uint64_t warning, once, done, no_cut_here;
    } bugflag;
    struct VaFormat {  // struct va_format (%pV)
        uint64_t size, fmt, va;
    } va_format;
    struct Kmalloc {  // KMALLOC_MIN_SIZE, KMALLOC_SHIFT_HIGH, NR_KMALLOC_TYPES
        uint64_t min_size, shift_high, nr_types;
    } kmalloc;
    struct KmemCacheArgs {  // 6.12's struct kmem_cache_args; size 0: the kernel has none
        uint64_t size, align, ctor;
    } kmem_cache_args;
    struct BusType {  // struct bus_type
        uint64_t size, name, match, probe, remove;
    } bus_type;
    struct Class {  // struct class
        uint64_t size, name;
    } class_;
    struct DeviceDriver {  // struct device_driver; and enum probe_type's values
        uint64_t size, name, bus, owner, mod_name, probe, remove, probe_type, suppress_bind_attrs;
        uint64_t probe_prefer_async, probe_force_sync, shutdown;
    } device_driver;
    struct BusDrivers {  // where struct platform_driver, i2c_driver and pci_driver hold theirs
        uint64_t platform_driver, i2c_driver, pci_driver, pci_driver_name;
    } bus_drivers;
    struct Dentry {
        uint64_t size;
    } dentry;
    struct Vfs {  // the VFS core: file_system_type, fs_context, super_block, inode, dentry,
                  // vfsmount and their operations, with the flag values the VFS sets
        uint64_t file_system_type_fs_flags, file_system_type_init_fs_context,
            file_system_type_mount, file_system_type_kill_sb, fs_context_size, fs_context_ops,
            fs_context_fs_type, fs_context_fs_private, fs_context_s_fs_info, fs_context_root,
            fs_context_user_ns, fs_context_net_ns, fs_context_source, fs_context_sb_flags,
            fs_context_operations_free, fs_context_operations_parse_param,
            fs_context_operations_parse_monolithic, fs_context_operations_get_tree,
            pseudo_fs_context_size, pseudo_fs_context_ops, pseudo_fs_context_xattr,
            pseudo_fs_context_dops, pseudo_fs_context_magic, super_block_size, super_block_s_dev,
            super_block_s_blocksize_bits, super_block_s_blocksize, super_block_s_maxbytes,
            super_block_s_type, super_block_s_op, super_block_s_flags, super_block_s_magic,
            super_block_s_root, super_block_s_umount, super_block_s_xattr, super_block_s_bdi,
            super_block_s_fs_info, super_block_s_time_gran, super_block_s_time_min,
            super_block_s_time_max, super_block_s_id, super_block_s_id_len, super_block_s_d_op,
            super_block_s_user_ns, super_operations_size, super_operations_alloc_inode,
            super_operations_destroy_inode, super_operations_free_inode,
            super_operations_drop_inode, super_operations_evict_inode, super_operations_put_super,
            sb_active, sb_born, sb_nouser, sb_kernmount, inode_size, inode_i_mode, inode_i_opflags,
            inode_i_flags, inode_i_op, inode_i_sb, inode_i_mapping, inode_i_ino, inode_i_nlink,
            inode_i_rdev, inode_i_size, inode_i_atime_sec, inode_i_atime_nsec, inode_i_mtime_sec,
            inode_i_mtime_nsec, inode_i_ctime_sec, inode_i_ctime_nsec, inode_i_blkbits,
            inode_i_state, inode_i_count, inode_i_fop, inode_i_data, inode_i_private,
            address_space_host, address_space_a_ops, inode_operations_size, inode_operations_lookup,
            inode_operations_get_link, file_operations_size, address_space_operations_size,
            iop_lookup, iop_nofollow, s_automount, i_freeing, i_clear, dentry_d_flags,
            dentry_d_parent, dentry_d_name, dentry_d_inode, dentry_d_iname, dentry_d_iname_len,
            dentry_d_lockref, dentry_d_op, dentry_d_sb, dentry_d_fsdata, lockref_count, qstr_hash,
            qstr_len, qstr_name, dentry_operations_d_revalidate,
            dentry_operations_d_weak_revalidate, dentry_operations_d_hash,
            dentry_operations_d_compare, dentry_operations_d_delete, dentry_operations_d_init,
            dentry_operations_d_release, dentry_operations_d_prune, dentry_operations_d_iput,
            dentry_operations_d_real, dcache_op_hash, dcache_op_compare, dcache_op_revalidate,
            dcache_op_delete, dcache_op_prune, dcache_op_weak_revalidate, dcache_op_real,
            dcache_entry_type, dcache_miss_type, dcache_directory_type, dcache_autodir_type,
            dcache_regular_type, dcache_special_type, dcache_symlink_type, dcache_need_automount,
            dcache_genocide, vfsmount_size, vfsmount_mnt_root, vfsmount_mnt_sb, vfsmount_mnt_flags,
            mnt_internal;
    } vfs;
    uint64_t minorbits = 0;  // MINORBITS (dev_t = major << MINORBITS | minor)
    struct Device {          // struct device; kobj_name, kobj_kref: its kobject's name and kref
        uint64_t size, kobj_name, kobj_kref, parent, init_name, type, bus, driver, driver_data,
            devt, class_, release;
        uint64_t type_release;       // struct device_type's release
        uint64_t class_dev_release;  // struct class's dev_release
        uint64_t platform_data, of_node, fwnode, dma_mask, coherent_dma_mask;
    } device;
    struct PlatformDevice {  // struct platform_device; driver_override: where its name is
        uint64_t size, name, id, id_auto, dev, platform_dma_mask, num_resources, resource, id_entry,
            driver_override, mfd_cell;
        uint64_t devid_none, devid_auto;  // PLATFORM_DEVID_NONE, PLATFORM_DEVID_AUTO
    } platform_device;
    struct PlatformDeviceInfo {  // struct platform_device_info
        uint64_t parent, fwnode, name, id, res, num_res, data, size_data, dma_mask, properties;
    } platform_device_info;
    struct PlatformDriver {  // struct platform_driver (its driver: bus_drivers); platform_device_id
        uint64_t probe, remove, remove_new, id_table, prevent_deferred_probe;
        uint64_t id_size, id_name, id_name_len;
    } platform_driver;
    struct Resource {  // struct resource, the IORESOURCE_* bits; IO_SPACE_LIMIT
        uint64_t size, start, end, name, flags, desc, parent, sibling, child, type_bits, io, mem,
            busy, muxed, io_space_limit, irq;
    } resource;
    struct TransportClass {  // transport_class, anon_transport_class, attribute_container
        uint64_t class_, setup, remove, anon_tclass, anon_container, container_class,
            container_flags, no_classdevs;
    } transport_class;
    struct TtyDriver {  // struct tty_driver, tty_operations' proc_show, TTY_DRIVER_* flags
        uint64_t size, kref, owner, driver_name, name, major, minor_start, num, flags, ttys, ports,
            termios, cdevs, ops, ops_proc_show;
        uint64_t installed, devpts_mem, dynamic_dev, dynamic_alloc, unnumbered_node;
    } tty_driver;
    struct Ktermios {  // struct ktermios; std_*: tty_std_termios's flags
        uint64_t size, c_iflag, c_oflag, c_cflag, c_lflag, c_cc, c_cc_len, c_ispeed, c_ospeed;
        uint64_t std_iflag, std_oflag, std_cflag, std_lflag;
    } ktermios;
    struct BusDriverFields {  // the struct device_driver of serio, virtio and AMBA drivers
        uint64_t serio_driver, serio_manual_bind, virtio_driver, virtio_feature_table,
            virtio_feature_table_size, amba_drv, amba_probe, sdio_name, sdio_drv;
    } bus_driver_fields;
    struct DsiSerdevAuxDrivers {  // struct mipi_dsi_driver, serdev_device_driver, auxiliary_driver
        uint64_t mipi_dsi_driver, mipi_dsi_probe, mipi_dsi_remove, mipi_dsi_shutdown;
        uint64_t serdev_driver;
        uint64_t auxiliary_driver, auxiliary_probe, auxiliary_name, auxiliary_id_table;
    } dsi_serdev_aux;
    struct TtyLdisc {  // struct tty_ldisc_ops' num; N_TTY and NR_LDISCS
        uint64_t ops_num, n_tty, nr_ldiscs;
    } tty_ldisc;
    struct ClassInterface {  // struct class_interface
        uint64_t class_, add_dev, remove_dev;
    } class_interface;
    struct Cdev {
        uint64_t size, ops, list, dev, count;
    } cdev;
    struct Miscdevice {
        uint64_t minor, name, list, this_device;
    } miscdevice;
    struct LedTrigger {
        uint64_t size, name;
    } led_trigger;
    struct PernetOperations {
        uint64_t init, exit, id, size;
    } pernet_ops;
    struct Net {  // struct net; generic_ptr: offsetof(struct net_generic, ptr)
        uint64_t size, gen, generic_ptr, generic_size;
    } net;
    struct Sock {
        uint64_t size;
    } sock;
    struct NetDevice {  // struct net_device; ops_size: sizeof(struct net_device_ops);
                        // net_dev_base_head: struct net's list of them
        uint64_t size, name, ifindex, flags, type, mtu, nd_net, dev_addr, addr_len, netdev_ops,
            ops_size, dev_list, net_dev_base_head;
        // alloc_netdev_mqs(), register_netdevice(), unregistration and ether_setup(): priv is
        // netdev_priv()'s offset, priv_len 6.12's field (0: none); priv_flags' low 32 bits
        uint64_t ndo_init, ndo_uninit, tx_queue_len, num_tx_queues, real_num_tx_queues, tx,
            num_rx_queues, real_num_rx_queues, rx, queue_size, queue_dev, rx_queue_size,
            rx_queue_dev, name_assign_type, ethtool_ops, ethtool_ops_size, reg_state,
            needs_free_netdev, priv_destructor, unreg_list, rtnl_link_ops, header_ops,
            hard_header_len, min_header_len, min_mtu, max_mtu, broadcast, priv_flags, priv,
            priv_len, iff_xmit_dst_release, iff_xmit_dst_release_perm, iff_tx_skb_sharing,
            iff_no_queue, state, link_state_present, netdev_post_init, header_ops_size, pcpu_refcnt;
    } net_device;
    struct NetdevNotifier {  // struct netdev_notifier_info, and enum netdev_cmd's events
        uint64_t info_size, info_dev, up, down, going_down, register_, unregister;
    } netdev_notifier;
    struct MatchToken {  // lib/parser.c: struct match_token, substring_t, MAX_OPT_ARGS
        uint64_t size, token, pattern, from, to, max_opt_args;
    } match_token;
    struct TcpUlpOps {  // struct tcp_ulp_ops: its name (a char array)
        uint64_t name, name_len;
    } tcp_ulp_ops;
    struct NfsSscClientOpsTbl {  // fs/nfs_common/nfs_ssc.c's exported table
        uint64_t size, nfs4_ops, nfs_ops;
    } nfs_ssc_client_ops_tbl;
    struct Cred {  // struct cred, and where struct task_struct points at its credentials
        uint64_t size, usage, usage_size, user_ns, task_cred, task_real_cred;
    } cred;
    struct RbNode {  // struct rb_node
        uint64_t parent_color, right, left;
    } rb_node;
    struct RtnlLinkOps {
        uint64_t kind, maxtype, slave_maxtype, alloc, setup, dellink;
    } rtnl_link_ops;
    struct RtnlMsgHandler {  // 6.12's struct rtnl_msg_handler (size 0 before)
        uint64_t size, protocol, msgtype, doit;
    } rtnl_msg_handler;
    uint64_t skb_drop_reason_subsys_num;  // SKB_DROP_REASON_SUBSYS_NUM (0 before 6.6)
    struct QdiscOps {  // struct Qdisc_ops, and the struct Qdisc_class_ops fields register_qdisc
                       // checks
        uint64_t next, cl_ops, id, id_len, enqueue, dequeue, peek;
        uint64_t cl_find, cl_walk, cl_leaf, cl_tcf_block, cl_bind_tcf, cl_unbind_tcf;
    } qdisc_ops;
    struct TcActionOps {
        uint64_t kind, kind_len, id, act, dump, init;
    } tc_action_ops;
    struct TcfOps {  // struct tcf_proto_ops' kind[]; struct tcf_ematch_ops' kind and match
        uint64_t proto_kind, proto_kind_len, ematch_kind, ematch_match;
    } tcf_ops;
    struct TcpCongestionOps {
        uint64_t name, name_len, key, ssthresh, undo_cwnd, cong_avoid, cong_control;
    } tcp_congestion_ops;
    struct NfSockoptOps {  // struct nf_sockopt_ops' protocol family and option ranges
        uint64_t pf, set_optmin, set_optmax, get_optmin, get_optmax;
    } nf_sockopt_ops;
    struct SockDiag {  // struct sock_diag_handler's family, and AF_MAX
        uint64_t family, af_max;
    } sock_diag;
    struct Genl {  // struct genl_family and its ops, small ops, split ops (6.2+; split_size 0
                   // before) and multicast groups (net/genetlink.h)
        uint64_t id, name, mcgrp_offset, n_ops, n_small_ops, n_split_ops, n_mcgrps, resv_start_op,
            ops, small_ops, split_ops, mcgrps;
        uint64_t ops_size, ops_doit, ops_dumpit, ops_cmd, ops_validate;
        uint64_t small_size, small_doit, small_dumpit, small_cmd, small_validate;
        uint64_t split_size, split_cmd, split_internal_flags, split_flags, split_validate;
        uint64_t mcgrp_size, mcgrp_name;
    } genl;
    struct Proto {  // struct proto, and its request_sock_ops (rsk_) and timewait_sock_ops (tw_)
        uint64_t name, obj_size, slab_flags, useroffset, usersize, slab, rsk_prot, twsk_prot,
            memory_allocated, sysctl_mem, per_cpu_fw_alloc, inuse_idx;
        uint64_t rsk_obj_size, rsk_slab, rsk_slab_name, tw_obj_size, tw_slab, tw_slab_name;
    } proto;
    struct NetProtos {  // struct net_proto_family's family; struct inet_protosw, SOCK_MAX
        uint64_t family_family, protosw_type, protosw_protocol, protosw_flags, sock_max;
    } net_protos;
    struct UserNs {  // sizeof(struct user_namespace); where struct net points to its own
        uint64_t size, net_user_ns;
    } user_ns;
    struct TsOps {  // struct ts_ops (lib/textsearch.c)
        uint64_t name, init, find, get_pattern, get_pattern_len;
    } ts_ops;
    struct OfMatch {  // device_driver.of_match_table; struct of_device_id: name[], type[],
                      // compatible[], data
        uint64_t table, size, compatible, compatible_len, data, name, type, name_len;
    } of_match;
    struct DeviceNode {  // struct device_node, its fwnode_handle's ops; struct property
        uint64_t size, name, full_name, properties, fwnode, fwnode_ops;
        uint64_t prop_size, prop_name, prop_length, prop_value, prop_next;
    } device_node;
    struct Spi {  // struct spi_driver's driver and id_table; struct spi_device_id and its name[]
        uint64_t driver, id_table, id_size, id_name, id_name_len;
    } spi;
    struct Nls {  // struct nls_table
        uint64_t charset, owner, alias, uni2char, char2uni, charset2lower, charset2upper, size;
    } nls;
    struct DstCache {  // struct dst_cache
        uint64_t cache, reset_ts;
    } dst_cache;
    struct GroCells {  // struct gro_cells
        uint64_t cells;
    } gro_cells;
    struct QuotaFormatType {  // struct quota_format_type
        uint64_t qf_next;
    } quota_format_type;
    struct ListLru {  // struct list_lru, its struct list_lru_node and list_lru_one; shrinker.id
        uint64_t node, shrinker_id, memcg_aware, xa, node_size, node_lru, node_nr_items,
            one_nr_items, shrinker_id_of_shrinker;
    } list_lru;
    struct Tasklet {  // struct tasklet_struct
        uint64_t next, state, count, use_callback, func, data;
    } tasklet;
    struct TimerList {  // struct timer_list: entry.pprev (non-NULL while pending), function, flags
        uint64_t pprev, function, flags, expires;
    } timer_list;
    struct Work {  // struct work_struct and struct delayed_work
        uint64_t data, entry, func, dwork_work, dwork_timer, dwork_wq, dwork_cpu;
    } work;
    struct WaitQueueHead {  // struct wait_queue_head: its spinlock and list of entries
        uint64_t lock, head;
    } wait_queue_head;
    struct WaitQueueEntry {  // struct wait_queue_entry: flags, the task (private), func, entry
        uint64_t flags, private_, func, entry;
    } wait_queue_entry;
    struct Xarray {  // struct xarray: its flags and head; XA_FLAGS_TRACK_FREE, XA_FLAGS_ZERO_BUSY
        uint64_t flags, head, track_free, zero_busy;
    } xarray;
    struct Kobject {  // struct kobject, kobj_type, kset; struct shrinker's size
        uint64_t size, name, parent, kset, ktype, kref, entry, ktype_release, kset_size, kset_kobj,
            kset_list, shrinker_size;
    } kobject;
    struct Sysfs {  // struct attribute, attribute_group, bin_attribute
        uint64_t attr_name, group_name, group_is_visible, group_attrs, group_bin_attrs,
            bin_attr_attr;
    } sysfs;
    struct Uevent {  // the uevent callbacks of struct bus_type, class and device_type
        uint64_t bus, class_dev, type;
    } uevent;
    struct PercpuCounter {  // struct percpu_counter
        uint64_t size, count, counters;
    } percpu_counter;
    struct XfrmInputAfinfo {  // struct xfrm_input_afinfo: u8 family, bool is_ipip
        uint64_t family, is_ipip;
    } xfrm_input_afinfo;
    struct XfrmType {  // the u8 proto of struct xfrm_type and of struct xfrm_type_offload; the
                       // next and priority of struct xfrm4_protocol and struct xfrm6_protocol
        uint64_t proto, offload_proto, v4_next, v4_priority, v6_next, v6_priority;
    } xfrm_type;
    struct Rhashtable {  // struct rhashtable, struct rhashtable_params (params_*) and struct
                         // bucket_table (table_*: its header size, size, hash_rnd, walkers and
                         // buckets[])
        uint64_t size, tbl, key_len, max_elems, p, rhlist, run_work, mutex, nelems;
        uint64_t params_size, params_nelem_hint, params_key_len, params_head_offset,
            params_max_size, params_min_size, params_hashfn, params_obj_hashfn, params_obj_cmpfn;
        uint64_t table_size, table_nbuckets, table_hash_rnd, table_walkers, table_buckets;
    } rhashtable;
    struct InetFrags {  // struct inet_frags, and struct fqdir (fqdir_*)
        uint64_t qsize, cache_name, cachep, rhash_params, refcnt, completion;
        uint64_t fqdir_size, fqdir_f, fqdir_net, fqdir_rhashtable, fqdir_destroy_work;
    } inet_frags;
    struct Key {  // struct key (security/keys): its size, usage count and description
        uint64_t size, usage, description, type_name;  // type_name: struct key_type's name
        uint64_t flags, flag_revoked;                  // key->flags, KEY_FLAG_REVOKED (a bit)
    } key;
    struct Idr {  // where struct ida's and struct idr's xarray head is, idr_base, idr_next
        uint64_t ida_xa_head, idr_xa_head, idr_base, idr_next;
    } idr;
    struct SwaitQueueHead {  // struct swait_queue_head: its lock, then task_list
        uint64_t task_list;
    } swait_queue_head;
    struct CryptoAlg {  // struct crypto_alg; name_len: CRYPTO_MAX_ALG_NAME
        uint64_t size, flags, blocksize, alignmask, priority, refcnt, name, driver_name, name_len,
            type;
    } crypto_alg;
    struct CryptoConsts {  // CRYPTO_ALG_TYPE_*, MAX_ALGAPI_*, MAX_CIPHER_*, HASH_MAX_*, PAGE_SIZE
        uint64_t type_mask, type_cipher, type_aead, type_skcipher, type_akcipher, type_kpp,
            type_scompress, type_rng, type_shash, type_ahash;
        uint64_t max_algapi_alignmask, max_algapi_blocksize, max_cipher_alignmask,
            max_cipher_blocksize;
        uint64_t hash_max_digestsize, hash_max_descsize, hash_max_statesize, page_size;
    } crypto;
    struct CryptoTypes {  // the algorithm structures of each type: size, where their crypto_alg is
        uint64_t shash_size, shash_base, shash_digestsize, shash_descsize, shash_statesize,
            shash_export, shash_import;
        uint64_t ahash_size, ahash_base, ahash_digestsize, ahash_statesize;
        uint64_t skcipher_size, skcipher_base, skcipher_ivsize, skcipher_chunksize,
            skcipher_walksize;
        uint64_t aead_size, aead_base, aead_ivsize, aead_maxauthsize, aead_chunksize;
        uint64_t kpp_base, akcipher_base, rng_size, rng_base, rng_seedsize, scomp_size, scomp_base;
        uint64_t template_size, template_name;  // struct crypto_template
    } crypto_types;
    struct Hwcaps {  // arm64's KERNEL_HWCAP_* of the features of the oracle's CPU (Cortex-A57)
        uint64_t fp, asimd, evtstrm, aes, pmull, sha1, sha2, crc32, cpuid;
    } hwcap;
    struct Mempool {  // mempool_t (struct mempool_s)
        uint64_t size, lock, min_nr, curr_nr, elements, pool_data, alloc, free, wait;
    } mempool;
    struct BackingDevInfo {  // struct backing_dev_info, BDI_CAP_*, VM_READAHEAD_PAGES
        uint64_t size, capabilities, ra_pages, io_pages, dev, dev_name, dev_name_len;
        uint64_t cap_writeback, cap_writeback_acct, vm_readahead_pages;
    } backing_dev_info;
    struct Cpuhp {  // enum cpuhp_state: the bounds and the dynamic ranges
        uint64_t offline, online, ap_online_dyn, ap_online_dyn_end, bp_prepare_dyn,
            bp_prepare_dyn_end;
    } cpuhp;
    struct CpufreqGovernor {  // struct cpufreq_governor: its name[CPUFREQ_NAME_LEN]
        uint64_t name, name_len;
    } cpufreq_governor;
    uint64_t pci_iobase;             // PCI_IOBASE: where inb()/outb() find the PCI I/O space
    uint64_t jump_entry_size;        // sizeof(struct jump_entry) (__jump_table)
    uint64_t zpool_driver_refcount;  // struct zpool_driver: refcount
    // struct page, and the linear map: PAGE_OFFSET; arm64's VMEMMAP_START (SPARSEMEM_VMEMMAP)
    struct Page {
        uint64_t size, flags, refcount, page_offset, vmemmap_start;
        uint64_t gfp_comp, gfp_nowarn;  // __GFP_COMP, __GFP_NOWARN
    } page;
    struct ArmDelayOps {  // ARM's struct arm_delay_ops (arch/arm/include/asm/delay.h)
        uint64_t size, delay, const_udelay, udelay, ticks_per_jiffy;
    } arm_delay_ops;

    // Calls f(key, field, only) for every field: its key in layout.env without the KIT_ prefix
    // (tools/kit-layout's name), and the one architecture that has it, if only one does.
    template <class Self, class F>
    static constexpr void visit(Self& s, F&& f);

    // From the KIT_* lines of a layout.env (`where` names it in errors). Every key of the
    // architecture must be there: a layout.env made by an older tools/kit-layout is refused.
    static KernelStructs from_env(const std::map<std::string, std::string>& env, Arch arch,
                                  const std::string& where);
    // The default kernel's, compiled in from kernel_stubs/exports/layout-ARCH.env: the layout
    // of its kernel of `version` (KERNEL_VERSION(major, minor, 0)), or of its first kernel when
    // it has none of that version (or `version` is 0).
    static const KernelStructs& defaults(Arch arch, unsigned version = 0);
    // The version defaults(arch, version) is the layout of.
    static unsigned default_version(Arch arch, unsigned version = 0);
};

// One KIT_<key>=value line of a layout.env compiled into the binary (kernel_stubs/exports/
// embed.cmake): the key without KIT_, the value as the probe printed it (signed).
struct LayoutValue {
    const char* key;
    int64_t value;
};
struct EmbeddedLayout {
    const LayoutValue* values;
    size_t count;
    const char* kernel;  // the kit it is the layout of: "6.1.0-57-arm64 (Debian 6.1.192-3)"
};
struct EmbeddedLayouts {
    const EmbeddedLayout* layouts;  // the first: the default kernel's own
    size_t count;
};
extern const EmbeddedLayouts default_layouts_arm64;
extern const EmbeddedLayouts default_layouts_arm;

template <class Self, class F>
constexpr void KernelStructs::visit(Self& s, F&& f) {
    constexpr std::optional<Arch> all;
    f("TASK_STRUCT_SIZE", s.task.size, all);
    f("TASK_PID", s.task.pid, all);
    f("TASK_TGID", s.task.tgid, all);
    f("TASK_COMM", s.task.comm, all);
    f("TASK_PREEMPT_COUNT", s.task.preempt_count, all);
    f("TASK_COMM_LEN", s.task.comm_len, all);
    f("TASK_STATE", s.task.state, all);

    f("MODULE_SIZE", s.module.size, all);
    f("MODULE_STATE", s.module.state, all);
    f("MODULE_NAME", s.module.name, all);
    f("MODULE_NAME_LEN", s.module.name_len, all);
    f("MODULE_INIT", s.module.init, all);
    f("MODULE_EXIT", s.module.exit, all);
    f("MODULE_REFCNT", s.module.refcnt, all);
    f("MODULE_STATE_LIVE", s.module_state.live, all);
    f("MODULE_STATE_COMING", s.module_state.coming, all);
    f("MODULE_STATE_GOING", s.module_state.going, all);
    f("MODULE_STATE_UNFORMED", s.module_state.unformed, all);

    f("MODVERSION_INFO_SIZE", s.modversion_info.size, all);
    f("MODVERSION_INFO_CRC", s.modversion_info.crc, all);
    f("MODVERSION_INFO_NAME", s.modversion_info.name, all);

    f("KERNEL_PARAM_SIZE", s.kernel_param.size, all);
    f("KERNEL_PARAM_NAME", s.kernel_param.name, all);
    f("KERNEL_PARAM_MOD", s.kernel_param.mod, all);
    f("KERNEL_PARAM_OPS", s.kernel_param.ops, all);
    f("KERNEL_PARAM_PERM", s.kernel_param.perm, all);
    f("KERNEL_PARAM_LEVEL", s.kernel_param.level, all);
    f("KERNEL_PARAM_FLAGS", s.kernel_param.flags, all);
    f("KERNEL_PARAM_ARG", s.kernel_param.arg, all);
    f("KERNEL_PARAM_FL_UNSAFE", s.kernel_param.fl_unsafe, all);
    f("KERNEL_PARAM_OPS_SIZE", s.kernel_param_ops.size, all);
    f("KERNEL_PARAM_OPS_FLAGS", s.kernel_param_ops.flags, all);
    f("KERNEL_PARAM_OPS_SET", s.kernel_param_ops.set, all);
    f("KERNEL_PARAM_OPS_GET", s.kernel_param_ops.get, all);
    f("KERNEL_PARAM_OPS_FREE", s.kernel_param_ops.free, all);
    f("KERNEL_PARAM_OPS_FL_NOARG", s.kernel_param_ops.fl_noarg, all);
    f("KPARAM_STRING_SIZE", s.kparam_string.size, all);
    f("KPARAM_STRING_MAXLEN", s.kparam_string.maxlen, all);
    f("KPARAM_STRING_STRING", s.kparam_string.string, all);
    f("KPARAM_ARRAY_SIZE", s.kparam_array.size, all);
    f("KPARAM_ARRAY_MAX", s.kparam_array.max, all);
    f("KPARAM_ARRAY_ELEMSIZE", s.kparam_array.elemsize, all);
    f("KPARAM_ARRAY_NUM", s.kparam_array.num, all);
    f("KPARAM_ARRAY_OPS", s.kparam_array.ops, all);
    f("KPARAM_ARRAY_ELEM", s.kparam_array.elem, all);

    f("NOTIFIER_BLOCK_SIZE", s.notifier_block.size, all);
    f("NOTIFIER_BLOCK_CALL", s.notifier_block.notifier_call, all);
    f("NOTIFIER_BLOCK_NEXT", s.notifier_block.next, all);
    f("NOTIFIER_BLOCK_PRIORITY", s.notifier_block.priority, all);
    f("ATOMIC_NOTIFIER_HEAD_SIZE", s.atomic_notifier_head.size, all);
    f("ATOMIC_NOTIFIER_HEAD_HEAD", s.atomic_notifier_head.head, all);
    f("BLOCKING_NOTIFIER_HEAD_SIZE", s.blocking_notifier_head.size, all);
    f("BLOCKING_NOTIFIER_HEAD_HEAD", s.blocking_notifier_head.head, all);
    f("RAW_NOTIFIER_HEAD_SIZE", s.raw_notifier_head.size, all);
    f("RAW_NOTIFIER_HEAD_HEAD", s.raw_notifier_head.head, all);

    f("MUTEX_SIZE", s.mutex.size, all);
    f("MUTEX_OWNER", s.mutex.owner, all);
    f("MUTEX_WAIT_LIST", s.mutex.wait_list, all);
    f("RW_SEMAPHORE_SIZE", s.rwsem.size, all);
    f("RW_SEMAPHORE_COUNT", s.rwsem.count, all);
    f("RW_SEMAPHORE_OWNER", s.rwsem.owner, all);
    f("RW_SEMAPHORE_WAIT_LIST", s.rwsem.wait_list, all);

    f("LIST_HEAD_SIZE", s.list_head.size, all);
    f("LIST_HEAD_NEXT", s.list_head.next, all);
    f("LIST_HEAD_PREV", s.list_head.prev, all);
    f("LIST_POISON1", s.list_head.poison1, all);
    f("LIST_POISON2", s.list_head.poison2, all);

    f("BUG_ENTRY_SIZE", s.bug_entry.size, all);
    f("BUG_ENTRY_RELATIVE", s.bug_entry.relative, all);
    f("BUG_ENTRY_ADDR", s.bug_entry.addr, all);
    f("BUG_ENTRY_FILE", s.bug_entry.file, all);
    f("BUG_ENTRY_LINE", s.bug_entry.line, all);
    f("BUG_ENTRY_FLAGS", s.bug_entry.flags, all);
    f("BUGFLAG_WARNING", s.bugflag.warning, all);
    f("BUGFLAG_ONCE", s.bugflag.once, all);
    f("BUGFLAG_DONE", s.bugflag.done, all);
    f("BUGFLAG_NO_CUT_HERE", s.bugflag.no_cut_here, all);

    f("VA_FORMAT_SIZE", s.va_format.size, all);
    f("VA_FORMAT_FMT", s.va_format.fmt, all);
    f("VA_FORMAT_VA", s.va_format.va, all);

    f("KMALLOC_MIN_SIZE", s.kmalloc.min_size, all);
    f("KMALLOC_SHIFT_HIGH", s.kmalloc.shift_high, all);
    f("NR_KMALLOC_TYPES", s.kmalloc.nr_types, all);
    f("KMEM_CACHE_ARGS_SIZE", s.kmem_cache_args.size, all);
    f("KMEM_CACHE_ARGS_ALIGN", s.kmem_cache_args.align, all);
    f("KMEM_CACHE_ARGS_CTOR", s.kmem_cache_args.ctor, all);

    f("BUS_TYPE_SIZE", s.bus_type.size, all);
    f("BUS_TYPE_NAME", s.bus_type.name, all);
    f("CLASS_SIZE", s.class_.size, all);
    f("CLASS_NAME", s.class_.name, all);
    f("DEVICE_DRIVER_SIZE", s.device_driver.size, all);
    f("DEVICE_DRIVER_NAME", s.device_driver.name, all);
    f("DEVICE_DRIVER_BUS", s.device_driver.bus, all);
    f("DEVICE_DRIVER_OWNER", s.device_driver.owner, all);
    f("DEVICE_DRIVER_MOD_NAME", s.device_driver.mod_name, all);
    f("PLATFORM_DRIVER_DRIVER", s.bus_drivers.platform_driver, all);
    f("I2C_DRIVER_DRIVER", s.bus_drivers.i2c_driver, all);
    f("PCI_DRIVER_NAME", s.bus_drivers.pci_driver_name, all);
    f("PCI_DRIVER_DRIVER", s.bus_drivers.pci_driver, all);
    f("DENTRY_SIZE", s.dentry.size, all);
    f("FILE_SYSTEM_TYPE_FS_FLAGS", s.vfs.file_system_type_fs_flags, all);
    f("FILE_SYSTEM_TYPE_INIT_FS_CONTEXT", s.vfs.file_system_type_init_fs_context, all);
    f("FILE_SYSTEM_TYPE_MOUNT", s.vfs.file_system_type_mount, all);
    f("FILE_SYSTEM_TYPE_KILL_SB", s.vfs.file_system_type_kill_sb, all);
    f("FS_CONTEXT_SIZE", s.vfs.fs_context_size, all);
    f("FS_CONTEXT_OPS", s.vfs.fs_context_ops, all);
    f("FS_CONTEXT_FS_TYPE", s.vfs.fs_context_fs_type, all);
    f("FS_CONTEXT_FS_PRIVATE", s.vfs.fs_context_fs_private, all);
    f("FS_CONTEXT_S_FS_INFO", s.vfs.fs_context_s_fs_info, all);
    f("FS_CONTEXT_ROOT", s.vfs.fs_context_root, all);
    f("FS_CONTEXT_USER_NS", s.vfs.fs_context_user_ns, all);
    f("FS_CONTEXT_NET_NS", s.vfs.fs_context_net_ns, all);
    f("FS_CONTEXT_SOURCE", s.vfs.fs_context_source, all);
    f("FS_CONTEXT_SB_FLAGS", s.vfs.fs_context_sb_flags, all);
    f("FS_CONTEXT_OPERATIONS_FREE", s.vfs.fs_context_operations_free, all);
    f("FS_CONTEXT_OPERATIONS_PARSE_PARAM", s.vfs.fs_context_operations_parse_param, all);
    f("FS_CONTEXT_OPERATIONS_PARSE_MONOLITHIC", s.vfs.fs_context_operations_parse_monolithic, all);
    f("FS_CONTEXT_OPERATIONS_GET_TREE", s.vfs.fs_context_operations_get_tree, all);
    f("PSEUDO_FS_CONTEXT_SIZE", s.vfs.pseudo_fs_context_size, all);
    f("PSEUDO_FS_CONTEXT_OPS", s.vfs.pseudo_fs_context_ops, all);
    f("PSEUDO_FS_CONTEXT_XATTR", s.vfs.pseudo_fs_context_xattr, all);
    f("PSEUDO_FS_CONTEXT_DOPS", s.vfs.pseudo_fs_context_dops, all);
    f("PSEUDO_FS_CONTEXT_MAGIC", s.vfs.pseudo_fs_context_magic, all);
    f("SUPER_BLOCK_SIZE", s.vfs.super_block_size, all);
    f("SUPER_BLOCK_S_DEV", s.vfs.super_block_s_dev, all);
    f("SUPER_BLOCK_S_BLOCKSIZE_BITS", s.vfs.super_block_s_blocksize_bits, all);
    f("SUPER_BLOCK_S_BLOCKSIZE", s.vfs.super_block_s_blocksize, all);
    f("SUPER_BLOCK_S_MAXBYTES", s.vfs.super_block_s_maxbytes, all);
    f("SUPER_BLOCK_S_TYPE", s.vfs.super_block_s_type, all);
    f("SUPER_BLOCK_S_OP", s.vfs.super_block_s_op, all);
    f("SUPER_BLOCK_S_FLAGS", s.vfs.super_block_s_flags, all);
    f("SUPER_BLOCK_S_MAGIC", s.vfs.super_block_s_magic, all);
    f("SUPER_BLOCK_S_ROOT", s.vfs.super_block_s_root, all);
    f("SUPER_BLOCK_S_UMOUNT", s.vfs.super_block_s_umount, all);
    f("SUPER_BLOCK_S_XATTR", s.vfs.super_block_s_xattr, all);
    f("SUPER_BLOCK_S_BDI", s.vfs.super_block_s_bdi, all);
    f("SUPER_BLOCK_S_FS_INFO", s.vfs.super_block_s_fs_info, all);
    f("SUPER_BLOCK_S_TIME_GRAN", s.vfs.super_block_s_time_gran, all);
    f("SUPER_BLOCK_S_TIME_MIN", s.vfs.super_block_s_time_min, all);
    f("SUPER_BLOCK_S_TIME_MAX", s.vfs.super_block_s_time_max, all);
    f("SUPER_BLOCK_S_ID", s.vfs.super_block_s_id, all);
    f("SUPER_BLOCK_S_ID_LEN", s.vfs.super_block_s_id_len, all);
    f("SUPER_BLOCK_S_D_OP", s.vfs.super_block_s_d_op, all);
    f("SUPER_BLOCK_S_USER_NS", s.vfs.super_block_s_user_ns, all);
    f("SUPER_OPERATIONS_SIZE", s.vfs.super_operations_size, all);
    f("SUPER_OPERATIONS_ALLOC_INODE", s.vfs.super_operations_alloc_inode, all);
    f("SUPER_OPERATIONS_DESTROY_INODE", s.vfs.super_operations_destroy_inode, all);
    f("SUPER_OPERATIONS_FREE_INODE", s.vfs.super_operations_free_inode, all);
    f("SUPER_OPERATIONS_DROP_INODE", s.vfs.super_operations_drop_inode, all);
    f("SUPER_OPERATIONS_EVICT_INODE", s.vfs.super_operations_evict_inode, all);
    f("SUPER_OPERATIONS_PUT_SUPER", s.vfs.super_operations_put_super, all);
    f("SB_ACTIVE", s.vfs.sb_active, all);
    f("SB_BORN", s.vfs.sb_born, all);
    f("SB_NOUSER", s.vfs.sb_nouser, all);
    f("SB_KERNMOUNT", s.vfs.sb_kernmount, all);
    f("INODE_SIZE", s.vfs.inode_size, all);
    f("INODE_I_MODE", s.vfs.inode_i_mode, all);
    f("INODE_I_OPFLAGS", s.vfs.inode_i_opflags, all);
    f("INODE_I_FLAGS", s.vfs.inode_i_flags, all);
    f("INODE_I_OP", s.vfs.inode_i_op, all);
    f("INODE_I_SB", s.vfs.inode_i_sb, all);
    f("INODE_I_MAPPING", s.vfs.inode_i_mapping, all);
    f("INODE_I_INO", s.vfs.inode_i_ino, all);
    f("INODE_I_NLINK", s.vfs.inode_i_nlink, all);
    f("INODE_I_RDEV", s.vfs.inode_i_rdev, all);
    f("INODE_I_SIZE", s.vfs.inode_i_size, all);
    f("INODE_I_ATIME_SEC", s.vfs.inode_i_atime_sec, all);
    f("INODE_I_ATIME_NSEC", s.vfs.inode_i_atime_nsec, all);
    f("INODE_I_MTIME_SEC", s.vfs.inode_i_mtime_sec, all);
    f("INODE_I_MTIME_NSEC", s.vfs.inode_i_mtime_nsec, all);
    f("INODE_I_CTIME_SEC", s.vfs.inode_i_ctime_sec, all);
    f("INODE_I_CTIME_NSEC", s.vfs.inode_i_ctime_nsec, all);
    f("INODE_I_BLKBITS", s.vfs.inode_i_blkbits, all);
    f("INODE_I_STATE", s.vfs.inode_i_state, all);
    f("INODE_I_COUNT", s.vfs.inode_i_count, all);
    f("INODE_I_FOP", s.vfs.inode_i_fop, all);
    f("INODE_I_DATA", s.vfs.inode_i_data, all);
    f("INODE_I_PRIVATE", s.vfs.inode_i_private, all);
    f("ADDRESS_SPACE_HOST", s.vfs.address_space_host, all);
    f("ADDRESS_SPACE_A_OPS", s.vfs.address_space_a_ops, all);
    f("INODE_OPERATIONS_SIZE", s.vfs.inode_operations_size, all);
    f("INODE_OPERATIONS_LOOKUP", s.vfs.inode_operations_lookup, all);
    f("INODE_OPERATIONS_GET_LINK", s.vfs.inode_operations_get_link, all);
    f("FILE_OPERATIONS_SIZE", s.vfs.file_operations_size, all);
    f("ADDRESS_SPACE_OPERATIONS_SIZE", s.vfs.address_space_operations_size, all);
    f("IOP_LOOKUP", s.vfs.iop_lookup, all);
    f("IOP_NOFOLLOW", s.vfs.iop_nofollow, all);
    f("S_AUTOMOUNT", s.vfs.s_automount, all);
    f("I_FREEING", s.vfs.i_freeing, all);
    f("I_CLEAR", s.vfs.i_clear, all);
    f("DENTRY_D_FLAGS", s.vfs.dentry_d_flags, all);
    f("DENTRY_D_PARENT", s.vfs.dentry_d_parent, all);
    f("DENTRY_D_NAME", s.vfs.dentry_d_name, all);
    f("DENTRY_D_INODE", s.vfs.dentry_d_inode, all);
    f("DENTRY_D_INAME", s.vfs.dentry_d_iname, all);
    f("DENTRY_D_INAME_LEN", s.vfs.dentry_d_iname_len, all);
    f("DENTRY_D_LOCKREF", s.vfs.dentry_d_lockref, all);
    f("DENTRY_D_OP", s.vfs.dentry_d_op, all);
    f("DENTRY_D_SB", s.vfs.dentry_d_sb, all);
    f("DENTRY_D_FSDATA", s.vfs.dentry_d_fsdata, all);
    f("LOCKREF_COUNT", s.vfs.lockref_count, all);
    f("QSTR_HASH", s.vfs.qstr_hash, all);
    f("QSTR_LEN", s.vfs.qstr_len, all);
    f("QSTR_NAME", s.vfs.qstr_name, all);
    f("DENTRY_OPERATIONS_D_REVALIDATE", s.vfs.dentry_operations_d_revalidate, all);
    f("DENTRY_OPERATIONS_D_WEAK_REVALIDATE", s.vfs.dentry_operations_d_weak_revalidate, all);
    f("DENTRY_OPERATIONS_D_HASH", s.vfs.dentry_operations_d_hash, all);
    f("DENTRY_OPERATIONS_D_COMPARE", s.vfs.dentry_operations_d_compare, all);
    f("DENTRY_OPERATIONS_D_DELETE", s.vfs.dentry_operations_d_delete, all);
    f("DENTRY_OPERATIONS_D_INIT", s.vfs.dentry_operations_d_init, all);
    f("DENTRY_OPERATIONS_D_RELEASE", s.vfs.dentry_operations_d_release, all);
    f("DENTRY_OPERATIONS_D_PRUNE", s.vfs.dentry_operations_d_prune, all);
    f("DENTRY_OPERATIONS_D_IPUT", s.vfs.dentry_operations_d_iput, all);
    f("DENTRY_OPERATIONS_D_REAL", s.vfs.dentry_operations_d_real, all);
    f("DCACHE_OP_HASH", s.vfs.dcache_op_hash, all);
    f("DCACHE_OP_COMPARE", s.vfs.dcache_op_compare, all);
    f("DCACHE_OP_REVALIDATE", s.vfs.dcache_op_revalidate, all);
    f("DCACHE_OP_DELETE", s.vfs.dcache_op_delete, all);
    f("DCACHE_OP_PRUNE", s.vfs.dcache_op_prune, all);
    f("DCACHE_OP_WEAK_REVALIDATE", s.vfs.dcache_op_weak_revalidate, all);
    f("DCACHE_OP_REAL", s.vfs.dcache_op_real, all);
    f("DCACHE_ENTRY_TYPE", s.vfs.dcache_entry_type, all);
    f("DCACHE_MISS_TYPE", s.vfs.dcache_miss_type, all);
    f("DCACHE_DIRECTORY_TYPE", s.vfs.dcache_directory_type, all);
    f("DCACHE_AUTODIR_TYPE", s.vfs.dcache_autodir_type, all);
    f("DCACHE_REGULAR_TYPE", s.vfs.dcache_regular_type, all);
    f("DCACHE_SPECIAL_TYPE", s.vfs.dcache_special_type, all);
    f("DCACHE_SYMLINK_TYPE", s.vfs.dcache_symlink_type, all);
    f("DCACHE_NEED_AUTOMOUNT", s.vfs.dcache_need_automount, all);
    f("DCACHE_GENOCIDE", s.vfs.dcache_genocide, all);
    f("VFSMOUNT_SIZE", s.vfs.vfsmount_size, all);
    f("VFSMOUNT_MNT_ROOT", s.vfs.vfsmount_mnt_root, all);
    f("VFSMOUNT_MNT_SB", s.vfs.vfsmount_mnt_sb, all);
    f("VFSMOUNT_MNT_FLAGS", s.vfs.vfsmount_mnt_flags, all);
    f("MNT_INTERNAL", s.vfs.mnt_internal, all);
    f("MINORBITS", s.minorbits, all);
    f("DEVICE_SIZE", s.device.size, all);
    f("DEVICE_KOBJ_NAME", s.device.kobj_name, all);
    f("DEVICE_KOBJ_KREF", s.device.kobj_kref, all);
    f("DEVICE_PARENT", s.device.parent, all);
    f("DEVICE_INIT_NAME", s.device.init_name, all);
    f("DEVICE_TYPE", s.device.type, all);
    f("DEVICE_BUS", s.device.bus, all);
    f("DEVICE_DRIVER", s.device.driver, all);
    f("DEVICE_DRIVER_DATA", s.device.driver_data, all);
    f("DEVICE_DEVT", s.device.devt, all);
    f("DEVICE_CLASS", s.device.class_, all);
    f("DEVICE_RELEASE", s.device.release, all);
    f("DEVICE_TYPE_RELEASE", s.device.type_release, all);
    f("CLASS_DEV_RELEASE", s.device.class_dev_release, all);
    f("CDEV_SIZE", s.cdev.size, all);
    f("CDEV_OPS", s.cdev.ops, all);
    f("CDEV_LIST", s.cdev.list, all);
    f("CDEV_DEV", s.cdev.dev, all);
    f("CDEV_COUNT", s.cdev.count, all);
    f("MISCDEVICE_MINOR", s.miscdevice.minor, all);
    f("MISCDEVICE_NAME", s.miscdevice.name, all);
    f("MISCDEVICE_LIST", s.miscdevice.list, all);
    f("MISCDEVICE_THIS_DEVICE", s.miscdevice.this_device, all);
    f("LED_TRIGGER_SIZE", s.led_trigger.size, all);
    f("LED_TRIGGER_NAME", s.led_trigger.name, all);
    f("PERNET_OPS_INIT", s.pernet_ops.init, all);
    f("PERNET_OPS_EXIT", s.pernet_ops.exit, all);
    f("PERNET_OPS_ID", s.pernet_ops.id, all);
    f("PERNET_OPS_SIZE", s.pernet_ops.size, all);
    f("NET_SIZE", s.net.size, all);
    f("NET_GEN", s.net.gen, all);
    f("NET_GENERIC_PTR", s.net.generic_ptr, all);
    f("NET_GENERIC_SIZE", s.net.generic_size, all);
    f("SOCK_SIZE", s.sock.size, all);
    f("NET_DEVICE_SIZE", s.net_device.size, all);
    f("NET_DEVICE_DEV_LIST", s.net_device.dev_list, all);
    f("NET_DEV_BASE_HEAD", s.net_device.net_dev_base_head, all);
    f("NET_DEVICE_NAME", s.net_device.name, all);
    f("NET_DEVICE_IFINDEX", s.net_device.ifindex, all);
    f("NET_DEVICE_FLAGS", s.net_device.flags, all);
    f("NET_DEVICE_TYPE", s.net_device.type, all);
    f("NET_DEVICE_MTU", s.net_device.mtu, all);
    f("NET_DEVICE_ND_NET", s.net_device.nd_net, all);
    f("NET_DEVICE_DEV_ADDR", s.net_device.dev_addr, all);
    f("NET_DEVICE_ADDR_LEN", s.net_device.addr_len, all);
    f("NET_DEVICE_NETDEV_OPS", s.net_device.netdev_ops, all);
    f("NET_DEVICE_OPS_SIZE", s.net_device.ops_size, all);
    f("NET_DEVICE_OPS_NDO_INIT", s.net_device.ndo_init, all);
    f("NET_DEVICE_OPS_NDO_UNINIT", s.net_device.ndo_uninit, all);
    f("NET_DEVICE_TX_QUEUE_LEN", s.net_device.tx_queue_len, all);
    f("NET_DEVICE_NUM_TX_QUEUES", s.net_device.num_tx_queues, all);
    f("NET_DEVICE_REAL_NUM_TX_QUEUES", s.net_device.real_num_tx_queues, all);
    f("NET_DEVICE_TX", s.net_device.tx, all);
    f("NET_DEVICE_NUM_RX_QUEUES", s.net_device.num_rx_queues, all);
    f("NET_DEVICE_REAL_NUM_RX_QUEUES", s.net_device.real_num_rx_queues, all);
    f("NET_DEVICE_RX", s.net_device.rx, all);
    f("NETDEV_QUEUE_SIZE", s.net_device.queue_size, all);
    f("NETDEV_QUEUE_DEV", s.net_device.queue_dev, all);
    f("NETDEV_RX_QUEUE_SIZE", s.net_device.rx_queue_size, all);
    f("NETDEV_RX_QUEUE_DEV", s.net_device.rx_queue_dev, all);
    f("NET_DEVICE_NAME_ASSIGN_TYPE", s.net_device.name_assign_type, all);
    f("NET_DEVICE_ETHTOOL_OPS", s.net_device.ethtool_ops, all);
    f("ETHTOOL_OPS_SIZE", s.net_device.ethtool_ops_size, all);
    f("NET_DEVICE_REG_STATE", s.net_device.reg_state, all);
    f("NET_DEVICE_NEEDS_FREE_NETDEV", s.net_device.needs_free_netdev, all);
    f("NET_DEVICE_PRIV_DESTRUCTOR", s.net_device.priv_destructor, all);
    f("NET_DEVICE_UNREG_LIST", s.net_device.unreg_list, all);
    f("NET_DEVICE_RTNL_LINK_OPS", s.net_device.rtnl_link_ops, all);
    f("NET_DEVICE_HEADER_OPS", s.net_device.header_ops, all);
    f("NET_DEVICE_HARD_HEADER_LEN", s.net_device.hard_header_len, all);
    f("NET_DEVICE_MIN_HEADER_LEN", s.net_device.min_header_len, all);
    f("NET_DEVICE_MIN_MTU", s.net_device.min_mtu, all);
    f("NET_DEVICE_MAX_MTU", s.net_device.max_mtu, all);
    f("NET_DEVICE_BROADCAST", s.net_device.broadcast, all);
    f("NET_DEVICE_PRIV_FLAGS", s.net_device.priv_flags, all);
    f("NET_DEVICE_PRIV", s.net_device.priv, all);
    f("NET_DEVICE_PRIV_LEN", s.net_device.priv_len, all);
    f("IFF_XMIT_DST_RELEASE", s.net_device.iff_xmit_dst_release, all);
    f("IFF_XMIT_DST_RELEASE_PERM", s.net_device.iff_xmit_dst_release_perm, all);
    f("IFF_TX_SKB_SHARING", s.net_device.iff_tx_skb_sharing, all);
    f("IFF_NO_QUEUE", s.net_device.iff_no_queue, all);
    f("NET_DEVICE_STATE", s.net_device.state, all);
    f("LINK_STATE_PRESENT", s.net_device.link_state_present, all);
    f("NETDEV_POST_INIT", s.net_device.netdev_post_init, all);
    f("HEADER_OPS_SIZE", s.net_device.header_ops_size, all);
    f("NET_DEVICE_PCPU_REFCNT", s.net_device.pcpu_refcnt, all);
    f("NETDEV_NOTIFIER_INFO_SIZE", s.netdev_notifier.info_size, all);
    f("NETDEV_NOTIFIER_INFO_DEV", s.netdev_notifier.info_dev, all);
    f("NETDEV_UP", s.netdev_notifier.up, all);
    f("NETDEV_DOWN", s.netdev_notifier.down, all);
    f("NETDEV_GOING_DOWN", s.netdev_notifier.going_down, all);
    f("NETDEV_REGISTER", s.netdev_notifier.register_, all);
    f("NETDEV_UNREGISTER", s.netdev_notifier.unregister, all);
    f("MATCH_TOKEN_SIZE", s.match_token.size, all);
    f("MATCH_TOKEN_TOKEN", s.match_token.token, all);
    f("MATCH_TOKEN_PATTERN", s.match_token.pattern, all);
    f("SUBSTRING_FROM", s.match_token.from, all);
    f("SUBSTRING_TO", s.match_token.to, all);
    f("MAX_OPT_ARGS", s.match_token.max_opt_args, all);
    f("TCP_ULP_OPS_NAME", s.tcp_ulp_ops.name, all);
    f("TCP_ULP_OPS_NAME_LEN", s.tcp_ulp_ops.name_len, all);
    f("NFS_SSC_CLIENT_OPS_TBL_SIZE", s.nfs_ssc_client_ops_tbl.size, all);
    f("NFS_SSC_CLIENT_OPS_TBL_NFS4", s.nfs_ssc_client_ops_tbl.nfs4_ops, all);
    f("NFS_SSC_CLIENT_OPS_TBL_NFS", s.nfs_ssc_client_ops_tbl.nfs_ops, all);
    f("CRED_SIZE", s.cred.size, all);
    f("CRED_USAGE", s.cred.usage, all);
    f("CRED_USAGE_SIZE", s.cred.usage_size, all);
    f("CRED_USER_NS", s.cred.user_ns, all);
    f("TASK_CRED", s.cred.task_cred, all);
    f("TASK_REAL_CRED", s.cred.task_real_cred, all);
    f("RB_NODE_PARENT_COLOR", s.rb_node.parent_color, all);
    f("RB_NODE_RIGHT", s.rb_node.right, all);
    f("RB_NODE_LEFT", s.rb_node.left, all);
    f("RTNL_LINK_OPS_KIND", s.rtnl_link_ops.kind, all);
    f("RTNL_LINK_OPS_MAXTYPE", s.rtnl_link_ops.maxtype, all);
    f("RTNL_LINK_OPS_SLAVE_MAXTYPE", s.rtnl_link_ops.slave_maxtype, all);
    f("RTNL_LINK_OPS_ALLOC", s.rtnl_link_ops.alloc, all);
    f("RTNL_LINK_OPS_SETUP", s.rtnl_link_ops.setup, all);
    f("RTNL_LINK_OPS_DELLINK", s.rtnl_link_ops.dellink, all);
    f("RTNL_MSG_HANDLER_SIZE", s.rtnl_msg_handler.size, all);
    f("SKB_DROP_REASON_SUBSYS_NUM", s.skb_drop_reason_subsys_num, all);
    f("RTNL_MSG_HANDLER_PROTOCOL", s.rtnl_msg_handler.protocol, all);
    f("RTNL_MSG_HANDLER_MSGTYPE", s.rtnl_msg_handler.msgtype, all);
    f("RTNL_MSG_HANDLER_DOIT", s.rtnl_msg_handler.doit, all);
    f("QDISC_OPS_NEXT", s.qdisc_ops.next, all);
    f("QDISC_OPS_CL_OPS", s.qdisc_ops.cl_ops, all);
    f("QDISC_OPS_ID", s.qdisc_ops.id, all);
    f("QDISC_OPS_ID_LEN", s.qdisc_ops.id_len, all);
    f("QDISC_OPS_ENQUEUE", s.qdisc_ops.enqueue, all);
    f("QDISC_OPS_DEQUEUE", s.qdisc_ops.dequeue, all);
    f("QDISC_OPS_PEEK", s.qdisc_ops.peek, all);
    f("QDISC_CLASS_OPS_FIND", s.qdisc_ops.cl_find, all);
    f("QDISC_CLASS_OPS_WALK", s.qdisc_ops.cl_walk, all);
    f("QDISC_CLASS_OPS_LEAF", s.qdisc_ops.cl_leaf, all);
    f("QDISC_CLASS_OPS_TCF_BLOCK", s.qdisc_ops.cl_tcf_block, all);
    f("QDISC_CLASS_OPS_BIND_TCF", s.qdisc_ops.cl_bind_tcf, all);
    f("QDISC_CLASS_OPS_UNBIND_TCF", s.qdisc_ops.cl_unbind_tcf, all);
    f("TC_ACTION_OPS_KIND", s.tc_action_ops.kind, all);
    f("TC_ACTION_OPS_KIND_LEN", s.tc_action_ops.kind_len, all);
    f("TC_ACTION_OPS_ID", s.tc_action_ops.id, all);
    f("TC_ACTION_OPS_ACT", s.tc_action_ops.act, all);
    f("TC_ACTION_OPS_DUMP", s.tc_action_ops.dump, all);
    f("TC_ACTION_OPS_INIT", s.tc_action_ops.init, all);
    f("TCF_PROTO_OPS_KIND", s.tcf_ops.proto_kind, all);
    f("TCF_PROTO_OPS_KIND_LEN", s.tcf_ops.proto_kind_len, all);
    f("TCF_EMATCH_OPS_KIND", s.tcf_ops.ematch_kind, all);
    f("TCF_EMATCH_OPS_MATCH", s.tcf_ops.ematch_match, all);
    f("TCP_CONGESTION_OPS_NAME", s.tcp_congestion_ops.name, all);
    f("TCP_CONGESTION_OPS_NAME_LEN", s.tcp_congestion_ops.name_len, all);
    f("TCP_CONGESTION_OPS_KEY", s.tcp_congestion_ops.key, all);
    f("TCP_CONGESTION_OPS_SSTHRESH", s.tcp_congestion_ops.ssthresh, all);
    f("TCP_CONGESTION_OPS_UNDO_CWND", s.tcp_congestion_ops.undo_cwnd, all);
    f("TCP_CONGESTION_OPS_CONG_AVOID", s.tcp_congestion_ops.cong_avoid, all);
    f("TCP_CONGESTION_OPS_CONG_CONTROL", s.tcp_congestion_ops.cong_control, all);
    f("NF_SOCKOPT_OPS_PF", s.nf_sockopt_ops.pf, all);
    f("NF_SOCKOPT_OPS_SET_OPTMIN", s.nf_sockopt_ops.set_optmin, all);
    f("NF_SOCKOPT_OPS_SET_OPTMAX", s.nf_sockopt_ops.set_optmax, all);
    f("NF_SOCKOPT_OPS_GET_OPTMIN", s.nf_sockopt_ops.get_optmin, all);
    f("NF_SOCKOPT_OPS_GET_OPTMAX", s.nf_sockopt_ops.get_optmax, all);
    f("SOCK_DIAG_HANDLER_FAMILY", s.sock_diag.family, all);
    f("AF_MAX", s.sock_diag.af_max, all);
    f("GENL_FAMILY_ID", s.genl.id, all);
    f("GENL_FAMILY_NAME", s.genl.name, all);
    f("GENL_FAMILY_MCGRP_OFFSET", s.genl.mcgrp_offset, all);
    f("GENL_FAMILY_N_OPS", s.genl.n_ops, all);
    f("GENL_FAMILY_N_SMALL_OPS", s.genl.n_small_ops, all);
    f("GENL_FAMILY_N_SPLIT_OPS", s.genl.n_split_ops, all);
    f("GENL_FAMILY_N_MCGRPS", s.genl.n_mcgrps, all);
    f("GENL_FAMILY_RESV_START_OP", s.genl.resv_start_op, all);
    f("GENL_FAMILY_OPS", s.genl.ops, all);
    f("GENL_FAMILY_SMALL_OPS", s.genl.small_ops, all);
    f("GENL_FAMILY_SPLIT_OPS", s.genl.split_ops, all);
    f("GENL_FAMILY_MCGRPS", s.genl.mcgrps, all);
    f("GENL_OPS_SIZE", s.genl.ops_size, all);
    f("GENL_OPS_DOIT", s.genl.ops_doit, all);
    f("GENL_OPS_DUMPIT", s.genl.ops_dumpit, all);
    f("GENL_OPS_CMD", s.genl.ops_cmd, all);
    f("GENL_OPS_VALIDATE", s.genl.ops_validate, all);
    f("GENL_SMALL_OPS_SIZE", s.genl.small_size, all);
    f("GENL_SMALL_OPS_DOIT", s.genl.small_doit, all);
    f("GENL_SMALL_OPS_DUMPIT", s.genl.small_dumpit, all);
    f("GENL_SMALL_OPS_CMD", s.genl.small_cmd, all);
    f("GENL_SMALL_OPS_VALIDATE", s.genl.small_validate, all);
    f("GENL_SPLIT_OPS_SIZE", s.genl.split_size, all);
    f("GENL_SPLIT_OPS_CMD", s.genl.split_cmd, all);
    f("GENL_SPLIT_OPS_INTERNAL_FLAGS", s.genl.split_internal_flags, all);
    f("GENL_SPLIT_OPS_FLAGS", s.genl.split_flags, all);
    f("GENL_SPLIT_OPS_VALIDATE", s.genl.split_validate, all);
    f("GENL_MULTICAST_GROUP_SIZE", s.genl.mcgrp_size, all);
    f("GENL_MULTICAST_GROUP_NAME", s.genl.mcgrp_name, all);
    f("PROTO_NAME", s.proto.name, all);
    f("PROTO_OBJ_SIZE", s.proto.obj_size, all);
    f("PROTO_SLAB_FLAGS", s.proto.slab_flags, all);
    f("PROTO_USEROFFSET", s.proto.useroffset, all);
    f("PROTO_USERSIZE", s.proto.usersize, all);
    f("PROTO_SLAB", s.proto.slab, all);
    f("PROTO_RSK_PROT", s.proto.rsk_prot, all);
    f("PROTO_TWSK_PROT", s.proto.twsk_prot, all);
    f("PROTO_MEMORY_ALLOCATED", s.proto.memory_allocated, all);
    f("PROTO_SYSCTL_MEM", s.proto.sysctl_mem, all);
    f("PROTO_PER_CPU_FW_ALLOC", s.proto.per_cpu_fw_alloc, all);
    f("PROTO_INUSE_IDX", s.proto.inuse_idx, all);
    f("REQUEST_SOCK_OPS_OBJ_SIZE", s.proto.rsk_obj_size, all);
    f("REQUEST_SOCK_OPS_SLAB", s.proto.rsk_slab, all);
    f("REQUEST_SOCK_OPS_SLAB_NAME", s.proto.rsk_slab_name, all);
    f("TIMEWAIT_SOCK_OPS_OBJ_SIZE", s.proto.tw_obj_size, all);
    f("TIMEWAIT_SOCK_OPS_SLAB", s.proto.tw_slab, all);
    f("TIMEWAIT_SOCK_OPS_SLAB_NAME", s.proto.tw_slab_name, all);
    f("NET_PROTO_FAMILY_FAMILY", s.net_protos.family_family, all);
    f("INET_PROTOSW_TYPE", s.net_protos.protosw_type, all);
    f("INET_PROTOSW_PROTOCOL", s.net_protos.protosw_protocol, all);
    f("INET_PROTOSW_FLAGS", s.net_protos.protosw_flags, all);
    f("SOCK_MAX", s.net_protos.sock_max, all);
    f("USER_NAMESPACE_SIZE", s.user_ns.size, all);
    f("NET_USER_NS", s.user_ns.net_user_ns, all);
    f("TS_OPS_NAME", s.ts_ops.name, all);
    f("TS_OPS_INIT", s.ts_ops.init, all);
    f("TS_OPS_FIND", s.ts_ops.find, all);
    f("TS_OPS_GET_PATTERN", s.ts_ops.get_pattern, all);
    f("TS_OPS_GET_PATTERN_LEN", s.ts_ops.get_pattern_len, all);
    f("TIMER_LIST_PPREV", s.timer_list.pprev, all);
    f("TIMER_LIST_FUNCTION", s.timer_list.function, all);
    f("TIMER_LIST_FLAGS", s.timer_list.flags, all);
    f("TIMER_LIST_EXPIRES", s.timer_list.expires, all);
    f("WORK_STRUCT_DATA", s.work.data, all);
    f("WORK_STRUCT_ENTRY", s.work.entry, all);
    f("WORK_STRUCT_FUNC", s.work.func, all);
    f("DELAYED_WORK_WORK", s.work.dwork_work, all);
    f("DELAYED_WORK_TIMER", s.work.dwork_timer, all);
    f("DELAYED_WORK_WQ", s.work.dwork_wq, all);
    f("DELAYED_WORK_CPU", s.work.dwork_cpu, all);
    f("WAIT_QUEUE_HEAD_LOCK", s.wait_queue_head.lock, all);
    f("WAIT_QUEUE_HEAD_HEAD", s.wait_queue_head.head, all);
    f("WAIT_QUEUE_ENTRY_FLAGS", s.wait_queue_entry.flags, all);
    f("WAIT_QUEUE_ENTRY_PRIVATE", s.wait_queue_entry.private_, all);
    f("WAIT_QUEUE_ENTRY_FUNC", s.wait_queue_entry.func, all);
    f("WAIT_QUEUE_ENTRY_ENTRY", s.wait_queue_entry.entry, all);
    f("XARRAY_FLAGS", s.xarray.flags, all);
    f("XARRAY_HEAD", s.xarray.head, all);
    f("XA_FLAGS_TRACK_FREE", s.xarray.track_free, all);
    f("XA_FLAGS_ZERO_BUSY", s.xarray.zero_busy, all);
    f("SHRINKER_SIZE", s.kobject.shrinker_size, all);
    f("KOBJECT_SIZE", s.kobject.size, all);
    f("KOBJECT_NAME", s.kobject.name, all);
    f("KOBJECT_PARENT", s.kobject.parent, all);
    f("KOBJECT_KSET", s.kobject.kset, all);
    f("KOBJECT_KTYPE", s.kobject.ktype, all);
    f("KOBJECT_KREF", s.kobject.kref, all);
    f("KOBJECT_ENTRY", s.kobject.entry, all);
    f("KOBJ_TYPE_RELEASE", s.kobject.ktype_release, all);
    f("KSET_SIZE", s.kobject.kset_size, all);
    f("KSET_KOBJ", s.kobject.kset_kobj, all);
    f("KSET_LIST", s.kobject.kset_list, all);
    f("ATTRIBUTE_NAME", s.sysfs.attr_name, all);
    f("ATTRIBUTE_GROUP_NAME", s.sysfs.group_name, all);
    f("ATTRIBUTE_GROUP_IS_VISIBLE", s.sysfs.group_is_visible, all);
    f("ATTRIBUTE_GROUP_ATTRS", s.sysfs.group_attrs, all);
    f("ATTRIBUTE_GROUP_BIN_ATTRS", s.sysfs.group_bin_attrs, all);
    f("BIN_ATTRIBUTE_ATTR", s.sysfs.bin_attr_attr, all);
    f("BUS_TYPE_UEVENT", s.uevent.bus, all);
    f("CLASS_DEV_UEVENT", s.uevent.class_dev, all);
    f("DEVICE_TYPE_UEVENT", s.uevent.type, all);
    f("PERCPU_COUNTER_SIZE", s.percpu_counter.size, all);
    f("PERCPU_COUNTER_COUNT", s.percpu_counter.count, all);
    f("PERCPU_COUNTER_COUNTERS", s.percpu_counter.counters, all);
    f("XFRM_INPUT_AFINFO_FAMILY", s.xfrm_input_afinfo.family, all);
    f("XFRM_INPUT_AFINFO_IS_IPIP", s.xfrm_input_afinfo.is_ipip, all);
    f("XFRM_TYPE_PROTO", s.xfrm_type.proto, all);
    f("XFRM_TYPE_OFFLOAD_PROTO", s.xfrm_type.offload_proto, all);
    f("XFRM4_PROTOCOL_NEXT", s.xfrm_type.v4_next, all);
    f("XFRM4_PROTOCOL_PRIORITY", s.xfrm_type.v4_priority, all);
    f("XFRM6_PROTOCOL_NEXT", s.xfrm_type.v6_next, all);
    f("XFRM6_PROTOCOL_PRIORITY", s.xfrm_type.v6_priority, all);
    f("RHASHTABLE_SIZE", s.rhashtable.size, all);
    f("RHASHTABLE_TBL", s.rhashtable.tbl, all);
    f("RHASHTABLE_KEY_LEN", s.rhashtable.key_len, all);
    f("RHASHTABLE_MAX_ELEMS", s.rhashtable.max_elems, all);
    f("RHASHTABLE_P", s.rhashtable.p, all);
    f("RHASHTABLE_RHLIST", s.rhashtable.rhlist, all);
    f("RHASHTABLE_RUN_WORK", s.rhashtable.run_work, all);
    f("RHASHTABLE_MUTEX", s.rhashtable.mutex, all);
    f("RHASHTABLE_NELEMS", s.rhashtable.nelems, all);
    f("RHASHTABLE_PARAMS_SIZE", s.rhashtable.params_size, all);
    f("RHASHTABLE_PARAMS_NELEM_HINT", s.rhashtable.params_nelem_hint, all);
    f("RHASHTABLE_PARAMS_KEY_LEN", s.rhashtable.params_key_len, all);
    f("RHASHTABLE_PARAMS_HEAD_OFFSET", s.rhashtable.params_head_offset, all);
    f("RHASHTABLE_PARAMS_MAX_SIZE", s.rhashtable.params_max_size, all);
    f("RHASHTABLE_PARAMS_MIN_SIZE", s.rhashtable.params_min_size, all);
    f("RHASHTABLE_PARAMS_HASHFN", s.rhashtable.params_hashfn, all);
    f("RHASHTABLE_PARAMS_OBJ_HASHFN", s.rhashtable.params_obj_hashfn, all);
    f("RHASHTABLE_PARAMS_OBJ_CMPFN", s.rhashtable.params_obj_cmpfn, all);
    f("BUCKET_TABLE_SIZE", s.rhashtable.table_size, all);
    f("BUCKET_TABLE_NBUCKETS", s.rhashtable.table_nbuckets, all);
    f("BUCKET_TABLE_HASH_RND", s.rhashtable.table_hash_rnd, all);
    f("BUCKET_TABLE_WALKERS", s.rhashtable.table_walkers, all);
    f("BUCKET_TABLE_BUCKETS", s.rhashtable.table_buckets, all);
    f("INET_FRAGS_QSIZE", s.inet_frags.qsize, all);
    f("INET_FRAGS_CACHE_NAME", s.inet_frags.cache_name, all);
    f("INET_FRAGS_CACHEP", s.inet_frags.cachep, all);
    f("INET_FRAGS_RHASH_PARAMS", s.inet_frags.rhash_params, all);
    f("INET_FRAGS_REFCNT", s.inet_frags.refcnt, all);
    f("INET_FRAGS_COMPLETION", s.inet_frags.completion, all);
    f("FQDIR_SIZE", s.inet_frags.fqdir_size, all);
    f("FQDIR_F", s.inet_frags.fqdir_f, all);
    f("FQDIR_NET", s.inet_frags.fqdir_net, all);
    f("FQDIR_RHASHTABLE", s.inet_frags.fqdir_rhashtable, all);
    f("FQDIR_DESTROY_WORK", s.inet_frags.fqdir_destroy_work, all);
    f("KEY_SIZE", s.key.size, all);
    f("KEY_USAGE", s.key.usage, all);
    f("KEY_DESCRIPTION", s.key.description, all);
    f("KEY_TYPE_NAME", s.key.type_name, all);
    f("KEY_FLAGS", s.key.flags, all);
    f("KEY_FLAG_REVOKED", s.key.flag_revoked, all);
    f("IDA_XA_HEAD", s.idr.ida_xa_head, all);
    f("IDR_XA_HEAD", s.idr.idr_xa_head, all);
    f("IDR_BASE", s.idr.idr_base, all);
    f("IDR_NEXT", s.idr.idr_next, all);
    f("DEVICE_DRIVER_OF_MATCH_TABLE", s.of_match.table, all);
    f("OF_DEVICE_ID_SIZE", s.of_match.size, all);
    f("OF_DEVICE_ID_COMPATIBLE", s.of_match.compatible, all);
    f("OF_DEVICE_ID_COMPATIBLE_LEN", s.of_match.compatible_len, all);
    f("OF_DEVICE_ID_DATA", s.of_match.data, all);
    f("OF_DEVICE_ID_NAME", s.of_match.name, all);
    f("OF_DEVICE_ID_TYPE", s.of_match.type, all);
    f("OF_DEVICE_ID_NAME_LEN", s.of_match.name_len, all);
    f("DEVICE_NODE_SIZE", s.device_node.size, all);
    f("DEVICE_NODE_NAME", s.device_node.name, all);
    f("DEVICE_NODE_FULL_NAME", s.device_node.full_name, all);
    f("DEVICE_NODE_PROPERTIES", s.device_node.properties, all);
    f("DEVICE_NODE_FWNODE", s.device_node.fwnode, all);
    f("FWNODE_HANDLE_OPS", s.device_node.fwnode_ops, all);
    f("PROPERTY_SIZE", s.device_node.prop_size, all);
    f("PROPERTY_NAME", s.device_node.prop_name, all);
    f("PROPERTY_LENGTH", s.device_node.prop_length, all);
    f("PROPERTY_VALUE", s.device_node.prop_value, all);
    f("PROPERTY_NEXT", s.device_node.prop_next, all);
    f("SPI_DRIVER_DRIVER", s.spi.driver, all);
    f("SPI_DRIVER_ID_TABLE", s.spi.id_table, all);
    f("SPI_DEVICE_ID_SIZE", s.spi.id_size, all);
    f("SPI_DEVICE_ID_NAME", s.spi.id_name, all);
    f("SPI_DEVICE_ID_NAME_LEN", s.spi.id_name_len, all);
    f("NLS_TABLE_CHARSET", s.nls.charset, all);
    f("NLS_TABLE_OWNER", s.nls.owner, all);
    f("NLS_TABLE_ALIAS", s.nls.alias, all);
    f("NLS_TABLE_UNI2CHAR", s.nls.uni2char, all);
    f("NLS_TABLE_CHAR2UNI", s.nls.char2uni, all);
    f("NLS_TABLE_CHARSET2LOWER", s.nls.charset2lower, all);
    f("NLS_TABLE_CHARSET2UPPER", s.nls.charset2upper, all);
    f("NLS_TABLE_SIZE", s.nls.size, all);
    f("DST_CACHE_CACHE", s.dst_cache.cache, all);
    f("DST_CACHE_RESET_TS", s.dst_cache.reset_ts, all);
    f("GRO_CELLS_CELLS", s.gro_cells.cells, all);
    f("QUOTA_FORMAT_TYPE_QF_NEXT", s.quota_format_type.qf_next, all);
    f("LIST_LRU_NODE", s.list_lru.node, all);
    f("LIST_LRU_SHRINKER_ID", s.list_lru.shrinker_id, all);
    f("LIST_LRU_MEMCG_AWARE", s.list_lru.memcg_aware, all);
    f("LIST_LRU_XA", s.list_lru.xa, all);
    f("LIST_LRU_NODE_SIZE", s.list_lru.node_size, all);
    f("LIST_LRU_NODE_LRU", s.list_lru.node_lru, all);
    f("LIST_LRU_NODE_NR_ITEMS", s.list_lru.node_nr_items, all);
    f("LIST_LRU_ONE_NR_ITEMS", s.list_lru.one_nr_items, all);
    f("SHRINKER_ID", s.list_lru.shrinker_id_of_shrinker, all);
    f("TASKLET_NEXT", s.tasklet.next, all);
    f("TASKLET_STATE", s.tasklet.state, all);
    f("TASKLET_COUNT", s.tasklet.count, all);
    f("TASKLET_USE_CALLBACK", s.tasklet.use_callback, all);
    f("TASKLET_FUNC", s.tasklet.func, all);
    f("TASKLET_DATA", s.tasklet.data, all);
    f("DEVICE_PLATFORM_DATA", s.device.platform_data, all);
    f("DEVICE_OF_NODE", s.device.of_node, all);
    f("DEVICE_FWNODE", s.device.fwnode, all);
    f("DEVICE_DMA_MASK", s.device.dma_mask, all);
    f("DEVICE_COHERENT_DMA_MASK", s.device.coherent_dma_mask, all);
    f("DEVICE_DRIVER_PROBE", s.device_driver.probe, all);
    f("DEVICE_DRIVER_REMOVE", s.device_driver.remove, all);
    f("DEVICE_DRIVER_SHUTDOWN", s.device_driver.shutdown, all);
    f("DEVICE_DRIVER_PROBE_TYPE", s.device_driver.probe_type, all);
    f("DEVICE_DRIVER_SUPPRESS_BIND_ATTRS", s.device_driver.suppress_bind_attrs, all);
    f("PROBE_PREFER_ASYNCHRONOUS", s.device_driver.probe_prefer_async, all);
    f("PROBE_FORCE_SYNCHRONOUS", s.device_driver.probe_force_sync, all);
    f("BUS_TYPE_MATCH", s.bus_type.match, all);
    f("BUS_TYPE_PROBE", s.bus_type.probe, all);
    f("BUS_TYPE_REMOVE", s.bus_type.remove, all);
    f("PLATFORM_DEVICE_SIZE", s.platform_device.size, all);
    f("PLATFORM_DEVICE_NAME", s.platform_device.name, all);
    f("PLATFORM_DEVICE_ID", s.platform_device.id, all);
    f("PLATFORM_DEVICE_ID_AUTO", s.platform_device.id_auto, all);
    f("PLATFORM_DEVICE_DEV", s.platform_device.dev, all);
    f("PLATFORM_DEVICE_PLATFORM_DMA_MASK", s.platform_device.platform_dma_mask, all);
    f("PLATFORM_DEVICE_NUM_RESOURCES", s.platform_device.num_resources, all);
    f("PLATFORM_DEVICE_RESOURCE", s.platform_device.resource, all);
    f("PLATFORM_DEVICE_ID_ENTRY", s.platform_device.id_entry, all);
    f("PLATFORM_DEVICE_DRIVER_OVERRIDE", s.platform_device.driver_override, all);
    f("PLATFORM_DEVICE_MFD_CELL", s.platform_device.mfd_cell, all);
    f("PLATFORM_DEVID_NONE", s.platform_device.devid_none, all);
    f("PLATFORM_DEVID_AUTO", s.platform_device.devid_auto, all);
    f("PLATFORM_DEVICE_INFO_PARENT", s.platform_device_info.parent, all);
    f("PLATFORM_DEVICE_INFO_FWNODE", s.platform_device_info.fwnode, all);
    f("PLATFORM_DEVICE_INFO_NAME", s.platform_device_info.name, all);
    f("PLATFORM_DEVICE_INFO_ID", s.platform_device_info.id, all);
    f("PLATFORM_DEVICE_INFO_RES", s.platform_device_info.res, all);
    f("PLATFORM_DEVICE_INFO_NUM_RES", s.platform_device_info.num_res, all);
    f("PLATFORM_DEVICE_INFO_DATA", s.platform_device_info.data, all);
    f("PLATFORM_DEVICE_INFO_SIZE_DATA", s.platform_device_info.size_data, all);
    f("PLATFORM_DEVICE_INFO_DMA_MASK", s.platform_device_info.dma_mask, all);
    f("PLATFORM_DEVICE_INFO_PROPERTIES", s.platform_device_info.properties, all);
    f("PLATFORM_DRIVER_PROBE", s.platform_driver.probe, all);
    f("PLATFORM_DRIVER_REMOVE", s.platform_driver.remove, all);
    f("PLATFORM_DRIVER_REMOVE_NEW", s.platform_driver.remove_new, all);
    f("PLATFORM_DRIVER_ID_TABLE", s.platform_driver.id_table, all);
    f("PLATFORM_DRIVER_PREVENT_DEFERRED_PROBE", s.platform_driver.prevent_deferred_probe, all);
    f("PLATFORM_DEVICE_ID_SIZE", s.platform_driver.id_size, all);
    f("PLATFORM_DEVICE_ID_NAME", s.platform_driver.id_name, all);
    f("PLATFORM_DEVICE_ID_NAME_LEN", s.platform_driver.id_name_len, all);
    f("RESOURCE_SIZE", s.resource.size, all);
    f("RESOURCE_NAME", s.resource.name, all);
    f("RESOURCE_FLAGS", s.resource.flags, all);
    f("RESOURCE_PARENT", s.resource.parent, all);
    f("IORESOURCE_TYPE_BITS", s.resource.type_bits, all);
    f("IORESOURCE_IO", s.resource.io, all);
    f("IORESOURCE_MEM", s.resource.mem, all);
    f("IORESOURCE_IRQ", s.resource.irq, all);
    f("TRANSPORT_CLASS_CLASS", s.transport_class.class_, all);
    f("TRANSPORT_CLASS_SETUP", s.transport_class.setup, all);
    f("TRANSPORT_CLASS_REMOVE", s.transport_class.remove, all);
    f("ANON_TRANSPORT_CLASS_TCLASS", s.transport_class.anon_tclass, all);
    f("ANON_TRANSPORT_CLASS_CONTAINER", s.transport_class.anon_container, all);
    f("ATTRIBUTE_CONTAINER_CLASS", s.transport_class.container_class, all);
    f("ATTRIBUTE_CONTAINER_FLAGS", s.transport_class.container_flags, all);
    f("ATTRIBUTE_CONTAINER_NO_CLASSDEVS", s.transport_class.no_classdevs, all);
    f("TTY_DRIVER_SIZE", s.tty_driver.size, all);
    f("TTY_DRIVER_KREF", s.tty_driver.kref, all);
    f("TTY_DRIVER_OWNER", s.tty_driver.owner, all);
    f("TTY_DRIVER_DRIVER_NAME", s.tty_driver.driver_name, all);
    f("TTY_DRIVER_NAME", s.tty_driver.name, all);
    f("TTY_DRIVER_MAJOR", s.tty_driver.major, all);
    f("TTY_DRIVER_MINOR_START", s.tty_driver.minor_start, all);
    f("TTY_DRIVER_NUM", s.tty_driver.num, all);
    f("TTY_DRIVER_FLAGS", s.tty_driver.flags, all);
    f("TTY_DRIVER_TTYS", s.tty_driver.ttys, all);
    f("TTY_DRIVER_PORTS", s.tty_driver.ports, all);
    f("TTY_DRIVER_TERMIOS", s.tty_driver.termios, all);
    f("TTY_DRIVER_CDEVS", s.tty_driver.cdevs, all);
    f("TTY_DRIVER_OPS", s.tty_driver.ops, all);
    f("TTY_OPERATIONS_PROC_SHOW", s.tty_driver.ops_proc_show, all);
    f("TTY_DRIVER_INSTALLED", s.tty_driver.installed, all);
    f("TTY_DRIVER_DEVPTS_MEM", s.tty_driver.devpts_mem, all);
    f("TTY_DRIVER_DYNAMIC_DEV", s.tty_driver.dynamic_dev, all);
    f("TTY_DRIVER_DYNAMIC_ALLOC", s.tty_driver.dynamic_alloc, all);
    f("TTY_DRIVER_UNNUMBERED_NODE", s.tty_driver.unnumbered_node, all);
    f("KTERMIOS_SIZE", s.ktermios.size, all);
    f("KTERMIOS_C_IFLAG", s.ktermios.c_iflag, all);
    f("KTERMIOS_C_OFLAG", s.ktermios.c_oflag, all);
    f("KTERMIOS_C_CFLAG", s.ktermios.c_cflag, all);
    f("KTERMIOS_C_LFLAG", s.ktermios.c_lflag, all);
    f("KTERMIOS_C_CC", s.ktermios.c_cc, all);
    f("KTERMIOS_C_CC_LEN", s.ktermios.c_cc_len, all);
    f("KTERMIOS_C_ISPEED", s.ktermios.c_ispeed, all);
    f("KTERMIOS_C_OSPEED", s.ktermios.c_ospeed, all);
    f("TTY_STD_C_IFLAG", s.ktermios.std_iflag, all);
    f("TTY_STD_C_OFLAG", s.ktermios.std_oflag, all);
    f("TTY_STD_C_CFLAG", s.ktermios.std_cflag, all);
    f("TTY_STD_C_LFLAG", s.ktermios.std_lflag, all);
    f("SERIO_DRIVER_DRIVER", s.bus_driver_fields.serio_driver, all);
    f("SERIO_DRIVER_MANUAL_BIND", s.bus_driver_fields.serio_manual_bind, all);
    f("VIRTIO_DRIVER_DRIVER", s.bus_driver_fields.virtio_driver, all);
    f("VIRTIO_DRIVER_FEATURE_TABLE", s.bus_driver_fields.virtio_feature_table, all);
    f("VIRTIO_DRIVER_FEATURE_TABLE_SIZE", s.bus_driver_fields.virtio_feature_table_size, all);
    f("AMBA_DRIVER_DRV", s.bus_driver_fields.amba_drv, all);
    f("AMBA_DRIVER_PROBE", s.bus_driver_fields.amba_probe, all);
    f("SDIO_DRIVER_NAME", s.bus_driver_fields.sdio_name, all);
    f("SDIO_DRIVER_DRV", s.bus_driver_fields.sdio_drv, all);
    f("CLASS_INTERFACE_CLASS", s.class_interface.class_, all);
    f("CLASS_INTERFACE_ADD_DEV", s.class_interface.add_dev, all);
    f("CLASS_INTERFACE_REMOVE_DEV", s.class_interface.remove_dev, all);
    f("MIPI_DSI_DRIVER_DRIVER", s.dsi_serdev_aux.mipi_dsi_driver, all);
    f("MIPI_DSI_DRIVER_PROBE", s.dsi_serdev_aux.mipi_dsi_probe, all);
    f("MIPI_DSI_DRIVER_REMOVE", s.dsi_serdev_aux.mipi_dsi_remove, all);
    f("MIPI_DSI_DRIVER_SHUTDOWN", s.dsi_serdev_aux.mipi_dsi_shutdown, all);
    f("SERDEV_DEVICE_DRIVER_DRIVER", s.dsi_serdev_aux.serdev_driver, all);
    f("AUXILIARY_DRIVER_DRIVER", s.dsi_serdev_aux.auxiliary_driver, all);
    f("AUXILIARY_DRIVER_PROBE", s.dsi_serdev_aux.auxiliary_probe, all);
    f("AUXILIARY_DRIVER_NAME", s.dsi_serdev_aux.auxiliary_name, all);
    f("AUXILIARY_DRIVER_ID_TABLE", s.dsi_serdev_aux.auxiliary_id_table, all);
    f("TTY_LDISC_OPS_NUM", s.tty_ldisc.ops_num, all);
    f("N_TTY", s.tty_ldisc.n_tty, all);
    f("NR_LDISCS", s.tty_ldisc.nr_ldiscs, all);

    f("SWAIT_QUEUE_HEAD_TASK_LIST", s.swait_queue_head.task_list, all);
    f("CRYPTO_ALG_SIZE", s.crypto_alg.size, all);
    f("CRYPTO_ALG_FLAGS", s.crypto_alg.flags, all);
    f("CRYPTO_ALG_BLOCKSIZE", s.crypto_alg.blocksize, all);
    f("CRYPTO_ALG_ALIGNMASK", s.crypto_alg.alignmask, all);
    f("CRYPTO_ALG_PRIORITY", s.crypto_alg.priority, all);
    f("CRYPTO_ALG_REFCNT", s.crypto_alg.refcnt, all);
    f("CRYPTO_ALG_NAME", s.crypto_alg.name, all);
    f("CRYPTO_ALG_DRIVER_NAME", s.crypto_alg.driver_name, all);
    f("CRYPTO_ALG_NAME_LEN", s.crypto_alg.name_len, all);
    f("CRYPTO_ALG_TYPE", s.crypto_alg.type, all);
    f("CRYPTO_ALG_TYPE_MASK", s.crypto.type_mask, all);
    f("CRYPTO_ALG_TYPE_CIPHER", s.crypto.type_cipher, all);
    f("CRYPTO_ALG_TYPE_AEAD", s.crypto.type_aead, all);
    f("CRYPTO_ALG_TYPE_SKCIPHER", s.crypto.type_skcipher, all);
    f("CRYPTO_ALG_TYPE_AKCIPHER", s.crypto.type_akcipher, all);
    f("CRYPTO_ALG_TYPE_KPP", s.crypto.type_kpp, all);
    f("CRYPTO_ALG_TYPE_SCOMPRESS", s.crypto.type_scompress, all);
    f("CRYPTO_ALG_TYPE_RNG", s.crypto.type_rng, all);
    f("CRYPTO_ALG_TYPE_SHASH", s.crypto.type_shash, all);
    f("CRYPTO_ALG_TYPE_AHASH", s.crypto.type_ahash, all);
    f("MAX_ALGAPI_ALIGNMASK", s.crypto.max_algapi_alignmask, all);
    f("MAX_ALGAPI_BLOCKSIZE", s.crypto.max_algapi_blocksize, all);
    f("MAX_CIPHER_ALIGNMASK", s.crypto.max_cipher_alignmask, all);
    f("MAX_CIPHER_BLOCKSIZE", s.crypto.max_cipher_blocksize, all);
    f("HASH_MAX_DIGESTSIZE", s.crypto.hash_max_digestsize, all);
    f("HASH_MAX_DESCSIZE", s.crypto.hash_max_descsize, all);
    f("HASH_MAX_STATESIZE", s.crypto.hash_max_statesize, all);
    f("PAGE_SIZE", s.crypto.page_size, all);
    f("SHASH_ALG_SIZE", s.crypto_types.shash_size, all);
    f("SHASH_ALG_BASE", s.crypto_types.shash_base, all);
    f("SHASH_ALG_DIGESTSIZE", s.crypto_types.shash_digestsize, all);
    f("SHASH_ALG_DESCSIZE", s.crypto_types.shash_descsize, all);
    f("SHASH_ALG_STATESIZE", s.crypto_types.shash_statesize, all);
    f("SHASH_ALG_EXPORT", s.crypto_types.shash_export, all);
    f("SHASH_ALG_IMPORT", s.crypto_types.shash_import, all);
    f("AHASH_ALG_SIZE", s.crypto_types.ahash_size, all);
    f("AHASH_ALG_BASE", s.crypto_types.ahash_base, all);
    f("AHASH_ALG_DIGESTSIZE", s.crypto_types.ahash_digestsize, all);
    f("AHASH_ALG_STATESIZE", s.crypto_types.ahash_statesize, all);
    f("SKCIPHER_ALG_SIZE", s.crypto_types.skcipher_size, all);
    f("SKCIPHER_ALG_BASE", s.crypto_types.skcipher_base, all);
    f("SKCIPHER_ALG_IVSIZE", s.crypto_types.skcipher_ivsize, all);
    f("SKCIPHER_ALG_CHUNKSIZE", s.crypto_types.skcipher_chunksize, all);
    f("SKCIPHER_ALG_WALKSIZE", s.crypto_types.skcipher_walksize, all);
    f("AEAD_ALG_SIZE", s.crypto_types.aead_size, all);
    f("AEAD_ALG_BASE", s.crypto_types.aead_base, all);
    f("AEAD_ALG_IVSIZE", s.crypto_types.aead_ivsize, all);
    f("AEAD_ALG_MAXAUTHSIZE", s.crypto_types.aead_maxauthsize, all);
    f("AEAD_ALG_CHUNKSIZE", s.crypto_types.aead_chunksize, all);
    f("KPP_ALG_BASE", s.crypto_types.kpp_base, all);
    f("AKCIPHER_ALG_BASE", s.crypto_types.akcipher_base, all);
    f("RNG_ALG_SIZE", s.crypto_types.rng_size, all);
    f("RNG_ALG_BASE", s.crypto_types.rng_base, all);
    f("RNG_ALG_SEEDSIZE", s.crypto_types.rng_seedsize, all);
    f("SCOMP_ALG_SIZE", s.crypto_types.scomp_size, all);
    f("SCOMP_ALG_BASE", s.crypto_types.scomp_base, all);
    f("CRYPTO_TEMPLATE_SIZE", s.crypto_types.template_size, all);
    f("CRYPTO_TEMPLATE_NAME", s.crypto_types.template_name, all);

    f("MEMPOOL_SIZE", s.mempool.size, all);
    f("MEMPOOL_LOCK", s.mempool.lock, all);
    f("MEMPOOL_MIN_NR", s.mempool.min_nr, all);
    f("MEMPOOL_CURR_NR", s.mempool.curr_nr, all);
    f("MEMPOOL_ELEMENTS", s.mempool.elements, all);
    f("MEMPOOL_POOL_DATA", s.mempool.pool_data, all);
    f("MEMPOOL_ALLOC", s.mempool.alloc, all);
    f("MEMPOOL_FREE", s.mempool.free, all);
    f("MEMPOOL_WAIT", s.mempool.wait, all);
    f("BACKING_DEV_INFO_SIZE", s.backing_dev_info.size, all);
    f("BACKING_DEV_INFO_CAPABILITIES", s.backing_dev_info.capabilities, all);
    f("BACKING_DEV_INFO_RA_PAGES", s.backing_dev_info.ra_pages, all);
    f("BACKING_DEV_INFO_IO_PAGES", s.backing_dev_info.io_pages, all);
    f("BACKING_DEV_INFO_DEV", s.backing_dev_info.dev, all);
    f("BACKING_DEV_INFO_DEV_NAME", s.backing_dev_info.dev_name, all);
    f("BACKING_DEV_INFO_DEV_NAME_LEN", s.backing_dev_info.dev_name_len, all);
    f("BDI_CAP_WRITEBACK", s.backing_dev_info.cap_writeback, all);
    f("BDI_CAP_WRITEBACK_ACCT", s.backing_dev_info.cap_writeback_acct, all);
    f("VM_READAHEAD_PAGES", s.backing_dev_info.vm_readahead_pages, all);
    f("CPUHP_OFFLINE", s.cpuhp.offline, all);
    f("CPUHP_ONLINE", s.cpuhp.online, all);
    f("CPUHP_AP_ONLINE_DYN", s.cpuhp.ap_online_dyn, all);
    f("CPUHP_AP_ONLINE_DYN_END", s.cpuhp.ap_online_dyn_end, all);
    f("CPUHP_BP_PREPARE_DYN", s.cpuhp.bp_prepare_dyn, all);
    f("CPUHP_BP_PREPARE_DYN_END", s.cpuhp.bp_prepare_dyn_end, all);
    f("CPUFREQ_GOVERNOR_NAME", s.cpufreq_governor.name, all);
    f("CPUFREQ_GOVERNOR_NAME_LEN", s.cpufreq_governor.name_len, all);

    f("RESOURCE_START", s.resource.start, all);
    f("RESOURCE_END", s.resource.end, all);
    f("RESOURCE_DESC", s.resource.desc, all);
    f("RESOURCE_SIBLING", s.resource.sibling, all);
    f("RESOURCE_CHILD", s.resource.child, all);
    f("IORESOURCE_BUSY", s.resource.busy, all);
    f("IORESOURCE_MUXED", s.resource.muxed, all);
    f("IO_SPACE_LIMIT", s.resource.io_space_limit, all);
    f("PCI_IOBASE", s.pci_iobase, all);
    f("JUMP_ENTRY_SIZE", s.jump_entry_size, all);
    f("ZPOOL_DRIVER_REFCOUNT", s.zpool_driver_refcount, all);
    f("STRUCT_PAGE_SIZE", s.page.size, all);
    f("PAGE_FLAGS", s.page.flags, all);
    f("PAGE_REFCOUNT", s.page.refcount, all);
    f("PAGE_OFFSET", s.page.page_offset, all);
    f("GFP_COMP", s.page.gfp_comp, all);
    f("GFP_NOWARN", s.page.gfp_nowarn, all);

    constexpr std::optional<Arch> arm64 = Arch::arm64;
    f("VMEMMAP_START", s.page.vmemmap_start, arm64);
    f("KERNEL_HWCAP_FP", s.hwcap.fp, arm64);
    f("KERNEL_HWCAP_ASIMD", s.hwcap.asimd, arm64);
    f("KERNEL_HWCAP_EVTSTRM", s.hwcap.evtstrm, arm64);
    f("KERNEL_HWCAP_AES", s.hwcap.aes, arm64);
    f("KERNEL_HWCAP_PMULL", s.hwcap.pmull, arm64);
    f("KERNEL_HWCAP_SHA1", s.hwcap.sha1, arm64);
    f("KERNEL_HWCAP_SHA2", s.hwcap.sha2, arm64);
    f("KERNEL_HWCAP_CRC32", s.hwcap.crc32, arm64);
    f("KERNEL_HWCAP_CPUID", s.hwcap.cpuid, arm64);

    constexpr std::optional<Arch> arm = Arch::arm;
    f("ARM_DELAY_OPS_SIZE", s.arm_delay_ops.size, arm);
    f("ARM_DELAY_OPS_DELAY", s.arm_delay_ops.delay, arm);
    f("ARM_DELAY_OPS_CONST_UDELAY", s.arm_delay_ops.const_udelay, arm);
    f("ARM_DELAY_OPS_UDELAY", s.arm_delay_ops.udelay, arm);
    f("ARM_DELAY_OPS_TICKS_PER_JIFFY", s.arm_delay_ops.ticks_per_jiffy, arm);
}

// The first key of `arch` that a compiled-in layout lacks, if any (the build checks the
// default kernel's with it).
constexpr std::optional<std::string_view> missing_layout_key(std::span<const LayoutValue> values,
                                                             Arch arch) {
    // The keys sorted once, each looked up by bisection (a linear scan per key exceeds the
    // compiler's constexpr evaluation limit).
    std::vector<std::string_view> keys;
    for (const LayoutValue& v : values)
        keys.push_back(v.key);
    std::sort(keys.begin(), keys.end());
    KernelStructs s{};
    std::optional<std::string_view> missing;
    KernelStructs::visit(s, [&](std::string_view key, uint64_t&, std::optional<Arch> only) {
        if (missing || (only && *only != arch)) return;
        if (!std::binary_search(keys.begin(), keys.end(), key)) missing = key;
    });
    return missing;
}

}  // namespace kmodemu
