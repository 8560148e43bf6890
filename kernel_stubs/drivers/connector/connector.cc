// drivers/connector/connector.c and cn_queue.c: the connector's callbacks, by struct cb_id
// {idx, val}. Debian's kernels build the connector in (it is initialised at boot) with the
// process events connector, whose callback {CN_IDX_PROC, CN_VAL_PROC} is registered.
#include <cerrno>
#include <map>
#include <string>
#include <utility>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

struct Connector : Kernel::SubsystemState {
    // the queue's callbacks: {idx, val} -> the callback (0: cn_proc's, built in)
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> callbacks{{{1, 1}, 0}};
};

// struct cb_id (include/uapi/linux/connector.h): two __u32.
std::pair<uint32_t, uint32_t> cb_id(StubCall& c, uint64_t id) {
    return {c.emu.read_u32(id), c.emu.read_u32(id + 4)};
}

}  // namespace

void register_connector(Kernel& k) {
    const char* sub = "drivers/connector/connector";
    // cn_add_callback(id, name, callback): cn_queue_add_callback(), -EINVAL for an id taken.
    k.add_function("cn_add_callback", sub, [](StubCall& c) -> uint64_t {
        Connector& cn = c.kernel.state<Connector>();
        auto id = cb_id(c, c.arg(0));
        if (cn.callbacks.count(id)) return static_cast<uint64_t>(-int64_t(EINVAL));
        cn.callbacks[id] = c.arg(2);
        return 0;
    });
    // cn_del_callback(id): cn_queue_del_callback(), the id's callback (if any) removed.
    k.add_function("cn_del_callback", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<Connector>().callbacks.erase(cb_id(c, c.arg(0)));
        return 0;
    });
}

}  // namespace kmodemu
