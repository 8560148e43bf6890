// kernel/jump_label.c: static keys. A module's static branches are listed in its __jump_table
// (struct jump_entry: the branch site, its target, the key with the branch's default in bit 0);
// the kernel patches each site into a branch to the target or a NOP when the key changes
// (__jump_label_update(), arch_jump_label_transform()), and when a module comes whose sites use a
// key that is not in its initial state (jump_label_add_module()). The sites are patched here in
// the module text as the kernel patches them. Unlike the kernel, key->entries (the key's pointer
// to its first site, kept in the word after key->enabled) is not written: every site of a key is
// found by walking the loaded modules' tables, and the word keeps JUMP_TYPE_TRUE as defined.
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/module.h"
#include "kernel_stubs/structs.h"
#include "loader/module.h"

namespace kmodemu {

namespace {

constexpr uint64_t jump_type_true = 1;  // JUMP_TYPE_TRUE: the key's initial value (key->type)

struct JumpEntry {
    uint64_t code, target, key;
    bool branch;  // jump_entry_is_branch()
};

// The i-th entry of m's table: relative on arm64 (CONFIG_HAVE_ARCH_JUMP_LABEL_RELATIVE: s32 code,
// s32 target, long key, each from its own field), absolute on ARM.
JumpEntry jump_entry(Kernel& k, const LoadedModule& m, size_t i) {
    Emulator& emu = k.emu();
    uint64_t e = m.jump_entries + i * k.structs().jump_entry_size;
    JumpEntry out{};
    if (k.arch() == Arch::arm64) {
        int32_t code = 0, target = 0;
        int64_t key = 0;
        emu.read(e, &code, 4);
        emu.read(e + 4, &target, 4);
        emu.read(e + 8, &key, 8);
        out.code = e + int64_t(code);
        out.target = e + 4 + int64_t(target);
        out.key = (e + 8) + (key & ~int64_t(3));
        out.branch = key & 1;
    } else {
        uint32_t w[3] = {};
        emu.read(e, w, sizeof w);
        out.code = w[0];
        out.target = w[1];
        out.key = w[2] & ~3u;
        out.branch = w[2] & 1;
    }
    return out;
}

int32_t key_count(Kernel& k, uint64_t key) {
    int32_t n = 0;
    k.emu().read(key, &n, 4);
    return n;
}

void set_key_count(Kernel& k, uint64_t key, int32_t n) { k.emu().write(key, &n, 4); }

// arch_jump_label_transform(entry, type): a branch to the target (JUMP_LABEL_JMP) or a NOP.
void transform(Kernel& k, const JumpEntry& e, bool jump) {
    Emulator& emu = k.emu();
    if (k.arch() == Arch::arm64) {
        // aarch64_insn_gen_branch_imm(code, target, NOLINK) / aarch64_insn_gen_nop()
        uint32_t insn = 0xd503201f;
        if (jump) insn = 0x14000000u | ((uint32_t((e.target - e.code) >> 2)) & 0x03ffffffu);
        emu.write(e.code, &insn, 4);
    } else if (k.config().thumb2_kernel) {
        // __arm_gen_branch_thumb2() (B.W) / nop.w, stored as two halfwords, first first.
        uint16_t hw[2] = {0xf3af, 0x8000};
        if (jump) {
            int64_t off = int64_t(e.target) - int64_t(e.code + 4);
            uint32_t s = (off >> 24) & 1, i1 = (off >> 23) & 1, i2 = (off >> 22) & 1;
            uint32_t imm10 = (off >> 12) & 0x3ff, imm11 = (off >> 1) & 0x7ff;
            uint32_t j1 = (!i1) ^ s, j2 = (!i2) ^ s;
            hw[0] = uint16_t(0xf000 | (s << 10) | imm10);
            hw[1] = uint16_t(0x9000 | (j1 << 13) | (j2 << 11) | imm11);
        }
        emu.write(e.code, hw, 4);
    } else {
        // __arm_gen_branch_arm() (B) / arm_gen_nop() (mov r0, r0)
        uint32_t insn = 0xe1a00000;
        if (jump) {
            int64_t off = int64_t(e.target) - int64_t(e.code + 8);
            insn = 0xea000000u | ((uint32_t(off >> 2)) & 0x00ffffffu);
        }
        emu.write(e.code, &insn, 4);
    }
    emu.flush_code(e.code, 4);
}

// jump_label_type(entry): static_key_enabled(key) ^ jump_entry_is_branch(entry), where a key in
// the middle of its first enabling (-1) counts as enabled.
bool jump_type(Kernel& k, const JumpEntry& e) { return (key_count(k, e.key) != 0) ^ e.branch; }

// jump_label_can_update(): the sites in a module's init text are left alone once it is freed.
bool can_update(const LoadedModule& m, const JumpEntry& e) {
    return !(m.init_freed && m.within_init(e.code));
}

// jump_label_update(key): every site of the key in every module.
void jump_label_update(Kernel& k, uint64_t key) {
    for (LoadedModule* m : k.modules) {
        if (m->state == ModuleState::unformed) continue;
        for (size_t i = 0; i < m->num_jump_entries; ++i) {
            JumpEntry e = jump_entry(k, *m, i);
            if (e.key == key && can_update(*m, e)) transform(k, e, jump_type(k, e));
        }
    }
}

}  // namespace

void jump_label_add_module(Kernel& k, LoadedModule& m) {
    // A site whose type differs from the key's initial one (jump_label_init_type(): the
    // key's JUMP_TYPE_TRUE ^ the branch) is patched; the others are as the compiler made them.
    for (size_t i = 0; i < m.num_jump_entries; ++i) {
        JumpEntry e = jump_entry(k, m, i);
        uint64_t type = k.emu().read_word(e.key + k.word());
        bool init = (type & jump_type_true) ^ e.branch;
        if (jump_type(k, e) != init) transform(k, e, jump_type(k, e));
    }
}

void register_jump_label(Kernel& k) {
    const char* sub = "kernel/jump_label";
    // static_key_count(key): atomic_read(&key->enabled), -1 (the first enabling in progress)
    // counting as 1.
    k.add_function(
        "static_key_count", sub,
        [](StubCall& c) -> uint64_t {
            c.check_read(c.arg(0), 4);
            int32_t n = key_count(c.kernel, c.arg(0));
            return static_cast<uint64_t>(int64_t(n >= 0 ? n : 1));
        },
        true);
    // static_key_slow_inc(key): the count raised; from 0, the sites are patched first.
    auto slow_inc = [](StubCall& c) -> uint64_t {
        uint64_t key = c.arg(0);
        c.check_write(key, 4);
        int32_t n = key_count(c.kernel, key);
        if (n > 0) {
            set_key_count(c.kernel, key, n + 1);
        } else if (n == 0) {
            set_key_count(c.kernel, key, -1);
            jump_label_update(c.kernel, key);
            set_key_count(c.kernel, key, 1);
        } else {
            c.unimplemented("static_key_slow_inc (a negative count)");
        }
        return 1;  // 6.3+: true (the count was raised)
    };
    k.add_functions({"static_key_slow_inc", "static_key_slow_inc_cpuslocked"}, sub, slow_inc, true);
    // static_key_slow_dec(key): the count lowered; at 0, the sites are patched back; below 0,
    // WARN_ON_ONCE.
    auto slow_dec = [](StubCall& c) -> uint64_t {
        uint64_t key = c.arg(0);
        c.check_write(key, 4);
        int32_t n = key_count(c.kernel, key);
        if (n > 1) {
            set_key_count(c.kernel, key, n - 1);
        } else if (n == 1) {
            set_key_count(c.kernel, key, 0);
            jump_label_update(c.kernel, key);
        } else {
            c.unimplemented("static_key_slow_dec (a count below 1: WARN_ON_ONCE)");
        }
        return 0;
    };
    k.add_functions({"static_key_slow_dec", "static_key_slow_dec_cpuslocked"}, sub, slow_dec, true);
    // static_key_enable(key): a key already enabled stays (WARN_ON_ONCE when its count is not
    // 1); else its count becomes 1 and its sites are patched.
    auto enable = [](StubCall& c) -> uint64_t {
        uint64_t key = c.arg(0);
        c.check_write(key, 4);
        int32_t n = key_count(c.kernel, key);
        if (n > 0) {
            if (n != 1) c.unimplemented("static_key_enable (a count above 1: WARN_ON_ONCE)");
            return 0;
        }
        if (n == 0) {
            set_key_count(c.kernel, key, -1);
            jump_label_update(c.kernel, key);
            set_key_count(c.kernel, key, 1);
        }
        return 0;
    };
    k.add_functions({"static_key_enable", "static_key_enable_cpuslocked"}, sub, enable, true);
    // static_key_disable(key): only a count of 1 goes to 0 (and the sites are patched); a count
    // of neither 0 nor 1 is WARN_ON_ONCE.
    auto disable = [](StubCall& c) -> uint64_t {
        uint64_t key = c.arg(0);
        c.check_write(key, 4);
        int32_t n = key_count(c.kernel, key);
        if (n != 1) {
            if (n != 0) c.unimplemented("static_key_disable (a count above 1: WARN_ON_ONCE)");
            return 0;
        }
        set_key_count(c.kernel, key, 0);
        jump_label_update(c.kernel, key);
        return 0;
    };
    k.add_functions({"static_key_disable", "static_key_disable_cpuslocked"}, sub, disable, true);
}

}  // namespace kmodemu
