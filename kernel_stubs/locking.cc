// Mutexes and spinlocks (kernel/locking/). One task runs, so a lock that is already held when
// taken is a deadlock: the real insmod would hang there, and kmodemu reports a hang.
#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

[[noreturn]] void deadlock(StubCall& c, const char* what) {
    c.kernel.diag(std::string(what) + ": deadlock: the lock is already held by the only task");
    RunResult r;
    r.reason = RunResult::Reason::budget;
    r.pc = c.slot;
    throw GuestFault{r};
}

}  // namespace

void register_locking(Kernel& k) {
    const char* sub = "locking";
    // struct mutex { atomic_long_t owner; raw_spinlock_t wait_lock; [osq]; list_head wait_list; }:
    // the owner is the task holding it.
    const KernelStructs::Mutex mx = k.structs().mutex;
    const KernelStructs::ListHead lh = k.structs().list_head;
    k.add_function("__mutex_init", sub, [mx, lh](StubCall& c) {
        uint64_t m = c.arg(0);
        uint64_t wait_list = m + mx.wait_list;
        c.emu.write_word(m + mx.owner, 0);
        c.emu.write_word(wait_list + lh.next, wait_list);  // INIT_LIST_HEAD()
        c.emu.write_word(wait_list + lh.prev, wait_list);
        return uint64_t(0);
    });
    const uint64_t owner = mx.owner;
    auto lock = [owner](StubCall& c) {
        uint64_t m = c.arg(0);
        if (c.emu.read_word(m + owner) != 0) deadlock(c, "mutex_lock");
        c.emu.write_word(m + owner, c.kernel.current_task());
        return uint64_t(0);
    };
    k.add_function("mutex_lock", sub, lock);
    k.add_function("mutex_lock_interruptible", sub, lock);
    k.add_function("mutex_lock_killable", sub, lock);
    k.add_function("mutex_lock_nested", sub, lock);
    k.add_function("mutex_trylock", sub, [owner](StubCall& c) -> uint64_t {
        uint64_t m = c.arg(0);
        if (c.emu.read_word(m + owner) != 0) return 0;
        c.emu.write_word(m + owner, c.kernel.current_task());
        return 1;
    });
    k.add_function("mutex_unlock", sub, [owner](StubCall& c) {
        c.emu.write_word(c.arg(0) + owner, 0);
        return uint64_t(0);
    });
    k.add_function("mutex_is_locked", sub, [owner](StubCall& c) -> uint64_t {
        return c.emu.read_word(c.arg(0) + owner) != 0;
    });

    // Read-write semaphores (kernel/locking/rwsem.c): count holds RWSEM_WRITER_LOCKED (bit 0)
    // for the writer and RWSEM_READER_BIAS (1 << 8) per reader, as the kernel encodes it (the
    // inline rwsem_is_locked() reads it); owner is the writer task.
    const KernelStructs::RwSemaphore rw = k.structs().rwsem;
    constexpr uint64_t writer_locked = 1, reader_bias = 1 << 8;
    k.add_function("__init_rwsem", sub, [rw, lh](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), wait_list = s + rw.wait_list;
        c.emu.write_word(s + rw.count, 0);
        c.emu.write_word(s + rw.owner, 0);
        c.emu.write_word(wait_list + lh.next, wait_list);
        c.emu.write_word(wait_list + lh.prev, wait_list);
        return 0;
    });
    auto down_read = [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        if (n & writer_locked) deadlock(c, "down_read");
        c.emu.write_word(s + rw.count, n + reader_bias);
        return 0;
    };
    k.add_functions({"down_read", "down_read_interruptible", "down_read_killable"}, sub,
                    down_read);
    k.add_function("down_read_trylock", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        if (n & writer_locked) return 0;
        c.emu.write_word(s + rw.count, n + reader_bias);
        return 1;
    });
    k.add_function("up_read", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        c.emu.write_word(s + rw.count, n >= reader_bias ? n - reader_bias : 0);
        return 0;
    });
    auto down_write = [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0);
        if (c.emu.read_word(s + rw.count) != 0) deadlock(c, "down_write");
        c.emu.write_word(s + rw.count, writer_locked);
        c.emu.write_word(s + rw.owner, c.kernel.current_task());
        return 0;
    };
    k.add_functions({"down_write", "down_write_killable"}, sub, down_write);
    k.add_function("down_write_trylock", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0);
        if (c.emu.read_word(s + rw.count) != 0) return 0;
        c.emu.write_word(s + rw.count, writer_locked);
        c.emu.write_word(s + rw.owner, c.kernel.current_task());
        return 1;
    });
    k.add_function("up_write", sub, [rw](StubCall& c) -> uint64_t {
        c.emu.write_word(c.arg(0) + rw.count, 0);
        c.emu.write_word(c.arg(0) + rw.owner, 0);
        return 0;
    });
    // downgrade_write(): the writer becomes a reader.
    k.add_function("downgrade_write", sub, [rw](StubCall& c) -> uint64_t {
        c.emu.write_word(c.arg(0) + rw.count, reader_bias);
        c.emu.write_word(c.arg(0) + rw.owner, 0);
        return 0;
    });

    // Spinlocks, in the architecture's own encoding, since modules unlock them inline: arm64's
    // qspinlock has its locked byte set while held (queued_spin_unlock() stores 0 to it); ARM's
    // ticket lock (arch/arm/include/asm/spinlock.h, little-endian {u16 owner; u16 next;}) is
    // held while owner != next, taking it increments next, and arch_spin_unlock() increments
    // owner. IRQ flags are modelled as always enabled.
    const bool tickets = k.arch() == Arch::arm;
    auto held = [tickets](uint32_t v) { return tickets ? (v & 0xffff) != (v >> 16) : v != 0; };
    auto take = [tickets](uint32_t v) -> uint32_t { return tickets ? v + 0x10000 : 1; };
    auto spin_lock = [held, take](StubCall& c) {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        if (held(v)) deadlock(c, "spin_lock");
        c.emu.write_u32(l, take(v));
        return uint64_t(0);
    };
    auto spin_unlock = [tickets](StubCall& c) {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        c.emu.write_u32(l, tickets ? (v & 0xffff0000u) | ((v + 1) & 0xffff) : 0);
        return uint64_t(0);
    };
    for (const char* n :
         {"_raw_spin_lock", "_raw_spin_lock_bh", "_raw_spin_lock_irq", "_raw_spin_lock_irqsave"})
        k.add_function(n, sub, spin_lock);
    for (const char* n : {"_raw_spin_unlock", "_raw_spin_unlock_bh", "_raw_spin_unlock_irq",
                          "_raw_spin_unlock_irqrestore"})
        k.add_function(n, sub, spin_unlock);
    k.add_function("_raw_spin_trylock", sub, [held, take](StubCall& c) -> uint64_t {
        uint32_t v = c.emu.read_u32(c.arg(0));
        if (held(v)) return 0;
        c.emu.write_u32(c.arg(0), take(v));
        return 1;
    });
    k.add_function("queued_spin_lock_slowpath", sub,
                   [](StubCall& c) -> uint64_t { deadlock(c, "queued_spin_lock_slowpath"); });
}

}  // namespace kmodemu
