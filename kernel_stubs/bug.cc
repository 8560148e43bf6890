#include "kernel_stubs/bug.h"

#include <capstone/capstone.h>

#include <cctype>
#include <cstring>
#include <map>

#include "kernel_stubs/printk.h"
#include "loader/module.h"

namespace kmodemu {

namespace {

constexpr uint16_t bugflag_warning = 1 << 0;
constexpr uint16_t bugflag_once = 1 << 1;
constexpr uint16_t bugflag_no_cut_here = 1 << 3;
constexpr const char* cut_here = "------------[ cut here ]------------";

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

std::string addr_str(Kernel& k, uint64_t v) {
    return fmt(k.word() == 8 ? "%016llx" : "%08llx", (unsigned long long)v);
}

// %pS of an address: a module or stub symbol, the exit page as the kernel's caller of init.
std::string sym(Kernel& k, uint64_t addr) {
    if (addr == k.layout().exit_page) return "do_one_initcall";
    return k.symbolize(addr, true).value_or("0x" + fmt("%llx", (unsigned long long)addr));
}

bool thumb_state(Kernel& k) {
    return k.arch() == Arch::arm && (k.emu().reg(UC_ARM_REG_CPSR) & (1u << 5));
}

struct BugEntry {
    LoadedModule* mod;
    size_t index;
    uint64_t addr;
    std::string file;
    unsigned line;
    uint16_t flags;
};

// find_bug(): the module's __bug_table entry for a trap address. arm64 uses relative pointers
// (GENERIC_BUG_RELATIVE_POINTERS); ARM absolute ones.
std::optional<BugEntry> find_bug(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    for (LoadedModule* m : k.modules) {
        for (size_t i = 0; i < m->num_bugs; ++i) {
            uint64_t ent = m->bug_table + i * 12;
            uint8_t raw[12];
            if (!e.try_read(ent, raw, sizeof raw)) break;
            uint64_t bug_addr, file;
            if (k.word() == 8) {
                int32_t d1, d2;
                std::memcpy(&d1, raw, 4);
                std::memcpy(&d2, raw + 4, 4);
                bug_addr = ent + static_cast<int64_t>(d1);
                file = ent + 4 + static_cast<int64_t>(d2);
            } else {
                uint32_t a, f;
                std::memcpy(&a, raw, 4);
                std::memcpy(&f, raw + 4, 4);
                bug_addr = a;
                file = f;
            }
            if ((bug_addr & ~1ull) != (pc & ~1ull)) continue;
            BugEntry b{m, i, bug_addr, "", 0, 0};
            uint16_t line, flags;
            std::memcpy(&line, raw + 8, 2);
            std::memcpy(&flags, raw + 10, 2);
            b.line = line;
            b.flags = flags | m->bug_flags_done[i];
            if (!e.read_cstring(file, 4096, b.file)) b.file.clear();
            return b;
        }
    }
    return std::nullopt;
}

std::string modules_linked_in(Kernel& k) {
    std::string s = "Modules linked in:";
    for (LoadedModule* m : k.modules) {
        std::string flags = m->taints;
        if (m->state == ModuleState::coming) flags += '+';
        if (m->state == ModuleState::going) flags += '-';
        s += " " + m->name + (flags.empty() ? "" : "(" + flags + ")");
    }
    return s;
}

std::string cpu_line(Kernel& k) {
    return fmt("CPU: 0 PID: %d Comm: insmod %s %s #1", k.config().pid, k.print_tainted().c_str(),
               k.config().release.c_str());
}

// __warn() in kernel/panic.c. Returns false when panic_on_warn turns it into a panic.
void warn(Kernel& k, const std::string& file, unsigned line, uint64_t caller,
          const std::optional<std::string>& message, bool regs) {
    k.log(4, fmt("WARNING: CPU: 0 PID: %d at %s:%u %s", k.config().pid, file.c_str(), line,
                 sym(k, caller).c_str()));
    if (message) k.printk(*message);
    k.log(4, modules_linked_in(k));
    if (regs)
        show_regs(k, caller);
    else
        k.log(4, cpu_line(k));
    k.log(4, "---[ end trace 0000000000000000 ]---");
    k.add_taint('W');
    if (k.config().panic_on_warn) {
        // check_panic_on_warn()
        k.log(0, "Kernel panic - not syncing: kernel: panic_on_warn set ...");
        throw KernelPanic{"panic_on_warn set"};
    }
}

// The trap of BUG()/WARN() (arm64 brk #0x800 via bug_handler(); ARM's undefined instruction
// via bug_trap): report_bug(), then resume after the trap for a WARN.
std::optional<uint64_t> on_exception(Kernel& k, const Fault& f) {
    Emulator& e = k.emu();
    uint64_t pc = f.pc;
    bool is_trap = false;
    size_t len = 4;
    if (k.arch() == Arch::arm64) {
        uint32_t insn = 0;
        is_trap = e.try_read(pc, &insn, 4) && insn == 0xd4210000;  // brk #0x800 (BUG_BRK_IMM)
    } else if (thumb_state(k)) {
        uint16_t insn = 0;
        is_trap = e.try_read(pc, &insn, 2) && insn == 0xde02;  // BUG_INSTR (Thumb)
        len = 2;
    } else {
        uint32_t insn = 0;
        is_trap = e.try_read(pc, &insn, 4) && insn == 0xe7f001f2;  // BUG_INSTR (ARM)
    }
    if (!is_trap) return std::nullopt;
    std::optional<BugEntry> b = find_bug(k, pc);
    if (!b) return std::nullopt;
    bool warning = b->flags & bugflag_warning;
    if (warning && (b->flags & bugflag_once)) {
        if (b->mod->bug_flags_done[b->index]) return pc + len + (thumb_state(k) ? 1 : 0);
        b->mod->bug_flags_done[b->index] = 1 << 2;  // BUGFLAG_DONE
    }
    if (!(b->flags & bugflag_no_cut_here)) k.log(4, cut_here);
    if (warning) {
        warn(k, b->file, b->line, pc, std::nullopt, true);
        return pc + len + (thumb_state(k) ? 1 : 0);
    }
    k.log(2, fmt("kernel BUG at %s:%u!", b->file.c_str(), b->line));
    return std::nullopt;  // die(): the oops report follows
}

// The value of a register Capstone names, from the CPU state at the fault (QEMU writes the
// registers back before a memory access can fault, so they hold the state just before the
// faulting instruction; only the PC is left at the start of its block).
std::optional<uint64_t> reg_by_name(Kernel& k, const std::string& n, uint64_t insn_addr) {
    Emulator& e = k.emu();
    if (k.arch() == Arch::arm64) {
        if (n == "sp" || n == "wsp") return e.sp();
        if (n == "xzr" || n == "wzr") return 0;
        if (n.size() >= 2 && (n[0] == 'x' || n[0] == 'w') &&
            std::isdigit(static_cast<unsigned char>(n[1]))) {
            int i = std::stoi(n.substr(1));
            int r = i == 29 ? UC_ARM64_REG_X29 : i == 30 ? UC_ARM64_REG_X30 : UC_ARM64_REG_X0 + i;
            uint64_t v = e.reg(r);
            return n[0] == 'w' ? (v & 0xffffffffu) : v;
        }
        return std::nullopt;
    }
    static const std::map<std::string, int> alias = {{"sb", 9}, {"sl", 10}, {"fp", 11}, {"ip", 12}};
    if (n == "sp") return e.sp();
    if (n == "lr") return e.lr();
    if (n == "pc") return thumb_state(k) ? ((insn_addr + 4) & ~3ull) : insn_addr + 8;
    if (auto it = alias.find(n); it != alias.end()) return e.reg(UC_ARM_REG_R0 + it->second);
    if (n.size() >= 2 && n[0] == 'r' && std::isdigit(static_cast<unsigned char>(n[1])))
        return e.reg(UC_ARM_REG_R0 + std::stoi(n.substr(1)));
    return std::nullopt;
}

// The faulting instruction of a data abort: the first load or store of the block whose
// effective address reaches the fault address. Falls back to the block start.
uint64_t refine_fault_pc(Kernel& k, const Fault& f) {
    bool a64 = k.arch() == Arch::arm64;
    bool thumb = thumb_state(k);
    uint64_t start = f.pc & ~1ull;
    std::vector<uint8_t> code(256);
    size_t have = 0;
    while (have < code.size() && k.emu().try_read(start + have, code.data() + have, 4))
        have += 4;
    if (!have) return f.pc;
    csh h;
    if (cs_open(a64 ? CS_ARCH_ARM64 : CS_ARCH_ARM,
                a64 ? CS_MODE_ARM : (thumb ? CS_MODE_THUMB : CS_MODE_ARM), &h) != CS_ERR_OK)
        return f.pc;
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn* insn = nullptr;
    size_t n = cs_disasm(h, code.data(), have, start, 0, &insn);
    uint64_t found = f.pc;
    for (size_t i = 0; i < n && found == f.pc; ++i) {
        const cs_detail* d = insn[i].detail;
        auto name = [&](unsigned r) { return std::string(r ? cs_reg_name(h, r) : ""); };
        if (a64) {
            for (uint8_t o = 0; o < d->arm64.op_count; ++o) {
                const cs_arm64_op& op = d->arm64.operands[o];
                if (op.type != ARM64_OP_MEM) continue;
                auto base = reg_by_name(k, name(op.mem.base), insn[i].address);
                if (!base) continue;
                uint64_t ea = *base + static_cast<int64_t>(op.mem.disp);
                if (op.mem.index) {
                    auto idx = reg_by_name(k, name(op.mem.index), insn[i].address);
                    if (!idx) continue;
                    ea += *idx << (op.shift.type == ARM64_SFT_LSL ? op.shift.value : 0);
                }
                if (f.address >= ea && f.address < ea + 64) found = insn[i].address;
            }
        } else {
            for (uint8_t o = 0; o < d->arm.op_count; ++o) {
                const cs_arm_op& op = d->arm.operands[o];
                if (op.type != ARM_OP_MEM) continue;
                auto base = reg_by_name(k, name(op.mem.base), insn[i].address);
                if (!base) continue;
                uint64_t ea = (*base + static_cast<int64_t>(op.mem.disp)) & 0xffffffffu;
                if (op.mem.index) {
                    auto idx = reg_by_name(k, name(op.mem.index), insn[i].address);
                    if (!idx) continue;
                    uint64_t off = (*idx << op.mem.lshift) & 0xffffffffu;
                    ea = (op.mem.scale < 0 ? ea - off : ea + off) & 0xffffffffu;
                }
                if (f.address >= ea && f.address < ea + 64) found = insn[i].address;
            }
        }
    }
    if (insn) cs_free(insn, n);
    cs_close(&h);
    return found;
}

}  // namespace

void show_regs(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    k.log(4, cpu_line(k));
    k.log(4, "Hardware name: kmodemu (DT)");
    if (k.arch() == Arch::arm64) {
        uint64_t nzcv = e.reg(UC_ARM64_REG_NZCV);
        k.log(4, fmt("pstate: %08llx", (unsigned long long)((nzcv & 0xf0000000) | 0x5)));
        k.log(4, "pc : " + sym(k, pc));
        k.log(4, "lr : " + sym(k, e.lr()));
        k.log(4, "sp : " + addr_str(k, e.sp()));
        // __show_regs(): x29 down to x0, three to a line.
        for (int i = 29; i >= 0;) {
            std::string line;
            do {
                if (!line.empty()) line += ' ';
                int reg = i == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X0 + i;
                line += fmt("x%-2d: %016llx", i, (unsigned long long)e.reg(reg));
            } while (i-- % 3);
            k.log(4, line);
        }
    } else {
        k.log(4, "PC is at " + sym(k, pc));
        k.log(4, "LR is at " + sym(k, e.lr()));
        k.log(4, fmt("pc : [<%08llx>]    lr : [<%08llx>]    psr: %08llx", (unsigned long long)pc,
                     (unsigned long long)e.lr(), (unsigned long long)e.reg(UC_ARM_REG_CPSR)));
        k.log(4, fmt("sp : %08llx  ip : %08llx  fp : %08llx", (unsigned long long)e.sp(),
                     (unsigned long long)e.reg(UC_ARM_REG_R12),
                     (unsigned long long)e.reg(UC_ARM_REG_R11)));
        const int rows[][4] = {{10, 9, 8, -1}, {7, 6, 5, 4}, {3, 2, 1, 0}};
        for (const auto& row : rows) {
            std::string line;
            for (int r : row) {
                if (r < 0) continue;
                if (!line.empty()) line += "  ";
                line += fmt("r%-2d: %08llx", r, (unsigned long long)e.reg(UC_ARM_REG_R0 + r));
            }
            k.log(4, line);
        }
    }
}

void report_oops(Kernel& k, const RunResult& r) {
    const Fault& f = r.fault;
    Emulator& e = k.emu();
    bool data = f.kind == Fault::Kind::read || f.kind == Fault::Kind::write;
    uint64_t pc = f.pc ? f.pc : r.pc;
    bool refined = false;
    if (data && f.pc && f.pc != k.layout().exit_page) {
        uint64_t exact = refine_fault_pc(k, f);
        refined = exact != f.pc || f.pc == pc;
        pc = exact;
    }
    bool fetch = f.kind == Fault::Kind::fetch;
    if (k.arch() == Arch::arm64) {
        // __do_kernel_fault() / die() (arch/arm64/mm/fault.c, arch/arm64/kernel/traps.c)
        if (data || fetch) {
            const char* what = f.address < 0x1000 ? "NULL pointer dereference"
                               : (f.kind == Fault::Kind::write && !f.unmapped)
                                   ? "write to read-only memory"
                               : fetch && !f.unmapped ? "execute from non-executable memory"
                                                      : "paging request";
            k.log(1, fmt("Unable to handle kernel %s at virtual address %s", what,
                         addr_str(k, f.address).c_str()));
            k.log(1, "Internal error: Oops: 0000000096000005 [#1] SMP");
        } else if (f.kind == Fault::Kind::undefined_instruction) {
            k.log(0, "Internal error: Oops - Undefined instruction: 0000000002000000 [#1] SMP");
        } else {
            k.log(0, "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP");
        }
    } else {
        // arch/arm/mm/fault.c: an address below TASK_SIZE is a user address, which the kernel's
        // domain access control refuses ("page domain fault"); above, a paging request.
        constexpr uint64_t task_size = 0xbf000000;
        if (data || fetch) {
            k.log(1, "8<--- cut here ---");
            if (f.address < task_size && !fetch) {
                unsigned fsr = f.kind == Fault::Kind::write ? 0x81b : 0x01b;
                k.log(1, fmt("Unhandled fault: page domain fault (0x%03x) at 0x%08llx", fsr,
                             (unsigned long long)f.address));
                k.log(0, fmt("Internal error: : %x [#1] SMP ARM", fsr));
            } else {
                k.log(1, fmt("Unable to handle kernel paging request at virtual address %s",
                             addr_str(k, f.address).c_str()));
                k.log(0, fmt("Internal error: Oops: %x [#1] SMP ARM", f.kind == Fault::Kind::write
                                                                          ? 0x80f
                                                                      : fetch ? 0x80000007
                                                                              : 0x7));
            }
        } else {
            uint32_t insn = 0;
            bool bug = e.try_read(pc & ~1ull, &insn, 4) &&
                       (insn == 0xe7f001f2 || (insn & 0xffff) == 0xde02);
            k.log(0, bug ? "Internal error: Oops - BUG: 0 [#1] SMP ARM"
                         : "Internal error: Oops - undefined instruction: 0 [#1] SMP ARM");
        }
    }
    // A fault in the guard page below the THREAD_SIZE stack is a kernel stack overflow.
    uint64_t guard = k.layout().stack - 0x1000;
    if ((data || fetch) && f.address >= guard && f.address < k.layout().stack) {
        k.log(0, "Kernel stack overflow");
        k.diag("kernel stack overflow: the access hit the guard page below the " +
               std::to_string(k.layout().stack_size / 1024) + " KiB kernel stack");
    }
    k.log(4, modules_linked_in(k));
    show_regs(k, pc);
    // Call trace: arm64 frame records (x29 chain); ARM without frame pointers shows pc and lr.
    k.log(4, "Call trace:");
    k.log(4, " " + sym(k, pc));
    if (k.arch() == Arch::arm64) {
        uint64_t fp = e.reg(UC_ARM64_REG_X29);
        for (int depth = 0; fp && depth < 16; ++depth) {
            uint64_t rec[2];
            if (!e.try_read(fp, rec, sizeof rec) || !rec[1]) break;
            k.log(4, " " + sym(k, rec[1]));
            if (rec[1] == k.layout().exit_page) break;
            fp = rec[0];
        }
    } else {
        k.log(4, " " + sym(k, e.lr()));
    }
    // Code: the instruction words around the PC, the faulting one in parentheses.
    uint32_t code[5];
    uint64_t start = (pc & ~3ull) - 16;
    if (e.try_read(start, code, sizeof code)) {
        std::string line = "Code:";
        for (int i = 0; i < 5; ++i)
            line += fmt(i == 4 ? " (%08x)" : " %08x", code[i]);
        k.log(0, line);
        // The faulting instruction, disassembled (a kmodemu diagnostic, not a kernel line).
        csh h;
        bool a64 = k.arch() == Arch::arm64;
        if (cs_open(a64 ? CS_ARCH_ARM64 : CS_ARCH_ARM,
                    a64 ? CS_MODE_ARM : (thumb_state(k) ? CS_MODE_THUMB : CS_MODE_ARM),
                    &h) == CS_ERR_OK) {
            cs_insn* insn = nullptr;
            size_t n =
                cs_disasm(h, reinterpret_cast<const uint8_t*>(&code[4]), 4, pc & ~1ull, 1, &insn);
            if (n)
                k.diag(fmt("faulting instruction at %s: %s %s", sym(k, pc).c_str(),
                           insn[0].mnemonic, insn[0].op_str));
            if (insn) cs_free(insn, n);
            cs_close(&h);
        }
    }
    k.log(0, "---[ end trace 0000000000000000 ]---");
    if (data && !refined)
        k.diag(
            "the reported PC is the start of the faulting basic block (Unicorn 2.0.1 does not "
            "sync the PC within a block)");
}

void register_bug(Kernel& k) {
    const char* sub = "bug";
    k.emu().set_exception_handler([&k](const Fault& f) { return on_exception(k, f); });
    // __warn_printk(fmt, ...): the cut-here line and the WARN's message, before its brk.
    k.add_function("__warn_printk", sub, [](StubCall& c) {
        c.kernel.log(4, cut_here);
        c.kernel.printk(format_guest_args(c, c.arg(0), 1));
        return uint64_t(0);
    });
    // warn_slowpath_fmt(file, line, taint, fmt, ...) (ARM and others without __WARN_FLAGS).
    k.add_function("warn_slowpath_fmt", sub, [](StubCall& c) {
        c.kernel.log(4, cut_here);
        std::string file = c.read_cstr(c.arg(0));
        unsigned line = static_cast<unsigned>(c.arg(1));
        std::optional<std::string> msg;
        if (c.arg(3)) msg = format_guest_args(c, c.arg(3), 4);
        warn(c.kernel, file, line, c.ret_addr(), msg, false);
        return uint64_t(0);
    });
}

}  // namespace kmodemu
