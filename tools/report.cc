#include "tools/report.h"

namespace kmodemu {

nlohmann::json make_report(const RunOutcome& out, const std::string& path) {
    using nlohmann::json;
    json r;
    r["file"] = path;
    r["module"] = out.module_name;
    r["arch"] = out.arch;
    r["vermagic"] = out.vermagic;
    r["exit_status"] = out.exit_status;
    r["ending"] = out.ending;
    json phases = json::array();
    const LoadResult& l = out.load;
    // Every phase up to the one the load reached; the last carries the outcome.
    for (int p = 0; p <= static_cast<int>(l.phase); ++p) {
        auto ph = static_cast<LoadResult::Phase>(p);
        bool last = ph == l.phase;
        std::string outcome = "ok";
        if (last && (l.err || l.abort || l.panic))
            outcome = out.ending == "errno" ? "failed" : out.ending;
        phases.push_back({{"phase", phase_name(ph)}, {"outcome", outcome}});
    }
    if (out.unload) {
        std::string outcome = out.unload->abort || out.unload->panic ? out.ending
                              : out.unload->err                      ? "failed"
                                                                     : "ok";
        phases.push_back({{"phase", "unload"}, {"outcome", outcome}});
    }
    r["phases"] = phases;
    if (!out.devices.empty()) {
        json devs = json::array();
        for (const DeviceOutcome& d : out.devices)
            devs.push_back({{"device", d.spec},
                            {"name", d.name},
                            {"probed", d.probed},
                            {"driver", d.driver},
                            {"mmio_reads", d.mmio_reads},
                            {"mmio_writes", d.mmio_writes},
                            {"irqs_handled", d.irqs}});
        r["devices"] = devs;
    }
    r["load_errno"] = l.err;
    r["load_errno_name"] = l.err ? errno_name(-l.err) : "";
    if (l.init_ran) {
        r["init"] = {
            {"ran", true},
            {"return", l.init_ret},
            {"errno_name", l.init_ret < 0 ? errno_name(static_cast<int>(-l.init_ret)) : ""}};
    } else {
        r["init"] = {{"ran", false}};
    }
    if (out.unload) r["exit"] = {{"ran", out.unload->exit_ran}};
    json log = json::array();
    for (const LogLine& line : out.log)
        log.push_back({{"level", line.level}, {"text", line.text}});
    r["log"] = log;
    r["calls"] = out.calls;
    r["auto_stubs"] = out.auto_stubs;
    r["auto_stub_returns"] = out.auto_stub_returns;  // what each pretends to return
    r["auto_stub_data"] = out.load.auto_stub_data;   // zeroed data objects, not functions
    r["unimplemented"] = out.unimplemented;          // bound lazily
    if (const auto& u = out.unimplemented_call)      // the call that stopped the run (exit 69)
        r["unimplemented_call"] = {{"function", u->function},
                                   {"module", u->module},
                                   {"caller", hex(u->caller)},
                                   {"where", u->where}};
    r["kernel"] = out.kernel;
    r["compression"] = out.compression;
    r["signer"] = out.load.signer;  // the kernel key that verified the module's signature  // of the module file, as kmod read it
    r["diagnostics"] = out.diagnostics;
    json faults = json::array();
    for (const InjectedFault& f : out.injected_faults) {
        json j = {{"function", f.function}, {"export", f.export_name}, {"nth", f.nth},
                  {"errno", errno_string(f.err)}, {"returned", f.returned},
                  {"reason", f.reason}, {"caller", f.where}};
        if (f.allocation) j["allocation"] = f.allocation;
        faults.push_back(j);
    }
    r["injected_faults"] = faults;
    // Which lock checks ran: Debian's kernel's own behaviour, or lockdep's reports (--lockdep).
    r["lock_checks"] = out.lockdep ? "lockdep" : "kernel";
    r["instructions"] = out.instructions;
    r["relocations_applied"] = out.load.relocations_applied;
    if (!out.steps.empty()) {
        json steps = json::array();
        for (const RunOutcome::Step& st : out.steps) {
            json j = {{"file", st.path},           {"module", st.name},
                      {"exit_status", st.exit_status}, {"ending", st.ending},
                      {"log_begin", st.log_begin}, {"log_end", st.log_end}};
            if (st.unload_status) j["unload_status"] = *st.unload_status;
            steps.push_back(j);
        }
        r["steps"] = steps;  // every module of the run, in load order
        r["failed_dependency"] = out.failed_dependency;
    }
    return r;
}

std::string ktap_report(const RunOutcome& out) {
    std::vector<RunOutcome::Step> steps = out.steps;
    if (steps.empty()) {  // one module (run_module)
        RunOutcome::Step st;
        st.name = out.module_name;
        st.exit_status = out.exit_status;
        st.ending = out.ending;
        st.log_end = out.load_log_lines;
        if (out.unload) st.unload_status = -out.unload->err;
        steps.push_back(st);
    }
    std::string body;
    size_t n = 0;
    auto diag = [&](size_t from, size_t to) {
        for (size_t i = from; i < to && i < out.log.size(); ++i)
            body += "# " + out.log[i].text + "\n";
    };
    auto result = [&](bool ok, const std::string& what, int status, const std::string& ending) {
        body += std::string(ok ? "ok " : "not ok ") + std::to_string(++n) + " " + what;
        if (!ok) {
            body += " # exit status " + std::to_string(status);
            if (ending == "errno")
                body += std::string(" (") + errno_name(status) + ")";
            else
                body += " (" + ending + ")";
        }
        body += "\n";
    };
    for (const RunOutcome::Step& st : steps) {
        diag(st.log_begin, st.log_end);
        std::string name = st.name.empty() ? st.path : st.name;
        result(st.exit_status == 0, "insmod " + name, st.exit_status, st.ending);
    }
    bool first = true;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
        if (!it->unload_status) continue;
        if (first) diag(out.load_log_lines, out.log.size());
        first = false;
        result(*it->unload_status == 0, "rmmod " + it->name, *it->unload_status, "errno");
    }
    return "KTAP version 1\n1.." + std::to_string(n) + "\n" + body;
}

}  // namespace kmodemu
