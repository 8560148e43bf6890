#include "emulator/emulator.h"

#include <algorithm>
#include <cstring>

namespace kmodemu {

namespace {

struct GuestAbort {
    RunResult result;
};

}  // namespace

std::vector<uint64_t> BlockTrace::recent() const {
    std::vector<uint64_t> out;
    size_t n = next < depth ? next : depth;
    for (size_t i = next - n; i < next; ++i)
        out.push_back(addr[i % depth]);
    return out;
}

Emulator::Emulator(Arch arch) : arch_(arch), info_(arch_info(arch)) {
    check(uc_open(info_.unicorn_arch, info_.unicorn_mode, &uc_), "uc_open");
    // arm64: QEMU's "max" core, ARMv8.x with the LSE atomics and the other extensions a kernel's
    // alternatives may switch to when the modelled CPU has them.
    check(uc_ctl_set_cpu_model(uc_, info_.unicorn_cpu_model), "uc_ctl_set_cpu_model");
    uc_hook h;
    check(uc_hook_add(uc_, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Emulator::on_block), this, 1,
                      0),
          "uc_hook_add(block)");
    check(uc_hook_add(uc_, &h, UC_HOOK_MEM_INVALID, reinterpret_cast<void*>(&Emulator::on_invalid),
                      this, 1, 0),
          "uc_hook_add(mem)");
    check(
        uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Emulator::on_intr), this, 1, 0),
        "uc_hook_add(intr)");
}

Emulator::~Emulator() {
    if (uc_) uc_close(uc_);
}

void Emulator::check(uc_err err, const char* what) const {
    if (err != UC_ERR_OK) throw EmulatorError(std::string(what) + ": " + uc_strerror(err));
}

void Emulator::map(uint64_t addr, uint64_t size, uint32_t prot) {
    regions_valid_ = false;
    check(uc_mem_map(uc_, addr, size, prot), "uc_mem_map");
}

namespace {
uint64_t open_bus_read(uc_engine*, uint64_t, unsigned size, void*) {
    return size >= 8 ? ~uint64_t(0) : (uint64_t(1) << (size * 8)) - 1;
}
void open_bus_write(uc_engine*, uint64_t, unsigned, uint64_t, void*) {}
}  // namespace

void Emulator::map_open_bus(uint64_t addr, uint64_t size) {
    regions_valid_ = false;
    check(uc_mmio_map(uc_, addr, size, open_bus_read, nullptr, open_bus_write, nullptr),
          "uc_mmio_map");
}

namespace {
uint64_t mmio_read(uc_engine*, uint64_t offset, unsigned size, void* h) {
    return static_cast<Emulator::MmioHandlers*>(h)->read(offset, size);
}
void mmio_write(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* h) {
    static_cast<Emulator::MmioHandlers*>(h)->write(offset, size, value);
}
}  // namespace

void Emulator::map_mmio(uint64_t addr, uint64_t size, MmioHandlers handlers) {
    regions_valid_ = false;
    auto h = std::make_unique<MmioHandlers>(std::move(handlers));
    check(uc_mmio_map(uc_, addr, size, mmio_read, h.get(), mmio_write, h.get()), "uc_mmio_map");
    mmio_[addr] = std::move(h);
}

void Emulator::unmap(uint64_t addr, uint64_t size) {
    regions_valid_ = false;
    check(uc_mem_unmap(uc_, addr, size), "uc_mem_unmap");
    mmio_.erase(addr);
}

void Emulator::protect(uint64_t addr, uint64_t size, uint32_t prot) {
    regions_valid_ = false;
    check(uc_mem_protect(uc_, addr, size, prot), "uc_mem_protect");
}

bool Emulator::is_mapped(uint64_t addr) const {
    uint8_t b;
    return uc_mem_read(uc_, addr, &b, 1) == UC_ERR_OK;
}

// Kept between mapping changes: stubs check every guest access they make against it.
const std::vector<uc_mem_region>& Emulator::regions() const {
    if (regions_valid_) return regions_;
    uc_mem_region* r = nullptr;
    uint32_t n = 0;
    check(uc_mem_regions(uc_, &r, &n), "uc_mem_regions");
    regions_.assign(r, r + n);
    uc_free(r);
    std::sort(regions_.begin(), regions_.end(),
              [](const uc_mem_region& a, const uc_mem_region& b) { return a.begin < b.begin; });
    regions_valid_ = true;
    return regions_;
}

std::optional<uint64_t> Emulator::first_inaccessible(uint64_t addr, uint64_t size,
                                                     uint32_t prot) const {
    if (size == 0) return std::nullopt;
    uint64_t last = addr + size - 1 < addr ? ~0ull : addr + size - 1;
    uint64_t at = addr;
    const auto& rs = regions();
    auto first = std::lower_bound(rs.begin(), rs.end(), at,
                                  [](const uc_mem_region& r, uint64_t a) { return r.end < a; });
    for (auto it = first; it != rs.end(); ++it) {
        const uc_mem_region& r = *it;
        if (r.begin > at || (r.perms & prot) != prot) return at;
        if (r.end >= last) return std::nullopt;
        at = r.end + 1;
    }
    return at;
}

void Emulator::write(uint64_t addr, const void* data, size_t size) {
    if (size == 0) return;
    uc_err err = uc_mem_write(uc_, addr, data, size);
    if (err != UC_ERR_OK)
        throw GuestMemoryError(std::string("uc_mem_write: ") + uc_strerror(err), addr, true);
}

void Emulator::read(uint64_t addr, void* data, size_t size) const {
    if (size == 0) return;
    uc_err err = uc_mem_read(uc_, addr, data, size);
    if (err != UC_ERR_OK)
        throw GuestMemoryError(std::string("uc_mem_read: ") + uc_strerror(err), addr, false);
}

bool Emulator::try_read(uint64_t addr, void* data, size_t size) const {
    return size == 0 || uc_mem_read(uc_, addr, data, size) == UC_ERR_OK;
}

uint64_t Emulator::read_word(uint64_t addr) const {
    uint64_t v = 0;
    read(addr, &v, word_size());
    return v;
}

void Emulator::write_word(uint64_t addr, uint64_t value) {
    write(addr, &value, word_size());
}

uint32_t Emulator::read_u32(uint64_t addr) const {
    uint32_t v;
    read(addr, &v, 4);
    return v;
}

void Emulator::write_u32(uint64_t addr, uint32_t value) {
    write(addr, &value, 4);
}

void Emulator::fill(uint64_t addr, uint8_t byte, size_t size) {
    std::vector<uint8_t> buf(size, byte);
    write(addr, buf.data(), size);
}

bool Emulator::read_cstring(uint64_t addr, size_t max, std::string& out) const {
    out.clear();
    char chunk[64];
    while (out.size() < max) {
        // Read up to the end of the page so that a string ending before an unmapped page works.
        size_t in_page = info_.page_size - (addr & (info_.page_size - 1));
        size_t n = std::min({sizeof chunk, in_page, max - out.size()});
        if (uc_mem_read(uc_, addr, chunk, n) != UC_ERR_OK) return false;
        for (size_t i = 0; i < n; ++i) {
            if (chunk[i] == '\0') return true;
            out.push_back(chunk[i]);
        }
        addr += n;
    }
    return true;
}

uint64_t Emulator::reg(int uc_reg) const {
    uint64_t v = 0;
    check(uc_reg_read(uc_, uc_reg, &v), "uc_reg_read");
    return v & info_.word_mask();
}

void Emulator::set_reg(int uc_reg, uint64_t value) {
    check(uc_reg_write(uc_, uc_reg, &value), "uc_reg_write");
}

// x0-x7 and r0-r3 are consecutive in Unicorn's numbering.
uint64_t Emulator::arg(unsigned i) const {
    return reg(info_.reg_arg0 + static_cast<int>(i));
}
void Emulator::set_arg(unsigned i, uint64_t value) {
    set_reg(info_.reg_arg0 + static_cast<int>(i), value);
}
uint64_t Emulator::pc() const {
    return reg(info_.reg_pc);
}
void Emulator::set_pc(uint64_t value) {
    set_reg(info_.reg_pc, value);
}
uint64_t Emulator::sp() const {
    return reg(info_.reg_sp);
}
void Emulator::set_sp(uint64_t value) {
    set_reg(info_.reg_sp, value);
}
uint64_t Emulator::lr() const {
    return reg(info_.reg_lr);
}
void Emulator::set_lr(uint64_t value) {
    set_reg(info_.reg_lr, value);
}

void Emulator::add_trap_range(uint64_t base, uint64_t size, TrapHandler handler, bool map_it) {
    if (map_it) map(base, size, prot_rx);
    // Return instructions: the trap hook stops the engine before they execute; the emulator
    // then sets the PC to the link register itself.
    std::vector<uint32_t> slots(size / 4, info_.ret_insn);
    write(base, slots.data(), size);
    uc_hook h;
    traps_.push_back({base, size, std::move(handler)});
    check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Emulator::on_trap), this,
                      base, base + size - 1),
          "uc_hook_add(trap)");
}

void Emulator::add_precise_range(uint64_t base, uint64_t size) {
    uc_hook h;
    precise_.push_back({base, size});
    check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Emulator::on_precise), this,
                      base, base + size - 1),
          "uc_hook_add(precise)");
}

void Emulator::set_exit_page(uint64_t addr, bool map_it) {
    if (map_it) map(addr, info_.page_size, prot_rx);
    std::vector<uint32_t> page(info_.page_size / 4, info_.ret_insn);
    write(addr, page.data(), info_.page_size);
    exit_addr_ = addr;
}

void Emulator::flush_code(uint64_t addr, uint64_t size) {
    check(uc_ctl_remove_cache(uc_, addr, addr + size), "uc_ctl_remove_cache");
}

Emulator::Context Emulator::save_context() const {
    uc_context* ctx = nullptr;
    check(uc_context_alloc(uc_, &ctx), "uc_context_alloc");
    Context out(ctx, &uc_context_free);
    check(uc_context_save(uc_, ctx), "uc_context_save");
    return out;
}

void Emulator::restore_context(const Context& ctx) {
    check(uc_context_restore(uc_, ctx.get()), "uc_context_restore");
}

void Emulator::set_edge_coverage(EdgeCoverage* cov) {
    if (cmp_hook_) {
        uc_hook_del(uc_, cmp_hook_);
        cmp_hook_ = 0;
    }
    cov_ = cov && cov->counters && cov->size ? cov : nullptr;
    cov_ranges_.clear();
    cov_prev_ = 0;
    if (cov_ && cov_->on_cmp)
        check(uc_hook_add(uc_, &cmp_hook_, UC_HOOK_TCG_OPCODE,
                          reinterpret_cast<void*>(&Emulator::on_cmp), this, 1, 0, UC_TCG_OP_SUB,
                          UC_TCG_OP_FLAG_CMP),
              "uc_hook_add(tcg sub)");
}

void Emulator::add_edge_coverage_range(uint64_t base, uint64_t size) {
    if (cov_ && size) cov_ranges_.emplace_back(base, base + size);
}

void Emulator::on_cmp(uc_engine*, uint64_t addr, uint64_t a, uint64_t b, uint32_t size,
                      void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    if (self->cov_ && self->covered(addr)) self->cov_->on_cmp(addr, a, b, size);
}

void Emulator::on_block(uc_engine* uc, uint64_t addr, uint32_t size, void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    self->trace_.push(addr);
    self->block_pc_ = addr;
    if (self->coverage_on_) {
        CoveredBlock& b = self->coverage_[addr];
        b.size = std::max(b.size, size);
        ++b.hits;
    }
    if (self->cov_ && self->covered(addr)) {
        // AFL's edge: the block's hash xor the previous block's, shifted so that A->B and B->A
        // (and A->A) differ.
        uint64_t cur = (addr * 0x9e3779b97f4a7c15ull) >> 32;
        ++self->cov_->counters[(cur ^ self->cov_prev_) & (self->cov_->size - 1)];
        self->cov_prev_ = cur >> 1;
    }
    // ARM and A64 instructions are 4 bytes; a Thumb block counts its halfwords' worth / 2.
    uint64_t n = size / 4 ? size / 4 : 1;
    self->executed_ += n;
    if (self->budget_left_ <= n) {
        self->budget_left_ = 0;
        self->budget_hit_ = true;
        uc_emu_stop(uc);
        return;
    }
    self->budget_left_ -= n;
    if (self->tick_every_) {
        if (self->tick_left_ > n) {
            self->tick_left_ -= n;
        } else {
            self->tick_left_ = self->tick_every_;
            self->tick_();
        }
    }
    if (self->has_deadline_ && (++self->deadline_check_ & 0xfff) == 0 &&
        std::chrono::steady_clock::now() >= self->deadline_) {
        self->timeout_hit_ = true;
        uc_emu_stop(uc);
    }
}

void Emulator::on_trap(uc_engine* uc, uint64_t addr, uint32_t, void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    for (size_t i = 0; i < self->traps_.size(); ++i) {
        const TrapRange& t = self->traps_[i];
        if (addr >= t.base && addr - t.base < t.size) {
            self->pending_trap_ = static_cast<int>(i);
            self->pending_slot_ = addr;
            uc_emu_stop(uc);
            return;
        }
    }
}

void Emulator::on_precise(uc_engine* uc, uint64_t addr, uint32_t, void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    self->insn_pc_ = addr;
    uint32_t insn = 0;
    if (self->arch_ != Arch::arm64 || uc_mem_read(uc, addr, &insn, 4) != UC_ERR_OK) return;
    if ((insn & 0xffffffe0u) != 0xd50b7420u) return;  // dc zva, Xt
    // DC ZVA zeroes the block of DCZID_EL0's size holding Xt; the abort reports Xt.
    unsigned rt = insn & 31;
    uint64_t va = rt == 31 ? 0 : self->reg(UC_ARM64_REG_X0 + static_cast<int>(rt));
    uc_arm64_cp_reg dczid{0, 0, 3, 3, 7, 0};  // crn, crm, op0, op1, op2
    uint64_t block = 64;
    if (uc_reg_read(uc, UC_ARM64_REG_CP_REG, &dczid) == UC_ERR_OK)
        block = 4ull << (dczid.val & 0xf);
    if (auto bad = self->first_inaccessible(va & ~(block - 1), block, prot_write)) {
        Fault& f = self->fault_;
        f.kind = Fault::Kind::write;
        f.unmapped = !self->is_mapped(*bad);
        f.address = va;
        f.pc = addr;
        f.exact = true;
        uc_emu_stop(uc);
    }
}

bool Emulator::on_invalid(uc_engine*, uc_mem_type type, uint64_t addr, int, int64_t, void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    Fault& f = self->fault_;
    // The first bad access is the fault: the CPU would take it there (QEMU may go on to the end
    // of the block, or of a helper's loop, before it stops).
    if (f.kind != Fault::Kind::none) return false;
    f.address = addr;
    f.pc = self->block_pc_;
    for (const auto& [base, size] : self->precise_)
        if (self->insn_pc_ - base < size && self->block_pc_ - base < size)
            f.pc = self->insn_pc_, f.exact = true;
    switch (type) {
        case UC_MEM_READ_UNMAPPED:
            f.kind = Fault::Kind::read, f.unmapped = true;
            break;
        case UC_MEM_WRITE_UNMAPPED:
            f.kind = Fault::Kind::write, f.unmapped = true;
            break;
        case UC_MEM_FETCH_UNMAPPED:
            f.kind = Fault::Kind::fetch, f.unmapped = true;
            break;
        case UC_MEM_READ_PROT:
            f.kind = Fault::Kind::read, f.unmapped = false;
            break;
        case UC_MEM_WRITE_PROT:
            f.kind = Fault::Kind::write, f.unmapped = false;
            break;
        case UC_MEM_FETCH_PROT:
            f.kind = Fault::Kind::fetch, f.unmapped = false;
            break;
        default:
            f.kind = Fault::Kind::read;
            break;
    }
    if (f.kind == Fault::Kind::fetch) f.pc = addr;
    return false;
}

void Emulator::on_intr(uc_engine* uc, uint32_t intno, void* self_) {
    auto* self = static_cast<Emulator*>(self_);
    Fault& f = self->fault_;
    // QEMU's exception numbers: EXCP_UDEF 1, EXCP_SWI 2, EXCP_BKPT 7.
    f.kind = intno == 1 ? Fault::Kind::undefined_instruction : Fault::Kind::exception;
    f.exception_index = intno;
    f.pc = self->pc();
    f.address = f.pc;
    uc_emu_stop(uc);
}

RunResult Emulator::call(uint64_t fn, std::span<const uint64_t> args) {
    if (args.size() > info_.arg_regs) throw EmulatorError("guest call with too many arguments");
    Context saved = save_context();
    for (size_t i = 0; i < args.size(); ++i)
        set_arg(static_cast<unsigned>(i), args[i]);
    set_lr(exit_addr_);
    uint64_t pc = fn;
    ++depth_;
    struct DepthGuard {
        int& d;
        ~DepthGuard() { --d; }
    } guard{depth_};

    RunResult result;
    try {
        for (;;) {
            pending_trap_ = -1;
            budget_hit_ = timeout_hit_ = false;
            fault_ = Fault{};
            uc_err err = uc_emu_start(uc_, pc, exit_addr_, 0, 0);
            if (pending_trap_ >= 0) {
                int idx = pending_trap_;
                uint64_t slot = pending_slot_;
                uint64_t ret = lr();
                resume_pc_.reset();
                traps_[static_cast<size_t>(idx)].handler(slot);
                pc = resume_pc_.value_or(ret);
                resume_pc_.reset();
                if (budget_hit_ || timeout_hit_) {
                    result.reason =
                        budget_hit_ ? RunResult::Reason::budget : RunResult::Reason::timeout;
                    result.pc = ret;
                    throw GuestAbort{result};
                }
                continue;
            }
            result.pc = this->pc();
            if (fault_.kind == Fault::Kind::none &&
                (err == UC_ERR_INSN_INVALID || err == UC_ERR_EXCEPTION)) {
                // Unicorn ends the run itself for some exceptions (ARM UDF) without the hook.
                fault_.kind = err == UC_ERR_INSN_INVALID ? Fault::Kind::undefined_instruction
                                                         : Fault::Kind::exception;
                fault_.pc = fault_.address = result.pc;
            }
            if ((fault_.kind == Fault::Kind::exception ||
                 fault_.kind == Fault::Kind::undefined_instruction) &&
                exception_handler_) {
                Fault f = fault_;
                if (std::optional<uint64_t> resume = exception_handler_(f)) {
                    pc = *resume;
                    continue;
                }
            }
            if (fault_.kind != Fault::Kind::none) {
                result.reason = RunResult::Reason::fault;
                result.fault = fault_;
                throw GuestAbort{result};
            }
            if (err != UC_ERR_OK) {
                result.reason = RunResult::Reason::fault;
                result.fault.kind = Fault::Kind::exception;
                result.fault.pc = result.pc;
                throw GuestAbort{result};
            }
            if (budget_hit_ || timeout_hit_) {
                result.reason =
                    budget_hit_ ? RunResult::Reason::budget : RunResult::Reason::timeout;
                throw GuestAbort{result};
            }
            if (result.pc == exit_addr_) {
                result.reason = RunResult::Reason::returned;
                result.retval = arg(0);
                restore_context(saved);
                return result;
            }
            // Stopped for no reason we know (uc_emu_stop from elsewhere).
            result.reason = RunResult::Reason::stopped;
            throw GuestAbort{result};
        }
    } catch (const GuestAbort& abort) {
        // An abnormal end anywhere in a nest of calls ends the outermost call; registers stay
        // as they were at the fault, for the report.
        if (depth_ > 1) throw;
        return abort.result;
    }
}

}  // namespace kmodemu
