// lib/list_debug.c: the CONFIG_DEBUG_LIST checks that modules call from list_add()/list_del().
#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {
std::string px(Kernel& k, uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, k.word() == 8 ? "%016llx" : "%08llx", (unsigned long long)v);
    return buf;
}
}  // namespace

void register_list(Kernel& k) {
    const char* sub = "list";
    const uint64_t delta = k.word() == 8 ? 0xdead000000000000ull : 0;  // POISON_POINTER_DELTA
    const uint64_t poison1 = 0x100 + delta, poison2 = 0x122 + delta;
    // __list_add_valid(new, prev, next): CHECK_DATA_CORRUPTION() warns and returns false.
    k.add_function("__list_add_valid", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t nw = c.arg(0), prev = c.arg(1), next = c.arg(2);
        uint64_t w = c.emu.word_size();
        uint64_t next_prev = c.emu.read_word(next + w), prev_next = c.emu.read_word(prev);
        std::string msg;
        if (next_prev != prev)
            msg = "list_add corruption. next->prev should be prev (" + px(k, prev) + "), but was " +
                  px(k, next_prev) + ". (next=" + px(k, next) + ").";
        else if (prev_next != next)
            msg = "list_add corruption. prev->next should be next (" + px(k, next) + "), but was " +
                  px(k, prev_next) + ". (prev=" + px(k, prev) + ").";
        else if (nw == prev || nw == next)
            msg = "list_add double add: new=" + px(k, nw) + ", prev=" + px(k, prev) +
                  ", next=" + px(k, next) + ".";
        if (msg.empty()) return 1;
        k.log(4, "------------[ cut here ]------------");
        k.log(4, msg);
        return 0;
    });
    k.add_function("__list_del_entry_valid", sub, [poison1, poison2](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t e = c.arg(0), w = c.emu.word_size();
        uint64_t next = c.emu.read_word(e), prev = c.emu.read_word(e + w);
        std::string msg;
        if (next == poison1)
            msg = "list_del corruption, " + px(k, e) + "->next is LIST_POISON1 (" + px(k, poison1) +
                  ")";
        else if (prev == poison2)
            msg = "list_del corruption, " + px(k, e) + "->prev is LIST_POISON2 (" + px(k, poison2) +
                  ")";
        else if (c.emu.read_word(prev) != e)
            msg = "list_del corruption. prev->next should be " + px(k, e) + ", but was " +
                  px(k, c.emu.read_word(prev)) + ". (prev=" + px(k, prev) + ")";
        else if (c.emu.read_word(next + w) != e)
            msg = "list_del corruption. next->prev should be " + px(k, e) + ", but was " +
                  px(k, c.emu.read_word(next + w)) + ". (next=" + px(k, next) + ")";
        if (msg.empty()) return 1;
        k.log(4, "------------[ cut here ]------------");
        k.log(4, msg);
        return 0;
    });
}

}  // namespace kmodemu
