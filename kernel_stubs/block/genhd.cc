// block/genhd.c: the block device majors (__register_blkdev(), unregister_blkdev()), the
// kernel's major_names[] hash of struct blk_major_name.
#include <cerrno>
#include <map>
#include <string>

#include "kernel_stubs/kernel.h"

namespace kmodemu {

namespace {

constexpr unsigned blkdev_major_hash_size = 255;  // BLKDEV_MAJOR_HASH_SIZE
constexpr unsigned blkdev_major_max = 512;        // BLKDEV_MAJOR_MAX

struct BlockMajors : Kernel::SubsystemState {
    // major -> name (blk_major_name.name[16]: the name cut to 15 characters). What the kernel
    // registers at boot, before any module: genhd_device_init()'s "blkext"
    // (BLOCK_EXT_MAJOR) and, Debian's kernels having CONFIG_MMC_BLOCK=y, mmc_blk_init()'s "mmc"
    // (MMC_BLOCK_MAJOR).
    std::map<unsigned, std::string> names{{259, "blkext"}, {179, "mmc"}};
    bool index_used(unsigned index) const {
        for (const auto& [major, name] : names)
            if (major % blkdev_major_hash_size == index) return true;
        return false;
    }
};

uint64_t ret(int64_t v) {
    return static_cast<uint64_t>(v);
}

}  // namespace

void register_genhd(Kernel& k) {
    const char* sub = "block/genhd";
    // __register_blkdev(major, name, probe): major 0 asks for the free slot of major_names[]
    // from 254 down (the major returned); else 0. -EBUSY when the major is taken, -EINVAL beyond
    // BLKDEV_MAJOR_MAX, with the kernel's messages.
    k.add_function("__register_blkdev", sub, [](StubCall& c) -> uint64_t {
        BlockMajors& b = c.kernel.state<BlockMajors>();
        unsigned major = static_cast<uint32_t>(c.arg(0));
        std::string name = c.read_cstr(c.arg(1), 256);
        int64_t r = 0;
        if (major == 0) {
            unsigned index = blkdev_major_hash_size - 1;
            for (; index > 0; --index)
                if (!b.index_used(index)) break;
            if (index == 0) {
                c.kernel.printk("__register_blkdev: failed to get major for " + name + "\n");
                return ret(-EBUSY);
            }
            major = index;
            r = major;
        }
        if (major >= blkdev_major_max) {
            c.kernel.log(3, "__register_blkdev: major requested (" + std::to_string(major) +
                                ") is greater than the maximum (" +
                                std::to_string(blkdev_major_max - 1) + ") for " + name);
            return ret(-EINVAL);
        }
        if (b.names.count(major)) {
            c.kernel.printk("register_blkdev: cannot get major " + std::to_string(major) + " for " +
                            name + "\n");
            return ret(-EBUSY);
        }
        b.names[major] = name.substr(0, 15);
        return ret(r);
    });
    // unregister_blkdev(major, name): a major not registered under that name WARN_ON()s.
    k.add_function("unregister_blkdev", sub, [](StubCall& c) -> uint64_t {
        BlockMajors& b = c.kernel.state<BlockMajors>();
        unsigned major = static_cast<uint32_t>(c.arg(0));
        std::string name = c.read_cstr(c.arg(1), 256);
        auto it = b.names.find(major);
        if (it == b.names.end() || it->second != name)
            c.unimplemented("unregister_blkdev (of a major not registered: WARN_ON)");
        b.names.erase(it);
        return 0;
    });
}

}  // namespace kmodemu
