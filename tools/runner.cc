#include "tools/runner.h"

#include "kernel_stubs/kernel/sched/sched.h"
#include "kernel_stubs/kernel/time/clock.h"

#include "kernel_stubs/bug.h"
#include "kernel_stubs/locking.h"
#include "kernel_stubs/profile.h"
#include "kernel_stubs/slab.h"
#include "loader/decompress.h"

#include <algorithm>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace kmodemu {

namespace {

std::string fmt_addr(Arch a, uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llx", arch_info(a).hex_digits(), (unsigned long long)v);
    return buf;
}

std::string where(Kernel& k, uint64_t addr) {
    return k.symbolize(addr, true).value_or(fmt_addr(k.arch(), addr));
}

void report_hang(Kernel& k, const RunResult& r) {
    std::string what = r.reason == RunResult::Reason::budget ? "instruction budget exhausted"
                                                             : "time limit reached";
    // A deadlock (kernel_stubs/kernel/sched/sched.h): every task waits, and nothing can wake one.
    if (const std::string& d = k.state<Scheduler>().deadlock; !d.empty())
        what = "deadlock: insmod's task blocked forever in " + d;
    k.diag(what + " at " + where(k, r.pc));
    std::string blocks;
    for (uint64_t b : k.emu().trace().recent())
        blocks += " " + where(k, b);
    k.diag("recent blocks:" + blocks);
}

// The objects the allocations of the module (the one armed: the last loaded) made that are
// still allocated (devm_* objects belong to a device and go with it).
std::vector<FallibleCall> leaked_objects(Kernel& k) {
    std::vector<FallibleCall> out;
    for (const FallibleCall& c : k.fallible_calls) {
        if (!c.object || c.failed || c.module.empty()) continue;
        if (c.function.starts_with("devm_") || c.function == "devres_alloc") continue;
        if (k.slab().ksize(c.object)) out.push_back(c);
    }
    return out;
}

ModuleCoverage module_coverage(const LoadedModule& m, const Emulator& emu) {
    ModuleCoverage cov;
    cov.module = m.name;
    cov.arch = m.arch;
    for (const Region& r : m.regions)
        if (r.type == Region::Type::text || r.type == Region::Type::init_text)
            cov.sections.push_back({region_name(r.type), r.base, r.size});
    for (const ModuleSymbol& s : m.symbols)
        if (s.is_function) {
            cov.functions.push_back(s);
            // A Thumb function's symbol has bit 0 set; its code (and its blocks) start below.
            if (m.arch != Arch::arm64) cov.functions.back().address &= ~uint64_t(1);
        }
    std::sort(cov.functions.begin(), cov.functions.end(),
              [](const ModuleSymbol& a, const ModuleSymbol& b) { return a.address < b.address; });
    for (const auto& [addr, b] : emu.coverage())
        for (const ModuleCoverage::Section& s : cov.sections)
            if (addr >= s.base && addr < s.base + s.size) cov.blocks[addr] = b;
    return cov;
}

}  // namespace

const char* errno_name(int err) {
    switch (err) {
        case EPERM:
            return "EPERM";
        case ENOENT:
            return "ENOENT";
        case EINTR:
            return "EINTR";
        case EIO:
            return "EIO";
        case ENXIO:
            return "ENXIO";
        case E2BIG:
            return "E2BIG";
        case ENOEXEC:
            return "ENOEXEC";
        case EAGAIN:
            return "EAGAIN";
        case ENOMEM:
            return "ENOMEM";
        case EFAULT:
            return "EFAULT";
        case EBUSY:
            return "EBUSY";
        case EEXIST:
            return "EEXIST";
        case ENODEV:
            return "ENODEV";
        case EINVAL:
            return "EINVAL";
        case ENOSPC:
            return "ENOSPC";
        case ERANGE:
            return "ERANGE";
        case ENOSYS:
            return "ENOSYS";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case EOPNOTSUPP:
            return "EOPNOTSUPP";
        case EBADMSG:
            return "EBADMSG";
        case ENOKEY:
            return "ENOKEY";
        case EKEYREJECTED:
            return "EKEYREJECTED";
        default:
            return "E?";
    }
}

std::string join_module_args(const std::vector<std::string>& params) {
    std::string out;
    for (const std::string& p : params) {
        if (!out.empty()) out += ' ';
        size_t eq = p.find('=');
        if (eq != std::string::npos && p.find(' ') != std::string::npos)
            out += p.substr(0, eq + 1) + "\"" + p.substr(eq + 1) + "\"";
        else
            out += p;
    }
    return out;
}

RunOutcome run_module(std::vector<uint8_t> bytes, const RunOptions& opts,
                      std::function<void(const LogLine&)> on_log,
                      std::function<void(const std::string&)> on_diag) {
    std::vector<ModuleInput> one(1);
    one[0].bytes = std::move(bytes);
    one[0].params = opts.params;
    RunOutcome out = run_modules(std::move(one), opts, std::move(on_log), std::move(on_diag));
    out.steps.clear();
    return out;
}

RunOutcome run_modules(std::vector<ModuleInput> mods, const RunOptions& opts,
                       std::function<void(const LogLine&)> on_log,
                       std::function<void(const std::string&)> on_diag) {
    RunOutcome out;
    if (mods.empty()) {
        out.ending = "internal";
        out.exit_status = exit_internal;
        return out;
    }
    // kmod's insmod decompresses .ko.xz, .ko.zst and .ko.gz before init_module(2).
    std::vector<Decompressed> files;
    for (ModuleInput& m : mods) {
        files.push_back(decompress_module(std::move(m.bytes)));
        if (files.back().err) break;
    }
    out.compression = compression_name(files.back().format);
    if (files.front().err) {
        out.diagnostics.push_back(files.front().message);
        if (on_diag) on_diag(files.front().message);
        out.ending = "errno";
        out.exit_status = -files.front().err;
        return out;
    }
    const std::vector<uint8_t>& first = files.front().bytes;
    std::shared_ptr<const KernelProfile> profile = opts.profile;
    if (!profile && !opts.kernel_kit.empty()) profile = KernelProfile::from_kit(opts.kernel_kit);
    // The generic profile takes the architecture from the module; a kit is one architecture.
    Arch arch = profile ? profile->arch : ElfFile::sniff_arch(first).value_or(Arch::arm64);
    // Without a kit: the default kernel of the module's own version (its vermagic).
    if (!profile) profile = KernelProfile::default_for(arch, module_kernel_version(first));
    out.arch = arch_name(arch);
    out.kernel = profile ? profile->name : "generic";
    Emulator emu(arch);
    KernelConfig cfg;
    cfg.layout = opts.layout;
    // Without a kit, the default profile (set by Kernel) and --arm-kernel apply.
    bool kit = profile && !profile->generic;
    cfg.thumb2_kernel = kit ? profile->thumb2_kernel : opts.thumb2_kernel;
    if (kit) cfg.release = profile->release;
    cfg.profile = profile;
    cfg.panic_on_warn = opts.panic_on_warn;
    cfg.seed = opts.seed;
    cfg.cpucaps = opts.cpucaps;
    cfg.faults = opts.faults;
    cfg.lockdep = opts.lockdep;
    out.lockdep = opts.lockdep;
    Kernel kernel(emu, cfg);
    emu.enable_coverage(opts.coverage);
    kernel.on_log = std::move(on_log);
    kernel.on_diag = std::move(on_diag);
    emu.set_budget(opts.budget);
    if (opts.time_limit > 0)
        emu.set_deadline(std::chrono::steady_clock::now() +
                         std::chrono::microseconds(static_cast<int64_t>(opts.time_limit * 1e6)));
    Loader loader(kernel);
    declare_machine(kernel, opts.devices, opts.mmio_values);

    auto finish_abort = [&](const std::optional<RunResult>& abort,
                            const std::optional<std::string>& panic) {
        if (panic && kernel.unimplemented_call) {
            // Not a kernel event: kmodemu cannot go on where the real kernel would.
            const UnimplementedCall& u = *kernel.unimplemented_call;
            kernel.diag(*panic + " (from " + u.where + ")");
            out.ending = "unimplemented";
            out.exit_status = exit_unimplemented;
        } else if (panic) {
            out.ending = "panic";
            out.exit_status = exit_oops;
        } else if (abort->reason == RunResult::Reason::fault ||
                   abort->reason == RunResult::Reason::stopped) {
            report_oops(kernel, *abort);
            out.ending = "oops";
            out.exit_status = exit_oops;
        } else {
            report_hang(kernel, *abort);
            out.ending = "hang";
            out.exit_status = exit_hang;
        }
    };
    auto memory_fault = [](const GuestMemoryError& m) {
        // The emulated kernel itself dereferenced a bad guest pointer (e.g. a corrupt chain).
        RunResult r;
        r.reason = RunResult::Reason::fault;
        r.fault.kind = m.is_write ? Fault::Kind::write : Fault::Kind::read;
        r.fault.unmapped = true;
        r.fault.address = m.address;
        return r;
    };
    // After init: virtual time passes; the module's work and timers run. What goes wrong there
    // ends the run as it would have ended init.
    auto settle_phase = [&] {
        try {
            if (!settle(kernel, opts.settle_ms))
                kernel.diag("settle: work and timers kept running; stopped after " +
                            std::to_string(kernel.state<Deferred>().ran_work) + " work items and " +
                            std::to_string(kernel.state<Deferred>().fired_timers) + " timers");
        } catch (const KernelPanic& p) {
            finish_abort(std::nullopt, p.message);
        } catch (const GuestFault& f) {
            finish_abort(f.result, std::nullopt);
        } catch (const GuestMemoryError& m) {
            finish_abort(memory_fault(m), std::nullopt);
        }
    };
    auto finish = [&] {
        kernel.flush_log();
        out.log = kernel.log_lines();
        if (!out.load_log_lines) out.load_log_lines = out.log.size();
        out.diagnostics = kernel.diagnostics();
        out.injected_faults = kernel.injected_faults;
        out.fallible_calls = kernel.fallible_calls;
        if (opts.coverage && out.load.module) out.coverage = module_coverage(*out.load.module, emu);
        out.calls = kernel.call_counts();
        out.unimplemented_call = kernel.unimplemented_call;
        out.instructions = emu.instructions_executed();
        out.devices = machine_outcome(kernel);
        for (const std::string& n : out.auto_stubs) {
            const Export* e = kernel.find_export(n);
            const std::optional<Prototype>& p = e ? e->prototype : std::nullopt;
            std::string what = "0 (prototype unknown)";
            if (p && p->ret == Prototype::Ret::pointer)
                what = "a zeroed object of " +
                       std::to_string(p->pointee_size ? p->pointee_size : 0x1000) + " bytes" +
                       (p->pointee_size ? "" : " (void * or size unknown)");
            else if (p)
                what = p->ret == Prototype::Ret::void_ ? "0 (void)" : "0";
            out.auto_stub_returns[n] = what;
        }
        if (opts.on_outcome) opts.on_outcome(out);
        return out;
    };
    auto log_size = [&] {
        kernel.flush_log();
        return kernel.log_lines().size();
    };

    // insmod of each module in turn; the run stops at the first that fails.
    std::vector<std::pair<LoadedModule*, size_t>> live;  // with its step
    for (size_t i = 0; i < mods.size(); ++i) {
        RunOutcome::Step step;
        step.path = mods[i].path;
        step.log_begin = log_size();
        bool last = i + 1 == mods.size();
        if (last && opts.before_target && !files[i].err) {
            opts.before_target(kernel, mods[i].params);
            // A warm execution's time limit counts from its own start.
            if (opts.time_limit > 0)
                emu.set_deadline(std::chrono::steady_clock::now() +
                                 std::chrono::microseconds(
                                     static_cast<int64_t>(opts.time_limit * 1e6)));
        }
        kernel.faults_armed = last;
        if (last && !opts.irqs.empty()) arm_irq_raises(kernel, opts.irqs);
        if (last) emu.set_edge_coverage(opts.edge_coverage);
        out.load = LoadResult{};
        out.unload.reset();
        out.compression = compression_name(files[i].format);
        if (files[i].err) {
            kernel.diag(files[i].message);
            out.ending = "errno";
            out.exit_status = -files[i].err;
        } else {
            LoadOptions lo;
            lo.args = join_module_args(mods[i].params);
            lo.auto_stub = opts.auto_stub;
            try {
                out.load = loader.load(std::move(files[i].bytes), lo);
            } catch (const GuestMemoryError& m) {
                out.load.abort = memory_fault(m);
            } catch (const EmulatorError& e) {
                // A bug or resource failure of kmodemu, not a guest event.
                kernel.diag(std::string("internal error: ") + e.what());
                out.ending = "internal";
                out.exit_status = exit_internal;
            }
            for (const std::string& n : out.load.auto_stubs)
                out.auto_stubs.push_back(n);
            for (const std::string& n : out.load.unimplemented)
                out.unimplemented.push_back(n);
            if (out.load.module) {
                out.module_name = out.load.module->name;
                out.vermagic = out.load.module->vermagic;
            }
            if (last) out.init_fallible_calls = kernel.fallible_calls.size();
            if (last && out.load.init_ran && out.load.init_ret < 0 && !out.load.abort &&
                !out.load.panic && kernel.config().faults.record)
                out.leaked = leaked_objects(kernel);
            // finit_module() returns to user space.
            if (out.ending != "internal" && !out.load.abort && !out.load.panic)
                lockdep_sys_exit(kernel);
            if (out.ending == "internal") {
            } else if (out.load.abort || out.load.panic) {
                finish_abort(out.load.abort, out.load.panic);
            } else if (out.load.err) {
                out.ending = "errno";
                out.exit_status = -out.load.err;
            } else {
                out.ending = "ok";
                out.exit_status = 0;
                live.emplace_back(out.load.module, out.steps.size());
                settle_phase();
            }
        }
        step.name = out.module_name;
        step.exit_status = out.exit_status;
        step.ending = out.ending;
        step.log_end = log_size();
        out.steps.push_back(step);
        if (out.ending != "ok") {
            // modprobe stops at a dependency that fails and leaves the others loaded.
            if (!last) out.failed_dependency = mods[i].path;
            return finish();
        }
    }
    out.load_log_lines = log_size();

    // rmmod of the modules, the last loaded first. A module whose init ran and which has no
    // exit cannot be unloaded (EBUSY); the main module is only unloaded when it has an exit.
    if (!opts.unload) return finish();
    for (auto it = live.rbegin(); it != live.rend(); ++it) {
        LoadedModule* m = it->first;
        RunOutcome::Step& step = out.steps[it->second];
        bool target = it == live.rbegin();
        if (!m || (target && !m->exit)) continue;
        std::optional<UnloadResult> u;
        step.unload_log_begin = log_size();
        try {
            u = loader.unload(*m);
        } catch (const GuestMemoryError& e) {
            u = UnloadResult{};
            u->abort = memory_fault(e);
        } catch (const EmulatorError& e) {
            kernel.diag(std::string("internal error: ") + e.what());
            out.ending = "internal";
            out.exit_status = exit_internal;
            break;
        }
        if (!u->abort && !u->panic) lockdep_sys_exit(kernel);  // delete_module() returns
        step.unload_status = -u->err;
        if (target) out.unload = u;
        if (u->abort || u->panic) finish_abort(u->abort, u->panic);
        step.unload_log_end = log_size();
        if (u->abort || u->panic) break;
    }
    // A kernel thread still alive whose code went with its module: the real kernel would oops
    // the next time it runs.
    for (const Task* t : live_kthreads(kernel)) {
        bool in_module = false;
        for (const LoadedModule* m : kernel.modules)
            for (const Region& r : m->regions)
                in_module |= t->threadfn >= r.base && t->threadfn < r.base + r.size;
        if (!in_module)
            kernel.diag("kthread " + t->comm + " (pid " + std::to_string(t->pid) +
                        ") is still alive after its module was unloaded: its code is gone");
    }
    return finish();
}

}  // namespace kmodemu
