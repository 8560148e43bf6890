// drivers/base/firmware_loader/main.c as Debian builds it. The machine has no firmware files
// (the oracle's guest has no /lib/firmware), so a request fails with -ENOENT after each try
// _request_firmware() makes: the plain name, then the compressed names the configuration
// allows (CONFIG_FW_LOADER_COMPRESS_ZSTD, _XZ). Debian's patch "firmware_class: Log every success
// and failure against given device" says so at each try, and in 6.1 points to its wiki once per
// boot; then the kernel's own "Direct firmware load" warning. No sysfs fallback
// (CONFIG_FW_LOADER_USER_HELPER is not set in Debian's kernels).
#include <cerrno>
#include <map>

#include "kernel_stubs/drivers/base/base.h"
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/kernel/workqueue.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"

namespace kmodemu {

namespace {

struct Firmware : Kernel::SubsystemState {
    bool pointed_to_wiki = false;
    struct Nowait {  // struct firmware_work
        std::string name;
        uint64_t device, context, cont;
    };
    std::map<uint64_t, Nowait> nowait;  // by its work_struct
};

bool config_y(Kernel& k, const char* name) {
    const KernelProfile* p = k.config().profile.get();
    return p && p->config.find(name) == "y";
}

// _request_firmware() of a file that is not there: -ENOENT, with the kernel's lines.
int request_missing(Kernel& k, const std::string& name, uint64_t dev) {
    Firmware& fw = k.state<Firmware>();
    std::string prefix = drivers::dev_printk_prefix(k, dev);
    int tries = 1 + config_y(k, "CONFIG_FW_LOADER_COMPRESS_ZSTD") +
                config_y(k, "CONFIG_FW_LOADER_COMPRESS_XZ");
    for (int i = 0; i < tries; ++i) {
        k.log(3, prefix + "firmware: failed to load " + name + " (-2)");
        // Recorded from Debian's 6.1 kernels; its 6.12 kernels no longer say it.
        if (!fw.pointed_to_wiki && !kernel_since(k.config().profile.get(), 6, 12)) {
            fw.pointed_to_wiki = true;
            k.log(3,
                  "firmware_class: See https://wiki.debian.org/Firmware for information "
                  "about missing firmware");
        }
    }
    k.log(4, prefix + "Direct firmware load for " + name + " failed with error -2");
    return -ENOENT;
}

}  // namespace

void register_firmware_loader(Kernel& k) {
    const char* sub = "drivers/base/firmware_loader/main";
    // request_firmware(firmware_p, name, device): *firmware_p = NULL and -ENOENT (-EINVAL
    // without a pointer or a name).
    k.add_function("request_firmware", sub, [](StubCall& c) -> uint64_t {
        if (!c.arg(0)) return static_cast<uint64_t>(-EINVAL);
        c.emu.write_word(c.arg(0), 0);
        std::string name = c.arg(1) ? c.read_cstr(c.arg(1)) : "";
        if (name.empty()) return static_cast<uint64_t>(int64_t(-EINVAL));
        return static_cast<uint64_t>(int64_t(request_missing(c.kernel, name, c.arg(2))));
    });
    // The work item of request_firmware_nowait(): the request, then cont(NULL, context).
    const uint64_t work_func =
        k.add_function("request_firmware_work_func", sub, [](StubCall& c) -> uint64_t {
             Kernel& k = c.kernel;
             Firmware& fw = k.state<Firmware>();
             auto it = fw.nowait.find(c.arg(0));
             if (it == fw.nowait.end()) return 0;
             Firmware::Nowait w = it->second;
             fw.nowait.erase(it);
             request_missing(k, w.name, w.device);
             k.call_guest(w.cont, {0, w.context});
             k.slab().free(c.arg(0));
             return 0;
         }).address;
    // request_firmware_nowait(module, uevent, name, device, gfp, context, cont): 0, the request
    // being made from a work item (-EINVAL without a name).
    k.add_function("request_firmware_nowait", sub, [work_func](StubCall& c) -> uint64_t {
        Kernel& k = c.kernel;
        std::string name = c.arg(2) ? c.read_cstr(c.arg(2)) : "";
        if (name.empty()) return static_cast<uint64_t>(int64_t(-EINVAL));
        uint64_t work = new_kernel_work(k, work_func);
        if (!work) return static_cast<uint64_t>(int64_t(-ENOMEM));
        k.state<Firmware>().nowait[work] = {name, c.arg(3), c.arg(5), c.arg(6)};
        schedule_kernel_work(k, work);
        return 0;
    });
    // release_firmware(fw): nothing was ever loaded, so fw is NULL.
    k.add_function("release_firmware", sub, [](StubCall& c) -> uint64_t {
        if (c.arg(0)) c.unimplemented("release_firmware (of a loaded firmware)");
        return 0;
    });
}

}  // namespace kmodemu
