// printk and the sprintf family (kernel/printk/printk.c, lib/vsprintf.c): guest varargs and
// va_lists are read by the calling convention, formatting is kernel_vsnprintf().
#include <cerrno>
#include <climits>
#include <cstring>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "kernel_stubs/vsprintf.h"

namespace kmodemu {

namespace {

// Arguments of one guest call: direct varargs after `first` fixed arguments (AAPCS64 /
// AAPCS32), or a va_list.
class GuestVa : public VaSource {
  public:
    // Direct varargs.
    GuestVa(StubCall& c, unsigned first) : c_(c), next_reg_(first) {
        a64_ = c.emu.arch() == Arch::arm64;  // AAPCS64's va_list, and no register pairs
        nregs_ = c.emu.info().arg_regs;
        stack_ = c.emu.sp();
    }
    // A va_list: arm64 passes a pointer to struct __va_list; ARM passes __ap itself.
    static GuestVa from_va_list(StubCall& c, uint64_t va) {
        GuestVa g(c, 0);
        g.va_list_ = true;
        if (g.a64_) {
            g.stack_ = c.emu.read_word(va);
            g.gr_top_ = c.emu.read_word(va + 8);
            int32_t offs;
            c.emu.read(va + 24, &offs, 4);
            g.gr_offs_ = offs;
        } else {
            g.stack_ = va;
        }
        return g;
    }

    uint64_t next_word() override {
        if (va_list_) {
            if (a64_ && gr_offs_ < 0) {
                uint64_t v = c_.emu.read_word(gr_top_ + static_cast<int64_t>(gr_offs_));
                gr_offs_ += 8;
                return v;
            }
            return from_stack(c_.emu.word_size(), c_.emu.word_size());
        }
        if (next_reg_ < nregs_) return c_.emu.arg(next_reg_++);
        return from_stack(c_.emu.word_size(), c_.emu.word_size());
    }
    uint64_t next_dword() override {
        if (a64_) return next_word();
        // AAPCS32: an even register pair, else an 8-byte aligned stack slot (and no more
        // registers afterwards).
        if (!va_list_) {
            if (next_reg_ & 1) ++next_reg_;
            if (next_reg_ + 1 < nregs_) {
                uint64_t lo = c_.emu.arg(next_reg_), hi = c_.emu.arg(next_reg_ + 1);
                next_reg_ += 2;
                return lo | (hi << 32);
            }
            next_reg_ = nregs_;
        }
        return from_stack(8, 8);
    }
    std::optional<std::string> read_string(uint64_t addr, size_t max) override {
        std::string s;
        if (!c_.emu.read_cstring(addr, std::min<size_t>(max, 1 << 20), s)) return std::nullopt;
        return s;
    }
    std::optional<std::string> symbolize(uint64_t addr, bool with_offset) override {
        return c_.kernel.symbolize(addr, with_offset);
    }
    std::optional<std::vector<uint8_t>> read_bytes(uint64_t addr, size_t len) override {
        std::vector<uint8_t> b(len);
        if (!c_.emu.try_read(addr, b.data(), len)) return std::nullopt;
        return b;
    }
    // %pV: struct va_format {const char *fmt; va_list *va;}; va_format() in lib/vsprintf.c
    // formats fmt with a va_copy() of *va. The va_list is struct __va_list on arm64 (what
    // from_va_list() reads at a pointer) and a struct holding __ap on ARM EABI. A bad pointer
    // past check_pointer() faults in the kernel too.
    std::optional<VaFormat> read_va_format(uint64_t addr) override {
        uint64_t w = c_.emu.word_size();
        auto word = [&](uint64_t a) {
            uint64_t v = 0;
            std::memcpy(&v, c_.read(a, w).data(), w);
            return v;
        };
        const KernelStructs::VaFormat& l = c_.kernel.structs().va_format;
        uint64_t fmt = word(addr + l.fmt), va = word(addr + l.va);
        std::string f = c_.read_cstr(fmt);
        uint64_t list = a64_ ? va : word(va);
        return VaFormat{std::move(f), std::make_unique<GuestVa>(from_va_list(c_, list))};
    }

  private:
    uint64_t from_stack(unsigned size, unsigned align) {
        stack_ = (stack_ + align - 1) & ~uint64_t(align - 1);
        uint64_t v = 0;
        auto b = c_.read(stack_, size);
        std::memcpy(&v, b.data(), size);
        stack_ += size;
        return v;
    }

    StubCall& c_;
    bool a64_ = true;
    bool va_list_ = false;
    unsigned nregs_ = 8;
    unsigned next_reg_ = 0;
    uint64_t stack_ = 0, gr_top_ = 0;
    int gr_offs_ = 0;
};

VsprintfConfig config_for(const Kernel& k) {
    VsprintfConfig cfg;
    cfg.is_64bit = k.word() == 8;
    cfg.ptr_hash_key = 0x6b6d6f64656d7521ull;
    return cfg;
}

// vsnprintf(buf, size, ...) into guest memory; returns the full length (or the stored length
// for the scnprintf variants).
uint64_t format_into(StubCall& c, uint64_t buf, uint64_t size, uint64_t fmt_addr, VaSource& va,
                     bool scn) {
    std::string fmt = c.read_cstr(fmt_addr);
    if (size > INT_MAX) return 0;  // WARN_ON_ONCE(size > INT_MAX) in vsnprintf()
    size_t limit = size ? size - 1 : 0;
    VsprintfResult r = kernel_vsnprintf_limited(fmt, va, config_for(c.kernel), limit);
    if (size) {
        std::string out = r.text;
        c.write(buf, out.c_str(), out.size() + 1);
    }
    if (!scn) return r.length;
    if (!size) return 0;
    return std::min<uint64_t>(r.length, size - 1);
}

}  // namespace

std::string format_guest_args(StubCall& c, uint64_t fmt_addr, unsigned first) {
    GuestVa va(c, first);
    return kernel_vsnprintf(c.read_cstr(fmt_addr), va, config_for(c.kernel));
}

std::string hashed_pointer(const Kernel& k, uint64_t ptr) {
    struct One : VaSource {
        uint64_t v;
        uint64_t next_word() override { return v; }
        uint64_t next_dword() override { return v; }
        std::optional<std::string> read_string(uint64_t, size_t) override { return std::nullopt; }
    } one;
    one.v = ptr;
    return kernel_vsnprintf("%p", one, config_for(k));
}

void register_printk(Kernel& k) {
    const char* sub = "printk";
    auto printk = [](StubCall& c, VaSource& va, uint64_t fmt_addr) {
        std::string fmt = c.read_cstr(fmt_addr);
        std::string text = kernel_vsnprintf(fmt, va, config_for(c.kernel));
        c.kernel.printk(text);
        // printk() returns the length of the stored text (without the level prefix).
        return uint64_t(text.size());
    };
    k.add_function("_printk", sub, [printk](StubCall& c) {
        GuestVa va(c, 1);
        return printk(c, va, c.arg(0));
    });
    k.add_function("printk", sub, [printk](StubCall& c) {
        GuestVa va(c, 1);
        return printk(c, va, c.arg(0));
    });
    k.add_function("vprintk", sub, [printk](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(1));
        return printk(c, va, c.arg(0));
    });
    // sscanf(buf, fmt, ...) / vsscanf(buf, fmt, args) (lib/vsprintf.c): the conversions
    // assigned; each store goes through the next pointer argument.
    auto scan = [](StubCall& c, VaSource& va) -> uint64_t {
        ScanResult r = kernel_vsscanf(c.read_cstr(c.arg(0)), c.read_cstr(c.arg(1)),
                                      c.kernel.word() == 8);
        for (const ScanStore& st : r.stores) {
            uint64_t p = va.next_word() & c.emu.info().word_mask();
            if (st.is_bytes)
                c.write(p, st.bytes.data(), st.bytes.size());
            else
                c.write(p, &st.value, st.size);  // little-endian: the low bytes
        }
        return static_cast<uint64_t>(int64_t(r.num));
    };
    k.add_function("sscanf", sub, [scan](StubCall& c) {
        GuestVa va(c, 2);
        return scan(c, va);
    });
    k.add_function("vsscanf", sub, [scan](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(2));
        return scan(c, va);
    });
    k.add_function("snprintf", sub, [](StubCall& c) {
        GuestVa va(c, 3);
        return format_into(c, c.arg(0), c.arg(1), c.arg(2), va, false);
    });
    k.add_function("scnprintf", sub, [](StubCall& c) {
        GuestVa va(c, 3);
        return format_into(c, c.arg(0), c.arg(1), c.arg(2), va, true);
    });
    k.add_function("sprintf", sub, [](StubCall& c) {
        GuestVa va(c, 2);
        return format_into(c, c.arg(0), INT_MAX, c.arg(1), va, false);
    });
    k.add_function("vsnprintf", sub, [](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(3));
        return format_into(c, c.arg(0), c.arg(1), c.arg(2), va, false);
    });
    k.add_function("vscnprintf", sub, [](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(3));
        return format_into(c, c.arg(0), c.arg(1), c.arg(2), va, true);
    });
    k.add_function("vsprintf", sub, [](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(2));
        return format_into(c, c.arg(0), INT_MAX, c.arg(1), va, false);
    });
    auto kasprintf = [](StubCall& c, VaSource& va, uint64_t gfp, uint64_t fmt_addr) -> uint64_t {
        std::string fmt = c.read_cstr(fmt_addr);
        std::string text = kernel_vsnprintf(fmt, va, config_for(c.kernel));
        uint64_t p = c.kernel.slab_alloc(text.size() + 1, gfp);
        if (p) c.write(p, text.c_str(), text.size() + 1);
        return p;
    };
    k.add_function("kasprintf", sub, [kasprintf](StubCall& c) {
        GuestVa va(c, 2);
        return kasprintf(c, va, c.arg(0), c.arg(1));
    });
    k.add_function("kvasprintf", sub, [kasprintf](StubCall& c) {
        GuestVa va = GuestVa::from_va_list(c, c.arg(2));
        return kasprintf(c, va, c.arg(0), c.arg(1));
    });
}

}  // namespace kmodemu
