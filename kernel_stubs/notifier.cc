#include "kernel_stubs/notifier.h"

#include <cerrno>
#include <string>
#include <tuple>

#include "kernel_stubs/structs.h"

namespace kmodemu::notifier {

int to_errno(int ret) {
    ret &= ~notify_stop_mask;
    return ret > notify_ok ? notify_ok - ret : 0;
}

int chain_register(Kernel& k, uint64_t head_field, uint64_t nb, bool unique_priority) {
    Emulator& e = k.emu();
    const KernelStructs::NotifierBlock& l = k.structs().notifier_block;
    int32_t prio = static_cast<int32_t>(e.read_u32(nb + l.priority));
    uint64_t link = head_field;  // address of the pointer to update
    for (;;) {
        uint64_t cur = e.read_word(link);
        if (!cur) break;
        if (cur == nb) {
            // notifier_chain_register(): "notifier callback %ps already registered"
            k.log(4, "notifier callback already registered");
            return -EEXIST;
        }
        int32_t cprio = static_cast<int32_t>(e.read_u32(cur + l.priority));
        if (prio > cprio) break;
        if (prio == cprio && unique_priority) return -EBUSY;
        link = cur + l.next;
    }
    e.write_word(nb + l.next, e.read_word(link));
    e.write_word(link, nb);
    return 0;
}

int chain_unregister(Kernel& k, uint64_t head_field, uint64_t nb) {
    Emulator& e = k.emu();
    const KernelStructs::NotifierBlock& l = k.structs().notifier_block;
    uint64_t link = head_field;
    for (;;) {
        uint64_t cur = e.read_word(link);
        if (!cur) return -ENOENT;
        if (cur == nb) {
            e.write_word(link, e.read_word(nb + l.next));
            return 0;
        }
        link = cur + l.next;
    }
}

int call_chain(Kernel& k, uint64_t head_field, uint64_t val, uint64_t v, int nr_to_call,
               int* nr_calls) {
    Emulator& e = k.emu();
    const KernelStructs::NotifierBlock& l = k.structs().notifier_block;
    int ret = notify_done;
    uint64_t nb = e.read_word(head_field);
    while (nb && nr_to_call) {
        uint64_t next = e.read_word(nb + l.next);
        uint64_t fn = e.read_word(nb + l.notifier_call);
        ret = static_cast<int32_t>(k.call_guest(fn, {nb, val, v}));
        if (nr_calls) ++*nr_calls;
        if (ret & notify_stop_mask) break;
        nb = next;
        --nr_to_call;
    }
    return ret;
}

int call_chain_robust(Kernel& k, uint64_t head_field, uint64_t val_up, uint64_t val_down,
                      uint64_t v) {
    int nr = 0;
    int ret = call_chain(k, head_field, val_up, v, -1, &nr);
    if (ret & notify_stop_mask) call_chain(k, head_field, val_down, v, nr - 1, nullptr);
    return ret;
}

uint64_t module_notify_head(Kernel& k) {
    auto it = k.objects.find("module_notify_list");
    if (it != k.objects.end()) return it->second;
    uint64_t nh = k.alloc_data(k.structs().blocking_notifier_head.size, 16);
    k.objects["module_notify_list"] = nh;
    return nh;
}

uint64_t kernel_chain(Kernel& k, const std::string& name) {
    auto it = k.objects.find(name);
    if (it != k.objects.end()) return it->second;
    // Each kind of head keeps its first notifier_block pointer at its own offset; one word
    // holds it here, the head's other fields (its lock) being the kernel's own business.
    uint64_t head = k.alloc_data(k.word(), 16);
    k.objects[name] = head;
    return head;
}

namespace {
uint64_t blocking_head_field(Kernel& k, uint64_t nh) {
    return nh + k.structs().blocking_notifier_head.head;
}
}  // namespace

int call_module_notifiers(Kernel& k, ModuleState state, uint64_t mod) {
    return call_chain(k, blocking_head_field(k, module_notify_head(k)),
                      module_state_value(k.structs(), state), mod, -1, nullptr);
}

int call_module_notifiers_robust(Kernel& k, ModuleState up, ModuleState down, uint64_t mod) {
    int ret = call_chain_robust(k, blocking_head_field(k, module_notify_head(k)),
                                module_state_value(k.structs(), up),
                                module_state_value(k.structs(), down), mod);
    return to_errno(ret);
}

}  // namespace kmodemu::notifier

namespace kmodemu {

void register_notifier(Kernel& k) {
    using namespace notifier;
    const KernelStructs& s = k.structs();
    const uint64_t blocking_head = s.blocking_notifier_head.head;
    const char* sub = "notifier";
    struct Kind {
        const char* prefix;
        uint64_t head;
    };
    for (Kind kind : {Kind{"blocking", blocking_head}, Kind{"atomic", s.atomic_notifier_head.head},
                      Kind{"raw", s.raw_notifier_head.head}}) {
        std::string p = kind.prefix;
        uint64_t off = kind.head;
        k.add_function(p + "_notifier_chain_register", sub, [off](StubCall& c) {
            return static_cast<uint64_t>(chain_register(c.kernel, c.arg(0) + off, c.arg(1), false));
        });
        k.add_function(p + "_notifier_chain_unregister", sub, [off](StubCall& c) {
            return static_cast<uint64_t>(chain_unregister(c.kernel, c.arg(0) + off, c.arg(1)));
        });
        k.add_function(p + "_notifier_call_chain", sub, [off](StubCall& c) {
            return static_cast<uint64_t>(static_cast<int64_t>(
                call_chain(c.kernel, c.arg(0) + off, c.arg(1), c.arg(2), -1, nullptr)));
        });
        k.add_function(p + "_notifier_call_chain_robust", sub, [off](StubCall& c) {
            return static_cast<uint64_t>(static_cast<int64_t>(
                call_chain_robust(c.kernel, c.arg(0) + off, c.arg(1), c.arg(2), c.arg(3))));
        });
    }
    k.add_function("blocking_notifier_chain_register_unique_prio", sub,
                   [blocking_head](StubCall& c) {
                       return static_cast<uint64_t>(
                           chain_register(c.kernel, c.arg(0) + blocking_head, c.arg(1), true));
                   });
    k.add_function("register_module_notifier", sub, [blocking_head](StubCall& c) {
        return static_cast<uint64_t>(chain_register(
            c.kernel, module_notify_head(c.kernel) + blocking_head, c.arg(0), false));
    });
    k.add_function("unregister_module_notifier", sub, [blocking_head](StubCall& c) {
        return static_cast<uint64_t>(
            chain_unregister(c.kernel, module_notify_head(c.kernel) + blocking_head, c.arg(0)));
    });
    // The kernel's chains whose events do not happen in a run (no reboot, suspend, memory
    // hotplug, address change, oom, die, console or keyboard event): registering adds the block
    // to the chain and calls nothing (none of these registrations replays past events).
    struct Chain {
        const char* reg;
        const char* unreg;
        const char* chain;  // the kernel's head (its file)
        bool gpl;
    };
    for (const Chain& ch : {
             Chain{"register_netevent_notifier", "unregister_netevent_notifier",
                   "netevent_notif_chain", true},  // net/core/netevent.c
             Chain{"crypto_register_notifier", "crypto_unregister_notifier", "crypto_chain",
                   true},  // crypto/api.c
             Chain{"register_reboot_notifier", "unregister_reboot_notifier",
                   "reboot_notifier_list", false},  // kernel/reboot.c
             Chain{"register_restart_handler", "unregister_restart_handler",
                   "restart_handler_list", false},  // kernel/reboot.c
             Chain{"register_pm_notifier", "unregister_pm_notifier", "pm_chain_head",
                   true},  // kernel/power/main.c
             Chain{"register_memory_notifier", "unregister_memory_notifier",
                   "memory_chain", false},  // drivers/base/memory.c
             Chain{"register_inetaddr_notifier", "unregister_inetaddr_notifier",
                   "inetaddr_chain", false},  // net/ipv4/devinet.c
             Chain{"register_inetaddr_validator_notifier",
                   "unregister_inetaddr_validator_notifier", "inetaddr_validator_chain",
                   false},  // net/ipv4/devinet.c
             Chain{"register_inet6addr_notifier", "unregister_inet6addr_notifier",
                   "inet6addr_chain", false},  // net/ipv6/addrconf_core.c
             Chain{"register_inet6addr_validator_notifier",
                   "unregister_inet6addr_validator_notifier", "inet6addr_validator_chain",
                   false},  // net/ipv6/addrconf_core.c
             Chain{"register_dcbevent_notifier", "unregister_dcbevent_notifier",
                   "dcbevent_notif_chain", false},  // net/dcb/dcbevent.c
             Chain{"register_keyboard_notifier", "unregister_keyboard_notifier",
                   "keyboard_notifier_list", true},  // drivers/tty/vt/keyboard.c
             Chain{"register_vt_notifier", "unregister_vt_notifier", "vt_notifier_list",
                   true},  // drivers/tty/vt/vt.c
             Chain{"register_oom_notifier", "unregister_oom_notifier", "oom_notify_list",
                   true},  // mm/oom_kill.c
             Chain{"register_die_notifier", "unregister_die_notifier", "die_chain",
                   true},  // kernel/notifier.c
             Chain{"register_blocking_lsm_notifier", "unregister_blocking_lsm_notifier",
                   "blocking_lsm_notifier_chain", false},  // security/security.c
             Chain{"register_switchdev_notifier", "unregister_switchdev_notifier",
                   "switchdev_notif_chain", true},  // net/switchdev/switchdev.c
             Chain{"register_switchdev_blocking_notifier",
                   "unregister_switchdev_blocking_notifier", "switchdev_blocking_notif_chain",
                   true},  // net/switchdev/switchdev.c
         }) {
        std::string name = ch.chain;
        k.add_function(ch.reg, sub, [name](StubCall& c) {
            return static_cast<uint64_t>(
                int64_t(chain_register(c.kernel, kernel_chain(c.kernel, name), c.arg(0), false)));
        }, ch.gpl);
        k.add_function(ch.unreg, sub, [name](StubCall& c) {
            return static_cast<uint64_t>(
                int64_t(chain_unregister(c.kernel, kernel_chain(c.kernel, name), c.arg(0))));
        }, ch.gpl);
    }
}

}  // namespace kmodemu
