#include "tools/faults.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <regex>
#include <set>

namespace kmodemu {

namespace {

bool starts(const std::string& s, std::string_view p) {
    return s.compare(0, p.size(), p) == 0;
}

void add(std::vector<FaultFinding>& v, FaultFinding f) {
    for (const FaultFinding& g : v)
        if (g == f) return;
    v.push_back(std::move(f));
}

void merge_coverage(std::optional<ModuleCoverage>& into, const std::optional<ModuleCoverage>& c) {
    if (!c) return;
    if (!into) {
        into = c;
        return;
    }
    for (const auto& [addr, b] : c->blocks) {
        Emulator::CoveredBlock& t = into->blocks[addr];
        t.size = std::max(t.size, b.size);
        t.hits += b.hits;
    }
}

}  // namespace

std::vector<FaultFinding> run_findings(const RunOutcome& out) {
    std::vector<FaultFinding> f;
    bool crash = false;
    // The kernel's own reports, by their first line (and the pc line of an oops).
    for (size_t i = 0; i < out.log.size(); ++i) {
        const std::string& t = out.log[i].text;
        if (starts(t, "kernel BUG at")) {
            add(f, {"BUG", t});
            crash = true;
        } else if (t.find("Unable to handle kernel") != std::string::npos) {
            std::string pc;
            for (size_t j = i + 1; j < out.log.size() && pc.empty(); ++j) {
                const std::string& u = out.log[j].text;
                if (starts(u, "pc : ") || starts(u, "PC is at ")) pc = u;
            }
            add(f, {"oops", pc.empty() ? t : t + "; " + pc});
            crash = true;
        } else if (starts(t, "WARNING: CPU:")) {
            size_t at = t.find(" at ");
            add(f, {"WARN", at == std::string::npos ? t : t.substr(at + 4)});
        } else if (t == "WARNING: possible recursive locking detected" ||
                   t == "WARNING: bad unlock balance detected!" ||
                   t.find("is leaving the kernel with locks still held!") != std::string::npos ||
                   starts(t, "BUG: sleeping function called from invalid context")) {
            add(f, {"lockdep", t});
        }
    }
    if (out.ending == "oops" && !crash) {
        std::string d;
        for (const std::string& s : out.diagnostics)
            if (s.find("fault") != std::string::npos || s.find("oops") != std::string::npos) d = s;
        add(f, {"oops", d});
    }
    if (out.ending == "panic" && !crash)
        for (const LogLine& l : out.log)
            if (starts(l.text, "Kernel panic - not syncing")) add(f, {"panic", l.text});
    if (out.ending == "hang") {
        std::string d = "hang";
        for (const std::string& s : out.diagnostics)
            if (s.find("budget exhausted at") != std::string::npos ||
                s.find("time limit reached at") != std::string::npos || s.starts_with("deadlock: "))
                d = s;
        add(f, {"hang", d});
    }
    for (const std::string& s : out.diagnostics) {
        if (starts(s, "double "))
            add(f, {"double-free", s.substr(0, s.find(':'))});
        else if (s.find("of a pointer that is not allocated") != std::string::npos)
            add(f, {"invalid-free", s});
    }
    for (const FallibleCall& c : out.leaked)
        add(f, {"leak", std::to_string(c.object_size) + " bytes from " + c.function + " (" +
                            c.export_name + ") at " + c.where});
    if (out.unload && out.unload->err && !out.unload->abort && !out.unload->panic)
        add(f, {"unload", "rmmod: -" + errno_string(-out.unload->err)});
    return f;
}

std::string fail_argument(const FaultSpec& s) {
    return s.function + ":" + std::to_string(s.nth) + ":" + errno_string(s.err);
}

size_t FaultScan::paths_with_findings() const {
    size_t n = 0;
    for (const FaultPath& p : paths)
        n += !p.findings.empty();
    return n;
}
size_t FaultScan::findings() const {
    size_t n = 0;
    for (const FaultPath& p : paths)
        n += p.findings.size();
    return n;
}
size_t FaultScan::notes() const {
    size_t n = 0;
    for (const FaultPath& p : paths)
        n += p.notes.size();
    return n;
}

FaultScan fault_baseline(const std::vector<ModuleInput>& mods, RunOptions& opts, size_t max_paths) {
    opts.faults = FaultPlan{};
    opts.faults.seed = opts.seed;
    opts.faults.record = true;
    opts.lockdep = true;

    FaultScan scan;
    RunOutcome base = run_modules(mods, opts);
    scan.module = base.module_name;
    scan.arch = base.arch;
    scan.ending = base.ending;
    scan.exit_status = base.exit_status;
    if (base.load.init_ran) scan.init_ret = base.load.init_ret;
    scan.baseline_findings = run_findings(base);
    // The fallible calls of the module asked for, made by its load and init (a dependency that
    // failed leaves none).
    if (base.failed_dependency.empty())
        scan.calls.assign(base.fallible_calls.begin(),
                          base.fallible_calls.begin() +
                              static_cast<std::ptrdiff_t>(
                                  std::min(base.init_fallible_calls, base.fallible_calls.size())));
    scan.coverage = base.coverage;
    scan.selected = select_paths(scan.calls, max_paths);
    return scan;
}

std::vector<size_t> select_paths(const std::vector<FallibleCall>& calls, size_t max_paths) {
    std::vector<size_t> first, rest;
    std::set<std::pair<std::string, std::string>> sites;
    for (size_t i = 0; i < calls.size(); ++i)
        (sites.insert({calls[i].function, calls[i].where}).second ? first : rest).push_back(i);
    if (max_paths == 0 || calls.size() <= max_paths) {
        std::vector<size_t> all(calls.size());
        for (size_t i = 0; i < all.size(); ++i)
            all[i] = i;
        return all;
    }
    // One call per site first (a site called in a loop fails the same way each time), then the
    // other calls in order, up to the bound; kept in call order.
    std::vector<size_t> v(first.begin(),
                          first.begin() + std::ptrdiff_t(std::min(max_paths, first.size())));
    for (size_t i = 0; v.size() < max_paths && i < rest.size(); ++i)
        v.push_back(rest[i]);
    std::sort(v.begin(), v.end());
    return v;
}

FaultPath fault_path(const std::vector<ModuleInput>& mods, const RunOptions& opts,
                     const FallibleCall& c, const std::vector<FaultFinding>& baseline,
                     std::optional<ModuleCoverage>* coverage) {
    FaultPath p;
    p.call = c;
    p.fail.function = c.function;
    p.fail.nth = c.nth;
    p.fail.err = ENOMEM;
    RunOptions o = opts;
    o.faults.fail = {p.fail};
    RunOutcome out = run_modules(mods, o);
    p.reached = !out.injected_faults.empty();
    p.ending = out.ending;
    p.exit_status = out.exit_status;
    if (out.load.init_ran) p.init_ret = out.load.init_ret;
    if (out.unimplemented_call) p.unimplemented = out.unimplemented_call->function;
    for (FaultFinding& f : run_findings(out)) {
        bool known = false;
        for (const FaultFinding& b : baseline)
            known |= b == f;
        if (!known) p.findings.push_back(std::move(f));
    }
    // An init that succeeded although a call it made failed: the failure was ignored.
    if (p.reached && out.ending == "ok" && out.load.init_ran && out.load.init_ret == 0 &&
        !starts(c.function, "debugfs_")) {
        const InjectedFault& inj = out.injected_faults.front();
        p.notes.push_back({"ignored-failure", "init returned 0 after " + inj.function +
                                                  " returned " + inj.returned + " at " +
                                                  inj.where});
    }
    if (coverage) merge_coverage(*coverage, out.coverage);
    return p;
}

FaultScan scan_faults(const std::vector<ModuleInput>& mods, RunOptions opts,
                      const std::function<void(const FaultPath&)>& on_path) {
    FaultScan scan = fault_baseline(mods, opts, 0);
    for (const FallibleCall& c : scan.calls) {
        FaultPath p = fault_path(mods, opts, c, scan.baseline_findings, &scan.coverage);
        if (on_path) on_path(p);
        scan.paths.push_back(std::move(p));
    }
    return scan;
}

std::string finding_location(const std::string& detail) {
    // The first symbol+offset of the text and its module: "foo_init+0x24/0x80 [foo]" ->
    // "foo_init+0x24 [foo]"; "__memset+0xc8/0x188" -> "__memset+0xc8".
    static const std::regex sym(
        R"(([A-Za-z_][A-Za-z0-9_.$]*\+0x[0-9a-f]+)(/0x[0-9a-f]+)?( \[[A-Za-z0-9_-]+\])?)");
    std::smatch m;
    if (!std::regex_search(detail, m, sym)) return "";
    return m.str(1) + m.str(3);
}

namespace {

std::string call_text(const FallibleCall& c) {
    std::string which =
        c.export_name == c.function ? c.function : c.function + " (" + c.export_name + ")";
    return "call " + std::to_string(c.nth) + " of " + which + " from " + c.where;
}

std::string result_text(const FaultPath& p) {
    if (!p.reached) return "not reached (the run ended " + p.ending + " before it)";
    if (p.ending == "ok" || p.ending == "errno") {
        if (!p.init_ret) return "insmod: " + std::to_string(p.exit_status);
        return "init returned " + std::to_string(*p.init_ret);
    }
    return "run ended: " + p.ending;
}

}  // namespace

void print_fault_scan(std::ostream& os, const FaultScan& scan, const std::string& reproduce,
                      const std::string& module_arg) {
    os << "faults: " << (scan.module.empty() ? module_arg : scan.module) << " (" << scan.arch
       << "): load and init made " << scan.calls.size() << " fallible call"
       << (scan.calls.size() == 1 ? "" : "s") << "; without a failure the run ended "
       << scan.ending;
    if (scan.init_ret) os << ", init returned " << *scan.init_ret;
    os << "\n";
    for (const FaultFinding& f : scan.baseline_findings)
        os << "  without a failure: " << f.kind << ": " << f.detail << "\n";
    std::map<std::string, size_t> by_kind;
    for (const FaultPath& p : scan.paths) {
        os << "  " << call_text(p.call) << " fails (" << fail_argument(p.fail)
           << "): " << result_text(p) << "\n";
        for (const FaultFinding& f : p.findings) {
            os << "    " << f.kind << ": " << f.detail << "\n";
            ++by_kind[f.kind];
        }
        for (const FaultFinding& f : p.notes)
            os << "    note: " << f.kind << ": " << f.detail << "\n";
        if (!p.findings.empty() || !p.notes.empty())
            os << "    reproduce: " << reproduce << " --fail " << fail_argument(p.fail) << " "
               << module_arg << "\n";
    }
    os << "faults: " << scan.paths.size() << " error path" << (scan.paths.size() == 1 ? "" : "s")
       << ", " << scan.paths_with_findings() << " with findings";
    if (!by_kind.empty()) {
        os << " (";
        bool first = true;
        for (const auto& [k, n] : by_kind) {
            os << (first ? "" : ", ") << k << " " << n;
            first = false;
        }
        os << ")";
    }
    os << ", " << scan.notes() << " ignored failure" << (scan.notes() == 1 ? "" : "s") << "\n";
}

nlohmann::json fault_scan_json(const FaultScan& scan, const std::string& reproduce,
                               const std::string& module_arg) {
    using nlohmann::json;
    auto findings = [](const std::vector<FaultFinding>& v) {
        json a = json::array();
        for (const FaultFinding& f : v)
            a.push_back({{"kind", f.kind}, {"detail", f.detail}});
        return a;
    };
    json r;
    r["file"] = module_arg;
    r["module"] = scan.module;
    r["arch"] = scan.arch;
    r["baseline"] = {{"ending", scan.ending},
                     {"exit_status", scan.exit_status},
                     {"init_ret", scan.init_ret ? json(*scan.init_ret) : json()},
                     {"findings", findings(scan.baseline_findings)}};
    json paths = json::array();
    for (const FaultPath& p : scan.paths) {
        json j;
        j["function"] = p.call.function;
        j["export"] = p.call.export_name;
        j["nth"] = p.call.nth;
        j["where"] = p.call.where;
        j["fail"] = fail_argument(p.fail);
        j["reached"] = p.reached;
        j["ending"] = p.ending;
        j["exit_status"] = p.exit_status;
        j["init_ret"] = p.init_ret ? json(*p.init_ret) : json();
        j["findings"] = findings(p.findings);
        j["notes"] = findings(p.notes);
        j["reproduce"] = reproduce + " --fail " + fail_argument(p.fail) + " " + module_arg;
        paths.push_back(j);
    }
    r["paths"] = paths;
    r["summary"] = {{"error_paths", scan.paths.size()},
                    {"paths_with_findings", scan.paths_with_findings()},
                    {"findings", scan.findings()},
                    {"ignored_failures", scan.notes()}};
    return r;
}

}  // namespace kmodemu
