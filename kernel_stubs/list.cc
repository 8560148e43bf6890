// lib/list_debug.c: the CONFIG_DEBUG_LIST checks that modules call from list_add()/list_del().
// A failed check is CHECK_DATA_CORRUPTION(): with CONFIG_BUG_ON_DATA_CORRUPTION (Debian's
// kernels) pr_err() of the message and BUG(); without, WARN() and the list operation is skipped.
#include "kernel_stubs/bug.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/profile.h"

#include <cstdlib>

namespace kmodemu {

namespace {

std::string px(Kernel& k, uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%0*llx", k.arch_info().hex_digits(), (unsigned long long)v);
    return buf;
}

// The CHECK_DATA_CORRUPTION()s of lib/list_debug.c: which check of its function's source each
// is (their lines move between versions: 6.12's are 6.1's + 2 in __list_add_valid_or_report(),
// + 3 in __list_del_entry_valid_or_report()), and its line in Debian's 6.1 kernels, for a kernel
// without the kit's image. The BUG()'s trap and line come from the kit's __bug_table.
constexpr const char* list_debug_c = "lib/list_debug.c";
struct Check {
    int nth;
    unsigned line;
};
constexpr Check add_prev_null{0, 23}, add_next_null{1, 25}, add_next_prev{2, 27},
    add_prev_next{3, 30}, add_double{4, 33}, del_next_null{0, 49}, del_prev_null{1, 51},
    del_poison1{2, 53}, del_poison2{3, 56}, del_prev_next{4, 59}, del_next_prev{5, 62};

// CHECK_DATA_CORRUPTION() of a failed check: BUG() (no return) or WARN(); returns false.
bool corruption(StubCall& c, bool bug, Check check, const std::string& msg) {
    if (bug) {
        c.kernel.log(3, msg);  // pr_err()
        set_printk_flags(c.emu);
        kernel_function_bug(c, list_debug_c, check.line, check.nth);
    }
    kernel_warn(c, list_debug_c, check.line, msg);
    return false;
}

}  // namespace

void register_list(Kernel& k) {
    const char* sub = "list";
    // The target kernel's CONFIG_BUG_ON_DATA_CORRUPTION; the default profile is configured as
    // Debian's kernels. struct list_head and LIST_POISON1, 2 (POISON_POINTER_DELTA,
    // CONFIG_ILLEGAL_POINTER_VALUE) are the kernel's.
    const KernelProfile* prof = k.config().profile.get();
    bool generic = !prof || prof->generic;
    bool bug = generic || prof->config.find("CONFIG_BUG_ON_DATA_CORRUPTION") == "y";
    const KernelStructs::ListHead lh = k.structs().list_head;

    // __list_add_valid(new, prev, next); 6.6 renamed it __list_add_valid_or_report.
    k.add_functions(
        {"__list_add_valid", "__list_add_valid_or_report"}, sub,
        [bug, lh](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            uint64_t nw = c.arg(0), prev = c.arg(1), next = c.arg(2);
            if (!prev)
                return corruption(c, bug, add_prev_null, "list_add corruption. prev is NULL.");
            if (!next)
                return corruption(c, bug, add_next_null, "list_add corruption. next is NULL.");
            if (uint64_t next_prev = c.emu.read_word(next + lh.prev); next_prev != prev)
                return corruption(c, bug, add_next_prev,
                                  "list_add corruption. next->prev should be prev (" + px(k, prev) +
                                      "), but was " + px(k, next_prev) + ". (next=" + px(k, next) +
                                      ").");
            if (uint64_t prev_next = c.emu.read_word(prev + lh.next); prev_next != next)
                return corruption(c, bug, add_prev_next,
                                  "list_add corruption. prev->next should be next (" + px(k, next) +
                                      "), but was " + px(k, prev_next) + ". (prev=" + px(k, prev) +
                                      ").");
            if (nw == prev || nw == next)
                return corruption(c, bug, add_double,
                                  "list_add double add: new=" + px(k, nw) +
                                      ", prev=" + px(k, prev) + ", next=" + px(k, next) + ".");
            return 1;
        });
    // __list_del_entry_valid(entry); 6.6 renamed it __list_del_entry_valid_or_report.
    k.add_functions(
        {"__list_del_entry_valid", "__list_del_entry_valid_or_report"}, sub,
        [bug, lh](StubCall& c) -> uint64_t {
            Kernel& k = c.kernel;
            const uint64_t poison1 = lh.poison1, poison2 = lh.poison2;  // LIST_POISON1, 2
            uint64_t e = c.arg(0);
            uint64_t prev = c.emu.read_word(e + lh.prev), next = c.emu.read_word(e + lh.next);
            if (!next)
                return corruption(c, bug, del_next_null,
                                  "list_del corruption, " + px(k, e) + "->next is NULL");
            if (!prev)
                return corruption(c, bug, del_prev_null,
                                  "list_del corruption, " + px(k, e) + "->prev is NULL");
            if (next == poison1)
                return corruption(c, bug, del_poison1,
                                  "list_del corruption, " + px(k, e) + "->next is LIST_POISON1 (" +
                                      px(k, poison1) + ")");
            if (prev == poison2)
                return corruption(c, bug, del_poison2,
                                  "list_del corruption, " + px(k, e) + "->prev is LIST_POISON2 (" +
                                      px(k, poison2) + ")");
            if (uint64_t prev_next = c.emu.read_word(prev + lh.next); prev_next != e)
                return corruption(c, bug, del_prev_next,
                                  "list_del corruption. prev->next should be " + px(k, e) +
                                      ", but was " + px(k, prev_next) + ". (prev=" + px(k, prev) +
                                      ")");
            if (uint64_t next_prev = c.emu.read_word(next + lh.prev); next_prev != e)
                return corruption(c, bug, del_next_prev,
                                  "list_del corruption. next->prev should be " + px(k, e) +
                                      ", but was " + px(k, next_prev) + ". (next=" + px(k, next) +
                                      ")");
            return 1;
        });
}

}  // namespace kmodemu
