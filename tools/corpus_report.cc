// `kmodemu corpus`'s reports: the real kernel's verdicts and the comparison with them, the JSON
// report with its totals and rankings, the merge of shards, JUnit and the summary table.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include "loader/decompress.h"
#include "tools/corpus.h"

namespace kmodemu::corpus {

// --- the real kernel's verdicts ---

ExpectedFile read_expected(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    Decompressed d = decompress_module(std::move(bytes));
    if (d.err) throw std::runtime_error(path + ": " + d.message);
    std::string text(d.bytes.begin(), d.bytes.end());
    ExpectedFile f;
    std::istringstream lines(text);
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception& e) {
            throw std::runtime_error(path + ":" + std::to_string(n) + ": " + e.what());
        }
        if (f.header.is_null()) {
            if (!j.contains("kmodemu_corpus_oracle"))
                throw std::runtime_error(path +
                                         ": the first line is not a kmodemu_corpus_oracle "
                                         "header");
            f.header = std::move(j);
            continue;
        }
        if (!j.contains("module") || !j["module"].is_string())
            throw std::runtime_error(path + ":" + std::to_string(n) + ": no \"module\"");
        std::string m = j["module"].get<std::string>();
        f.modules[m] = std::move(j);
    }
    if (f.header.is_null()) throw std::runtime_error(path + ": empty");
    return f;
}

namespace {

std::vector<std::string> strings(const json& j) {
    std::vector<std::string> v;
    if (j.is_array())
        for (const json& e : j)
            if (e.is_string()) v.push_back(e.get<std::string>());
    return v;
}

// insmod's status as the comparison names it: "0", "19 ENODEV", "139 oops", "124 hang",
// "69 unimplemented X"; the real kernel's "hang" (the guest died) as "hang".
std::string describe_ours(const json& r) {
    int s = r.value("exit_status", 0);
    std::string v = r.value("verdict", "");
    if (v == "dependency_failed") v = r.value("reason", "");  // the dependency's own verdict
    if (s == 0) return "0";
    if (v == "unimplemented" || (s == exit_unimplemented && r.contains("unimplemented_call")))
        return "69 unimplemented " + r.value("unimplemented_call", "?");
    if (v == "internal") return std::to_string(s) + " internal";
    if (s == exit_oops) return "139 " + (v.empty() ? std::string("oops") : v);
    if (s == exit_hang) return "124 hang";
    return std::to_string(s) + " " + errno_string(s);
}

std::string describe_real(const json& rc) {
    if (rc.is_string()) return rc.get<std::string>();
    int s = rc.get<int>();
    if (s == 0) return "0";
    if (s == exit_oops) return "139 oops";
    if (s == exit_hang) return "124 hang";
    return std::to_string(s) + " " + errno_string(s);
}

bool same_status(const json& r, const json& rc) {
    int ours = r.value("exit_status", -1);
    if (rc.is_string()) return rc.get<std::string>() == "hang" && ours == exit_hang;
    return rc.is_number_integer() && rc.get<int>() == ours;
}

// The first line where two logs part, as "real: X / kmodemu: Y".
std::string first_difference(const std::vector<std::string>& real,
                             const std::vector<std::string>& ours) {
    size_t i = 0;
    while (i < real.size() && i < ours.size() && real[i] == ours[i])
        ++i;
    std::string a = i < real.size() ? "'" + real[i] + "'" : "(end)";
    std::string b = i < ours.size() ? "'" + ours[i] + "'" : "(end)";
    return "line " + std::to_string(i + 1) + ": real " + a + " / kmodemu " + b;
}

}  // namespace

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when the byte there starts none.
size_t utf8_sequence(const std::string& s, size_t i) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k)
        ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    return ok ? n : 0;
}

// `s` with each byte that starts no valid UTF-8 sequence replaced by replacement(byte).
template <class F>
std::string replace_invalid_utf8(const std::string& s, F replacement) {
    std::string o;
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_sequence(s, i);
        if (n) {
            o.append(s, i, n);
            i += n;
        } else {
            o += replacement(static_cast<unsigned char>(s[i]));
            ++i;
        }
    }
    return o;
}

// A kernel line as the recorder writes it: invalid UTF-8 bytes as \xNN text (Python's
// backslashreplace).
std::string as_recorded(const std::string& s) {
    return replace_invalid_utf8(s, [](unsigned char c) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        return std::string(buf);
    });
}

std::vector<std::string> recorded_lines(const json& lines) {
    std::vector<std::string> v = strings(lines);
    for (std::string& l : v)
        l = as_recorded(l);
    return v;
}

}  // namespace

void compare_expected(json& r, const json& real, const oracle::Context& ctx) {
    json e;
    const json& rc = real.contains("rc") ? real["rc"] : json(nullptr);
    const json& dep = real.contains("dep_failed") ? real["dep_failed"] : json(nullptr);
    bool real_dep = rc.is_null() && dep.is_object();
    if (!rc.is_number_integer() && !rc.is_string() && !real_dep) {
        r["expected"] = {{"recorded", false}};
        return;
    }
    e["recorded"] = true;
    e["rc"] = rc;
    std::vector<std::string> theirs, ours;
    bool status;
    std::string real_desc;
    if (real_dep) {
        // insmod of a dependency failed: the target was not inserted. The same verdict is the
        // same dependency failing with the same status, and the lines compared are its insmod's.
        e["dep_failed"] = dep;
        const json& drc = dep.contains("rc") ? dep["rc"] : json(nullptr);
        std::string dmod = dep.value("module", "");
        real_desc = "dependency " + (drc.is_null() ? std::string("?") : describe_real(drc));
        status = r.value("verdict", "") == "dependency_failed" &&
                 r.value("dependency_failed", "") == dmod &&
                 (drc.is_number_integer() || drc.is_string()) && same_status(r, drc);
        theirs = oracle::normalise(recorded_lines(dep.value("log", json::array())), ctx);
        if (r.contains("dependency"))
            ours =
                oracle::normalise(recorded_lines(r["dependency"].value("log", json::array())), ctx);
    } else {
        real_desc = describe_real(rc);
        status = r.value("verdict", "") != "dependency_failed" && same_status(r, rc);
        theirs = oracle::normalise(recorded_lines(real.value("log", json::array())), ctx);
        ours = oracle::normalise(recorded_lines(r.value("log", json::array())), ctx);
    }
    e["same_status"] = status;
    bool lines = status && theirs == ours;
    e["same_lines"] = lines;
    if (!status) {
        std::string mine = describe_ours(r);
        if (r.value("verdict", "") == "dependency_failed") mine = "dependency " + mine;
        e["cause"] = "kmodemu " + mine + " / real " + real_desc;
    } else if (!lines) {
        e["cause"] = "lines differ";
        e["difference"] = first_difference(theirs, ours);
    }
    r["expected"] = std::move(e);
}

// --- reports ---

namespace {

json ranking(const std::map<std::string, std::set<std::string>>& by_name) {
    std::vector<std::pair<std::string, size_t>> v;
    for (const auto& [n, mods] : by_name)
        v.emplace_back(n, mods.size());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    json out = json::array();
    for (const auto& [n, c] : v)
        out.push_back({{"name", n}, {"modules", c}});
    return out;
}

json count_map(const std::map<std::string, size_t>& m) {
    json j = json::object();
    for (const auto& [k, v] : m)
        j[k] = v;
    return j;
}

}  // namespace

json make_report(std::vector<json> records, json meta) {
    std::stable_sort(records.begin(), records.end(), [](const json& a, const json& b) {
        return a.value("module", "") < b.value("module", "");
    });
    std::map<std::string, size_t> verdicts, statuses, reasons, init_errnos;
    for (const std::string& v : verdict_names())
        verdicts[v] = 0;
    std::map<std::string, std::set<std::string>> called, lazily, stubbed, stubbed_bound, data;
    size_t rel_checked = 0, rel_match = 0, rel_applied = 0, rel_in_file = 0;
    std::map<std::string, size_t> rel_types, rel_unhandled;
    std::vector<std::string> rel_mismatched;
    uint64_t instructions = 0;
    double run_ms = 0;
    // The comparison with the real kernel.
    size_t compared = 0, not_recorded = 0, same_status = 0, same_lines = 0;
    std::map<std::string, std::vector<std::string>> causes;
    for (const json& r : records) {
        std::string m = r.value("module", "");
        ++verdicts[r.value("verdict", "internal")];
        ++statuses[std::to_string(r.value("exit_status", 0))];
        if (r.value("verdict", "") == "refused") ++reasons[r.value("reason", "")];
        if (r.value("verdict", "") == "init_errno") ++init_errnos[r.value("reason", "")];
        if (r.contains("unimplemented_call")) called[r["unimplemented_call"]].insert(m);
        for (const std::string& n : strings(r.value("bound_lazily", json::array())))
            lazily[n].insert(m);
        for (const std::string& n : strings(r.value("auto_stubs_called", json::array())))
            stubbed[n].insert(m);
        for (const std::string& n : strings(r.value("auto_stubs", json::array())))
            stubbed_bound[n].insert(m);
        for (const std::string& n : strings(r.value("auto_stub_data", json::array())))
            data[n].insert(m);
        instructions += r.value("instructions", uint64_t(0));
        if (r.contains("ms")) run_ms += r["ms"].value("total", 0.0);
        if (r.contains("relocations")) {
            const json& rel = r["relocations"];
            if (rel.contains("types"))
                for (auto& [t, n] : rel["types"].items())
                    rel_types[t] += n.get<size_t>();
            for (const std::string& t : strings(rel.value("unhandled", json::array())))
                ++rel_unhandled[t];
            if (rel.contains("match") && rel["match"].is_boolean()) {
                ++rel_checked;
                rel_applied += rel.value("applied", size_t(0));
                rel_in_file += rel.value("in_file", size_t(0));
                if (rel["match"].get<bool>())
                    ++rel_match;
                else
                    rel_mismatched.push_back(m);
            }
        }
        if (r.contains("expected")) {
            const json& e = r["expected"];
            if (!e.value("recorded", false)) {
                ++not_recorded;
                continue;
            }
            ++compared;
            if (e.value("same_status", false)) ++same_status;
            if (e.value("same_lines", false)) ++same_lines;
            if (e.contains("cause")) causes[e["cause"]].push_back(m);
        }
    }
    json totals;
    totals["modules"] = records.size();
    totals["verdicts"] = count_map(verdicts);
    totals["exit_statuses"] = count_map(statuses);
    totals["refused_reasons"] = count_map(reasons);
    totals["init_errnos"] = count_map(init_errnos);
    totals["instructions"] = instructions;
    totals["module_ms"] = run_ms;  // the sum of the modules' own times (workers in parallel)
    totals["relocations"] = {{"checked", rel_checked},
                             {"match", rel_match},
                             {"mismatch", rel_checked - rel_match},
                             {"mismatched_modules", rel_mismatched},
                             {"applied", rel_applied},
                             {"in_file", rel_in_file},
                             {"types", count_map(rel_types)},
                             {"unhandled_by_kernel", count_map(rel_unhandled)}};
    json report = std::move(meta);
    report["kmodemu_corpus"] = 1;
    report["totals"] = totals;
    report["ranking"] = {{"unimplemented_called", ranking(called)},
                         {"bound_lazily", ranking(lazily)},
                         {"auto_stubbed_called", ranking(stubbed)},
                         {"auto_stubbed", ranking(stubbed_bound)},
                         {"data_auto_stubbed", ranking(data)}};
    if (compared || not_recorded) {
        std::vector<std::pair<std::string, std::vector<std::string>>> c(causes.begin(),
                                                                        causes.end());
        std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
            return a.second.size() > b.second.size();
        });
        json groups = json::array();
        for (auto& [cause, mods] : c) {
            json ex = json::array();
            for (size_t i = 0; i < mods.size() && i < 5; ++i)
                ex.push_back(mods[i]);
            groups.push_back({{"cause", cause}, {"modules", mods.size()}, {"examples", ex}});
        }
        report["expected"] = {{"compared", compared},
                              {"not_recorded", not_recorded},
                              {"same_status", same_status},
                              {"same_lines", same_lines},
                              {"disagreements", groups}};
    }
    report["modules"] = std::move(records);
    return report;
}

json merge_reports(const std::vector<json>& reports) {
    if (reports.empty()) throw std::runtime_error("nothing to merge");
    json meta = json::object();
    std::vector<json> records;
    std::set<std::string> seen;
    json shards = json::array();
    double elapsed = 0;
    for (const json& r : reports) {
        if (!r.contains("kmodemu_corpus")) throw std::runtime_error("not a corpus report");
        for (const char* k : {"kernel", "arch", "release"}) {
            if (!meta.contains(k) && r.contains(k)) meta[k] = r[k];
            if (r.contains(k) && meta[k] != r[k])
                throw std::runtime_error(std::string("reports of different kernels (") + k + " " +
                                         meta[k].dump() + " / " + r[k].dump() + ")");
        }
        if (r.contains("shard")) shards.push_back(r["shard"]);
        if (r.contains("run")) elapsed += r["run"].value("elapsed_s", 0.0);
        for (const json& m : r.value("modules", json::array())) {
            std::string name = m.value("module", "");
            if (!seen.insert(name).second)
                throw std::runtime_error("module " + name + " is in two reports");
            records.push_back(m);
        }
    }
    for (const json& r : reports)
        for (const char* k : {"budget", "time_limit", "auto_stub", "expected_file"})
            if (r.contains(k) && !meta.contains(k)) meta[k] = r[k];
    meta["merged_from"] = reports.size();
    if (!shards.empty()) meta["shards"] = shards;
    meta["run"] = {{"elapsed_s", elapsed}};  // the shards' times added
    return make_report(std::move(records), std::move(meta));
}

namespace {

// XML 1.0 text: escapes, and characters XML cannot carry replaced by '?'.
std::string xml(const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
        switch (c) {
            case '&':
                o += "&amp;";
                break;
            case '<':
                o += "&lt;";
                break;
            case '>':
                o += "&gt;";
                break;
            case '"':
                o += "&quot;";
                break;
            case '\'':
                o += "&apos;";
                break;
            default:
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    o += '?';
                else
                    o += char(c);
        }
    }
    return o;
}

// Invalid UTF-8 (a module's printk of raw bytes) would make the XML ill-formed: such bytes
// become '?'.
std::string valid_utf8(const std::string& s) {
    return replace_invalid_utf8(s, [](unsigned char) { return std::string("?"); });
}

std::string text(const std::string& s) {
    return xml(valid_utf8(s));
}

}  // namespace

std::string junit_xml(const json& report) {
    const json& mods = report["modules"];
    bool with_expected = report.contains("expected");
    size_t failures = 0, errors = 0;
    std::ostringstream cases;
    double total_s = 0;
    for (const json& r : mods) {
        std::string module = r.value("module", "");
        std::string dir, base = module;
        if (size_t s = module.rfind('/'); s != std::string::npos) {
            dir = module.substr(0, s);
            base = module.substr(s + 1);
        }
        std::replace(dir.begin(), dir.end(), '/', '.');
        while (!dir.empty() && dir[0] == '.')
            dir.erase(0, 1);
        double secs = r.contains("ms") ? r["ms"].value("total", 0.0) / 1000 : 0;
        total_s += secs;
        char t[32];
        std::snprintf(t, sizeof t, "%.3f", secs);
        std::string verdict = r.value("verdict", "");
        cases << "    <testcase classname=\"" << text(dir.empty() ? "corpus" : dir) << "\" name=\""
              << text(base) << "\" time=\"" << t << "\">\n";
        std::string what = verdict + " (exit status " + std::to_string(r.value("exit_status", 0)) +
                           ")" +
                           (r.value("detail", "").empty() ? "" : ": " + r.value("detail", ""));
        std::string body;
        for (const std::string& l : strings(r.value("log", json::array())))
            body += l + "\n";
        if (verdict == "internal") {
            ++errors;
            cases << "      <error type=\"internal\" message=\"" << text(what) << "\">"
                  << text(body) << "</error>\n";
        } else if (with_expected && r.contains("expected") &&
                   r["expected"].value("recorded", false) &&
                   !r["expected"].value("same_status", false)) {
            ++failures;
            cases << "      <failure type=\"differs from the real kernel\" message=\""
                  << text(r["expected"].value("cause", "")) << "\">" << text(what + "\n" + body)
                  << "</failure>\n";
        } else if (!with_expected && (verdict == "oops" || verdict == "bug" || verdict == "hang" ||
                                      verdict == "kasan" || verdict == "lockdep")) {
            ++failures;
            cases << "      <failure type=\"" << verdict << "\" message=\"" << text(what) << "\">"
                  << text(body) << "</failure>\n";
        } else {
            cases << "      <system-out>" << text(what + "\n" + body) << "</system-out>\n";
        }
        cases << "    </testcase>\n";
    }
    std::ostringstream o;
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", total_s);
    std::string name = "kmodemu corpus";
    if (report.contains("kernel")) name += " " + report["kernel"].get<std::string>();
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites tests=\"" << mods.size() << "\" failures=\"" << failures << "\" errors=\""
      << errors << "\" time=\"" << t << "\">\n"
      << "  <testsuite name=\"" << text(name) << "\" tests=\"" << mods.size() << "\" failures=\""
      << failures << "\" errors=\"" << errors << "\" skipped=\"0\" time=\"" << t << "\">\n"
      << cases.str() << "  </testsuite>\n</testsuites>\n";
    return o.str();
}

std::string summary_table(const json& report, size_t top) {
    std::ostringstream o;
    const json& t = report["totals"];
    size_t n = t.value("modules", size_t(0));
    char buf[256];
    o << "kmodemu corpus: " << n << " modules";
    if (report.contains("kernel")) o << " on " << report["kernel"].get<std::string>();
    o << "\n";
    if (report.contains("run")) {
        const json& run = report["run"];
        double el = run.value("elapsed_s", 0.0);
        std::snprintf(buf, sizeof buf, "  %.1f s, %.1f modules/s", el, el > 0 ? n / el : 0.0);
        o << buf;
        if (run.contains("jobs")) o << ", " << run["jobs"].get<unsigned>() << " workers";
        if (run.contains("cpu_s")) {
            double cpu = run["cpu_s"].get<double>();
            std::snprintf(buf, sizeof buf, ", %.1f s of CPU (%.1f modules per CPU second)", cpu,
                          cpu > 0 ? n / cpu : 0.0);
            o << buf;
        }
        o << "\n";
    }
    o << "\n  verdict             modules      %\n";
    for (const std::string& v : verdict_names()) {
        size_t c = t["verdicts"].value(v, size_t(0));
        if (!c) continue;
        std::snprintf(buf, sizeof buf, "  %-18s %8zu %6.1f\n", v.c_str(), c,
                      n ? 100.0 * c / n : 0.0);
        o << buf;
    }
    auto table = [&](const char* title, const json& m) {
        std::vector<std::pair<std::string, size_t>> v;
        for (auto& [k, c] : m.items())
            v.emplace_back(k, c.get<size_t>());
        if (v.empty()) return;
        std::stable_sort(v.begin(), v.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        o << "\n  " << title << "\n";
        for (const auto& [k, c] : v) {
            std::snprintf(buf, sizeof buf, "    %-30s %6zu\n", k.c_str(), c);
            o << buf;
        }
    };
    table("refused, by reason", t["refused_reasons"]);
    table("init returned", t["init_errnos"]);
    const json& rk = report["ranking"];
    auto rank = [&](const char* title, const json& list) {
        if (list.empty()) return;
        o << "\n  " << title << "\n";
        for (size_t i = 0; i < list.size() && i < top; ++i) {
            std::snprintf(buf, sizeof buf, "    %-40s %6zu\n",
                          list[i]["name"].get<std::string>().c_str(),
                          list[i]["modules"].get<size_t>());
            o << buf;
        }
    };
    rank("missing kernel functions the modules called (modules stopped there)",
         rk["unimplemented_called"]);
    rank("missing kernel functions the modules import (bound lazily)", rk["bound_lazily"]);
    rank("auto-stubbed functions called", rk["auto_stubbed_called"]);
    rank("data exports kmodemu lacks (zeroed objects)", rk["data_auto_stubbed"]);
    const json& rel = t["relocations"];
    std::snprintf(buf, sizeof buf,
                  "\n  relocations: %zu modules checked, %zu match the file's count, %zu "
                  "differ; %zu applied\n",
                  rel.value("checked", size_t(0)), rel.value("match", size_t(0)),
                  rel.value("mismatch", size_t(0)), rel.value("applied", size_t(0)));
    o << buf;
    if (!rel["unhandled_by_kernel"].empty()) {
        o << "  relocation types the kernel does not handle:";
        for (auto& [k, c] : rel["unhandled_by_kernel"].items())
            o << " " << k << " (" << c.get<size_t>() << " modules)";
        o << "\n";
    }
    if (report.contains("expected")) {
        const json& e = report["expected"];
        size_t c = e.value("compared", size_t(0));
        std::snprintf(buf, sizeof buf,
                      "\n  the real kernel: %zu modules compared (%zu not recorded): %zu the "
                      "same exit status (%.1f%%), %zu also the same lines (%.1f%%)\n",
                      c, e.value("not_recorded", size_t(0)), e.value("same_status", size_t(0)),
                      c ? 100.0 * e.value("same_status", size_t(0)) / c : 0.0,
                      e.value("same_lines", size_t(0)),
                      c ? 100.0 * e.value("same_lines", size_t(0)) / c : 0.0);
        o << buf;
        const json& d = e["disagreements"];
        for (size_t i = 0; i < d.size() && i < top; ++i) {
            std::snprintf(buf, sizeof buf, "    %6zu  %s\n", d[i]["modules"].get<size_t>(),
                          d[i]["cause"].get<std::string>().c_str());
            o << buf;
        }
    }
    return o.str();
}

}  // namespace kmodemu::corpus
