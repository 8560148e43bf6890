// Mutexes, rw_semaphores and spinlocks (kernel/locking/). One task runs, so a lock that is
// already held when taken is a deadlock: the real insmod would hang there, and kmodemu reports a
// hang that names the lock.
//
// The locks the task holds are tracked (the held locks of lockdep's task state): those taken by a
// call (mutexes, rw_semaphores; spinlocks where the architecture's modules call _raw_spin_lock*,
// 32-bit ARM; arm64's modules take them inline, CONFIG_INLINE_SPIN_LOCK, which only the
// interrupt and bottom-half state they change shows). Debian's kernels have no lockdep
// (CONFIG_PROVE_LOCKING), no CONFIG_DEBUG_MUTEXES and no CONFIG_DEBUG_ATOMIC_SLEEP: what they do
// is silent (mutex_unlock() of an unlocked mutex: __mutex_unlock_slowpath()'s cmpxchg of owner 0
// succeeds; sleeping under a spinlock: might_sleep() is might_resched()). With --lockdep the
// kernel is one with those options, and the checks report in lockdep's and __might_resched()'s
// words: recursive locking, bad unlock balance, a lock held when returning to user space,
// sleeping in atomic context.
#include "kernel_stubs/locking.h"

#include <cstdio>

#include "kernel_stubs/bug.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

enum class LockKind : uint8_t { mutex, rwsem, spinlock, rwlock };

struct HeldLock {
    uint64_t addr;
    LockKind kind;
    bool read;    // a reader of an rw_semaphore or rwlock
    uint64_t ip;  // where it was taken (the call's return address)
};

struct LockState : Kernel::SubsystemState {
    std::vector<HeldLock> held;             // lockdep's held_locks, oldest first
    std::map<uint64_t, std::string> names;  // the name __mutex_init()/__init_rwsem() were given
    std::map<uint64_t, unsigned> usage;     // lockdep's usage bits of each lock's class
};

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

// The name lockdep gives a lock's class: the one its init was given (mutex_init(&dev->lock)
// passes "&dev->lock"), else that of the static object (DEFINE_MUTEX(name)), else its address.
std::string lock_name(Kernel& k, uint64_t addr) {
    LockState& st = k.state<LockState>();
    if (auto it = st.names.find(addr); it != st.names.end()) return it->second;
    if (auto s = k.symbolize(addr, false)) return s->substr(0, s->find(' '));  // no " [mod]"
    return hex(addr);
}

std::string px(Kernel& k, uint64_t v) {
    return fmt("%0*llx", int(k.word() * 2), (unsigned long long)v);
}

bool irq_mask_bit(Kernel& k) {
    if (k.arch() == Arch::arm64) return (k.emu().reg(UC_ARM64_REG_PSTATE) >> 7) & 1;  // DAIF.I
    return (k.emu().reg(UC_ARM_REG_CPSR) >> 7) & 1;                                   // CPSR.I
}

// The module's inline local_irq_save() / local_irq_disable() set the CPU's mask bit.
bool irqs_disabled(Kernel& k) {
    return irq_mask_bit(k);
}

// The interrupt mask as the kernel's arch_local_irq_*() change it: ARM's flags are the CPSR
// (arch_local_irq_save(): mrs, then cpsid i; arch_local_irq_restore(): msr cpsr_c), arm64's DAIF.
int flags_reg(Kernel& k) {
    return k.arch() == Arch::arm64 ? int(UC_ARM64_REG_PSTATE) : int(UC_ARM_REG_CPSR);
}

void set_irq_mask(Kernel& k, bool masked) {
    int reg = flags_reg(k);
    uint64_t v = k.emu().reg(reg);
    k.emu().set_reg(reg, masked ? v | 0x80 : v & ~uint64_t(0x80));
}

void local_irq_disable(Kernel& k) {
    set_irq_mask(k, true);
}
void local_irq_enable(Kernel& k) {
    set_irq_mask(k, false);
}

uint64_t local_irq_save(Kernel& k) {
    uint64_t flags = k.emu().reg(flags_reg(k));
    local_irq_disable(k);
    return flags;
}

void local_irq_restore(Kernel& k, uint64_t flags) {
    set_irq_mask(k, (flags >> 7) & 1);
}

uint32_t task_preempt_count(Kernel& k) {
    uint32_t count = 0;
    k.emu().read(k.current_task() + k.structs().task.preempt_count, &count, 4);
    return count;
}

// A spinlock is held while its word says so (the architecture's encoding; an inline unlock
// releases it without telling the emulated kernel).
bool spin_word_held(Kernel& k, uint64_t addr) {
    uint32_t v = 0;
    if (!k.emu().try_read(addr, &v, 4)) return false;
    return k.arch() == Arch::arm ? (v & 0xffff) != (v >> 16) : v != 0;
}

// An rwlock's word in the architecture's encoding: ARM's arch_rwlock_t
// (arch/arm/include/asm/spinlock.h) is 0x80000000 while a writer holds it, else the number of
// readers; arm64's qrwlock (include/asm-generic/qrwlock.h) has _QW_LOCKED (0xff) in its low
// byte for a writer and _QR_BIAS (1 << 9) per reader.
constexpr uint32_t arm_rw_writer = 0x80000000u, qrw_locked = 0xff, qrw_wmask = 0x1ff,
                   qrw_bias = 1u << 9;

bool rw_write_held(Kernel& k, uint32_t v) {
    return k.arch() == Arch::arm ? v == arm_rw_writer : (v & qrw_locked) == qrw_locked;
}

uint32_t rw_readers(Kernel& k, uint32_t v) {
    return k.arch() == Arch::arm ? (v & arm_rw_writer ? 0 : v) : v >> 9;
}

// The held locks, without the spinlocks and rwlocks an inline unlock released (read_unlock() and
// write_unlock() are inline in both architectures' kernels, CONFIG_INLINE_*_UNLOCK; a lock read
// more times than it has readers now loses its latest read holds).
std::vector<HeldLock>& held_locks(Kernel& k) {
    std::vector<HeldLock>& h = k.state<LockState>().held;
    std::erase_if(h, [&](const HeldLock& l) {
        return l.kind == LockKind::spinlock && !spin_word_held(k, l.addr);
    });
    std::map<uint64_t, uint32_t> readers;
    for (auto it = h.begin(); it != h.end();) {
        if (it->kind != LockKind::rwlock) {
            ++it;
            continue;
        }
        uint32_t v = 0;
        bool readable = k.emu().try_read(it->addr, &v, 4);
        bool keep;
        if (!it->read) {
            keep = readable && rw_write_held(k, v);
        } else {
            auto [r, fresh] = readers.try_emplace(it->addr, readable ? rw_readers(k, v) : 0);
            keep = r->second > 0;
            if (keep) --r->second;
        }
        it = keep ? std::next(it) : h.erase(it);
    }
    return h;
}

void log_warn(Kernel& k, const std::string& text) {
    k.flush_log();
    k.log(4, text);
}

// print_kernel_ident(): "6.1.0-57-arm64 #1 Tainted: G           OE     ".
void print_kernel_ident(Kernel& k) {
    log_warn(k, k.config().release + " " + k.real().uts_build() + " " + k.print_tainted());
}

// print_lock_name(): " (name){usage}-{outer:inner}", the usage characters of get_usage_chars()
// (hardirq, hardirq-read, softirq, softirq-read: '+' when the class was taken with them
// enabled) and the wait types of the lock's kind (LD_WAIT_SLEEP for sleeping locks,
// LD_WAIT_CONFIG for spinlock_t; 6.10 enabled CONFIG_PROVE_RAW_LOCK_NESTING, which numbers
// LD_WAIT_CONFIG apart from LD_WAIT_SPIN).
std::string lock_class(Kernel& k, const HeldLock& l) {
    unsigned u = k.state<LockState>().usage[l.addr];
    char usage[5] = {u & 1 ? '+' : '.', u & 2 ? '+' : '.', u & 4 ? '+' : '.', u & 8 ? '+' : '.', 0};
    bool raw_nesting = kernel_since(k.config().profile.get(), 6, 10);
    bool spins = l.kind == LockKind::spinlock || l.kind == LockKind::rwlock;
    int wait = spins ? (raw_nesting ? 3 : 2) : (raw_nesting ? 4 : 3);
    return fmt(" (%s){%s}-{%d:%d}", lock_name(k, l.addr).c_str(), usage, wait, wait);
}

// print_lock(): "ADDR (name){+.+.}-{3:3}, at: func+0x24/0x80 [mod]".
std::string print_lock(Kernel& k, const HeldLock& l) {
    return px(k, l.addr) + lock_class(k, l) +
           ", at: " + k.symbolize(l.ip, true).value_or(hex(l.ip));
}

std::string task_id(Kernel& k) {
    return k.config().comm + "/" + std::to_string(k.config().pid);
}

// lockdep_print_held_locks().
void print_held_locks(Kernel& k) {
    std::vector<HeldLock>& h = held_locks(k);
    if (h.empty()) {
        log_warn(k, "no locks held by " + task_id(k) + ".");
        return;
    }
    log_warn(k,
             fmt("%zu lock%s held by %s:", h.size(), h.size() > 1 ? "s" : "", task_id(k).c_str()));
    for (size_t i = 0; i < h.size(); ++i)
        log_warn(k, fmt(" #%zu: ", i) + print_lock(k, h[i]));
}

// debug_locks_off(): the first report turns lock debugging off; later ones stay silent.
bool debug_locks_off(Kernel& k) {
    if (!k.debug_locks) return false;
    k.debug_locks = false;
    return true;
}

void lockdep_mode_note(Kernel& k, const std::string& what) {
    k.diag(
        "lockdep (--lockdep: a kernel with CONFIG_PROVE_LOCKING and "
        "CONFIG_DEBUG_ATOMIC_SLEEP): " +
        what);
}

// print_deadlock_bug(): the task takes a lock it holds.
void report_recursive(StubCall& c, const HeldLock& next, const HeldLock& prev) {
    Kernel& k = c.kernel;
    if (!k.config().lockdep || !debug_locks_off(k)) return;
    log_warn(k, "");
    log_warn(k, "============================================");
    log_warn(k, "WARNING: possible recursive locking detected");
    print_kernel_ident(k);
    log_warn(k, "--------------------------------------------");
    log_warn(k, task_id(k) + " is trying to acquire lock:");
    log_warn(k, print_lock(k, next));
    log_warn(k, "");
    log_warn(k, "but task is already holding lock:");
    log_warn(k, print_lock(k, prev));
    log_warn(k, "");
    log_warn(k, "other info that might help us debug this:");
    // print_deadlock_scenario()
    std::string name = lock_name(k, prev.addr);
    log_warn(k, " Possible unsafe locking scenario:");
    log_warn(k, "");
    log_warn(k, "       CPU0");
    log_warn(k, "       ----");
    log_warn(k, "  lock(" + name + ");");
    log_warn(k, "  lock(" + name + ");");
    log_warn(k, "");
    log_warn(k, " *** DEADLOCK ***");
    log_warn(k, "");
    log_warn(k, " May be due to missing lock nesting notation");
    log_warn(k, "");
    print_held_locks(k);
    log_warn(k, "");
    log_warn(k, "stack backtrace:");
    dump_stack(k);
    lockdep_mode_note(k, "recursive locking of " + name);
}

// The lock is already held by the only task: the real insmod hangs there (spinning, or asleep
// for ever); the run ends as a hang that names the lock.
[[noreturn]] void deadlock(StubCall& c, const char* what, uint64_t lock, LockKind kind,
                           bool read = false) {
    Kernel& k = c.kernel;
    HeldLock next{lock, kind, read, c.ret_addr()};
    for (const HeldLock& h : held_locks(k))
        if (h.addr == lock) {
            report_recursive(c, next, h);
            break;
        }
    k.diag(std::string(what) + ": deadlock: the lock " + lock_name(k, lock) + " (" + hex(lock) +
           ") is already held by the only task" +
           (k.config().lockdep ? ""
                               : " (the real kernel hangs here; --lockdep reports it as "
                                 "lockdep would)"));
    RunResult r;
    r.reason = RunResult::Reason::budget;
    r.pc = c.slot;
    throw GuestFault{r};
}

// lock_acquire(): the lock joins the task's held locks; its class's usage is marked.
void acquired(StubCall& c, uint64_t lock, LockKind kind, bool read = false) {
    Kernel& k = c.kernel;
    unsigned& u = k.state<LockState>().usage[lock];
    bool irqs_on = !irqs_disabled(k);
    bool softirqs_on = (task_preempt_count(k) & 0xff00) == 0;  // SOFTIRQ_MASK
    if (irqs_on) u |= read ? 2 : 1;
    if (irqs_on && softirqs_on) u |= read ? 8 : 4;
    k.state<LockState>().held.push_back({lock, kind, read, c.ret_addr()});
}

// lock_release(): print_unlock_imbalance_bug() when the task does not hold it.
void released(StubCall& c, uint64_t lock) {
    Kernel& k = c.kernel;
    std::vector<HeldLock>& h = held_locks(k);
    for (auto it = h.rbegin(); it != h.rend(); ++it)
        if (it->addr == lock) {
            h.erase(std::next(it).base());
            return;
        }
    if (!k.config().lockdep || !debug_locks_off(k)) return;
    uint64_t ip = c.ret_addr();
    log_warn(k, "");
    log_warn(k, "=====================================");
    log_warn(k, "WARNING: bad unlock balance detected!");
    print_kernel_ident(k);
    log_warn(k, "-------------------------------------");
    log_warn(k, task_id(k) + " is trying to release lock (" + lock_name(k, lock) + ") at:");
    log_warn(k,
             "[<" + px(k, ip) + ">] " + k.symbolize(ip, true).value_or(hex(ip)));  // print_ip_sym
    log_warn(k, "but there are no more locks to release!");
    log_warn(k, "");
    log_warn(k, "other info that might help us debug this:");
    print_held_locks(k);
    log_warn(k, "");
    log_warn(k, "stack backtrace:");
    dump_stack(k);
    lockdep_mode_note(k, "unlock of " + lock_name(k, lock) + ", which the task does not hold");
}

}  // namespace

void might_sleep(StubCall& c, const char* file, unsigned line) {
    Kernel& k = c.kernel;
    if (!k.config().lockdep) return;
    // With CONFIG_PREEMPT_COUNT (which lockdep selects) each spinlock held counts in
    // preempt_count; the bottom-half and interrupt counts are the task's own.
    unsigned spins = 0;
    for (const HeldLock& h : held_locks(k))
        spins += h.kind == LockKind::spinlock || h.kind == LockKind::rwlock;
    uint32_t pc = task_preempt_count(k) + spins;
    bool irqs_off = irqs_disabled(k);
    if (pc == 0 && !irqs_off) return;
    // __might_resched() prints once a second (prev_jiffy); one report per run here.
    auto& printed = k.printed_once;
    if (!printed.insert("__might_resched").second) return;
    k.flush_log();
    k.log(3, fmt("BUG: sleeping function called from invalid context at %s:%u", file, line));
    k.log(3, fmt("in_atomic(): %d, irqs_disabled(): %d, non_block: 0, pid: %d, name: %s", pc != 0,
                 irqs_off ? 1 : 0, k.config().pid, k.config().comm.c_str()));
    k.log(3, fmt("preempt_count: %x, expected: 0", pc));
    print_held_locks(k);  // debug_show_held_locks()
    dump_stack(k);
    k.add_taint('W');
    lockdep_mode_note(k, "sleeping function called from atomic context");
}

void lockdep_sys_exit(Kernel& k) {
    if (!k.config().lockdep) return;
    if (held_locks(k).empty() || !debug_locks_off(k)) return;
    log_warn(k, "");
    log_warn(k, "================================================");
    log_warn(k, "WARNING: lock held when returning to user space!");
    print_kernel_ident(k);
    log_warn(k, "------------------------------------------------");
    log_warn(k, task_id(k) + " is leaving the kernel with locks still held!");
    print_held_locks(k);
    lockdep_mode_note(k, "lock held when returning to user space");
}

void register_locking(Kernel& k) {
    const char* sub = "locking";
    // insmod's system call runs with interrupts enabled: the CPU's IRQ and FIQ masks clear
    // (the emulated CPU comes out of reset with them set).
    if (k.arch() == Arch::arm64)
        k.emu().set_reg(UC_ARM64_REG_PSTATE, k.emu().reg(UC_ARM64_REG_PSTATE) & ~uint64_t(0xc0));
    else
        k.emu().set_reg(UC_ARM_REG_CPSR, k.emu().reg(UC_ARM_REG_CPSR) & ~uint64_t(0xc0));
    // struct mutex { atomic_long_t owner; raw_spinlock_t wait_lock; [osq]; list_head wait_list; }:
    // the owner is the task holding it.
    const KernelStructs::Mutex mx = k.structs().mutex;
    const KernelStructs::ListHead lh = k.structs().list_head;
    // __mutex_init(lock, name, key): mutex_init() passes the expression it was given as the name.
    k.add_function("__mutex_init", sub, [mx, lh](StubCall& c) {
        uint64_t m = c.arg(0);
        uint64_t wait_list = m + mx.wait_list;
        c.emu.write_word(m + mx.owner, 0);
        c.emu.write_word(wait_list + lh.next, wait_list);  // INIT_LIST_HEAD()
        c.emu.write_word(wait_list + lh.prev, wait_list);
        if (uint64_t name = c.arg(1)) c.kernel.state<LockState>().names[m] = c.read_cstr(name, 128);
        return uint64_t(0);
    });
    const uint64_t owner = mx.owner;
    // mutex_lock() and its variants: might_sleep() first (with lockdep, mutex_lock() is
    // mutex_lock_nested() and the check is __mutex_lock_common()'s, kernel/locking/mutex.c:580
    // in 6.1, :562 since 6.7 as the kernel's reports of these versions show).
    const unsigned mutex_line = kernel_since(k.config().profile.get(), 6, 7) ? 562 : 580;
    auto lock = [owner, mutex_line](StubCall& c) {
        uint64_t m = c.arg(0);
        might_sleep(c, "kernel/locking/mutex.c", mutex_line);
        if (c.emu.read_word(m + owner) != 0) deadlock(c, "mutex_lock", m, LockKind::mutex);
        c.emu.write_word(m + owner, c.kernel.current_task());
        acquired(c, m, LockKind::mutex);
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
        acquired(c, m, LockKind::mutex);
        return 1;
    });
    // mutex_unlock(): of a mutex not held, __mutex_unlock_slowpath()'s cmpxchg of owner 0 to 0
    // succeeds and nothing else happens (without CONFIG_DEBUG_MUTEXES); lockdep reports it.
    k.add_function("mutex_unlock", sub, [owner](StubCall& c) {
        released(c, c.arg(0));
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
    // __init_rwsem(sem, name, key)
    k.add_function("__init_rwsem", sub, [rw, lh](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), wait_list = s + rw.wait_list;
        c.emu.write_word(s + rw.count, 0);
        c.emu.write_word(s + rw.owner, 0);
        c.emu.write_word(wait_list + lh.next, wait_list);
        c.emu.write_word(wait_list + lh.prev, wait_list);
        if (uint64_t name = c.arg(1)) c.kernel.state<LockState>().names[s] = c.read_cstr(name, 128);
        return 0;
    });
    auto down_read = [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        if (n & writer_locked) deadlock(c, "down_read", s, LockKind::rwsem, true);
        c.emu.write_word(s + rw.count, n + reader_bias);
        acquired(c, s, LockKind::rwsem, true);
        return 0;
    };
    k.add_functions({"down_read", "down_read_interruptible", "down_read_killable"}, sub, down_read);
    k.add_function("down_read_trylock", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        if (n & writer_locked) return 0;
        c.emu.write_word(s + rw.count, n + reader_bias);
        acquired(c, s, LockKind::rwsem, true);
        return 1;
    });
    k.add_function("up_read", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0), n = c.emu.read_word(s + rw.count);
        released(c, s);
        c.emu.write_word(s + rw.count, n >= reader_bias ? n - reader_bias : 0);
        return 0;
    });
    auto down_write = [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0);
        if (c.emu.read_word(s + rw.count) != 0) deadlock(c, "down_write", s, LockKind::rwsem);
        c.emu.write_word(s + rw.count, writer_locked);
        c.emu.write_word(s + rw.owner, c.kernel.current_task());
        acquired(c, s, LockKind::rwsem);
        return 0;
    };
    k.add_functions({"down_write", "down_write_killable"}, sub, down_write);
    k.add_function("down_write_trylock", sub, [rw](StubCall& c) -> uint64_t {
        uint64_t s = c.arg(0);
        if (c.emu.read_word(s + rw.count) != 0) return 0;
        c.emu.write_word(s + rw.count, writer_locked);
        c.emu.write_word(s + rw.owner, c.kernel.current_task());
        acquired(c, s, LockKind::rwsem);
        return 1;
    });
    k.add_function("up_write", sub, [rw](StubCall& c) -> uint64_t {
        released(c, c.arg(0));
        c.emu.write_word(c.arg(0) + rw.count, 0);
        c.emu.write_word(c.arg(0) + rw.owner, 0);
        return 0;
    });
    // downgrade_write(): the writer becomes a reader.
    k.add_function("downgrade_write", sub, [rw](StubCall& c) -> uint64_t {
        c.emu.write_word(c.arg(0) + rw.count, reader_bias);
        c.emu.write_word(c.arg(0) + rw.owner, 0);
        for (HeldLock& h : c.kernel.state<LockState>().held)
            if (h.addr == c.arg(0)) h.read = true;
        return 0;
    });

    // Spinlocks, in the architecture's own encoding, since modules unlock them inline: arm64's
    // qspinlock has its locked byte set while held (queued_spin_unlock() stores 0 to it); ARM's
    // ticket lock (arch/arm/include/asm/spinlock.h, little-endian {u16 owner; u16 next;}) is
    // held while owner != next, taking it increments next, and arch_spin_unlock() increments
    // owner. The interrupt state is the CPU's (the module's inline local_irq_save()).
    const bool tickets = k.arch() == Arch::arm;
    auto held = [tickets](uint32_t v) { return tickets ? (v & 0xffff) != (v >> 16) : v != 0; };
    auto take = [tickets](uint32_t v) -> uint32_t { return tickets ? v + 0x10000 : 1; };
    auto spin_lock = [held, take](StubCall& c) {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        if (held(v)) deadlock(c, "spin_lock", l, LockKind::spinlock);
        c.emu.write_u32(l, take(v));
        acquired(c, l, LockKind::spinlock);
        return uint64_t(0);
    };
    auto spin_unlock = [tickets](StubCall& c) {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        released(c, l);
        c.emu.write_u32(l, tickets ? (v & 0xffff0000u) | ((v + 1) & 0xffff) : 0);
        return uint64_t(0);
    };
    k.add_function("_raw_spin_lock", sub, spin_lock);
    k.add_function("_raw_spin_unlock", sub, spin_unlock);
    // __raw_spin_lock_irq(): local_irq_disable() first; __raw_spin_lock_irqsave(): the flags
    // local_irq_save() returns; the unlocks enable interrupts or restore the flags after.
    k.add_function("_raw_spin_lock_irq", sub, [spin_lock](StubCall& c) {
        local_irq_disable(c.kernel);
        return spin_lock(c);
    });
    k.add_function("_raw_spin_lock_irqsave", sub, [spin_lock](StubCall& c) {
        uint64_t flags = local_irq_save(c.kernel);
        spin_lock(c);
        return flags;
    });
    k.add_function("_raw_spin_unlock_irq", sub, [spin_unlock](StubCall& c) {
        spin_unlock(c);
        local_irq_enable(c.kernel);
        return uint64_t(0);
    });
    k.add_function("_raw_spin_unlock_irqrestore", sub, [spin_unlock](StubCall& c) {
        uint64_t flags = c.arg(1);
        spin_unlock(c);
        local_irq_restore(c.kernel, flags);
        return uint64_t(0);
    });
    // __raw_spin_lock_bh(): __local_bh_disable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET) first, which
    // adds SOFTIRQ_DISABLE_OFFSET to the task's preempt count (PREEMPT_LOCK_OFFSET is 0 without
    // CONFIG_PREEMPT_COUNT); __raw_spin_unlock_bh() takes it off again.
    constexpr uint32_t softirq_lock_offset = 0x200;
    auto add_preempt = [](StubCall& c, int32_t delta) {
        uint64_t at = c.kernel.current_task() + c.kernel.structs().task.preempt_count;
        c.emu.write_u32(at, c.emu.read_u32(at) + static_cast<uint32_t>(delta));
    };
    k.add_function("_raw_spin_lock_bh", sub, [spin_lock, add_preempt](StubCall& c) {
        add_preempt(c, softirq_lock_offset);
        return spin_lock(c);
    });
    k.add_function("_raw_spin_unlock_bh", sub, [spin_unlock, add_preempt](StubCall& c) {
        uint64_t r = spin_unlock(c);
        add_preempt(c, -int32_t(softirq_lock_offset));
        return r;
    });
    k.add_function("_raw_spin_trylock", sub, [held, take](StubCall& c) -> uint64_t {
        uint32_t v = c.emu.read_u32(c.arg(0));
        if (held(v)) return 0;
        c.emu.write_u32(c.arg(0), take(v));
        acquired(c, c.arg(0), LockKind::spinlock);
        return 1;
    });
    // The slow path of an inline spin_lock() that found the lock taken (arm64).
    k.add_function("queued_spin_lock_slowpath", sub, [](StubCall& c) -> uint64_t {
        deadlock(c, "queued_spin_lock_slowpath", c.arg(0), LockKind::spinlock);
    });

    // Reader-writer spinlocks (kernel/locking/spinlock.c's _raw_read_lock() family over the
    // architecture's arch_rwlock_t, the encodings of rw_write_held() above). A reader waits while
    // a writer holds the lock, a writer while anyone does: with one task, that is a deadlock.
    // ARM's modules call the lock functions and the _bh/_irqrestore unlocks (the kernel exports
    // no others: read_unlock(), write_unlock() and their _irq forms are inline); arm64's inline
    // all but the trylocks and the slow paths.
    const bool arm = k.arch() == Arch::arm;
    auto read_lock = [arm](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        if (rw_write_held(c.kernel, v)) deadlock(c, "read_lock", l, LockKind::rwlock, true);
        c.emu.write_u32(l, v + (arm ? 1 : qrw_bias));
        acquired(c, l, LockKind::rwlock, true);
        return 0;
    };
    auto write_lock = [](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        if (c.emu.read_u32(l) != 0) deadlock(c, "write_lock", l, LockKind::rwlock);
        c.emu.write_u32(l, c.kernel.arch() == Arch::arm ? arm_rw_writer : qrw_locked);
        acquired(c, l, LockKind::rwlock);
        return 0;
    };
    // arch_read_unlock() takes one reader off; arch_write_unlock() stores 0 (ARM) or clears the
    // locked byte (arm64's queued_write_unlock()).
    auto read_unlock = [arm](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        released(c, l);
        c.emu.write_u32(l, v - (arm ? 1 : qrw_bias));
        return 0;
    };
    auto write_unlock = [arm](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        released(c, l);
        c.emu.write_u32(l, arm ? 0 : v & ~qrw_locked);
        return 0;
    };
    // The flavours around them, as __raw_read_lock_bh() & co. (include/linux/rwlock_api_smp.h).
    struct Flavour {
        const char* lock;
        const char* unlock;
        int kind;  // 0 plain, 1 _bh, 2 _irq, 3 _irqsave / _irqrestore
    };
    auto add_rw = [&](const Flavour& f, auto lockfn, auto unlockfn) {
        int kind = f.kind;
        k.add_function(f.lock, sub, [lockfn, add_preempt, kind](StubCall& c) -> uint64_t {
            uint64_t flags = 0;
            if (kind == 1) add_preempt(c, softirq_lock_offset);
            if (kind == 2) local_irq_disable(c.kernel);
            if (kind == 3) flags = local_irq_save(c.kernel);
            lockfn(c);
            return flags;
        });
        if (!f.unlock) return;
        k.add_function(f.unlock, sub, [unlockfn, add_preempt, kind](StubCall& c) -> uint64_t {
            uint64_t flags = c.arg(1);
            unlockfn(c);
            if (kind == 1) add_preempt(c, -int32_t(softirq_lock_offset));
            if (kind == 2) local_irq_enable(c.kernel);
            if (kind == 3) local_irq_restore(c.kernel, flags);
            return 0;
        });
    };
    if (arm) {
        add_rw({"_raw_read_lock", nullptr, 0}, read_lock, read_unlock);
        add_rw({"_raw_read_lock_bh", "_raw_read_unlock_bh", 1}, read_lock, read_unlock);
        add_rw({"_raw_read_lock_irq", nullptr, 2}, read_lock, read_unlock);
        add_rw({"_raw_read_lock_irqsave", "_raw_read_unlock_irqrestore", 3}, read_lock,
               read_unlock);
        add_rw({"_raw_write_lock", nullptr, 0}, write_lock, write_unlock);
        // _raw_write_lock_nested(lock, subclass): the subclass is lockdep's only.
        add_rw({"_raw_write_lock_nested", nullptr, 0}, write_lock, write_unlock);
        add_rw({"_raw_write_lock_bh", "_raw_write_unlock_bh", 1}, write_lock, write_unlock);
        add_rw({"_raw_write_lock_irq", nullptr, 2}, write_lock, write_unlock);
        add_rw({"_raw_write_lock_irqsave", "_raw_write_unlock_irqrestore", 3}, write_lock,
               write_unlock);
    }
    // _raw_read_trylock(): arch_read_trylock() / queued_read_trylock() fail while a writer holds
    // the lock; _raw_write_trylock() while anyone does.
    k.add_function("_raw_read_trylock", sub, [arm](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        uint32_t v = c.emu.read_u32(l);
        if (arm ? rw_write_held(c.kernel, v) : (v & qrw_wmask) != 0) return 0;
        c.emu.write_u32(l, v + (arm ? 1 : qrw_bias));
        acquired(c, l, LockKind::rwlock, true);
        return 1;
    });
    k.add_function("_raw_write_trylock", sub, [arm](StubCall& c) -> uint64_t {
        uint64_t l = c.arg(0);
        if (c.emu.read_u32(l) != 0) return 0;
        c.emu.write_u32(l, arm ? arm_rw_writer : qrw_locked);
        acquired(c, l, LockKind::rwlock);
        return 1;
    });
    // The slow paths of arm64's inline read_lock() and write_lock() (kernel/locking/qrwlock.c):
    // the fast path found a writer (or, writing, anyone) holding the lock.
    k.add_function("queued_read_lock_slowpath", sub, [](StubCall& c) -> uint64_t {
        deadlock(c, "queued_read_lock_slowpath", c.arg(0), LockKind::rwlock, true);
    });
    k.add_function("queued_write_lock_slowpath", sub, [](StubCall& c) -> uint64_t {
        deadlock(c, "queued_write_lock_slowpath", c.arg(0), LockKind::rwlock);
    });
}

}  // namespace kmodemu
