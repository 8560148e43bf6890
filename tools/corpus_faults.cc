// `kmodemu corpus --faults`: `kmodemu faults` (tools/faults.cc) over many modules, with corpus's
// isolation: each module's first run is a job of the worker pool, then each selected error path
// of each module whose init returned 0 is a job of its own (a kmodemu crash on one path is
// recorded as that path's `internal` ending, and the scan goes on).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "tools/corpus.h"
#include "tools/faults.h"

namespace kmodemu::corpus {

namespace {

RunOptions run_options(const Options& opts) {
    RunOptions ro;
    ro.budget = opts.budget;
    ro.time_limit = opts.time_limit;
    ro.auto_stub = opts.auto_stub;
    ro.profile = opts.profile;
    ro.unload = true;
    return ro;
}

json findings_json(const std::vector<FaultFinding>& v) {
    json a = json::array();
    for (const FaultFinding& f : v)
        a.push_back({{"kind", f.kind}, {"detail", f.detail}});
    return a;
}

std::vector<FaultFinding> findings_of(const json& a) {
    std::vector<FaultFinding> v;
    if (a.is_array())
        for (const json& f : a)
            v.push_back({f.value("kind", ""), f.value("detail", "")});
    return v;
}

json call_json(const FallibleCall& c) {
    return {
        {"function", c.function}, {"export", c.export_name}, {"nth", c.nth}, {"where", c.where}};
}

// A module's first run, in a worker: whether init returned 0, and the calls to make fail.
json baseline_job(const Job& job, const Options& opts, size_t max_paths) {
    json r;
    r["module"] = job.module;
    r["path"] = job.path;
    r["name"] = job.name;
    std::vector<ModuleInput> inputs;
    std::string failed;
    int err = 0;
    if (!job_inputs(job, inputs, failed, err)) {
        r["skipped"] = "read";
        r["detail"] = "can't read '" + failed + "': " + std::strerror(err);
        return r;
    }
    RunOptions ro = run_options(opts);
    FaultScan s = fault_baseline(inputs, ro, max_paths);
    r["baseline"] = {{"ending", s.ending},
                     {"exit_status", s.exit_status},
                     {"init_ret", s.init_ret ? json(*s.init_ret) : json()},
                     {"findings", findings_json(s.baseline_findings)}};
    // Init returned 0, or the module has none (its load may still make fallible calls).
    if (s.ending == "ok" && (!s.init_ret || *s.init_ret == 0)) {
        r["calls"] = s.calls.size();
        json sel = json::array();
        for (size_t i : s.selected)
            sel.push_back(call_json(s.calls[i]));
        r["selected"] = sel;
    } else if (s.ending == "errno") {
        // A load refused, a dependency that failed, or an init that returned an errno.
        r["skipped"] = s.init_ret ? "init_errno" : "load_failed";
    } else {
        r["skipped"] = s.ending;  // unimplemented, oops, panic, hang, internal
    }
    return r;
}

// One error path's run, in a worker: all its findings (the parent leaves out the first run's).
json path_job(const Job& job, const Options& opts) {
    json r;
    std::vector<ModuleInput> inputs;
    std::string failed;
    int err = 0;
    if (!job_inputs(job, inputs, failed, err)) {
        r["ending"] = "internal";
        r["detail"] = "can't read '" + failed + "': " + std::strerror(err);
        return r;
    }
    RunOptions ro = run_options(opts);
    ro.faults = FaultPlan{};
    ro.faults.seed = ro.seed;
    ro.faults.record = true;
    ro.lockdep = true;
    FallibleCall c;
    c.function = job.fail->function;
    c.nth = job.fail->nth;
    FaultPath p = fault_path(inputs, ro, c, {});
    r["reached"] = p.reached;
    r["ending"] = p.ending;
    r["exit_status"] = p.exit_status;
    r["init_ret"] = p.init_ret ? json(*p.init_ret) : json();
    if (!p.unimplemented.empty()) r["unimplemented"] = p.unimplemented;
    r["findings"] = findings_json(p.findings);
    r["notes"] = findings_json(p.notes);
    return r;
}

std::string shell_word(const std::string& s) {
    if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~") == std::string::npos) return s;
    std::string q = "'";
    for (char ch : s)
        q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

}  // namespace

json fault_corpus(const std::vector<Job>& jobs, const Options& opts, const FaultCorpusOptions& fo,
                  json meta) {
    // The first runs.
    std::vector<json> mods(jobs.size());
    size_t done = 0;
    Options o1 = opts;
    o1.run = [max = fo.max_paths](const Job& j, const Options& o) {
        return baseline_job(j, o, max);
    };
    run_jobs(jobs, o1, [&](size_t i, json r) {
        if (r.value("verdict", "") == "internal") {
            // The worker died or overran on the first run: kmodemu's failure, not a finding.
            r = {{"module", jobs[i].module},
                 {"path", jobs[i].path},
                 {"name", jobs[i].name},
                 {"skipped", "internal"},
                 {"detail", r.value("detail", "")}};
        }
        mods[i] = std::move(r);
        if (fo.progress) fo.progress("modules", ++done, jobs.size());
    });

    // The error paths, each a job.
    std::vector<Job> paths;
    std::vector<std::pair<size_t, size_t>> owner;  // (module, selected call)
    for (size_t i = 0; i < jobs.size(); ++i) {
        if (mods[i].contains("skipped")) continue;
        const json& sel = mods[i]["selected"];
        for (size_t k = 0; k < sel.size(); ++k) {
            Job j = jobs[i];
            j.fail =
                FaultSpec{sel[k].value("function", ""), sel[k].value("nth", uint64_t(1)), ENOMEM};
            paths.push_back(std::move(j));
            owner.emplace_back(i, k);
        }
    }
    std::vector<json> results(paths.size());
    done = 0;
    Options o2 = opts;
    o2.run = path_job;
    run_jobs(paths, o2, [&](size_t i, json r) {
        if (r.value("verdict", "") == "internal")
            r = {{"ending", "internal"}, {"detail", r.value("detail", "")}};
        results[i] = std::move(r);
        if (fo.progress) fo.progress("paths", ++done, paths.size());
    });

    // The reproducer's options: those of the runs.
    std::string reproduce = "kmodemu run --lockdep";
    if (!fo.kit.empty()) reproduce += " --kernel " + shell_word(fo.kit);
    reproduce += " --budget " + std::to_string(opts.budget);
    {
        std::ostringstream t;
        t << opts.time_limit;
        reproduce += " --time-limit " + t.str();
    }
    if (opts.auto_stub) reproduce += " --auto-stub";

    // Each module's record: its paths, with the first run's findings left out.
    struct Distinct {
        std::string kind, location, detail, module, reproduce;
        size_t paths = 0;
        std::set<std::string> modules;
    };
    std::map<std::string, Distinct> distinct;
    size_t tried = 0, error_paths = 0, cut = 0, with_findings = 0, findings = 0, notes = 0,
           internal = 0, not_reached = 0, unimplemented = 0;
    std::map<std::string, size_t> skipped, by_kind, endings;
    for (size_t i = 0; i < jobs.size(); ++i) {
        json& m = mods[i];
        if (m.contains("skipped")) {
            ++skipped[m["skipped"].get<std::string>()];
            continue;
        }
        ++tried;
        m["paths"] = json::array();
        m["paths_cut"] = m["calls"].get<size_t>() - m["selected"].size();
        cut += m["paths_cut"].get<size_t>();
    }
    for (size_t n = 0; n < paths.size(); ++n) {
        auto [i, k] = owner[n];
        json& m = mods[i];
        const json& call = m["selected"][k];
        json& r = results[n];
        std::vector<FaultFinding> base = findings_of(m["baseline"]["findings"]);
        std::vector<FaultFinding> fs;
        for (const FaultFinding& f : findings_of(r["findings"]))
            if (std::find(base.begin(), base.end(), f) == base.end()) fs.push_back(f);
        json p = call;
        std::string fail = call.value("function", "") + ":" +
                           std::to_string(call.value("nth", uint64_t(1))) + ":ENOMEM";
        p["fail"] = fail;
        std::string ending = r.value("ending", "internal");
        p["ending"] = ending;
        for (const char* key : {"reached", "exit_status", "init_ret", "unimplemented", "detail"})
            if (r.contains(key)) p[key] = r[key];
        p["findings"] = findings_json(fs);
        p["notes"] = r.contains("notes") ? r["notes"] : json::array();
        // The module as `kmodemu run --kernel KIT` finds it: by its path in the kit's tree.
        const std::string& arg =
            !fo.kit.empty() && jobs[i].module != jobs[i].path ? jobs[i].module : jobs[i].path;
        std::string repro = reproduce + " --fail " + fail + " " + shell_word(arg);
        for (const std::string& a : jobs[i].params)
            repro += " " + shell_word(a);
        if (!fs.empty() || !p["notes"].empty()) p["reproduce"] = repro;
        ++error_paths;
        ++endings[ending];
        internal += ending == "internal";
        unimplemented += ending == "unimplemented";
        not_reached += ending != "internal" && !r.value("reached", false);
        with_findings += !fs.empty();
        findings += fs.size();
        notes += p["notes"].size();
        for (const FaultFinding& f : fs) {
            ++by_kind[f.kind];
            std::string loc = finding_location(f.detail);
            // Where: the finding's own location; else (a BUG in mm/slub.c, an rmmod that
            // failed) its text, at the failed call's site.
            std::string where = !loc.empty() ? loc
                                             : f.detail + " after a failure at " +
                                                   finding_location(call.value("where", ""));
            if (loc.find(" [") == std::string::npos) where += " (" + jobs[i].name + ")";
            std::string sig = f.kind + " " + where;
            Distinct& d = distinct[sig];
            if (!d.paths) {
                d.kind = f.kind;
                d.location = where;
                d.detail = f.detail;
                d.module = jobs[i].module;
                d.reproduce = repro;
            }
            ++d.paths;
            d.modules.insert(jobs[i].module);
        }
        m["paths"].push_back(std::move(p));
    }
    for (json& m : mods)
        if (!m.contains("skipped")) m.erase("selected");

    json dj = json::array();
    for (const auto& [sig, d] : distinct)
        dj.push_back({{"signature", sig},
                      {"kind", d.kind},
                      {"where", d.location},
                      {"detail", d.detail},
                      {"module", d.module},
                      {"modules", d.modules.size()},
                      {"paths", d.paths},
                      {"reproduce", d.reproduce}});
    json distinct_by_kind = json::object();
    for (const auto& [sig, d] : distinct)
        distinct_by_kind[d.kind] = distinct_by_kind.value(d.kind, 0) + 1;
    json report;
    report["meta"] = std::move(meta);
    report["meta"]["max_paths"] = fo.max_paths;
    report["totals"] = {{"modules", jobs.size()},
                        {"tried", tried},
                        {"skipped", skipped},
                        {"error_paths", error_paths},
                        {"paths_cut", cut},
                        {"path_endings", endings},
                        {"paths_not_reached", not_reached},
                        {"paths_unimplemented", unimplemented},
                        {"paths_internal", internal},
                        {"paths_with_findings", with_findings},
                        {"findings", findings},
                        {"findings_by_kind", by_kind},
                        {"distinct_findings", distinct.size()},
                        {"distinct_by_kind", distinct_by_kind},
                        {"ignored_failures", notes}};
    report["modules"] = std::move(mods);
    report["findings"] = std::move(dj);
    return report;
}

std::string fault_summary(const json& report, size_t top) {
    std::ostringstream os;
    const json& t = report["totals"];
    os << "faults: " << t["modules"] << " modules, " << t["tried"]
       << " tried (init returned 0 without a failure)";
    if (!t["skipped"].empty()) {
        os << "; skipped:";
        for (const auto& [k, v] : t["skipped"].items())
            os << " " << k << " " << v;
    }
    os << "\nfaults: " << t["error_paths"] << " error paths run (" << t["paths_cut"]
       << " cut by --max-paths " << report["meta"].value("max_paths", 0) << "); endings:";
    for (const auto& [k, v] : t["path_endings"].items())
        os << " " << k << " " << v;
    os << "\nfaults: " << t["paths_with_findings"] << " paths with findings, " << t["findings"]
       << " findings";
    if (!t["findings_by_kind"].empty()) {
        os << " (";
        bool first = true;
        for (const auto& [k, v] : t["findings_by_kind"].items()) {
            os << (first ? "" : ", ") << k << " " << v;
            first = false;
        }
        os << ")";
    }
    os << ", " << t["distinct_findings"] << " distinct; " << t["ignored_failures"]
       << " ignored failures\n";
    if (const json* m = &report["meta"]; m->contains("run"))
        os << "faults: " << (*m)["run"].value("elapsed_s", 0.0) << " s wall, "
           << (*m)["run"].value("jobs", 0) << " workers\n";
    // The distinct findings seen on the most paths first.
    std::vector<const json*> v;
    for (const json& f : report["findings"])
        v.push_back(&f);
    std::stable_sort(v.begin(), v.end(), [](const json* a, const json* b) {
        return (*a)["paths"].get<size_t>() > (*b)["paths"].get<size_t>();
    });
    for (size_t i = 0; i < v.size() && i < top; ++i) {
        const json& f = *v[i];
        os << "  " << f["kind"].get<std::string>() << " at " << f["where"].get<std::string>()
           << ": " << f["paths"] << " paths, " << f["modules"] << " modules\n    "
           << f["detail"].get<std::string>()
           << "\n    reproduce: " << f["reproduce"].get<std::string>() << "\n";
    }
    if (v.size() > top) os << "  ... " << v.size() - top << " more in the JSON report\n";
    return os.str();
}

}  // namespace kmodemu::corpus
