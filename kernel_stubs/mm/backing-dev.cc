// mm/backing-dev.c: backing device info (struct backing_dev_info) of the file systems and block
// devices a module makes. Its writeback state (the bdi_writeback, its lists and work) is the
// kernel's own, used by the writeback code only, which nothing runs here: kmodemu keeps the
// object's reference count and registration itself; the fields modules set or read (capabilities,
// ra_pages, io_pages, dev) are the kernel's, in guest memory.
#include <cerrno>
#include <map>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/printk.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

struct Bdis : Kernel::SubsystemState {
    struct Bdi {
        unsigned refs = 1;  // bdi->refcnt (kref_init())
        bool registered = false;
    };
    std::map<uint64_t, Bdi> bdis;
    uint64_t bdi_class = 0;  // default_bdi_init()'s class_create("bdi")
    uint64_t fmt = 0;        // "%s"
    uint64_t unknown = 0;    // bdi_unknown_name
};

bool is_err(Kernel& k, uint64_t p) {
    return p >= (k.word() == 8 ? uint64_t(-4095) : 0xfffff001u);
}

uint64_t call_export(Kernel& k, const char* name, std::initializer_list<uint64_t> args) {
    return k.call_guest(k.find_export(name)->address, args);
}

// bdi_unregister(bdi): the device destroyed (bdi->dev = NULL); nothing if never registered.
void unregister(Kernel& k, uint64_t bdi, Bdis::Bdi& b) {
    if (!b.registered) return;
    const KernelStructs::BackingDevInfo& l = k.structs().backing_dev_info;
    uint64_t dev = k.emu().read_word(bdi + l.dev);
    if (dev) {
        call_export(k, "device_unregister", {dev});
        k.emu().write_word(bdi + l.dev, 0);
    }
    b.registered = false;
}

}  // namespace

void register_backing_dev(Kernel& k) {
    const char* sub = "mm/backing-dev";
    // bdi_alloc(node_id): a zeroed backing_dev_info, bdi_init()ed (one reference), with
    // capabilities BDI_CAP_WRITEBACK | BDI_CAP_WRITEBACK_ACCT and VM_READAHEAD_PAGES of
    // read-ahead and I/O.
    k.add_function("bdi_alloc", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::BackingDevInfo& l = c.kernel.structs().backing_dev_info;
        uint64_t bdi = c.kernel.slab_alloc(l.size, gfp_zero);
        if (!bdi) return 0;
        uint32_t caps = uint32_t(l.cap_writeback | l.cap_writeback_acct);
        c.write(bdi + l.capabilities, &caps, 4);
        c.emu.write_word(bdi + l.ra_pages, l.vm_readahead_pages);
        c.emu.write_word(bdi + l.io_pages, l.vm_readahead_pages);
        c.kernel.state<Bdis>().bdis[bdi] = {};
        return bdi;
    });
    // bdi_register(bdi, fmt, ...): bdi_register_va(): nothing when it has a device already;
    // else its name, bdi->dev_name, and a device of the "bdi" class of that name
    // (device_create(), whose -errno it returns).
    k.add_function("bdi_register", sub, [](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        const KernelStructs::BackingDevInfo& l = k.structs().backing_dev_info;
        Bdis& s = k.state<Bdis>();
        uint64_t bdi = c.arg(0);
        auto it = s.bdis.find(bdi);
        if (it == s.bdis.end()) c.unimplemented("bdi_register (of a bdi not from bdi_alloc)");
        if (c.emu.read_word(bdi + l.dev)) return 0;
        std::string name = format_guest_args(c, c.arg(1), 2);
        if (name.size() >= l.dev_name_len) name.resize(l.dev_name_len - 1);
        std::vector<uint8_t> buf(name.begin(), name.end());
        buf.push_back(0);
        c.write(bdi + l.dev_name, buf.data(), buf.size());
        if (!s.bdi_class) {
            uint64_t cls_name = k.alloc_data(4);
            c.write(cls_name, "bdi", 4);
            uint64_t cls = call_export(k, "class_create", {cls_name});
            if (k.word() == 4) cls &= 0xffffffffu;
            if (is_err(k, cls)) c.unimplemented("bdi_register (the bdi class)");
            s.bdi_class = cls;
            s.fmt = k.alloc_data(4);
            c.write(s.fmt, "%s", 3);
        }
        uint64_t dev =
            call_export(k, "device_create", {s.bdi_class, 0, 0, bdi, s.fmt, bdi + l.dev_name});
        if (k.word() == 4) dev &= 0xffffffffu;
        if (is_err(k, dev)) return dev;
        c.emu.write_word(bdi + l.dev, dev);
        it->second.registered = true;
        return 0;
    });
    k.add_function("bdi_unregister", sub, [](StubCall& c) -> uint64_t {
        auto& bdis = c.kernel.state<Bdis>().bdis;
        auto it = bdis.find(c.arg(0));
        if (it != bdis.end()) unregister(c.kernel, it->first, it->second);
        return 0;
    });
    // bdi_put(bdi): the last reference unregisters it (release_bdi()) and frees it.
    k.add_function("bdi_put", sub, [](StubCall& c) -> uint64_t {
        auto& bdis = c.kernel.state<Bdis>().bdis;
        auto it = bdis.find(c.arg(0));
        if (it == bdis.end()) c.unimplemented("bdi_put (of a bdi not from bdi_alloc)");
        if (--it->second.refs) return 0;
        unregister(c.kernel, it->first, it->second);
        c.kernel.slab().free(it->first);
        bdis.erase(it);
        return 0;
    });
    // bdi_dev_name(bdi): the device's name, or "(unknown)" before registration.
    k.add_function("bdi_dev_name", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs::BackingDevInfo& l = c.kernel.structs().backing_dev_info;
        uint64_t bdi = c.arg(0);
        if (!bdi || !c.emu.read_word(bdi + l.dev)) {
            uint64_t& name = c.kernel.state<Bdis>().unknown;
            if (!name) {
                name = c.kernel.alloc_data(10);
                c.write(name, "(unknown)", 10);
            }
            return name;
        }
        return bdi + l.dev_name;
    });
}

}  // namespace kmodemu
