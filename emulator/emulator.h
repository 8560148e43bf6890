// The Unicorn wrapper: an address space with protections, trap pages that dispatch guest calls to
// C++ handlers, guest function calls with an instruction budget and a wall-clock limit, fault
// capture, and CPU context save/restore.
//
// Design (see Unicorn 2.0.1 notes in the project docs):
// - Trap pages hold one return instruction per slot and a UC_HOOK_CODE bounded to their range.
//   The hook records the slot and stops the engine; the handler then runs *outside*
//   uc_emu_start, so it may itself call guest code (notifier chains, param ops) without nesting
//   emulation, which Unicorn 2.0.1 does not support.
// - Guest calls return to an exit page of their own (the stop address never shares a block with
//   guest code, which would make Unicorn retranslate it every run).
// - The budget is counted by a block hook, not by uc_emu_start's count (a per-instruction hook).
#pragma once

#include <unicorn/unicorn.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/arch.h"

namespace kmodemu {

// An error of kmodemu itself while driving Unicorn (a bug or resource failure, not a guest fault).
class EmulatorError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A read or write of guest memory by the host (a stub or the loader) hit an unmapped address.
class GuestMemoryError : public EmulatorError {
  public:
    GuestMemoryError(const std::string& what, uint64_t address, bool is_write)
        : EmulatorError(what), address(address), is_write(is_write) {}
    uint64_t address;
    bool is_write;
};

enum Prot : uint32_t {
    prot_none = UC_PROT_NONE,
    prot_read = UC_PROT_READ,
    prot_write = UC_PROT_WRITE,
    prot_exec = UC_PROT_EXEC,
    prot_rw = UC_PROT_READ | UC_PROT_WRITE,
    prot_rx = UC_PROT_READ | UC_PROT_EXEC,
    prot_rwx = UC_PROT_ALL,
};

// What stopped a guest fault: the access kind and the address.
struct Fault {
    enum class Kind { none, read, write, fetch, undefined_instruction, exception };
    Kind kind = Kind::none;
    bool unmapped = false;  // true: no mapping; false: a protection violation
    uint64_t address = 0;   // the data address (or the PC for fetches)
    uint64_t pc = 0;        // guest PC; for data faults the start of the faulting block (Unicorn
                            // 2.0.1 does not sync the PC inside a block)
    bool exact = false;     // pc is the faulting instruction (code of a precise range)
    uint32_t exception_index = 0;
};

struct RunResult {
    enum class Reason { returned, fault, budget, timeout, stopped };
    Reason reason = Reason::returned;
    uint64_t retval = 0;  // x0 / r0 when returned
    Fault fault;
    uint64_t pc = 0;  // where the guest was when it stopped
};

// Edge coverage of guest code, for `kmodemu fuzz`: each edge between two blocks of the covered
// ranges (AFL's prev_block ^ block, hashed) counts in one of `size` 8-bit counters (a power of
// two; libFuzzer's extra counters), and the comparisons there (cmp/subs) are reported.
struct EdgeCoverage {
    uint8_t* counters = nullptr;
    size_t size = 0;
    // A comparison of covered code: its address, operands and width in bits.
    std::function<void(uint64_t pc, uint64_t a, uint64_t b, unsigned bits)> on_cmp;
};

// Recently executed blocks, for hang and fault reports.
struct BlockTrace {
    static constexpr size_t depth = 16;
    std::array<uint64_t, depth> addr{};
    size_t next = 0;
    void push(uint64_t a) {
        addr[next % depth] = a;
        ++next;
    }
    std::vector<uint64_t> recent() const;  // oldest first
};

class Emulator {
  public:
    // Called when the guest reaches a trap slot; `slot_addr` is the slot's address. The handler
    // reads arguments, does the work (may call() guest code) and sets the return value; the
    // emulator then returns to the guest's link register.
    using TrapHandler = std::function<void(uint64_t slot_addr)>;

    explicit Emulator(Arch arch);
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

    Arch arch() const { return arch_; }
    const ArchInfo& info() const { return info_; }
    unsigned word_size() const { return info_.word_size; }
    uc_engine* engine() { return uc_; }

    // Memory. Addresses and sizes must be page aligned for map/protect/unmap.
    void map(uint64_t addr, uint64_t size, uint32_t prot);
    void unmap(uint64_t addr, uint64_t size);
    // A range of device space where nothing answers: every read returns all ones, every write
    // is dropped (a PCI I/O window without devices: master aborts).
    void map_open_bus(uint64_t addr, uint64_t size);
    // Device memory: every access of [addr, addr + size) calls read(offset, size) or
    // write(offset, size, value) (offset from addr); unmap() removes it.
    struct MmioHandlers {
        std::function<uint64_t(uint64_t offset, unsigned size)> read;
        std::function<void(uint64_t offset, unsigned size, uint64_t value)> write;
    };
    void map_mmio(uint64_t addr, uint64_t size, MmioHandlers handlers);
    void protect(uint64_t addr, uint64_t size, uint32_t prot);
    bool is_mapped(uint64_t addr) const;
    // The first address of [addr, addr + size) that is not mapped with all of `prot`, if any.
    std::optional<uint64_t> first_inaccessible(uint64_t addr, uint64_t size, uint32_t prot) const;
    // The mapped regions, by address: [begin, end] inclusive, with their protections.
    const std::vector<uc_mem_region>& regions() const;
    void write(uint64_t addr, const void* data, size_t size);
    void read(uint64_t addr, void* data, size_t size) const;
    bool try_read(uint64_t addr, void* data, size_t size) const;
    uint64_t read_word(uint64_t addr) const;  // 8 or 4 bytes, zero-extended
    void write_word(uint64_t addr, uint64_t value);
    uint32_t read_u32(uint64_t addr) const;
    void write_u32(uint64_t addr, uint32_t value);
    void fill(uint64_t addr, uint8_t byte, size_t size);
    // Reads a NUL-terminated string of at most max bytes; false when unreadable.
    bool read_cstring(uint64_t addr, size_t max, std::string& out) const;

    // Registers, by role.
    uint64_t arg(unsigned i) const;  // i-th integer argument register (x0-x7 / r0-r3)
    void set_arg(unsigned i, uint64_t value);
    uint64_t pc() const;
    void set_pc(uint64_t value);
    uint64_t sp() const;
    void set_sp(uint64_t value);
    uint64_t lr() const;
    void set_lr(uint64_t value);
    void set_return(uint64_t value) { set_arg(0, value); }
    uint64_t reg(int uc_reg) const;
    void set_reg(int uc_reg, uint64_t value);

    // Traps: a page-aligned range whose slots dispatch to `handler`. The range is filled with
    // return instructions and mapped read+exec (unless the caller mapped it: each mapping
    // operation costs a TLB flush in Unicorn 2.0.1, so callers combine neighbouring mappings).
    void add_trap_range(uint64_t base, uint64_t size, TrapHandler handler, bool map_it = true);
    // Guest code in [base, base + size) runs with an instruction hook: a fault there names its
    // exact instruction, and the stores QEMU does in helpers (arm64 DC ZVA), which would fault
    // only after the rest of their block ran, fault before the instruction as the CPU's do.
    void add_precise_range(uint64_t base, uint64_t size);
    // The page guest calls return to.
    void set_exit_page(uint64_t addr, bool map_it = true);
    uint64_t exit_address() const { return exit_addr_; }

    // Budget: instructions left for all guest execution (0 = unlimited), and a wall-clock limit
    // for the whole run (zero = unlimited), both shared by nested calls.
    void set_budget(uint64_t instructions) { budget_left_ = instructions ? instructions : ~0ull; }
    uint64_t instructions_executed() const { return executed_; }
    // Time passing as the guest executes: tick() runs (from the block hook) each time another
    // `every` instructions have executed (0: never), so that a guest polling a clock in memory
    // sees it move.
    void set_ticker(uint64_t every, std::function<void()> tick) {
        tick_every_ = tick_left_ = every;
        tick_ = std::move(tick);
    }
    void set_deadline(std::chrono::steady_clock::time_point deadline) {
        deadline_ = deadline;
        has_deadline_ = true;
    }

    // Calls guest function `fn` with integer arguments, on the current stack, and runs it to its
    // return, dispatching traps. Registers are saved and restored around the call.
    RunResult call(uint64_t fn, std::span<const uint64_t> args);

    // From a trap handler: the guest continues at pc instead of returning to its link register
    // (the handler has turned the call into a tail call).
    void resume_at(uint64_t pc) { resume_pc_ = pc; }

    // Called when the guest raises an exception (BRK, UDF, ...). Returns the address to resume
    // at (e.g. past a WARN's BRK), or nullopt to end the call as a fault.
    using ExceptionHandler = std::function<std::optional<uint64_t>(const Fault&)>;
    void set_exception_handler(ExceptionHandler h) { exception_handler_ = std::move(h); }

    // Removes cached translations of a range after code was patched.
    void flush_code(uint64_t addr, uint64_t size);

    const BlockTrace& trace() const { return trace_; }

    // Coverage (--coverage): every block executed, by its address, with its size in bytes and
    // how many times it ran; recorded from the block hook once enabled.
    struct CoveredBlock {
        uint32_t size = 0;
        uint64_t hits = 0;
    };
    void enable_coverage(bool on) { coverage_on_ = on; }
    const std::unordered_map<uint64_t, CoveredBlock>& coverage() const { return coverage_; }

    // Edge coverage for `kmodemu fuzz` (nullptr: none). Set before the covered code is first translated: the comparison
    // hook applies to code translated after it. The covered ranges start empty.
    void set_edge_coverage(EdgeCoverage* cov);
    // Code in [base, base + size) counts for the coverage set (nothing without one).
    void add_edge_coverage_range(uint64_t base, uint64_t size);

    // CPU context snapshots (registers only; Unicorn 2.0.1 has no memory snapshots).
    using Context = std::unique_ptr<uc_context, uc_err (*)(uc_context*)>;
    Context save_context() const;
    void restore_context(const Context& ctx);

    // The state of the guest calls of one host context (a task of the emulated kernel's
    // scheduler, kernel_stubs/kernel/sched/sched.h): how deep its calls nest and what the hooks
    // of its last uc_emu_start left for its call loop. A task that switches away inside a trap
    // handler saves it with its CPU context; the task switched to restores its own.
    struct RunState {
        int depth = 0;
        int pending_trap = -1;
        std::optional<uint64_t> resume_pc;
        uint64_t pending_slot = 0;
        bool budget_hit = false, timeout_hit = false;
        Fault fault;
        uint64_t block_pc = 0, insn_pc = 0;
    };
    RunState save_run_state() const {
        return {depth_,       pending_trap_, resume_pc_, pending_slot_, budget_hit_,
                timeout_hit_, fault_,        block_pc_,  insn_pc_};
    }
    void restore_run_state(const RunState& r) {
        depth_ = r.depth;
        pending_trap_ = r.pending_trap;
        resume_pc_ = r.resume_pc;
        pending_slot_ = r.pending_slot;
        budget_hit_ = r.budget_hit;
        timeout_hit_ = r.timeout_hit;
        fault_ = r.fault;
        block_pc_ = r.block_pc;
        insn_pc_ = r.insn_pc;
    }

  private:
    static void on_block(uc_engine* uc, uint64_t addr, uint32_t size, void* self);
    static void on_trap(uc_engine* uc, uint64_t addr, uint32_t size, void* self);
    static void on_precise(uc_engine* uc, uint64_t addr, uint32_t size, void* self);
    static bool on_invalid(uc_engine* uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                           void* self);
    static void on_intr(uc_engine* uc, uint32_t intno, void* self);
    static void on_cmp(uc_engine* uc, uint64_t addr, uint64_t a, uint64_t b, uint32_t size,
                       void* self);
    bool covered(uint64_t addr) const {
        for (const auto& [lo, hi] : cov_ranges_)
            if (addr >= lo && addr < hi) return true;
        return false;
    }
    void check(uc_err err, const char* what) const;

    struct TrapRange {
        uint64_t base, size;
        TrapHandler handler;
    };

    Arch arch_;
    const ArchInfo& info_;
    uc_engine* uc_ = nullptr;
    ExceptionHandler exception_handler_;
    std::vector<TrapRange> traps_;
    uint64_t exit_addr_ = 0;
    uint64_t budget_left_ = ~0ull;
    uint64_t executed_ = 0;
    uint64_t tick_every_ = 0, tick_left_ = 0;
    std::function<void()> tick_;
    std::chrono::steady_clock::time_point deadline_{};
    bool has_deadline_ = false;
    uint32_t deadline_check_ = 0;

    int depth_ = 0;  // guest calls nested on the host stack of the running task
    // State of the current uc_emu_start, set by hooks.
    int pending_trap_ = -1;
    std::optional<uint64_t> resume_pc_;
    uint64_t pending_slot_ = 0;
    bool budget_hit_ = false;
    bool timeout_hit_ = false;
    Fault fault_;
    BlockTrace trace_;
    bool coverage_on_ = false;
    std::unordered_map<uint64_t, CoveredBlock> coverage_;
    uint64_t block_pc_ = 0;
    uint64_t insn_pc_ = 0;  // the instruction running in a precise range
    std::vector<std::pair<uint64_t, uint64_t>> precise_;
    std::unordered_map<uint64_t, std::unique_ptr<MmioHandlers>> mmio_;  // by address
    mutable std::vector<uc_mem_region> regions_;  // regions(), until the next mapping change
    mutable bool regions_valid_ = false;
    EdgeCoverage* cov_ = nullptr;
    std::vector<std::pair<uint64_t, uint64_t>> cov_ranges_;  // [lo, hi)
    uint64_t cov_prev_ = 0;
    uc_hook cmp_hook_ = 0;
};

}  // namespace kmodemu
