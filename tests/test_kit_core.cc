// The emulated kernel's core (work and timers on the virtual clock, RCU, completions, notifier
// chains, keys and X.509 certificates, the firmware loader, xarrays, kobjects and sysfs names,
// sscanf) through Debian's own modules that need it: each gets the real kernel's exit status and
// lines, on every kit whose recording has it.
#include "recorded_modules.h"

TEST(KitCore, ModulesOfTheCoreGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        "kernel/net/rfkill/rfkill.ko",                      // queue_work_on, run after init
        "kernel/drivers/leds/trigger/ledtrig-activity.ko",  // timers on the virtual clock
        "kernel/lib/memory-notifier-error-inject.ko",       // the memory notifier chain
        "kernel/lib/pm-notifier-error-inject.ko",           // the PM notifier chain
        "kernel/lib/test_firmware.ko",                      // the firmware loader's misc device
        "kernel/drivers/infiniband/core/ib_core.ko",        // xarrays
        "kernel/drivers/uio/uio.ko",                        // kobject_set_name
        "kernel/drivers/firmware/qemu_fw_cfg.ko",           // kobjects and ksets in sysfs
        "kernel/fs/fuse/fuse.ko",                           // kobject_create_and_add(fs_kobj)
    });
}
