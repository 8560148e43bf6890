// Tasks (kernel_stubs/kernel/sched, kernel/kthread.c): kernel threads that block and switch,
// wait queues that wake them, completions handed between insmod's task and a thread, and the
// hung-task detector's report of a deadlock; on the fixture (fixtures/kthread) on both
// architectures, and Debian's modules that start kernel threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/fixture_util.h"
#include "tests/recorded_modules.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;

namespace {

struct Flavour {
    const char* name;
    const char* kit;
};

const Flavour flavours[] = {
    {"arm64", KMODEMU_KIT_ARM64},
    {"armhf", KMODEMU_KIT_ARMHF},
    // Debian's armmp kernel is no Thumb-2 kernel: the Thumb-2 build runs on the default one.
    {"armhf-thumb", ""},
};

RunOutcome run_kthread(const Flavour& f, std::vector<std::string> params = {}) {
    RunOptions opts;
    opts.kernel_kit = f.kit;
    opts.params = std::move(params);
    opts.budget = 50'000'000;
    return run_module(fx::module(f.name, "kthread"), opts);
}

std::string lines(const RunOutcome& out) {
    std::string s;
    for (const LogLine& l : out.log)
        s += l.text + "\n";
    for (const std::string& d : out.diagnostics)
        s += "diag: " + d + "\n";
    return s;
}

TEST(KitTasks, KthreadsSleepWaitAndStop) {
    for (const Flavour& f : flavours) {
        SCOPED_TRACE(f.name);
        RunOutcome out = run_kthread(f);
        EXPECT_EQ(out.exit_status, 0) << lines(out);
        // kthread_stop() of a thread never woken: kthread() returns -EINTR without running it.
        EXPECT_TRUE(has_line(out, "kthread: stopped before it ran: -4")) << lines(out);
        // The name is vsnprintf()'s; the thread runs as `current` with that comm.
        EXPECT_TRUE(has_line(out, "kthread: kmodemu-sleep/0 runs")) << lines(out);
        EXPECT_TRUE(has_line(out, "kthread: kmodemu-sleep/0 started")) << lines(out);
        // Three tickets handed through a wait queue, each answered with a completion.
        EXPECT_TRUE(has_line(out, "kthread: waiter answered 3 tickets")) << lines(out);
        ASSERT_TRUE(out.unload.has_value());
        EXPECT_TRUE(has_line(out, "kthread: waiter returned 7")) << lines(out);
        // The sleeper slept 10 ms (3 jiffies at HZ=250) a round through init and the settle
        // phase's second: its rounds are counted, and it returns its value to kthread_stop().
        auto it = std::find_if(out.log.begin(), out.log.end(), [](const LogLine& l) {
            return l.text.starts_with("kthread: sleeper returned 42 after ");
        });
        ASSERT_NE(it, out.log.end()) << lines(out);
        int rounds =
            std::stoi(it->text.substr(std::string("kthread: sleeper returned 42 after ").size()));
        EXPECT_GT(rounds, 50) << it->text;
        EXPECT_LT(rounds, 120) << it->text;
        for (const std::string& d : out.diagnostics)
            EXPECT_EQ(d.find("still alive"), std::string::npos) << d;
    }
}

TEST(KitTasks, DeadlockIsReportedAsTheHungTaskDetectorDoes) {
    for (const Flavour& f : flavours) {
        SCOPED_TRACE(f.name);
        RunOutcome out = run_kthread(f, {"mode=1"});
        EXPECT_EQ(out.exit_status, exit_hang) << lines(out);
        EXPECT_TRUE(std::any_of(out.diagnostics.begin(), out.diagnostics.end(),
                                [](const std::string& d) {
                                    return d.starts_with(
                                        "deadlock: insmod's task blocked forever "
                                        "in wait_for_completion");
                                }))
            << lines(out);
        // insmod (pid 1234) and the thread it started (the next pid), both in
        // wait_for_completion(), in TASK_UNINTERRUPTIBLE: reported in task-list order.
        EXPECT_TRUE(has_line(out, "INFO: task insmod:1234 blocked for more than 120 seconds."))
            << lines(out);
        EXPECT_TRUE(
            has_line(out, "INFO: task kmodemu-dead:1235 blocked for more than 120 seconds."))
            << lines(out);
        EXPECT_TRUE(has_line(
            out, "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message."))
            << lines(out);
        auto insmod = std::find_if(out.log.begin(), out.log.end(), [](const LogLine& l) {
            return l.text.starts_with("INFO: task insmod:");
        });
        auto thread = std::find_if(out.log.begin(), out.log.end(), [](const LogLine& l) {
            return l.text.starts_with("INFO: task kmodemu-dead:");
        });
        EXPECT_LT(insmod, thread);
        EXPECT_TRUE(std::any_of(out.log.begin(), out.log.end(), [](const LogLine& l) {
            return l.text.starts_with("task:kmodemu-dead    state:D");
        })) << lines(out);
    }
}

TEST(KitTasks, ModulesGetTheRealVerdicts) {
    fx::expect_real_verdicts({
        // kthread_create_on_node, wake_up_process; its thread waits in wait_event_interruptible()
        // (init_wait_entry, prepare_to_wait_event, schedule, finish_wait) until exit wakes it
        // (__wake_up) and waits in turn for the thread's last wake-up.
        "kernel/drivers/media/usb/pvrusb2/pvrusb2.ko",
    });
}

}  // namespace
