// `kmodemu corpus`: jobs and shards over a real kit's module tree, verdicts of real Debian
// modules (and of the faulty fixture), isolation of the worker processes, merge of shards, the
// comparison with the real kernel's verdicts, and JUnit.
#include <gtest/gtest.h>
#include <lzma.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "kernel_stubs/profile.h"
#include "tools/corpus.h"
#include "tools/depmod.h"

using namespace kmodemu;
using namespace kmodemu::corpus;
namespace fs = std::filesystem;

namespace {

std::string kit() {
    std::string k = KMODEMU_KIT_ARM64;
    EXPECT_FALSE(k.empty()) << "the tests need KMODEMU_KIT_ARM64";
    return k;
}

std::string moddir() {
    auto env = read_kit_env(kit() + "/kit.env");
    EXPECT_TRUE(env && env->count("KIT_MODULES"));
    return env ? (*env)["KIT_MODULES"] : "";
}

const ModuleTree& tree() {
    static const ModuleTree t = ModuleTree::of_kit(kit());
    return t;
}

std::shared_ptr<const KernelProfile> profile() {
    static const std::shared_ptr<const KernelProfile> p = KernelProfile::from_kit(kit());
    return p;
}

Options options(unsigned jobs = 2) {
    Options o;
    o.profile = profile();
    o.jobs = jobs;
    o.budget = 5'000'000;
    return o;
}

// The job of a module of the kit's tree (with its dependencies).
Job tree_job(const std::string& rel) {
    std::vector<Job> j = collect({moddir() + "/" + rel}, &tree());
    EXPECT_EQ(j.size(), 1u) << rel;
    return j.empty() ? Job{} : j[0];
}

// A module file taken alone (no tree: no dependencies).
Job file_job(const std::string& path, std::vector<std::string> params = {}) {
    std::vector<Job> j = collect({path}, nullptr);
    EXPECT_EQ(j.size(), 1u) << path;
    if (j.empty()) return Job{};
    j[0].params = std::move(params);
    return j[0];
}

std::vector<json> run_all(const std::vector<Job>& jobs, const Options& o) {
    std::vector<json> out(jobs.size());
    std::vector<int> seen(jobs.size(), 0);
    run_jobs(jobs, o, [&](size_t i, json r) {
        ++seen.at(i);
        out[i] = std::move(r);
    });
    for (size_t i = 0; i < jobs.size(); ++i)
        EXPECT_EQ(seen[i], 1) << jobs[i].module << " must have exactly one record";
    return out;
}

// A report without what depends on time.
json timeless(json r) {
    r.erase("run");
    r.erase("shard");
    r.erase("shards");
    r.erase("merged_from");
    if (r.contains("totals")) r["totals"].erase("module_ms");
    for (json& m : r["modules"])
        m.erase("ms");
    return r;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    ASSERT_TRUE(out.good()) << path;
}

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/kmodemu-corpus-test-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// The module without its appended signature (scripts/sign-file's trailer: the PKCS#7 message,
// struct module_signature, then "~Module signature appended~\n").
std::vector<uint8_t> unsigned_copy(std::vector<uint8_t> b) {
    static const std::string magic = "~Module signature appended~\n";
    EXPECT_GE(b.size(), magic.size() + 12);
    EXPECT_TRUE(std::equal(magic.begin(), magic.end(), b.end() - long(magic.size())));
    const uint8_t* info = b.data() + b.size() - magic.size() - 12;  // struct module_signature
    uint32_t sig_len =
        uint32_t(info[8]) << 24 | uint32_t(info[9]) << 16 | uint32_t(info[10]) << 8 | info[11];
    b.resize(b.size() - magic.size() - 12 - sig_len);
    return b;
}

std::string fixture(const std::string& name) {
    return std::string(KMODEMU_FIXTURES) + "/arm64/" + name + "/" + name + ".ko";
}

// --- a small XML 1.0 well-formedness check (elements, attributes, entities, UTF-8) ---
struct Xml {
    std::string s;
    size_t p = 0;
    std::string error;
    std::map<std::string, size_t> elements;  // how many of each

    bool fail(const std::string& what) {
        if (error.empty()) error = what + " at " + std::to_string(p);
        return false;
    }
    static bool name_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == ':';
    }
    std::string name() {
        size_t b = p;
        while (p < s.size() && name_char(s[p]))
            ++p;
        return s.substr(b, p - b);
    }
    void space() {
        while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p])))
            ++p;
    }
    bool chars(char end) {  // text or an attribute value up to `end`
        while (p < s.size() && s[p] != end) {
            unsigned char c = s[p];
            if (c == '<') return fail("'<' in text");
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return fail("control character");
            if (c == '&') {
                size_t semi = s.find(';', p);
                if (semi == std::string::npos) return fail("unterminated entity");
                std::string ent = s.substr(p + 1, semi - p - 1);
                static const std::set<std::string> ok = {"amp", "lt", "gt", "quot", "apos"};
                if (!ok.count(ent)) return fail("unknown entity &" + ent + ";");
                p = semi + 1;
                continue;
            }
            size_t n = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
            if (!n || p + n > s.size()) return fail("invalid UTF-8");
            for (size_t k = 1; k < n; ++k)
                if ((static_cast<unsigned char>(s[p + k]) >> 6) != 2) return fail("invalid UTF-8");
            p += n;
        }
        return true;
    }
    bool element() {
        if (s.compare(p, 1, "<") != 0) return fail("expected an element");
        ++p;
        std::string tag = name();
        if (tag.empty()) return fail("empty tag name");
        ++elements[tag];
        std::set<std::string> attrs;
        for (;;) {
            space();
            if (s.compare(p, 2, "/>") == 0) {
                p += 2;
                return true;
            }
            if (s.compare(p, 1, ">") == 0) {
                ++p;
                break;
            }
            std::string a = name();
            if (a.empty() || !attrs.insert(a).second) return fail("bad attribute in <" + tag);
            if (s.compare(p, 2, "=\"") != 0) return fail("attribute without a quoted value");
            p += 2;
            if (!chars('"')) return false;
            if (p >= s.size()) return fail("unterminated attribute");
            ++p;
        }
        for (;;) {
            if (!chars('<')) return false;
            if (p >= s.size()) return fail("unterminated <" + tag + ">");
            if (s.compare(p, 2, "</") == 0) {
                p += 2;
                if (name() != tag) return fail("mismatched end tag of <" + tag + ">");
                space();
                if (s.compare(p, 1, ">") != 0) return fail("bad end tag");
                ++p;
                return true;
            }
            if (!element()) return false;
        }
    }
    bool document() {
        if (s.compare(0, 5, "<?xml") == 0) {
            p = s.find("?>");
            if (p == std::string::npos) return fail("unterminated declaration");
            p += 2;
        }
        space();
        if (!element()) return false;
        space();
        return p == s.size() || fail("content after the root element");
    }
};

}  // namespace

TEST(Corpus, ShardsCoverEveryModuleExactlyOnce) {
    std::vector<Job> all = collect({}, &tree());
    ASSERT_EQ(all.size(), tree().modules().size());
    ASSERT_GT(all.size(), 1000u);  // a whole Debian tree
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                               [](const Job& a, const Job& b) { return a.module < b.module; }));
    for (unsigned n : {1u, 2u, 3u, 7u}) {
        std::map<std::string, int> seen;
        size_t smallest = all.size(), largest = 0;
        for (unsigned i = 1; i <= n; ++i) {
            std::vector<Job> s = shard(all, i, n);
            smallest = std::min(smallest, s.size());
            largest = std::max(largest, s.size());
            for (const Job& j : s)
                ++seen[j.module];
        }
        EXPECT_EQ(seen.size(), all.size()) << n << " shards";
        for (const auto& [m, c] : seen)
            EXPECT_EQ(c, 1) << m << " in " << c << " of " << n << " shards";
        EXPECT_LE(largest - smallest, 1u);
        EXPECT_TRUE(shard(all, 0, n).empty());
        EXPECT_TRUE(shard(all, n + 1, n).empty());
    }
    // The same split on every machine: position p of the sorted list goes to shard p % N + 1.
    std::vector<Job> second = shard(all, 2, 3);
    ASSERT_GE(second.size(), 2u);
    EXPECT_EQ(second[0].module, all[1].module);
    EXPECT_EQ(second[1].module, all[4].module);
}

TEST(Corpus, ModulesOfTheTreeComeWithTheirDependencies) {
    std::string fat_dir = moddir() + "/kernel/fs/fat";
    std::vector<Job> jobs = collect({fat_dir}, &tree());
    ASSERT_FALSE(jobs.empty());
    for (const Job& j : jobs) {
        EXPECT_TRUE(j.module.starts_with("kernel/fs/fat/")) << j.module;
        // modprobe's order from the tree: the dependencies, then the module.
        std::vector<std::string> order = tree().load_order(j.module);
        ASSERT_FALSE(order.empty());
        EXPECT_EQ(order.back(), j.module);
        order.pop_back();
        EXPECT_EQ(j.dep_modules, order) << j.module;
        ASSERT_EQ(j.deps.size(), order.size());
        for (size_t i = 0; i < order.size(); ++i)
            EXPECT_TRUE(fs::equivalent(j.deps[i], moddir() + "/" + order[i]));
        EXPECT_EQ(j.name, module_name_of_path(j.module));
    }
    // A file named twice (as a file and through its directory) is one job.
    EXPECT_EQ(collect({fat_dir, fat_dir + "/vfat.ko"}, &tree()).size(), jobs.size());
    // Without the tree, the same files are modules of their own: no dependencies.
    for (const Job& j : collect({fat_dir}, nullptr)) {
        EXPECT_TRUE(j.deps.empty());
        EXPECT_TRUE(j.module.starts_with(fat_dir)) << j.module;
    }
}

TEST(Corpus, VerdictsOfRealModules) {
    Options o = options(1);
    // Xen's drivers on a machine that is no Xen guest: init returns -ENODEV (xen_domain()), as
    // under the real kernel.
    json xen = run_job(tree_job("kernel/drivers/xen/xen-evtchn.ko"), o);
    EXPECT_EQ(xen["verdict"], "init_errno");
    EXPECT_EQ(xen["exit_status"], 19);
    EXPECT_EQ(xen["errno"], "ENODEV");
    EXPECT_EQ(xen["reason"], "ENODEV");
    // A library module without init: loads, and unloads.
    json crc7 = run_job(tree_job("kernel/lib/crc7.ko"), o);
    EXPECT_EQ(crc7["verdict"], "init_ok");
    EXPECT_EQ(crc7["exit_status"], 0);
    EXPECT_EQ(crc7["errno"], "");
    // vfat alone, without fat's exports: insmod's Unknown symbol, ENOENT.
    json vfat = run_job(file_job(moddir() + "/kernel/fs/fat/vfat.ko"), o);
    EXPECT_EQ(vfat["verdict"], "refused");
    EXPECT_EQ(vfat["reason"], "unknown_symbol");
    EXPECT_EQ(vfat["exit_status"], ENOENT);
    EXPECT_EQ(vfat["phase"], "symbols");
    EXPECT_TRUE(vfat["detail"].get<std::string>().starts_with("Unknown symbol ")) << vfat["detail"];
    // With the tree, fat.ko is loaded first and vfat's imports resolve against its exports.
    json vfat2 = run_job(tree_job("kernel/fs/fat/vfat.ko"), o);
    EXPECT_EQ(vfat2["deps"], json::array({"kernel/fs/fat/fat.ko"}));
    EXPECT_NE(vfat2["reason"], "unknown_symbol") << vfat2.dump(1);
    EXPECT_NE(vfat2["verdict"], "internal") << vfat2.dump(1);

    TempDir tmp;
    std::vector<uint8_t> ko = read_bytes(moddir() + "/kernel/lib/crc7.ko");
    // A tampered signed module: module_sig_check() rejects it (EKEYREJECTED).
    std::vector<uint8_t> tampered = ko;
    tampered[0x40] ^= 0xff;
    write_bytes(tmp.path + "/tampered.ko", tampered);
    json t = run_job(file_job(tmp.path + "/tampered.ko"), o);
    EXPECT_EQ(t["verdict"], "refused");
    EXPECT_EQ(t["reason"], "signature");
    EXPECT_EQ(t["exit_status"], EKEYREJECTED);
    EXPECT_EQ(t["errno"], "EKEYREJECTED");
    // Unsigned, built for another configuration (vermagic): refused, ENOEXEC.
    std::vector<uint8_t> other = unsigned_copy(ko);
    std::string text(other.begin(), other.end());
    size_t vm = text.find("vermagic=");
    ASSERT_NE(vm, std::string::npos);
    size_t arch = text.find("aarch64", vm);
    ASSERT_NE(arch, std::string::npos);
    other[arch + 6] = '5';  // aarch65
    write_bytes(tmp.path + "/vermagic.ko", other);
    json v = run_job(file_job(tmp.path + "/vermagic.ko"), o);
    EXPECT_EQ(v["verdict"], "refused");
    EXPECT_EQ(v["reason"], "version_magic");
    EXPECT_EQ(v["exit_status"], ENOEXEC);
    EXPECT_NE(v["detail"].get<std::string>().find("version magic"), std::string::npos);
    // Not an ELF file: ENOEXEC from the ELF checks.
    write_bytes(tmp.path + "/bogus.ko", std::vector<uint8_t>(4096, 'x'));
    json b = run_job(file_job(tmp.path + "/bogus.ko"), o);
    EXPECT_EQ(b["verdict"], "refused");
    EXPECT_EQ(b["reason"], "elf");
    EXPECT_EQ(b["exit_status"], ENOEXEC);
    // No file at all: insmod cannot read it.
    json missing = run_job(file_job(tmp.path + "/missing.ko"), o);
    EXPECT_EQ(missing["verdict"], "refused");
    EXPECT_EQ(missing["reason"], "read");
    EXPECT_EQ(missing["exit_status"], ENOENT);

    // A dependency that cannot load stops modprobe there: a tree of its own, with a truncated
    // fat.ko under vfat.ko.
    std::vector<uint8_t> fat = read_bytes(moddir() + "/kernel/fs/fat/fat.ko");
    fat.resize(fat.size() / 2);
    write_bytes(tmp.path + "/tree/kernel/fs/fat/fat.ko", fat);
    write_bytes(tmp.path + "/tree/kernel/fs/fat/vfat.ko",
                read_bytes(moddir() + "/kernel/fs/fat/vfat.ko"));
    {
        std::ofstream dep(tmp.path + "/tree/modules.dep");
        dep << "kernel/fs/fat/fat.ko:\nkernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\n";
    }
    ModuleTree own = ModuleTree::open(tmp.path + "/tree");
    std::vector<Job> jobs = collect({tmp.path + "/tree/kernel/fs/fat/vfat.ko"}, &own);
    ASSERT_EQ(jobs.size(), 1u);
    json d = run_job(jobs[0], o);
    EXPECT_EQ(d["verdict"], "dependency_failed");
    EXPECT_EQ(d["dependency_failed"], "kernel/fs/fat/fat.ko");
    EXPECT_EQ(d["exit_status"], ENOEXEC);  // modprobe's status: the dependency's insmod's
    EXPECT_TRUE(d["detail"].get<std::string>().starts_with("kernel/fs/fat/fat.ko: refused"))
        << d["detail"];

    // Every relocation the loader applied is one of the file's, type for type.
    for (const json& r : {xen, crc7, vfat2}) {
        const json& rel = r["relocations"];
        ASSERT_TRUE(rel.contains("match")) << r["module"];
        EXPECT_EQ(rel["match"], true) << r.dump(1);
        EXPECT_EQ(rel["applied"], rel["in_file"]);
        EXPECT_EQ(rel["unhandled"], json::array());
    }
}

TEST(Corpus, CompressedModules) {
    // A .ko.xz is what kmod's insmod decompresses before init_module(2): the same verdict as the
    // plain file, its relocations counted in the decompressed ELF.
    Options o = options(1);
    std::vector<uint8_t> ko = read_bytes(moddir() + "/kernel/lib/crc7.ko");
    std::vector<uint8_t> xz(ko.size() + 4096);
    size_t len = 0;
    ASSERT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, ko.data(), ko.size(), xz.data(),
                                      &len, xz.size()),
              LZMA_OK);
    xz.resize(len);
    TempDir tmp;
    write_bytes(tmp.path + "/crc7.ko.xz", xz);
    json plain = run_job(file_job(moddir() + "/kernel/lib/crc7.ko"), o);
    json packed = run_job(file_job(tmp.path + "/crc7.ko.xz"), o);
    EXPECT_EQ(packed["name"], "crc7");
    EXPECT_EQ(packed["compression"], "xz");
    EXPECT_EQ(plain["compression"], "none");
    EXPECT_EQ(packed["verdict"], plain["verdict"]);
    EXPECT_EQ(packed["exit_status"], plain["exit_status"]);
    EXPECT_EQ(packed["relocations"], plain["relocations"]);
    EXPECT_EQ(packed["relocations"]["match"], true);
    // Twice (the second from the worker's cache of decompressed files): the same record.
    json again = run_job(file_job(tmp.path + "/crc7.ko.xz"), o);
    packed.erase("ms");
    again.erase("ms");
    EXPECT_EQ(again, packed);
    // A corrupt stream: kmod's message, EINVAL (as kmodemu run).
    xz[xz.size() / 2] ^= 0x55;
    write_bytes(tmp.path + "/corrupt.ko.xz", xz);
    json corrupt = run_job(file_job(tmp.path + "/corrupt.ko.xz"), o);
    EXPECT_EQ(corrupt["verdict"], "refused");
    EXPECT_EQ(corrupt["reason"], "decompress");
    EXPECT_EQ(corrupt["exit_status"], EINVAL);
    EXPECT_TRUE(corrupt["detail"].get<std::string>().starts_with("xz: ")) << corrupt["detail"];
}

TEST(Corpus, VerdictsOfTheFaultyFixture) {
    Options o = options(1);
    auto run = [&](int mode) {
        return run_job(file_job(fixture("faulty"), {"mode=" + std::to_string(mode)}), o);
    };
    json ok = run(0);
    EXPECT_EQ(ok["verdict"], "init_ok");
    json oops = run(1);  // NULL dereference
    EXPECT_EQ(oops["verdict"], "oops");
    EXPECT_EQ(oops["exit_status"], 139);
    EXPECT_EQ(oops["errno"], "");
    EXPECT_NE(oops["detail"].get<std::string>().find("NULL pointer dereference"), std::string::npos)
        << oops["detail"];
    json hang = run(2);  // for (;;)
    EXPECT_EQ(hang["verdict"], "hang");
    EXPECT_EQ(hang["exit_status"], 124);
    json einval = run(4);
    EXPECT_EQ(einval["verdict"], "init_errno");
    EXPECT_EQ(einval["exit_status"], EINVAL);
    EXPECT_EQ(einval["errno"], "EINVAL");
    json warn = run(5);  // WARN_ON(1), then init returns 0
    EXPECT_EQ(warn["verdict"], "warn");
    EXPECT_EQ(warn["exit_status"], 0);
    EXPECT_EQ(warn["warnings"], 1);
    json bug = run(7);  // BUG_ON(1)
    EXPECT_EQ(bug["verdict"], "bug");
    EXPECT_EQ(bug["exit_status"], 139);
    EXPECT_TRUE(bug["detail"].get<std::string>().starts_with("kernel BUG at ")) << bug["detail"];
}

TEST(Corpus, ClassifiesKasanAndLockdepReports) {
    RunOutcome out;
    out.ending = "ok";
    out.log = {{3, "=================================================================="},
               {3, "BUG: KASAN: slab-out-of-bounds in foo_init+0x1c/0x40 [foo]"}};
    out.load_log_lines = out.log.size();
    EXPECT_EQ(classify(out).verdict, "kasan");
    out.log = {{4, "WARNING: possible circular locking dependency detected"}};
    EXPECT_EQ(classify(out).verdict, "lockdep");
    out.log = {{4, "------------[ cut here ]------------"},
               {4, "WARNING: CPU: 0 PID: 1234 at foo.c:12 foo_init+0x10/0x40 [foo]"}};
    EXPECT_EQ(classify(out).verdict, "warn");
    out.ending = "internal";
    out.exit_status = exit_internal;
    EXPECT_EQ(classify(out).verdict, "internal");
}

TEST(Corpus, AWorkerThatDiesIsInternalAndTheRunGoesOn) {
    std::vector<Job> jobs = {tree_job("kernel/lib/crc7.ko"), tree_job("kernel/lib/crc16.ko"),
                             tree_job("kernel/lib/crypto/libarc4.ko"),
                             tree_job("kernel/drivers/xen/xen-evtchn.ko")};
    for (unsigned workers : {1u, 2u}) {
        Options o = options(workers);
        o.worker_hook = [](const Job& j) {
            if (j.name == "crc16") {
                signal(SIGSEGV, SIG_DFL);  // not a sanitizer's handler: the worker dies of it
                raise(SIGSEGV);
            }
            if (j.name == "libarc4") abort();
        };
        std::vector<json> r = run_all(jobs, o);
        EXPECT_EQ(r[0]["verdict"], "init_ok");
        EXPECT_EQ(r[1]["verdict"], "internal");
        EXPECT_EQ(r[1]["exit_status"], exit_internal);
        EXPECT_NE(r[1]["detail"].get<std::string>().find("SIGSEGV"), std::string::npos)
            << r[1]["detail"];
        EXPECT_EQ(r[1]["module"], "kernel/lib/crc16.ko");
        EXPECT_EQ(r[2]["verdict"], "internal");
        EXPECT_NE(r[2]["detail"].get<std::string>().find("SIGABRT"), std::string::npos)
            << r[2]["detail"];
        EXPECT_EQ(r[3]["verdict"], "init_errno");
    }
    // A worker stuck on a module past the wall-clock limit is killed.
    Options o = options(1);
    o.wall_limit = 0.5;
    o.worker_hook = [](const Job& j) {
        if (j.name == "crc16") std::this_thread::sleep_for(std::chrono::seconds(30));
    };
    auto t0 = std::chrono::steady_clock::now();
    std::vector<json> r = run_all(jobs, o);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
    EXPECT_EQ(r[1]["verdict"], "internal");
    EXPECT_NE(r[1]["detail"].get<std::string>().find("wall-clock limit"), std::string::npos);
    EXPECT_EQ(r[0]["verdict"], "init_ok");
    EXPECT_EQ(r[2]["verdict"], "init_ok");
}

TEST(Corpus, ForkedWorkersGiveWhatOneProcessGives) {
    std::vector<Job> jobs = collect({moddir() + "/kernel/lib/crypto"}, &tree());
    ASSERT_GE(jobs.size(), 3u);
    Options o = options(2);
    o.recycle_after = 2;  // workers replaced on the way
    std::vector<json> forked = run_all(jobs, o);
    for (size_t i = 0; i < jobs.size(); ++i) {
        json here = run_job(jobs[i], o);
        here.erase("ms");
        forked[i].erase("ms");
        EXPECT_EQ(forked[i], here) << jobs[i].module;
    }
}

TEST(Corpus, MergedShardsEqualOneRun) {
    std::vector<Job> jobs = collect({moddir() + "/kernel/lib"}, &tree());
    ASSERT_GE(jobs.size(), 10u);
    Options o = options(2);
    json meta = {{"kernel", profile()->release}, {"arch", "arm64"}};
    json whole = make_report(run_all(jobs, o), meta);
    std::vector<json> shards;
    for (unsigned i = 1; i <= 3; ++i) {
        json m = meta;
        m["shard"] = std::to_string(i) + "/3";
        shards.push_back(make_report(run_all(shard(jobs, i, 3), o), m));
    }
    json merged = merge_reports({shards[2], shards[0], shards[1]});
    EXPECT_EQ(merged["merged_from"], 3);
    EXPECT_EQ(merged["totals"]["modules"], jobs.size());
    EXPECT_EQ(timeless(merged)["modules"], timeless(whole)["modules"]);
    EXPECT_EQ(timeless(merged)["totals"], timeless(whole)["totals"]);
    EXPECT_EQ(merged["ranking"], whole["ranking"]);
    // Through the command line: shards written as files, merged into one.
    TempDir tmp;
    std::vector<std::string> files;
    for (size_t i = 0; i < shards.size(); ++i) {
        files.push_back(tmp.path + "/s" + std::to_string(i) + ".json");
        std::ofstream(files.back()) << shards[i].dump();
    }
    std::string out = tmp.path + "/all.json";
    std::vector<std::string> args = {"corpus", "--merge", out};
    args.insert(args.end(), files.begin(), files.end());
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    testing::internal::CaptureStdout();
    EXPECT_EQ(corpus_main(int(argv.size()), argv.data()), 0);
    testing::internal::GetCapturedStdout();
    std::ifstream in(out);
    json from_cli = json::parse(in);
    EXPECT_EQ(timeless(from_cli)["modules"], timeless(whole)["modules"]);
    EXPECT_EQ(timeless(from_cli)["totals"], timeless(whole)["totals"]);
    // A module in two shards, or reports of two kernels, cannot be merged.
    EXPECT_THROW(merge_reports({shards[0], shards[0]}), std::runtime_error);
    json other = shards[1];
    other["kernel"] = "6.12.95+deb12-arm64";
    EXPECT_THROW(merge_reports({shards[0], other}), std::runtime_error);
}

TEST(Corpus, ComparesWithTheRealKernelsVerdicts) {
    // The real kernel's verdicts as tools/qemu-oracle ARCH --corpus records them, written by
    // hand from what these modules do: Xen's drivers return -ENODEV outside a Xen guest without
    // a line, crc7 has no init. Two entries are wrong on purpose: a status and a line.
    std::string lines =
        json{{"kmodemu_corpus_oracle", 1},
             {"release", profile()->release},
             {"version", "test"},
             {"arch", "arm64"}}
            .dump() +
        "\n" +
        json{{"module", "kernel/drivers/xen/xen-evtchn.ko"},
             {"name", "xen_evtchn"},
             {"deps", json::array()},
             {"rc", 19},
             {"log", json::array()},
             {"unload_rc", 0},
             {"unload_log", json::array()}}
            .dump() +
        "\n" +
        json{{"module", "kernel/lib/crc7.ko"}, {"name", "crc7"},
             {"deps", json::array()},          {"rc", 0},
             {"log", json::array()},           {"unload_rc", 0},
             {"unload_log", json::array()}}
            .dump() +
        "\n" +
        json{{"module", "kernel/drivers/xen/xen-privcmd.ko"},
             {"name", "xen_privcmd"},
             {"deps", json::array()},
             {"rc", 0},
             {"log", json::array()}}
            .dump() +
        "\n" +
        json{{"module", "kernel/drivers/xen/xen-gntdev.ko"},
             {"name", "xen_gntdev"},
             {"deps", json::array()},
             {"rc", 19},
             {"log", json::array({"xen_gntdev: a line the real kernel did not print"})}}
            .dump() +
        "\n";
    // xz-compressed, as the recorder writes it.
    std::vector<uint8_t> xz(lines.size() + 4096);
    size_t xz_len = 0;
    ASSERT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr,
                                      reinterpret_cast<const uint8_t*>(lines.data()), lines.size(),
                                      xz.data(), &xz_len, xz.size()),
              LZMA_OK);
    xz.resize(xz_len);
    TempDir tmp;
    std::string expected = tmp.path + "/" + profile()->release + ".jsonl.xz";
    write_bytes(expected, xz);
    ExpectedFile e = read_expected(expected);
    EXPECT_EQ(e.header["release"], profile()->release);
    EXPECT_EQ(e.modules.size(), 4u);

    std::string report = tmp.path + "/report.json", junit = tmp.path + "/report.xml";
    std::vector<std::string> args = {"corpus",
                                     "--kernel",
                                     kit(),
                                     "--jobs",
                                     "2",
                                     "--expected",
                                     expected,
                                     "--json",
                                     report,
                                     "--junit",
                                     junit,
                                     moddir() + "/kernel/drivers/xen/xen-evtchn.ko",
                                     moddir() + "/kernel/drivers/xen/xen-privcmd.ko",
                                     moddir() + "/kernel/drivers/xen/xen-gntdev.ko",
                                     moddir() + "/kernel/lib/crc7.ko",
                                     moddir() + "/kernel/lib/crc16.ko"};
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    testing::internal::CaptureStdout();
    EXPECT_EQ(corpus_main(int(argv.size()), argv.data()), 0);
    std::string summary = testing::internal::GetCapturedStdout();
    EXPECT_NE(summary.find("the real kernel: 4 modules compared (1 not recorded)"),
              std::string::npos)
        << summary;
    std::ifstream in(report);
    json r = json::parse(in);
    const json& cmp = r["expected"];
    EXPECT_EQ(cmp["compared"], 4);
    EXPECT_EQ(cmp["not_recorded"], 1);  // crc16
    EXPECT_EQ(cmp["same_status"], 3);
    EXPECT_EQ(cmp["same_lines"], 2);
    std::map<std::string, size_t> causes;
    for (const json& d : cmp["disagreements"])
        causes[d["cause"]] = d["modules"];
    EXPECT_EQ(causes, (std::map<std::string, size_t>{{"kmodemu 19 ENODEV / real 0", 1},
                                                     {"lines differ", 1}}));
    for (const json& m : r["modules"]) {
        if (m["module"] == "kernel/drivers/xen/xen-gntdev.ko") {
            EXPECT_EQ(m["expected"]["same_status"], true);
            EXPECT_EQ(m["expected"]["same_lines"], false);
        }
        if (m["module"] == "kernel/lib/crc16.ko") {
            EXPECT_EQ(m["expected"]["recorded"], false);
        }
    }
    // JUnit with the real kernel's verdicts: a failure where the status differs.
    std::ifstream jin(junit);
    Xml x{std::string(std::istreambuf_iterator<char>(jin), std::istreambuf_iterator<char>())};
    ASSERT_TRUE(x.document()) << x.error;
    EXPECT_EQ(x.elements["testcase"], 5u);
    EXPECT_EQ(x.elements["failure"], 1u);
}

TEST(Corpus, JUnitIsWellFormed) {
    std::vector<json> records;
    for (const char* v : {"init_ok", "oops", "hang", "internal", "refused"})
        records.push_back({{"module", std::string("kernel/drivers/x/") + v + ".ko"},
                           {"name", v},
                           {"verdict", v},
                           {"exit_status", 0},
                           {"detail", "a <detail> & \"quotes\" 'too'\x01"},
                           {"log", json::array({"line <1> & \xc3\xa9", "bad \xff\xfe bytes"})},
                           {"ms", {{"total", 1.5}}}});
    records.push_back({{"module", "/some/where/odd name&.ko"}, {"verdict", "init_ok"}});
    json report = make_report(records, {{"kernel", "k<&>"}});
    Xml x{junit_xml(report)};
    ASSERT_TRUE(x.document()) << x.error << "\n" << x.s;
    EXPECT_EQ(x.elements["testsuites"], 1u);
    EXPECT_EQ(x.elements["testsuite"], 1u);
    EXPECT_EQ(x.elements["testcase"], records.size());
    EXPECT_EQ(x.elements["failure"], 2u);  // the oops and the hang
    EXPECT_EQ(x.elements["error"], 1u);    // the internal error
    EXPECT_NE(x.s.find("tests=\"6\" failures=\"2\" errors=\"1\""), std::string::npos);
}

TEST(Corpus, ReportTotalsAndRankings) {
    std::vector<json> records = {
        {{"module", "a.ko"},
         {"verdict", "unimplemented"},
         {"exit_status", 69},
         {"unimplemented_call", "bus_register"},
         {"bound_lazily", json::array({"bus_register", "put_device"})},
         {"auto_stub_data", json::array({"system_wq"})}},
        {{"module", "b.ko"},
         {"verdict", "dependency_failed"},
         {"exit_status", 69},
         {"unimplemented_call", "bus_register"},
         {"bound_lazily", json::array({"bus_register"})}},
        {{"module", "c.ko"},
         {"verdict", "refused"},
         {"reason", "unknown_symbol"},
         {"exit_status", 2},
         {"bound_lazily", json::array({"put_device"})}},
        {{"module", "d.ko"}, {"verdict", "init_ok"}, {"exit_status", 0}},
    };
    json r = make_report(records, json::object());
    EXPECT_EQ(r["totals"]["modules"], 4);
    EXPECT_EQ(r["totals"]["verdicts"]["unimplemented"], 1);
    EXPECT_EQ(r["totals"]["verdicts"]["dependency_failed"], 1);
    EXPECT_EQ(r["totals"]["verdicts"]["oops"], 0);
    EXPECT_EQ(r["totals"]["refused_reasons"]["unknown_symbol"], 1);
    EXPECT_EQ(r["totals"]["exit_statuses"]["69"], 2);
    EXPECT_EQ(r["ranking"]["unimplemented_called"],
              json::array({{{"name", "bus_register"}, {"modules", 2}}}));
    EXPECT_EQ(r["ranking"]["bound_lazily"],
              json::array({{{"name", "bus_register"}, {"modules", 2}},
                           {{"name", "put_device"}, {"modules", 2}}}));
    EXPECT_EQ(r["ranking"]["data_auto_stubbed"],
              json::array({{{"name", "system_wq"}, {"modules", 1}}}));
    std::string table = summary_table(r);
    EXPECT_NE(table.find("bus_register"), std::string::npos);
    EXPECT_NE(table.find("unimplemented"), std::string::npos);
}

TEST(Corpus, ComparesDependencyFailuresAndRecordedBytes) {
    oracle::Context ctx{true, "6.1.0-57-arm64", "6.1.192-3"};
    // The recorder's rc null with dep_failed: the same verdict is the same dependency failing
    // with the same status; its insmod's lines are compared.
    json ours = {{"module", "kernel/b.ko"},
                 {"verdict", "dependency_failed"},
                 {"dependency_failed", "kernel/a.ko"},
                 {"exit_status", 2},
                 {"dependency", {{"log", json::array({"a: Unknown symbol x (err -2)"})}}}};
    json real = {{"module", "kernel/b.ko"},
                 {"rc", nullptr},
                 {"log", json::array()},
                 {"dep_failed",
                  {{"module", "kernel/a.ko"},
                   {"rc", 2},
                   {"log", json::array({"a: Unknown symbol x (err -2)"})}}}};
    json r = ours;
    compare_expected(r, real, ctx);
    EXPECT_EQ(r["expected"]["recorded"], true);
    EXPECT_EQ(r["expected"]["same_status"], true);
    EXPECT_EQ(r["expected"]["same_lines"], true);
    // kmodemu loads what the real kernel could not.
    json loaded = {{"module", "kernel/b.ko"}, {"verdict", "init_ok"}, {"exit_status", 0}};
    compare_expected(loaded, real, ctx);
    EXPECT_EQ(loaded["expected"]["same_status"], false);
    EXPECT_EQ(loaded["expected"]["cause"], "kmodemu 0 / real dependency 2 ENOENT");
    // ... and the other way round.
    json plain = {{"module", "kernel/b.ko"}, {"rc", 0}, {"log", json::array()}};
    r = ours;
    r["unimplemented_call"] = "bus_register";
    r["exit_status"] = 69;
    compare_expected(r, plain, ctx);
    EXPECT_EQ(r["expected"]["cause"], "kmodemu dependency 69 unimplemented bus_register / real 0");
    // A kernel line with bytes that are not UTF-8: the recorder writes them as \xNN text.
    json bytes = {{"module", "kernel/c.ko"},
                  {"verdict", "init_ok"},
                  {"exit_status", 0},
                  {"log", json::array({std::string("c: id \xb3\x01")})}};
    json rec = {{"module", "kernel/c.ko"},
                {"rc", 0},
                {"log", json::array({std::string("c: id \\xb3\x01")})}};
    compare_expected(bytes, rec, ctx);
    EXPECT_EQ(bytes["expected"]["same_lines"], true) << bytes["expected"].dump();
    // No rc at all: not recorded.
    json none = {{"module", "kernel/d.ko"}, {"verdict", "init_ok"}, {"exit_status", 0}};
    compare_expected(none, json{{"module", "kernel/d.ko"}}, ctx);
    EXPECT_EQ(none["expected"]["recorded"], false);
}

TEST(Corpus, TheRealKernelsRecordingCoversTheKit) {
    // tests/oracle/corpus/<release>.jsonl.xz (tools/qemu-oracle arm64 --corpus) of the arm64
    // kit's kernel: a record for every module of its tree, read as --expected reads it.
    std::string path = std::string(KMODEMU_SOURCE_DIR) + "/tests/oracle/corpus/" +
                       profile()->release + ".jsonl.xz";
    ASSERT_TRUE(fs::exists(path)) << "no recording of the real kernel " << profile()->release
                                  << ": tools/qemu-oracle arm64 --corpus makes it";
    ExpectedFile e = read_expected(path);
    EXPECT_EQ(e.header["release"], profile()->release);
    EXPECT_EQ(e.header["arch"], "arm64");
    std::vector<std::string> all = tree().modules();
    EXPECT_EQ(e.modules.size(), all.size());
    for (const std::string& m : all)
        EXPECT_TRUE(e.modules.count(m)) << m << " has no record";
    // Each record compares: an exit status, or a dependency that failed.
    for (const auto& [m, rec] : e.modules) {
        const json& rc = rec["rc"];
        EXPECT_TRUE(rc.is_number_integer() || rc.is_string() ||
                    (rc.is_null() && rec.contains("dep_failed")))
            << m;
    }
}
