// Notifier chains (kernel/notifier.c), operating on the guest's own chain heads and
// notifier_blocks, and the module notifier list (kernel/module/main.c).
#pragma once

#include <cstdint>

#include "kernel_stubs/kernel.h"
#include "loader/module.h"

namespace kmodemu::notifier {

constexpr int notify_done = 0x0000;
constexpr int notify_ok = 0x0001;
constexpr int notify_stop_mask = 0x8000;
constexpr int notify_bad = notify_stop_mask | 0x0002;

// notifier_chain_register() on the `head` pointer at head_field.
int chain_register(Kernel& k, uint64_t head_field, uint64_t nb, bool unique_priority);
int chain_unregister(Kernel& k, uint64_t head_field, uint64_t nb);
// notifier_call_chain(): calls the guest callbacks in order; NOTIFY_STOP_MASK ends the walk.
int call_chain(Kernel& k, uint64_t head_field, uint64_t val, uint64_t v, int nr_to_call,
               int* nr_calls);
// notifier_call_chain_robust(): on failure, the notifiers already called get val_down.
int call_chain_robust(Kernel& k, uint64_t head_field, uint64_t val_up, uint64_t val_down,
                      uint64_t v);
// notifier_to_errno()
int to_errno(int ret);

// module_notify_list: its struct blocking_notifier_head
uint64_t module_notify_head(Kernel& k);
// The head field of one of the kernel's own notifier chains (netevent_notif_chain,
// crypto_chain, ...), made on first use: no event of them happens here.
uint64_t kernel_chain(Kernel& k, const std::string& name);
int call_module_notifiers(Kernel& k, ModuleState state, uint64_t mod);
int call_module_notifiers_robust(Kernel& k, ModuleState up, ModuleState down, uint64_t mod);

}  // namespace kmodemu::notifier
