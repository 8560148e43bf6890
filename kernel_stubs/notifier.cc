#include "kernel_stubs/notifier.h"

#include <cerrno>

namespace kmodemu::notifier {

Layout Layout::for_arch(Arch a) {
    if (a == Arch::arm64) {
        // struct rw_semaphore is 40 bytes (count, owner, osq, wait_lock, wait_list);
        // spinlock_t is 4 bytes; pointers 8.
        return Layout{0, 8, 16, 8, 40, 0};
    }
    return Layout{0, 4, 8, 4, 24, 0};
}

int to_errno(int ret) {
    ret &= ~notify_stop_mask;
    return ret > notify_ok ? notify_ok - ret : 0;
}

int chain_register(Kernel& k, uint64_t head_field, uint64_t nb, bool unique_priority) {
    Emulator& e = k.emu();
    Layout l = Layout::for_arch(k.arch());
    int32_t prio = static_cast<int32_t>(e.read_u32(nb + l.nb_priority));
    uint64_t link = head_field;  // address of the pointer to update
    for (;;) {
        uint64_t cur = e.read_word(link);
        if (!cur) break;
        if (cur == nb) {
            // notifier_chain_register(): "notifier callback %ps already registered"
            k.log(4, "notifier callback already registered");
            return -EEXIST;
        }
        int32_t cprio = static_cast<int32_t>(e.read_u32(cur + l.nb_priority));
        if (prio > cprio) break;
        if (prio == cprio && unique_priority) return -EBUSY;
        link = cur + l.nb_next;
    }
    e.write_word(nb + l.nb_next, e.read_word(link));
    e.write_word(link, nb);
    return 0;
}

int chain_unregister(Kernel& k, uint64_t head_field, uint64_t nb) {
    Emulator& e = k.emu();
    Layout l = Layout::for_arch(k.arch());
    uint64_t link = head_field;
    for (;;) {
        uint64_t cur = e.read_word(link);
        if (!cur) return -ENOENT;
        if (cur == nb) {
            e.write_word(link, e.read_word(nb + l.nb_next));
            return 0;
        }
        link = cur + l.nb_next;
    }
}

int call_chain(Kernel& k, uint64_t head_field, uint64_t val, uint64_t v, int nr_to_call,
               int* nr_calls) {
    Emulator& e = k.emu();
    Layout l = Layout::for_arch(k.arch());
    int ret = notify_done;
    uint64_t nb = e.read_word(head_field);
    while (nb && nr_to_call) {
        uint64_t next = e.read_word(nb + l.nb_next);
        uint64_t fn = e.read_word(nb + l.nb_call);
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
    uint64_t nh = k.alloc_data(64, 16);
    k.objects["module_notify_list"] = nh;
    return nh;
}

namespace {
uint64_t blocking_head_field(Kernel& k, uint64_t nh) {
    return nh + Layout::for_arch(k.arch()).blocking_head;
}
}  // namespace

int call_module_notifiers(Kernel& k, ModuleState state, uint64_t mod) {
    return call_chain(k, blocking_head_field(k, module_notify_head(k)),
                      static_cast<uint64_t>(state), mod, -1, nullptr);
}

int call_module_notifiers_robust(Kernel& k, ModuleState up, ModuleState down, uint64_t mod) {
    int ret = call_chain_robust(k, blocking_head_field(k, module_notify_head(k)),
                                static_cast<uint64_t>(up), static_cast<uint64_t>(down), mod);
    return to_errno(ret);
}

}  // namespace kmodemu::notifier

namespace kmodemu {

void register_notifier(Kernel& k) {
    using namespace notifier;
    Layout l = Layout::for_arch(k.arch());
    const char* sub = "notifier";
    struct Kind {
        const char* prefix;
        uint64_t head;
    };
    for (Kind kind : {Kind{"blocking", l.blocking_head}, Kind{"atomic", l.atomic_head},
                      Kind{"raw", l.raw_head}}) {
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
    k.add_function("blocking_notifier_chain_register_unique_prio", sub, [l](StubCall& c) {
        return static_cast<uint64_t>(
            chain_register(c.kernel, c.arg(0) + l.blocking_head, c.arg(1), true));
    });
    k.add_function("register_module_notifier", sub, [l](StubCall& c) {
        return static_cast<uint64_t>(chain_register(
            c.kernel, module_notify_head(c.kernel) + l.blocking_head, c.arg(0), false));
    });
    k.add_function("unregister_module_notifier", sub, [l](StubCall& c) {
        return static_cast<uint64_t>(
            chain_unregister(c.kernel, module_notify_head(c.kernel) + l.blocking_head, c.arg(0)));
    });
}

}  // namespace kmodemu
