// kernel/cpu.c: the CPU hotplug state machine's callbacks (__cpuhp_setup_state() and the rest).
// The oracle's machine has two CPUs (qemu -smp 2), both online: a state's startup callback runs
// for CPU 0 and CPU 1 when it is installed with `invoke`, its teardown when it is removed. (The
// kernel runs an AP state's callback on the CPU itself; here it runs in the caller, with the
// CPU's number as its argument.)
#include <cerrno>
#include <map>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned online_cpus = 2;

struct CpuhpStates : Kernel::SubsystemState {
    struct Step {
        uint64_t startup = 0, teardown = 0;
        bool multi_instance = false;
        std::vector<uint64_t> instances;  // hlist nodes
    };
    std::map<int64_t, Step> steps;  // by state: cpuhp_hp_states[] entries with a name
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

int32_t call_cb(Kernel& k, uint64_t fn, unsigned cpu, std::optional<uint64_t> node) {
    uint64_t r = node ? k.call_guest(fn, {cpu, *node}) : k.call_guest(fn, {cpu});
    return static_cast<int32_t>(r);
}

// cpuhp_store_callbacks(): a dynamic state takes the first free one of its range (-ENOSPC when
// none is); a state that has callbacks is -EBUSY. The dynamic states the kernel's own code took
// at boot are not known: the numbering starts at the range's first.
int64_t store(Kernel& k, int64_t state, uint64_t startup, uint64_t teardown, bool multi) {
    const KernelStructs::Cpuhp& h = k.structs().cpuhp;
    CpuhpStates& s = k.state<CpuhpStates>();
    int64_t ret = 0;
    auto dyn = [&](int64_t first, int64_t last) -> int64_t {
        for (int64_t i = first; i <= last; ++i)
            if (!s.steps.count(i)) return i;
        return -ENOSPC;
    };
    if (state == int64_t(h.ap_online_dyn))
        ret = dyn(int64_t(h.ap_online_dyn), int64_t(h.ap_online_dyn_end));
    else if (state == int64_t(h.bp_prepare_dyn))
        ret = dyn(int64_t(h.bp_prepare_dyn), int64_t(h.bp_prepare_dyn_end));
    if (ret < 0) return ret;
    if (ret > 0) state = ret;
    if (s.steps.count(state)) return -EBUSY;
    s.steps[state] = {startup, teardown, multi, {}};
    return ret;
}

}  // namespace

void register_cpuhp(Kernel& k) {
    const char* sub = "kernel/cpu";
    // __cpuhp_setup_state(state, name, invoke, startup, teardown, multi_instance) and its
    // _cpuslocked twin: -EINVAL for a state outside (CPUHP_OFFLINE, CPUHP_ONLINE) or no name; the
    // dynamic state's number for CPUHP_AP_ONLINE_DYN, else 0. A startup callback that fails on a
    // CPU: the teardown runs on the CPUs done before it, the callbacks are removed, its error
    // returned. A multi-instance state has no instance yet: nothing runs.
    auto setup = [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::Cpuhp& h = k.structs().cpuhp;
        int64_t state = c.iarg(0);
        bool invoke = c.arg(2) & 0xff, multi = c.arg(5) & 0xff;
        uint64_t startup = c.arg(3), teardown = c.arg(4);
        if (state <= int64_t(h.offline) || state >= int64_t(h.online) || !c.arg(1))
            return ret(-EINVAL);
        bool dynstate = state == int64_t(h.ap_online_dyn);
        int64_t r = store(k, state, startup, teardown, multi);
        if (r > 0 && dynstate) {
            state = r;
            r = 0;
        }
        if (r || !invoke || !startup || multi) return ret(r < 0 ? r : (dynstate ? state : r));
        for (unsigned cpu = 0; cpu < online_cpus; ++cpu) {
            int32_t e = call_cb(k, startup, cpu, std::nullopt);
            if (e) {
                if (teardown)
                    for (unsigned done = 0; done < cpu; ++done)
                        call_cb(k, teardown, done, std::nullopt);
                k.state<CpuhpStates>().steps.erase(state);
                return ret(e);
            }
        }
        return ret(dynstate ? state : 0);
    };
    k.add_function("__cpuhp_setup_state", sub, setup);
    k.add_function("__cpuhp_setup_state_cpuslocked", sub, setup);
    // __cpuhp_remove_state(state, invoke): the teardown on each CPU, the callbacks removed. A
    // multi-instance state that still has instances WARN()s.
    auto remove = [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        auto& steps = k.state<CpuhpStates>().steps;
        auto it = steps.find(c.iarg(0));
        if (it == steps.end()) return 0;
        if (it->second.multi_instance && !it->second.instances.empty())
            c.unimplemented("__cpuhp_remove_state (of a state with instances: WARN)");
        uint64_t teardown = it->second.teardown;
        bool multi = it->second.multi_instance;
        steps.erase(it);
        if ((c.arg(1) & 0xff) && teardown && !multi)
            for (unsigned cpu = online_cpus; cpu-- > 0;)
                call_cb(k, teardown, cpu, std::nullopt);
        return 0;
    };
    k.add_function("__cpuhp_remove_state", sub, remove);
    k.add_function("__cpuhp_remove_state_cpuslocked", sub, remove);
    // __cpuhp_state_add_instance(state, node, invoke): -EINVAL unless the state is a
    // multi-instance one; the startup callback for each CPU with the node, the node added.
    k.add_function("__cpuhp_state_add_instance", sub, [](StubCall& c) -> uint64_t {
        auto& steps = c.kernel.state<CpuhpStates>().steps;
        auto it = steps.find(c.iarg(0));
        if (it == steps.end() || !it->second.multi_instance) return ret(-EINVAL);
        uint64_t node = c.arg(1);
        if ((c.arg(2) & 0xff) && it->second.startup)
            for (unsigned cpu = 0; cpu < online_cpus; ++cpu) {
                int32_t e = call_cb(c.kernel, it->second.startup, cpu, node);
                if (e) {
                    if (it->second.teardown)
                        for (unsigned done = 0; done < cpu; ++done)
                            call_cb(c.kernel, it->second.teardown, done, node);
                    return ret(e);
                }
            }
        it->second.instances.push_back(node);
        return 0;
    });
    // __cpuhp_state_remove_instance(state, node, invoke): the teardown for each CPU, the node
    // removed.
    k.add_function("__cpuhp_state_remove_instance", sub, [](StubCall& c) -> uint64_t {
        auto& steps = c.kernel.state<CpuhpStates>().steps;
        auto it = steps.find(c.iarg(0));
        if (it == steps.end() || !it->second.multi_instance) return ret(-EINVAL);
        uint64_t node = c.arg(1);
        if ((c.arg(2) & 0xff) && it->second.teardown)
            for (unsigned cpu = online_cpus; cpu-- > 0;)
                call_cb(c.kernel, it->second.teardown, cpu, node);
        auto& v = it->second.instances;
        for (auto i = v.begin(); i != v.end(); ++i)
            if (*i == node) {
                v.erase(i);
                break;
            }
        return 0;
    });
}

}  // namespace kmodemu
