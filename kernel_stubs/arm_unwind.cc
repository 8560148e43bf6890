#include "kernel_stubs/arm_unwind.h"

#include <elf.h>

#include <cstdio>
#include <cstring>

#include "kernel_stubs/printk.h"
#include "kernel_stubs/real_kernel.h"

namespace kmodemu::arm {

namespace {

constexpr int reg_sp = 13, reg_lr = 14, reg_pc = 15;
constexpr uint32_t exidx_cantunwind = 1;

std::string hex8(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

// Convert a prel31 place to the absolute address it refers to (prel31_to_addr()).
uint32_t prel31_to_addr(uint32_t place, uint32_t word) {
    int32_t offset = static_cast<int32_t>(word << 1) >> 1;
    return place + static_cast<uint32_t>(offset);
}

// The frame-pointer register of unwind.c's enum regs: r7 on a Thumb-2 kernel, r11 otherwise.
int fp_reg(const Kernel& k) {
    return k.config().thumb2_kernel ? 7 : 11;
}

// The text of a module (or of the emulated kernel) that kernel_text_address() accepts.
bool module_text(const LoadedModule& m, uint32_t addr) {
    for (const Region& r : m.regions) {
        if (r.type != Region::Type::text && r.type != Region::Type::init_text) continue;
        if (r.is_init() && m.init_freed) continue;
        if (r.size && addr >= r.base && addr < r.base + r.size) return true;
    }
    return false;
}

bool kernel_stub(Kernel& k, uint32_t addr) {
    const KernelLayout& l = k.layout();
    return addr >= l.stub_text && addr < l.stub_text + l.stub_text_size && k.export_at(addr);
}

bool kernel_text_address(Kernel& k, uint32_t addr) {
    if (kernel_stub(k, addr) || addr == k.layout().exit_page || k.real_code_at(addr)) return true;
    for (const LoadedModule* m : k.modules)
        if (module_text(*m, addr)) return true;
    return false;
}

// %ps / %pS: a module or stub symbol; the exit page stands for the emulated kernel's caller of
// init (as in the rest of the oops report).
std::string symbol(Kernel& k, uint32_t addr, bool with_offset) {
    if (addr == k.layout().exit_page) return "do_one_initcall";
    if (auto s = k.symbolize(addr, with_offset)) return *s;
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", addr);
    return buf;
}

// struct unwind_idx as read from the tables.
struct IndexEntry {
    uint32_t place;        // address of the entry
    uint32_t addr_offset;  // prel31 to the function
    uint32_t insn;         // EXIDX_CANTUNWIND, inline opcodes or prel31 to .ARM.extab
};

// Reads a word of unwind tables (index or .ARM.extab) at an address.
using ReadWord = std::function<bool(uint32_t addr, uint32_t& word)>;

// The index entry for a frame: from a module's tables in guest memory, or from the kernel's own
// index for the emulated copy of one of its functions (an address in the copy plus `delta` is
// the real function's).
struct Found {
    IndexEntry entry;
    ReadWord read;
    uint32_t delta = 0;
};

// unwind_find_idx() over the module tables (search_index(): the last entry whose function
// starts at or below addr).
std::optional<Found> find_module_idx(Kernel& k, uint32_t addr) {
    Emulator& e = k.emu();
    ReadWord read = [&e](uint32_t a, uint32_t& w) { return e.try_read(a, &w, 4); };
    for (const LoadedModule* m : k.modules) {
        for (const UnwindTable& t : m->unwind_tables) {
            if (t.init && m->init_freed) continue;
            if (addr < t.text || addr >= t.text + t.text_size) continue;
            size_t n = t.size / 8;
            std::optional<Found> best;
            size_t lo = 0, hi = n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                IndexEntry ent{static_cast<uint32_t>(t.start + mid * 8), 0, 0};
                if (!read(ent.place, ent.addr_offset) || !read(ent.place + 4, ent.insn))
                    return std::nullopt;
                if (prel31_to_addr(ent.place, ent.addr_offset) <= addr) {
                    best = Found{ent, read};
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if (!best) k.log(4, "unwind: Unknown symbol address " + hex8(addr));
            return best;
        }
    }
    return std::nullopt;
}

// The kernel's own index (__start_unwind_idx..__stop_unwind_idx) for a function of the kit's
// kernel image whose code runs in the emulated kernel. Without CONFIG_KALLSYMS_ALL kallsyms
// does not name the table, so the image is searched for the index entry of the function: a
// prel31 word to it between entries of lower and higher functions; then, as search_index(),
// the last entry at or below the PC.
std::optional<Found> find_kernel_idx(Kernel& k, uint32_t pc) {
    const Kernel::RealCode* code = k.real_code_at(pc);
    const Kallsyms* ks = code ? k.real().kallsyms() : nullptr;
    if (!ks) return std::nullopt;
    std::optional<KernelSymbol> text;
    for (const char* start : {"_text", "_stext", "stext"})
        if (!text) text = ks->find(start);
    if (!text) return std::nullopt;
    uint64_t lo = 0, hi = uint64_t(1) << 28;  // the image from _text on, as far as it goes
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (ks->code(text->addr, mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    std::string_view img = ks->code(text->addr, lo).value_or(std::string_view());
    const uint32_t base = static_cast<uint32_t>(text->addr);
    ReadWord read = [img, base](uint32_t a, uint32_t& w) {
        if (a < base || a - base > img.size() || img.size() - (a - base) < 4) return false;
        std::memcpy(&w, img.data() + (a - base), 4);
        return true;
    };
    auto word = [&](size_t off) {
        uint32_t w;
        std::memcpy(&w, img.data() + off, 4);
        return w;
    };
    // An index entry's function (bit 31 clear in its first word), or 0.
    auto fn_at = [&](size_t off) {
        uint32_t w = word(off);
        return w & 0x80000000u ? 0u : prel31_to_addr(base + static_cast<uint32_t>(off), w);
    };
    const uint32_t fn = static_cast<uint32_t>(code->symbol.addr);
    const uint32_t delta = fn - static_cast<uint32_t>(code->addr);
    const uint32_t real_pc = pc + delta;
    // search_index(): the entry of the last function at or below the pc. The linker merges
    // entries of neighbouring functions that unwind alike, so the function may have none of its
    // own: the index is recognised by a run of entries whose functions ascend inside the image.
    auto in_text = [&](uint32_t a) { return a >= base && a - base < img.size(); };
    auto index_run = [&](size_t off) {
        if (off < 32 || off + 40 > img.size()) return false;
        for (size_t o = off - 32; o < off + 32; o += 8)
            if (!in_text(fn_at(o)) || fn_at(o + 8) <= fn_at(o)) return false;
        return true;
    };
    for (size_t off = 8; off + 20 <= img.size(); off += 4) {
        uint32_t here = fn_at(off);
        if (!here || here > fn || fn_at(off + 8) <= fn || !index_run(off)) continue;
        while (off + 20 <= img.size() && fn_at(off + 8) > fn_at(off) && fn_at(off + 8) <= real_pc)
            off += 8;
        IndexEntry ent{base + static_cast<uint32_t>(off), word(off), word(off + 4)};
        return Found{ent, read, delta};
    }
    return std::nullopt;
}

// struct unwind_ctrl_block
struct Ctrl {
    uint32_t vrs[16] = {};
    uint32_t insn = 0;  // address of the current instruction word
    uint32_t sp_high = 0;
    bool check_each_pop = false;
    int entries = 0;
    int byte = 0;
};

class Unwinder {
  public:
    Unwinder(Kernel& k, Ctrl& c, const ReadWord& read) : k_(k), c_(c), read_(read) {}

    // unwind_get_byte()
    uint32_t get_byte() {
        if (c_.entries <= 0) {
            k_.log(4, "unwind: Corrupt unwind table");
            return 0;
        }
        uint32_t word = 0;
        if (!read_(c_.insn, word)) {
            c_.entries = 0;
            return 0;
        }
        uint32_t ret = (word >> (c_.byte * 8)) & 0xff;
        if (c_.byte == 0) {
            c_.insn += 4;
            --c_.entries;
            c_.byte = 3;
        } else {
            --c_.byte;
        }
        return ret;
    }

    // unwind_pop_register()
    bool pop(uint32_t& vsp, int reg) {
        if (c_.check_each_pop && vsp >= c_.sp_high) return false;
        uint32_t v;
        if (!k_.emu().try_read(vsp, &v, 4)) return false;
        c_.vrs[reg] = v;
        vsp += 4;
        return true;
    }

    // unwind_exec_insn(): one instruction of the personality routine's opcodes.
    bool exec() {
        uint32_t insn = get_byte();
        uint32_t& sp = c_.vrs[reg_sp];
        if ((insn & 0xc0) == 0x00) {
            sp += ((insn & 0x3f) << 2) + 4;
        } else if ((insn & 0xc0) == 0x40) {
            sp -= ((insn & 0x3f) << 2) + 4;
        } else if ((insn & 0xf0) == 0x80) {
            insn = (insn << 8) | get_byte();
            uint32_t mask = insn & 0x0fff;
            if (mask == 0) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "unwind: 'Refuse to unwind' instruction %04x", insn);
                k_.log(4, buf);
                return false;
            }
            // pop {r4-r15} by mask; a popped SP is kept, else vsp becomes the SP
            uint32_t vsp = sp;
            bool load_sp = mask & (1u << (13 - 4));
            for (int reg = 4; mask; mask >>= 1, ++reg)
                if ((mask & 1) && !pop(vsp, reg)) return false;
            if (!load_sp) sp = vsp;
        } else if ((insn & 0xf0) == 0x90 && (insn & 0x0d) != 0x0d) {
            sp = c_.vrs[insn & 0x0f];
        } else if ((insn & 0xf0) == 0xa0) {
            // pop r4-r[4+nnn], and r14 with 0xa8
            uint32_t vsp = sp;
            for (uint32_t reg = 4; reg <= 4 + (insn & 7); ++reg)
                if (!pop(vsp, static_cast<int>(reg))) return false;
            if ((insn & 0x8) && !pop(vsp, reg_lr)) return false;
            sp = vsp;
        } else if (insn == 0xb0) {
            // finish
            if (c_.vrs[reg_pc] == 0) c_.vrs[reg_pc] = c_.vrs[reg_lr];
            c_.entries = 0;
        } else if (insn == 0xb1) {
            uint32_t mask = get_byte();
            if (mask == 0 || (mask & 0xf0)) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "unwind: Spare encoding %04x", (insn << 8) | mask);
                k_.log(4, buf);
                return false;
            }
            uint32_t vsp = sp;
            for (int reg = 0; mask; mask >>= 1, ++reg)
                if ((mask & 1) && !pop(vsp, reg)) return false;
            sp = vsp;
        } else if (insn == 0xb2) {
            uint32_t uleb128 = get_byte();
            sp += 0x204 + (uleb128 << 2);
        } else {
            char buf[64];
            std::snprintf(buf, sizeof buf, "unwind: Unhandled instruction %02x", insn);
            k_.log(4, buf);
            return false;
        }
        return true;
    }

  private:
    Kernel& k_;
    Ctrl& c_;
    const ReadWord& read_;
};

// The highest stack address the unwinder may reach: the top of the task's stack (the kernel's
// ALIGN(sp - THREAD_SIZE, THREAD_ALIGN) + THREAD_SIZE).
uint32_t stack_high(Kernel& k, uint32_t sp) {
    const KernelLayout& l = k.layout();
    if (sp >= l.stack && sp <= l.stack + l.stack_size)
        return static_cast<uint32_t>(l.stack + l.stack_size);
    uint32_t size = static_cast<uint32_t>(l.stack_size);
    return ((sp - size + size - 1) & ~(size - 1)) + size;
}

}  // namespace

void add_unwind_tables(LoadedModule& mod, const ElfFile& elf, const std::vector<uint64_t>& addr) {
    constexpr std::string_view exidx = ".ARM.exidx";
    for (const ElfSection& s : elf.sections()) {
        if (!s.index || !(s.hdr.sh_flags & SHF_ALLOC) || s.hdr.sh_type != SHT_ARM_EXIDX) continue;
        if (s.index >= addr.size() || !addr[s.index]) continue;
        std::string txtname = s.name == exidx ? ".text" : s.name.substr(exidx.size());
        const ElfSection* txt = elf.find_section(txtname, false);
        if (!txt || txt->index >= addr.size() || !addr[txt->index]) continue;
        UnwindTable t;
        t.start = addr[s.index];
        t.size = s.hdr.sh_size;
        t.text = addr[txt->index];
        t.text_size = txt->hdr.sh_size;
        t.init = s.name == ".ARM.exidx.init.text";
        mod.unwind_tables.push_back(t);
    }
}

StackFrame current_frame(Kernel& k, uint64_t pc) {
    Emulator& e = k.emu();
    StackFrame f;
    f.fp = static_cast<uint32_t>(e.reg(UC_ARM_REG_R0 + fp_reg(k)));
    f.sp = static_cast<uint32_t>(e.sp());
    f.lr = static_cast<uint32_t>(e.lr());
    f.pc = static_cast<uint32_t>(pc);
    return f;
}

bool unwind_frame(Kernel& k, StackFrame& frame) {
    uint32_t sp_low = frame.sp;
    Ctrl c;
    c.sp_high = stack_high(k, sp_low);

    std::optional<Found> found = find_module_idx(k, frame.pc);
    if (!found) found = find_kernel_idx(k, frame.pc);
    if (!found) {
        // The emulated kernel's C++ functions have no tables: one is a leaf that returns to LR
        // (like a module PLT veneer). At the return into the emulated kernel the trace ends.
        if ((kernel_stub(k, frame.pc) || k.real_code_at(frame.pc)) && frame.pc != frame.lr) {
            frame.pc = frame.lr;
            return true;
        }
        if (frame.pc && frame.pc != k.layout().exit_page && kernel_text_address(k, frame.pc))
            k.log(4, "unwind: Index not found " + hex8(frame.pc));
        return false;
    }
    const IndexEntry& idx = found->entry;

    c.vrs[fp_reg(k)] = frame.fp;
    c.vrs[reg_sp] = frame.sp;
    c.vrs[reg_lr] = frame.lr;
    c.vrs[reg_pc] = 0;

    if (idx.insn == exidx_cantunwind) return false;
    if (frame.pc + found->delta == prel31_to_addr(idx.place, idx.addr_offset)) {
        // At a function's first instruction the frame is still the caller's.
        if (frame.pc == frame.lr) return false;
        frame.pc = frame.lr;
        return true;
    }
    if ((idx.insn & 0x80000000u) == 0) {
        c.insn = prel31_to_addr(idx.place + 4, idx.insn);  // to .ARM.extab
    } else if ((idx.insn & 0xff000000u) == 0x80000000u) {
        c.insn = idx.place + 4;  // personality routine 0, inline
    } else {
        k.log(4, "unwind: Unsupported personality routine " + hex8(idx.insn) + " in the index at " +
                     hashed_pointer(k, idx.place));
        return false;
    }

    uint32_t first = 0;
    if (!found->read(c.insn, first)) return false;
    if ((first & 0xff000000u) == 0x80000000u) {
        c.byte = 2;
        c.entries = 1;
    } else if ((first & 0xff000000u) == 0x81000000u) {
        c.byte = 1;
        c.entries = 1 + static_cast<int>((first & 0x00ff0000u) >> 16);
    } else {
        k.log(4, "unwind: Unsupported personality routine " + hex8(first) + " at " +
                     hashed_pointer(k, c.insn));
        return false;
    }

    Unwinder u(k, c, found->read);
    while (c.entries > 0) {
        if (c.sp_high - c.vrs[reg_sp] < sizeof c.vrs) c.check_each_pop = true;
        if (!u.exec()) return false;
        if (c.vrs[reg_sp] < sp_low || c.vrs[reg_sp] > c.sp_high) return false;
    }
    if (c.vrs[reg_pc] == 0) c.vrs[reg_pc] = c.vrs[reg_lr];
    // check for infinite loop
    if (frame.pc == c.vrs[reg_pc] && frame.sp == c.vrs[reg_sp]) return false;

    frame.fp = c.vrs[fp_reg(k)];
    frame.sp = c.vrs[reg_sp];
    frame.lr = c.vrs[reg_lr];
    frame.pc = c.vrs[reg_pc];
    return true;
}

void dump_backtrace(Kernel& k, StackFrame frame, int level,
                    const std::function<std::string(uint64_t)>& caller) {
    // unwind_backtrace(): a PC outside the text is corrupt; start from LR then.
    if (!kernel_text_address(k, frame.pc)) frame.pc = frame.lr;
    // The kernel walks until the unwinder fails; a bound keeps a corrupt stack finite.
    for (int depth = 0; depth < 128; ++depth) {
        uint32_t where = frame.pc;
        if (!unwind_frame(k, frame)) break;
        // dump_backtrace_entry(): " %ps from %pS"
        std::string from = caller ? caller(frame.pc) : symbol(k, frame.pc, true);
        k.log(level, " " + symbol(k, where, false) + " from " + from);
    }
}

}  // namespace kmodemu::arm
