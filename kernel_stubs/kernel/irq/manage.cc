// kernel/irq/manage.c and kernel/irq/devres.c: interrupt lines and their handlers. The lines
// there are are the machine's declared devices' (--device ...:irq=N): each has an irq_desc with
// its actions (request_threaded_irq()), a disable depth and a wake depth. Line 0 has no
// descriptor on ARM or arm64; another line is the machine's own devices', which kmodemu does not
// model: a request for one stops the run. `--irq N@MS` raises a line (raise_irq()): its
// handlers run in hardirq context (HARDIRQ_OFFSET in the task's preempt_count, as
// __irq_enter_raw() adds it), then the thread functions a handler woke (IRQ_WAKE_THREAD).
//
// The thread of a threaded handler ("irq/N-name", irq_thread()) is not a task here yet: its
// function runs right after the hard handler, nested in the caller of raise_irq(). (Kernel
// threads are another helper's work: run it on one when they exist.)
#include <cerrno>
#include <map>
#include <vector>

#include "kernel_stubs/bug.h"
#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/drivers/base/machine.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

// include/linux/interrupt.h, irqreturn.h (the same in 6.1 and 6.12).
constexpr uint64_t irqf_trigger_mask = 0xf;
constexpr uint64_t irqf_shared = 0x80;
constexpr uint64_t irqf_probe_shared = 0x100;
constexpr uint64_t irqf_oneshot = 0x2000;
constexpr uint64_t irqf_no_suspend = 0x4000;
constexpr uint64_t irqf_cond_suspend = 0x40000;
constexpr uint64_t irqf_no_autoen = 0x80000;
constexpr uint32_t irq_notconnected = 1u << 31;
constexpr uint64_t irq_wake_thread = 2;
constexpr uint32_t hardirq_offset = 1u << 16;

struct Action {
    uint64_t handler = 0;  // 0: irq_default_primary_handler() (wakes the thread)
    uint64_t thread_fn = 0;
    uint64_t flags = 0;
    uint64_t name = 0;  // devname
    uint64_t dev_id = 0;
};

struct Line {
    std::vector<Action> actions;
    unsigned depth = 1;  // disabled until started (irq_startup())
    unsigned wake_depth = 0;
    bool pending = false;  // raised while disabled (IRQS_PENDING)
    bool trigger_set = false;
    uint64_t trigger = 0;
};

struct Irqs : Kernel::SubsystemState {
    std::map<unsigned, Line> lines;  // the machine's lines, by number
    bool lines_made = false;
    uint64_t devm_release = 0;  // devm_irq_release()
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

// irq_to_desc(irq): the line's descriptor, or nullptr for none (line 0). A line the declared
// devices do not have is the machine's own: stops the run.
Line* desc(StubCall& c, unsigned irq, const char* fn) {
    Irqs& st = c.kernel.state<Irqs>();
    if (!st.lines_made) {
        for (const MachineState::Device& d : c.kernel.state<MachineState>().devices)
            if (d.spec.irq) st.lines[*d.spec.irq];
        st.lines_made = true;
    }
    if (auto it = st.lines.find(irq); it != st.lines.end()) return &it->second;
    if (irq == 0) return nullptr;
    c.unimplemented(std::string(fn) + " (an interrupt line of the machine's own devices)");
}

std::string cstr(Kernel& k, uint64_t p) {
    std::string out;
    if (p) k.emu().read_cstring(p, 256, out);
    return out;
}

std::string hex8(uint64_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08llx", (unsigned long long)(v & 0xffffffffu));
    return b;
}

// request_threaded_irq(irq, handler, thread_fn, irqflags, devname, dev_id) and __setup_irq().
int request_threaded_irq(StubCall& c, unsigned irq, uint64_t handler, uint64_t thread_fn,
                         uint64_t flags, uint64_t devname, uint64_t dev_id) {
    Kernel& k = c.kernel;
    if (irq == irq_notconnected) return -ENOTCONN;
    if (((flags & irqf_shared) && !dev_id) || ((flags & irqf_shared) && (flags & irqf_no_autoen)) ||
        (!(flags & irqf_shared) && (flags & irqf_cond_suspend)) ||
        ((flags & irqf_no_suspend) && (flags & irqf_cond_suspend)))
        return -EINVAL;
    Line* line = desc(c, irq, "request_threaded_irq");
    if (!line) return -EINVAL;
    if (!handler && !thread_fn) return -EINVAL;
    Action a{handler, thread_fn, flags, devname, dev_id};
    // The GIC is not IRQCHIP_ONESHOT_SAFE: a threaded handler without a primary one must be
    // oneshot.
    if (!handler && !(flags & irqf_oneshot)) {
        k.log(3, "genirq: Threaded irq requested with handler=NULL and !ONESHOT for " +
                     cstr(k, devname) + " (irq " + std::to_string(irq) + ")");
        return -EINVAL;
    }
    if (!line->actions.empty()) {
        const Action& old = line->actions.front();
        uint64_t oldtype = line->trigger_set ? line->trigger : flags & irqf_trigger_mask;
        if (!line->trigger_set) {
            line->trigger = oldtype;
            line->trigger_set = true;
        }
        if (!((old.flags & flags) & irqf_shared) || oldtype != (flags & irqf_trigger_mask) ||
            ((old.flags ^ flags) & irqf_oneshot)) {
            if (!(flags & irqf_probe_shared))
                k.log(3, "genirq: Flags mismatch irq " + std::to_string(irq) + ". " + hex8(flags) +
                             " (" + cstr(k, devname) + ") vs. " + hex8(old.flags) + " (" +
                             cstr(k, old.name) + ")");
            return -EBUSY;
        }
        line->actions.push_back(a);
        return 0;
    }
    // The first action: the trigger type set from the flags, the line started unless
    // IRQF_NO_AUTOEN.
    if (flags & irqf_trigger_mask) {
        line->trigger = flags & irqf_trigger_mask;
        line->trigger_set = true;
    }
    line->actions.push_back(a);
    line->depth = (flags & irqf_no_autoen) ? 1 : 0;
    return 0;
}

// free_irq(irq, dev_id) / __free_irq(): the action of dev_id removed (a WARN for none), the
// line shut down with its last; its devname.
uint64_t free_irq(StubCall& c, unsigned irq, uint64_t dev_id) {
    Line* line = desc(c, irq, "free_irq");
    if (!line) return 0;
    for (auto it = line->actions.begin(); it != line->actions.end(); ++it) {
        if (it->dev_id != dev_id) continue;
        uint64_t name = it->name;
        line->actions.erase(it);
        if (line->actions.empty()) {
            line->depth = 1;  // irq_shutdown()
            line->trigger_set = false;
            line->pending = false;
        }
        return name;
    }
    kernel_warn(c, "kernel/irq/manage.c", 0,
                "Trying to free already-free IRQ " + std::to_string(irq));
    return 0;
}

void handle_line(Kernel& k, unsigned irq, Line& line, bool& handled) {
    uint64_t at = k.current_task() + k.structs().task.preempt_count;
    auto add = [&](int32_t d) {
        uint32_t pc = k.emu().read_u32(at) + uint32_t(d);
        k.emu().write_u32(at, pc);
    };
    std::vector<Action> actions = line.actions;
    std::vector<Action> woken;
    add(int32_t(hardirq_offset));
    for (const Action& a : actions) {
        uint64_t r = a.handler ? uint32_t(k.call_guest(a.handler, {irq, a.dev_id}))
                               : irq_wake_thread;  // irq_default_primary_handler()
        if (r) handled = true;
        if ((r & irq_wake_thread) && a.thread_fn) woken.push_back(a);
    }
    add(-int32_t(hardirq_offset));
    for (const Action& a : woken)  // irq_thread_fn()
        k.call_guest(a.thread_fn, {irq, a.dev_id});
}

}  // namespace

bool raise_irq(Kernel& k, unsigned irq) {
    StubCall c(k, k.emu());
    Irqs& st = k.state<Irqs>();
    desc(c, 0, "raise_irq");  // the lines made
    auto it = st.lines.find(irq);
    if (it == st.lines.end() || it->second.actions.empty()) return false;  // masked: no handler
    Line& line = it->second;
    if (line.depth) {
        line.pending = true;
        return false;
    }
    bool handled = false;
    handle_line(k, irq, line, handled);
    return handled;
}

void register_irq_manage(Kernel& k) {
    const char* sub = "kernel/irq/manage";
    k.add_function("request_threaded_irq", sub, [](StubCall& c) -> uint64_t {
        return ret(request_threaded_irq(c, uint32_t(c.arg(0)), c.arg(1), c.arg(2),
                                        uint32_t(c.arg(3)), c.arg(4), c.arg(5)));
    });
    k.add_function("free_irq", sub, [](StubCall& c) -> uint64_t {
        return free_irq(c, uint32_t(c.arg(0)), c.arg(1));
    });
    // disable_irq(irq) / disable_irq_nosync(irq): the depth up (no handler runs here meanwhile:
    // nothing to wait for).
    k.add_functions({"disable_irq", "disable_irq_nosync"}, sub, [](StubCall& c) -> uint64_t {
        if (Line* line = desc(c, uint32_t(c.arg(0)), "disable_irq")) ++line->depth;
        return 0;
    });
    // enable_irq(irq): the depth down; at 0 a pending interrupt is delivered
    // (check_irq_resend()); "Unbalanced enable" WARNed at 0 already.
    k.add_function("enable_irq", sub, [](StubCall& c) -> uint64_t {
        unsigned irq = uint32_t(c.arg(0));
        Line* line = desc(c, irq, "enable_irq");
        if (!line) return 0;
        if (line->depth == 0) {
            kernel_warn(c, "kernel/irq/manage.c", 0,
                        "Unbalanced enable for IRQ " + std::to_string(irq));
            return 0;
        }
        if (--line->depth == 0 && line->pending && !line->actions.empty()) {
            line->pending = false;
            bool handled = false;
            handle_line(c.kernel, irq, *line, handled);
        }
        return 0;
    });
    // irq_set_irq_wake(irq, on): the wake depth (the GIC skips set_wake); "Unbalanced IRQ %d
    // wake disable" WARNed at 0.
    k.add_function("irq_set_irq_wake", sub, [](StubCall& c) -> uint64_t {
        unsigned irq = uint32_t(c.arg(0));
        Line* line = desc(c, irq, "irq_set_irq_wake");
        if (!line) return ret(-EINVAL);
        if (uint32_t(c.arg(1))) {
            ++line->wake_depth;
        } else if (line->wake_depth == 0) {
            kernel_warn(c, "kernel/irq/manage.c", 0,
                        "Unbalanced IRQ " + std::to_string(irq) + " wake disable");
        } else {
            --line->wake_depth;
        }
        return 0;
    });

    // kernel/irq/devres.c: devm_irq_release(dev, res): free_irq(this->irq, this->dev_id).
    const char* dsub = "kernel/irq/devres";
    k.state<Irqs>().devm_release =
        k.add_function("devm_irq_release", dsub, [](StubCall& c) -> uint64_t {
             Kernel& k = c.kernel;
             free_irq(c, k.emu().read_u32(c.arg(1)), k.emu().read_word(c.arg(1) + k.word()));
             return 0;
         }).address;
    // devm_request_threaded_irq(dev, irq, handler, thread_fn, irqflags, devname, dev_id): the
    // device's name when devname is NULL; a devres of (irq, dev_id) when the request succeeded.
    k.add_function("devm_request_threaded_irq", dsub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t dev = c.arg(0);
        unsigned irq = uint32_t(c.arg(1));
        uint64_t dr = drivers::devres_alloc_node(k, k.state<Irqs>().devm_release, 2 * k.word());
        if (!dr) return ret(-ENOMEM);
        uint64_t devname = c.arg(5);
        if (!devname) devname = k.emu().read_word(dev + k.structs().device.kobj_name);
        int rc =
            request_threaded_irq(c, irq, c.arg(2), c.arg(3), uint32_t(c.arg(4)), devname, c.arg(6));
        if (rc) {
            drivers::devres_free_node(k, dr);
            return ret(rc);
        }
        k.emu().write_u32(dr, irq);
        k.emu().write_word(dr + k.word(), c.arg(6));
        drivers::devres_add_node(k, dev, dr);
        return 0;
    });
    // devm_free_irq(dev, irq, dev_id): WARN_ON() when no devres of them; free_irq().
    k.add_function("devm_free_irq", dsub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        unsigned irq = uint32_t(c.arg(1));
        uint64_t dev_id = c.arg(2);
        bool found = drivers::devres_destroy_node(
            k, c.arg(0), k.state<Irqs>().devm_release, [&](uint64_t d) {
                return k.emu().read_u32(d) == irq && k.emu().read_word(d + k.word()) == dev_id;
            });
        if (!found) kernel_warn(c, "kernel/irq/devres.c", 0, "");
        free_irq(c, irq, dev_id);
        return 0;
    });
}

}  // namespace kmodemu
