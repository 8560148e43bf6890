// drivers/tty/tty_io.c: tty drivers (allocation, registration with their character device
// numbers, the reference whose last put frees them) and tty_std_termios. A driver whose lines
// get their devices at registration (no TTY_DRIVER_DYNAMIC_DEV: tty_register_device()) or
// whose cdev is allocated for all its lines (TTY_DRIVER_DYNAMIC_ALLOC) stops the run there: the
// tty devices are not emulated.
#include <algorithm>
#include <cerrno>
#include <set>
#include <vector>

#include "kernel_stubs/fs/char_dev.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct TtyDrivers : Kernel::SubsystemState {
    std::vector<uint64_t> drivers;     // tty_drivers
    std::set<std::string> proc_names;  // /proc/tty/driver/ entries (proc_tty_register_driver())
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

uint64_t word(Kernel& k, uint64_t a) {
    return k.emu().read_word(a);
}

void kfree(Kernel& k, uint64_t p) {
    if (p) k.slab().free(p);
}

std::string cstr(StubCall& c, uint64_t p) {
    return p ? c.read_cstr(p, 256) : std::string();
}

// destruct_tty_driver(): an installed driver's termios freed and its proc entry removed; its
// arrays and itself freed.
void destruct(StubCall& c, uint64_t driver) {
    Kernel& k = c.kernel;
    const KernelStructs::TtyDriver& t = k.structs().tty_driver;
    uint64_t flags = word(k, driver + t.flags);
    if (flags & t.installed) {
        uint32_t num = c.emu.read_u32(driver + t.num);
        uint64_t termios = word(k, driver + t.termios);
        for (uint32_t i = 0; i < num && termios; ++i) {
            uint64_t at = termios + uint64_t(i) * k.word();
            kfree(k, word(k, at));
            c.emu.write_word(at, 0);
        }
        // proc_tty_unregister_driver()
        k.state<TtyDrivers>().proc_names.erase(cstr(c, word(k, driver + t.driver_name)));
    }
    kfree(k, word(k, driver + t.cdevs));
    kfree(k, word(k, driver + t.ports));
    kfree(k, word(k, driver + t.termios));
    kfree(k, word(k, driver + t.ttys));
    kfree(k, driver);
}

}  // namespace

void register_tty_io(Kernel& k) {
    const char* sub = "drivers/tty/tty_io";
    const KernelStructs& s = k.structs();
    // struct ktermios tty_std_termios: ICRNL | IXON, OPOST | ONLCR, B38400 | CS8 | CREAD | HUPCL,
    // ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN, INIT_C_CC, 38400 baud.
    {
        const KernelStructs::Ktermios& t = s.ktermios;
        std::vector<uint8_t> v(t.size, 0);
        auto put32 = [&v](uint64_t off, uint64_t val) {
            uint32_t x = uint32_t(val);
            std::copy_n(reinterpret_cast<const uint8_t*>(&x), 4, v.begin() + off);
        };
        put32(t.c_iflag, t.std_iflag);
        put32(t.c_oflag, t.std_oflag);
        put32(t.c_cflag, t.std_cflag);
        put32(t.c_lflag, t.std_lflag);
        // INIT_C_CC (include/linux/termios_internal.h) at the V* indexes of
        // include/uapi/asm-generic/termbits.h (arm and arm64): intr=^C quit=^\ erase=del
        // kill=^U eof=^D vtime=0 vmin=1 sxtc=0 start=^Q stop=^S susp=^Z eol=0 reprint=^R
        // discard=^O werase=^W lnext=^V eol2=0.
        const uint8_t cc[] = {003, 034, 0177, 025, 004, 0,   1,   0, 021,
                              023, 032, 0,    022, 017, 027, 026, 0};
        std::copy_n(cc, std::min<uint64_t>(sizeof cc, t.c_cc_len), v.begin() + t.c_cc);
        put32(t.c_ispeed, 38400);
        put32(t.c_ospeed, 38400);
        k.add_data("tty_std_termios", sub, v.size(), v.data());
    }

    // __tty_alloc_driver(lines, owner, flags): a zeroed driver with one reference, its arrays of
    // ttys and termios (unless devpts allocates them), of ports and cdevs (one cdev for all
    // lines with TTY_DRIVER_DYNAMIC_ALLOC); ERR_PTR(-EINVAL) for no lines or several unnumbered.
    k.add_function("__tty_alloc_driver", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::TtyDriver& t = k.structs().tty_driver;
        uint32_t lines = uint32_t(c.arg(0));
        uint64_t flags = c.arg(2);
        if (!lines || ((flags & t.unnumbered_node) && lines > 1)) return ret(-EINVAL);
        uint64_t driver = k.slab_alloc(t.size, gfp_zero);
        if (!driver) return ret(-ENOMEM);
        c.emu.write_u32(driver + t.kref, 1);
        c.emu.write_u32(driver + t.num, lines);
        c.emu.write_word(driver + t.owner, c.arg(1));
        c.emu.write_word(driver + t.flags, flags);
        bool nomem = false;
        auto kcalloc = [&](uint64_t n, uint64_t field) {
            uint64_t p = k.slab_alloc(n * k.word(), gfp_zero);
            if (!p) nomem = true;
            c.emu.write_word(driver + field, p);
        };
        uint32_t cdevs = 1;
        if (!(flags & t.devpts_mem)) {
            kcalloc(lines, t.ttys);
            kcalloc(lines, t.termios);
        }
        if (!nomem && !(flags & t.dynamic_alloc)) {
            kcalloc(lines, t.ports);
            cdevs = lines;
        }
        if (!nomem) kcalloc(cdevs, t.cdevs);
        if (nomem) {
            destruct(c, driver);
            return ret(-ENOMEM);
        }
        return driver;
    });
    // tty_register_driver(driver): its numbers (a dynamic major when it has none, the major then
    // set), on the list of drivers, its /proc/tty/driver/ entry when it has a proc_show;
    // TTY_DRIVER_INSTALLED.
    k.add_function("tty_register_driver", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::TtyDriver& t = k.structs().tty_driver;
        uint64_t driver = c.arg(0);
        uint64_t flags = word(k, driver + t.flags);
        if (flags & t.dynamic_alloc)
            c.unimplemented("tty_register_driver (TTY_DRIVER_DYNAMIC_ALLOC: the lines' cdev)");
        if (!(flags & t.dynamic_dev))
            c.unimplemented("tty_register_driver (the lines' devices: tty_register_device())");
        std::string name = cstr(c, word(k, driver + t.name));
        uint32_t major = c.emu.read_u32(driver + t.major);
        uint32_t minor_start = c.emu.read_u32(driver + t.minor_start);
        uint32_t num = c.emu.read_u32(driver + t.num);
        int err;
        if (!major) {
            uint32_t dev = 0;
            err = alloc_chrdev_region(k, dev, minor_start, num, name);
            if (!err) {
                c.emu.write_u32(driver + t.major, dev >> k.structs().minorbits);
                c.emu.write_u32(driver + t.minor_start,
                                dev & ((uint32_t(1) << k.structs().minorbits) - 1));
            }
        } else {
            err = register_chrdev_region(k, (major << k.structs().minorbits) | minor_start, num,
                                         name);
        }
        if (err < 0) return ret(err);
        TtyDrivers& td = k.state<TtyDrivers>();
        td.drivers.insert(td.drivers.begin(), driver);  // list_add()
        // proc_tty_register_driver()
        uint64_t ops = word(k, driver + t.ops);
        std::string driver_name = cstr(c, word(k, driver + t.driver_name));
        if (!driver_name.empty() && ops && word(k, ops + t.ops_proc_show)) {
            if (td.proc_names.count(driver_name))
                c.unimplemented("proc_tty_register_driver (a /proc/tty/driver/ name taken)");
            td.proc_names.insert(driver_name);
        }
        c.emu.write_word(driver + t.flags, flags | t.installed);
        return 0;
    });
    // tty_unregister_driver(driver): its numbers given back, off the list.
    k.add_function("tty_unregister_driver", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::TtyDriver& t = k.structs().tty_driver;
        uint64_t driver = c.arg(0);
        uint32_t major = c.emu.read_u32(driver + t.major);
        uint32_t minor_start = c.emu.read_u32(driver + t.minor_start);
        unregister_chrdev_region(k, (major << k.structs().minorbits) | minor_start,
                                 c.emu.read_u32(driver + t.num));
        std::erase(k.state<TtyDrivers>().drivers, driver);
        return 0;
    });
    // tty_driver_kref_put(driver): the last reference destructs it.
    k.add_function("tty_driver_kref_put", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        uint64_t at = c.arg(0) + k.structs().tty_driver.kref;
        uint32_t ref = c.emu.read_u32(at);
        if (ref == 0) {
            k.diag("tty_driver_kref_put(): the reference count is already 0");
            return 0;
        }
        c.emu.write_u32(at, --ref);
        if (!ref) destruct(c, c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
