// fs/char_dev.c: the character device number regions (register_chrdev_region(),
// alloc_chrdev_region(), __register_chrdev() and their unregistering).
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/fs/char_dev.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

constexpr unsigned chrdev_major_max = 512;       // CHRDEV_MAJOR_MAX
constexpr unsigned chrdev_major_dyn_end = 234;   // CHRDEV_MAJOR_DYN_END
constexpr unsigned chrdev_major_dyn_ext_start = 511;
constexpr unsigned chrdev_major_dyn_ext_end = 384;
constexpr unsigned chrdevs_size = 255;           // CHRDEV_MAJOR_HASH_SIZE

struct Region {
    unsigned major, baseminor, count;
    std::string name;
};

struct CharDevs : Kernel::SubsystemState {
    std::vector<Region> regions;
    bool major_used(unsigned major) const {
        for (const Region& r : regions)
            if (r.major == major) return true;
        return false;
    }
};

// find_dynamic_major(): the free major from 254 down to 234, then from 511 down to 384 (a major
// of the first range is free when no region hashes to its chrdevs[] slot).
int find_dynamic_major(const CharDevs& cd) {
    for (unsigned i = chrdevs_size - 1; i >= chrdev_major_dyn_end; --i) {
        bool used = false;
        for (const Region& r : cd.regions)
            if (r.major % chrdevs_size == i) used = true;
        if (!used) return static_cast<int>(i);
    }
    for (unsigned i = chrdev_major_dyn_ext_start; i >= chrdev_major_dyn_ext_end; --i)
        if (!cd.major_used(i)) return static_cast<int>(i);
    return -EBUSY;
}

// __register_chrdev_region(): the major (or 0 for a dynamic one), or -errno with the kernel's
// messages.
int register_region(Kernel& k, unsigned major, unsigned baseminor, unsigned count,
                    const std::string& name) {
    CharDevs& cd = k.state<CharDevs>();
    unsigned minorbits = static_cast<unsigned>(k.structs().minorbits);
    if (major >= chrdev_major_max) {
        k.log(3, "CHRDEV \"" + name + "\" major requested (" + std::to_string(major) +
                     ") is greater than the maximum (" + std::to_string(chrdev_major_max - 1) +
                     ")");
        return -EINVAL;
    }
    if (minorbits < 32 && (uint64_t(baseminor) + count > (uint64_t(1) << minorbits))) {
        k.log(3, "CHRDEV \"" + name + "\" minor range requested (" + std::to_string(baseminor) +
                     "-" + std::to_string(uint64_t(baseminor) + count - 1) +
                     ") is out of range of maximum range (0-" +
                     std::to_string((uint64_t(1) << minorbits) - 1) + ") for a single major");
        return -EINVAL;
    }
    if (major == 0) {
        int m = find_dynamic_major(cd);
        if (m < 0) {
            k.log(3, "CHRDEV \"" + name + "\" dynamic allocation region is full");
            return m;
        }
        major = static_cast<unsigned>(m);
    }
    for (const Region& r : cd.regions) {
        if (r.major != major) continue;
        uint64_t a0 = r.baseminor, a1 = uint64_t(r.baseminor) + r.count - 1;
        uint64_t b0 = baseminor, b1 = uint64_t(baseminor) + count - 1;
        if (a0 <= b1 && b0 <= a1) return -EBUSY;
    }
    cd.regions.push_back({major, baseminor, count, name});
    return static_cast<int>(major);
}

void unregister_region(Kernel& k, unsigned major, unsigned baseminor, unsigned count) {
    auto& v = k.state<CharDevs>().regions;
    for (auto it = v.begin(); it != v.end(); ++it)
        if (it->major == major && it->baseminor == baseminor && it->count == count) {
            v.erase(it);
            return;
        }
}

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

}  // namespace

int register_chrdev_region(Kernel& k, uint32_t from, uint32_t count, const std::string& name) {
    const unsigned mb = static_cast<unsigned>(k.structs().minorbits);
    const uint32_t minormask = (uint32_t(1) << mb) - 1;
    uint64_t to = uint64_t(from) + count;
    std::vector<std::pair<uint32_t, uint32_t>> done;
    for (uint64_t n = from; n < to;) {
        uint64_t next = std::min<uint64_t>(((n >> mb) + 1) << mb, to);
        int r = register_region(k, uint32_t(n >> mb), uint32_t(n) & minormask,
                                uint32_t(next - n), name);
        if (r < 0) {
            for (auto [d, cnt] : done)
                unregister_region(k, d >> mb, d & minormask, cnt);
            return r;
        }
        done.emplace_back(uint32_t(n), uint32_t(next - n));
        n = next;
    }
    return 0;
}

void unregister_chrdev_region(Kernel& k, uint32_t from, uint32_t count) {
    const unsigned mb = static_cast<unsigned>(k.structs().minorbits);
    const uint32_t minormask = (uint32_t(1) << mb) - 1;
    uint64_t to = uint64_t(from) + count;
    for (uint64_t n = from; n < to;) {
        uint64_t next = std::min<uint64_t>(((n >> mb) + 1) << mb, to);
        unregister_region(k, uint32_t(n >> mb), uint32_t(n) & minormask, uint32_t(next - n));
        n = next;
    }
}

int alloc_chrdev_region(Kernel& k, uint32_t& dev, unsigned baseminor, unsigned count,
                        const std::string& name) {
    int major = register_region(k, 0, baseminor, count, name);
    if (major < 0) return major;
    dev = (uint32_t(major) << k.structs().minorbits) | baseminor;
    return 0;
}

void register_char_dev(Kernel& k) {
    const char* sub = "fs/char_dev";
    // alloc_chrdev_region(dev_t *dev, baseminor, count, name)
    k.add_function("alloc_chrdev_region", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(3), 256);
        uint32_t dev = 0;
        int err = alloc_chrdev_region(c.kernel, dev, uint32_t(c.arg(1)), uint32_t(c.arg(2)), name);
        if (err < 0) return ret(err);
        c.write(c.arg(0), &dev, 4);
        return 0;
    });
    // register_chrdev_region(from, count, name): each major's part of the range.
    k.add_function("register_chrdev_region", sub, [](StubCall& c) -> uint64_t {
        std::string name = c.read_cstr(c.arg(2), 256);
        return ret(register_chrdev_region(c.kernel, uint32_t(c.arg(0)), uint32_t(c.arg(1)), name));
    });
    k.add_function("unregister_chrdev_region", sub, [](StubCall& c) -> uint64_t {
        unregister_chrdev_region(c.kernel, uint32_t(c.arg(0)), uint32_t(c.arg(1)));
        return 0;
    });
    // __register_chrdev(major, baseminor, count, name, fops): the major when it was 0 (dynamic),
    // else 0. The cdev it adds is the kernel's own.
    k.add_function("__register_chrdev", sub, [](StubCall& c) -> uint64_t {
        unsigned major = uint32_t(c.arg(0));
        std::string name = c.read_cstr(c.arg(3), 256);
        int r = register_region(c.kernel, major, uint32_t(c.arg(1)), uint32_t(c.arg(2)), name);
        if (r < 0) return ret(r);
        return major ? 0 : ret(r);
    });
    k.add_function("__unregister_chrdev", sub, [](StubCall& c) -> uint64_t {
        unregister_region(c.kernel, uint32_t(c.arg(0)), uint32_t(c.arg(1)), uint32_t(c.arg(2)));
        return 0;
    });

    // struct cdev: cdev_init() zeroes it, links its list to itself and sets its ops (its kobject
    // is the kernel's own business); cdev_add() records the numbers (kobj_map() into cdev_map,
    // where no one looks them up here).
    auto init_list = [](StubCall& c, uint64_t cdev) {
        const KernelStructs& s = c.kernel.structs();
        uint64_t list = cdev + s.cdev.list;
        c.emu.write_word(list + s.list_head.next, list);
        c.emu.write_word(list + s.list_head.prev, list);
    };
    k.add_function("cdev_init", sub, [init_list](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        std::vector<uint8_t> zero(s.cdev.size, 0);
        c.write(c.arg(0), zero.data(), zero.size());
        init_list(c, c.arg(0));
        c.emu.write_word(c.arg(0) + s.cdev.ops, c.arg(1));
        return 0;
    });
    k.add_function("cdev_alloc", sub, [init_list](StubCall& c) -> uint64_t {
        uint64_t p = c.kernel.slab_alloc(c.kernel.structs().cdev.size, gfp_zero);
        if (p) init_list(c, p);
        return p;
    });
    k.add_function("cdev_add", sub, [](StubCall& c) -> uint64_t {
        const KernelStructs& s = c.kernel.structs();
        uint32_t dev = uint32_t(c.arg(1)), count = uint32_t(c.arg(2));
        c.write(c.arg(0) + s.cdev.dev, &dev, 4);
        c.write(c.arg(0) + s.cdev.count, &count, 4);
        return 0;
    });
    // cdev_del(): kobj_unmap() and the last reference (a cdev_alloc()ed one is freed then).
    k.add_function("cdev_del", sub, [](StubCall& c) -> uint64_t {
        if (c.kernel.slab().ksize(c.arg(0))) c.kernel.slab().free(c.arg(0));
        return 0;
    });
}

}  // namespace kmodemu
