// Lock checks (kernel_stubs/locking.cc), on the lockcheck fixture of each architecture: what
// Debian's kernel does (silent, or a hang that names the lock) and, with --lockdep, what lockdep
// and __might_resched() print for each lock error.
#include <gtest/gtest.h>

#include "tests/fixture_util.h"
#include "tools/report.h"
#include "tools/runner.h"

using namespace kmodemu;
using fx::has_line;

namespace {

RunOutcome run(const std::string& flavour, int test, bool lockdep) {
    RunOptions opts;
    opts.budget = 2'000'000;
    opts.lockdep = lockdep;
    opts.params = {"test=" + std::to_string(test)};
    return run_module(fx::module(flavour, "lockcheck"), opts);
}

bool has_prefix(const RunOutcome& out, const std::string& prefix) {
    for (const LogLine& l : out.log)
        if (l.text.starts_with(prefix)) return true;
    return false;
}

bool has_diag(const RunOutcome& out, const std::string& part) {
    for (const std::string& d : out.diagnostics)
        if (d.find(part) != std::string::npos) return true;
    return false;
}

class LockCheck : public ::testing::TestWithParam<const char*> {};

}  // namespace

// Without --lockdep the kernel is Debian's: the errors that do not hang are silent.
TEST_P(LockCheck, DebianKernelIsSilent) {
    for (int t : {0, 1, 2, 3, 4, 5, 8}) {
        RunOutcome out = run(GetParam(), t, false);
        EXPECT_EQ(out.exit_status, 0) << t;
        EXPECT_TRUE(has_line(out, "lockcheck: test " + std::to_string(t) + " done")) << t;
        EXPECT_FALSE(has_prefix(out, "BUG:")) << t;
        EXPECT_FALSE(has_prefix(out, "WARNING:")) << t;
        EXPECT_FALSE(out.lockdep);
        EXPECT_EQ(make_report(out, "lockcheck.ko")["lock_checks"], "kernel");
    }
}

// A spinlock or a mutex taken twice: the real insmod hangs; the report names the lock.
TEST_P(LockCheck, RecursiveLockingHangsNamingTheLock) {
    RunOutcome spin = run(GetParam(), 6, false);
    EXPECT_EQ(spin.ending, "hang");
    EXPECT_TRUE(has_diag(spin, "deadlock: the lock lc_spin (0x"))
        << ::testing::PrintToString(spin.diagnostics);
    RunOutcome mutex = run(GetParam(), 7, false);
    EXPECT_EQ(mutex.ending, "hang");
    EXPECT_TRUE(has_diag(mutex, "mutex_lock: deadlock: the lock lc_mutex (0x"));
    EXPECT_FALSE(has_prefix(mutex, "WARNING:"));

    // lockdep reports it before the hang.
    RunOutcome dep = run(GetParam(), 7, true);
    EXPECT_EQ(dep.ending, "hang");
    EXPECT_TRUE(has_line(dep, "WARNING: possible recursive locking detected"));
    EXPECT_TRUE(has_line(dep, "insmod/1234 is trying to acquire lock:"));
    EXPECT_TRUE(has_line(dep, "but task is already holding lock:"));
    EXPECT_TRUE(has_line(dep, "  lock(lc_mutex);"));
    EXPECT_TRUE(has_line(dep, " *** DEADLOCK ***"));
    EXPECT_TRUE(has_prefix(dep, " #0: "));
    EXPECT_TRUE(has_diag(dep, "recursive locking of lc_mutex"));
}

// mutex_unlock() of a mutex not held, up_read() of an rwsem not taken.
TEST_P(LockCheck, BadUnlockBalance) {
    RunOutcome out = run(GetParam(), 4, true);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(out.lockdep);
    EXPECT_EQ(make_report(out, "lockcheck.ko")["lock_checks"], "lockdep");
    EXPECT_TRUE(has_line(out, "WARNING: bad unlock balance detected!"));
    // The name mutex_init() gave the class.
    EXPECT_TRUE(has_line(out, "insmod/1234 is trying to release lock (&lc_dyn) at:"));
    EXPECT_TRUE(has_line(out, "but there are no more locks to release!"));
    EXPECT_TRUE(has_line(out, "no locks held by insmod/1234."));
    EXPECT_TRUE(has_prefix(out, "CPU: 0 PID: 1234 Comm: insmod"));  // dump_stack()
    RunOutcome rw = run(GetParam(), 8, true);
    EXPECT_TRUE(has_line(rw, "insmod/1234 is trying to release lock (lc_rwsem) at:"));
}

// init returns with a mutex held.
TEST_P(LockCheck, LockHeldWhenReturningToUserSpace) {
    RunOutcome out = run(GetParam(), 5, true);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_TRUE(has_line(out, "WARNING: lock held when returning to user space!"));
    EXPECT_TRUE(has_line(out, "insmod/1234 is leaving the kernel with locks still held!"));
    EXPECT_TRUE(has_line(out, "1 lock held by insmod/1234:"));
    bool listed = false;
    for (const LogLine& l : out.log)
        listed |= l.text.starts_with(" #0: ") && l.text.find(" (&lc_dyn){") != std::string::npos &&
                  l.text.find("-{3:3}, at: lockcheck_init+0x") != std::string::npos;
    EXPECT_TRUE(listed);
}

// A mutex taken with interrupts or bottom halves disabled, or under a spinlock.
TEST_P(LockCheck, SleepingInAtomicContext) {
    const std::string bug =
        "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580";
    RunOutcome bh = run(GetParam(), 2, true);
    EXPECT_EQ(bh.exit_status, 0);
    EXPECT_TRUE(has_line(bh, bug));
    EXPECT_TRUE(has_prefix(bh,
                           "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1234, "
                           "name: insmod"));
    EXPECT_TRUE(has_prefix(bh, "preempt_count: 20"));  // SOFTIRQ_DISABLE_OFFSET (+ the lock)

    RunOutcome fine = run(GetParam(), 0, true);
    EXPECT_FALSE(has_line(fine, bug));
    EXPECT_FALSE(has_prefix(fine, "WARNING:"));

    if (std::string(GetParam()) == "arm64") {
        // arm64's inline spin_lock_irqsave() masks interrupts; a plain spin_lock() is inline
        // and changes nothing kmodemu sees (no CONFIG_PREEMPT_COUNT in the module's build).
        RunOutcome irq = run(GetParam(), 1, true);
        EXPECT_TRUE(has_line(irq, bug));
        EXPECT_TRUE(has_line(irq,
                             "in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 1234, "
                             "name: insmod"));
    } else {
        // ARM's modules call _raw_spin_lock(): the lock is held, and listed.
        RunOutcome spin = run(GetParam(), 3, true);
        EXPECT_TRUE(has_line(spin, bug));
        EXPECT_TRUE(has_line(spin, "preempt_count: 1, expected: 0"));
        EXPECT_TRUE(has_line(spin, "1 lock held by insmod/1234:"));
        bool listed = false;
        for (const LogLine& l : spin.log)
            listed |=
                l.text.starts_with(" #0: ") && l.text.find(" (lc_spin){") != std::string::npos;
        EXPECT_TRUE(listed);
    }
}

INSTANTIATE_TEST_SUITE_P(Flavours, LockCheck, ::testing::Values("arm64", "armhf", "armhf-thumb"));
