// net/xfrm/xfrm_state.c: the IPsec transform types per family (the type_* slots of struct
// xfrm_state_afinfo). The kernel's own afinfo for AF_INET (xfrm4_state.c) and AF_INET6
// (xfrm6_state.c) are registered at boot where Debian builds CONFIG_XFRM with CONFIG_INET and
// CONFIG_IPV6 in; any other family has none (-EAFNOSUPPORT). A slot taken again, or a protocol
// without a slot, is the kernel's WARN_ON(), not emulated. The security associations: the
// emulated kernel has none (they come from user space through xfrm_user or af_key, or from
// xfrm_state_add()/xfrm_state_insert(), which kmodemu does not implement: a module adding one
// stops there).
#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned af_inet = 2, af_inet6 = 10;

struct XfrmState : Kernel::SubsystemState {
    std::map<std::pair<unsigned, std::string>, uint64_t> slots;  // (family, type_<name>) -> type
    std::vector<uint64_t> km_list;                               // xfrm_km_list: struct xfrm_mgr *
};

// xfrm_state_get_afinfo(family)
bool has_afinfo(Kernel& k, unsigned family) {
    const KernelProfile* p = k.config().profile.get();
    auto y = [p](const char* c) { return !p || p->config.find(c) == "y"; };
    if (!y("CONFIG_XFRM")) return false;
    return (family == af_inet && y("CONFIG_INET")) || (family == af_inet6 && y("CONFIG_IPV6"));
}

// The afinfo slot of a type's protocol (the switch of xfrm_register_type()); "" for none.
std::string type_slot(uint8_t proto) {
    switch (proto) {
        case 108:
            return "comp";  // IPPROTO_COMP
        case 51:
            return "ah";  // IPPROTO_AH
        case 50:
            return "esp";  // IPPROTO_ESP
        case 4:
            return "ipip";  // IPPROTO_IPIP
        case 60:
            return "dstopts";  // IPPROTO_DSTOPTS
        case 43:
            return "routing";  // IPPROTO_ROUTING
        case 41:
            return "ipip6";  // IPPROTO_IPV6
        default:
            return "";
    }
}

// xfrm_register_type_offload(): ESP alone has an offload slot.
std::string offload_slot(uint8_t proto) {
    return proto == 50 ? "offload_esp" : "";
}

uint64_t reg(StubCall& c, std::string (*slot_of)(uint8_t), uint64_t proto_off, const char* what) {
    uint64_t type = c.arg(0);
    unsigned family = static_cast<uint16_t>(c.arg(1));
    if (!has_afinfo(c.kernel, family)) return static_cast<uint64_t>(-int64_t(EAFNOSUPPORT));
    std::string slot = slot_of(c.read(type + proto_off, 1)[0]);
    if (slot.empty())
        c.unimplemented(std::string(what) + " (of a protocol without a slot: WARN_ON)");
    uint64_t& s = c.kernel.state<XfrmState>().slots[{family, slot}];
    if (s) c.unimplemented(std::string(what) + " (of a slot taken: WARN_ON)");
    s = type;
    return 0;
}

void unreg(StubCall& c, std::string (*slot_of)(uint8_t), uint64_t proto_off, const char* what) {
    uint64_t type = c.arg(0);
    unsigned family = static_cast<uint16_t>(c.arg(1));
    if (!has_afinfo(c.kernel, family)) return;
    std::string slot = slot_of(c.read(type + proto_off, 1)[0]);
    auto& slots = c.kernel.state<XfrmState>().slots;
    auto it = slots.find({family, slot});
    if (slot.empty() || it == slots.end() || it->second != type)
        c.unimplemented(std::string(what) + " (of a type not registered: WARN_ON)");
    slots.erase(it);
}

}  // namespace

void register_xfrm_state(Kernel& k) {
    const char* sub = "net/xfrm/xfrm_state";
    // xfrm_register_type(type, family): the type in its protocol's slot of the family.
    k.add_function("xfrm_register_type", sub, [](StubCall& c) -> uint64_t {
        return reg(c, type_slot, c.kernel.structs().xfrm_type.proto, "xfrm_register_type");
    });
    // xfrm_unregister_type(type, family): the slot emptied.
    k.add_function("xfrm_unregister_type", sub, [](StubCall& c) -> uint64_t {
        unreg(c, type_slot, c.kernel.structs().xfrm_type.proto, "xfrm_unregister_type");
        return 0;
    });
    // xfrm_state_flush(net, proto, task_valid[, sync]): -ESRCH, no state to delete.
    k.add_function("xfrm_state_flush", sub,
                   [](StubCall&) -> uint64_t { return static_cast<uint64_t>(-int64_t(ESRCH)); });
    // xfrm_flush_gc(): flush_work(&xfrm_state_gc_work), never queued without a state destroyed.
    k.add_function("xfrm_flush_gc", sub, [](StubCall&) -> uint64_t { return 0; });
    // xfrm_register_km(km): the key manager added to xfrm_km_list (its list links, read by the
    // kernel alone, are not written).
    k.add_function("xfrm_register_km", sub, [](StubCall& c) -> uint64_t {
        c.kernel.state<XfrmState>().km_list.push_back(c.arg(0));
        return 0;
    });
    // xfrm_unregister_km(km): list_del_rcu() and synchronize_rcu().
    k.add_function("xfrm_unregister_km", sub, [](StubCall& c) -> uint64_t {
        std::vector<uint64_t>& l = c.kernel.state<XfrmState>().km_list;
        auto it = std::find(l.begin(), l.end(), c.arg(0));
        if (it == l.end()) c.unimplemented("xfrm_unregister_km (of a manager not registered)");
        l.erase(it);
        if (const Export* s = c.kernel.find_export("synchronize_rcu"))
            c.kernel.call_guest(s->address, {});
        return 0;
    });
    // xfrm_register_type_offload(type, family) and its unregistration: the same for the
    // offload types.
    k.add_function("xfrm_register_type_offload", sub, [](StubCall& c) -> uint64_t {
        return reg(c, offload_slot, c.kernel.structs().xfrm_type.offload_proto,
                   "xfrm_register_type_offload");
    });
    k.add_function("xfrm_unregister_type_offload", sub, [](StubCall& c) -> uint64_t {
        unreg(c, offload_slot, c.kernel.structs().xfrm_type.offload_proto,
              "xfrm_unregister_type_offload");
        return 0;
    });
}

}  // namespace kmodemu
