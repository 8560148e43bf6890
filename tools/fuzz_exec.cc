#include "tools/fuzz_exec.h"

#include "kernel_stubs/real_kernel.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace kmodemu {

namespace {

// The shared memory: the edge counters, the input, then the result.
constexpr size_t input_max = 1 << 16;
constexpr size_t result_max = 8 << 20;

// What the server answers per execution (one byte on its pipe).
enum : uint8_t {
    answer_done = 0,     // the child wrote its result
    answer_died = 1,     // the child ended without a result (a crash of kmodemu)
    answer_inexact = 2,  // the fork point cannot give a fresh kernel's execution: run fresh
    answer_static = 3,   // no fork point (a dependency failed): the result is every execution's
};

ExecResult to_result(const RunOutcome& out) {
    ExecResult r;
    r.ending = out.ending;
    r.exit_status = out.exit_status;
    for (const LogLine& l : out.log)
        r.log.push_back("<" + std::to_string(l.level) + ">" + l.text);
    r.diagnostics = out.diagnostics;
    if (out.ending == "internal") {
        r.internal = true;
        r.internal_what = out.diagnostics.empty() ? "internal error" : out.diagnostics.back();
    } else {
        r.finding = find_finding(out);
    }
    return r;
}

// The result in the shared memory: length-prefixed fields.
struct Writer {
    uint8_t* p;
    size_t left;
    bool ok = true;
    void bytes(const void* d, size_t n) {
        if (n > left) {
            ok = false;
            return;
        }
        std::memcpy(p, d, n);
        p += n;
        left -= n;
    }
    void u32(uint32_t v) { bytes(&v, 4); }
    void str(const std::string& s) {
        u32(static_cast<uint32_t>(s.size()));
        bytes(s.data(), s.size());
    }
    void strs(const std::vector<std::string>& v) {
        u32(static_cast<uint32_t>(v.size()));
        for (const std::string& s : v)
            str(s);
    }
};
struct Reader {
    const uint8_t* p;
    size_t left;
    bool ok = true;
    void bytes(void* d, size_t n) {
        if (n > left) {
            ok = false;
            std::memset(d, 0, n);
            return;
        }
        std::memcpy(d, p, n);
        p += n;
        left -= n;
    }
    uint32_t u32() {
        uint32_t v = 0;
        bytes(&v, 4);
        return v;
    }
    std::string str() {
        uint32_t n = u32();
        if (!ok || n > left) {
            ok = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        left -= n;
        return s;
    }
    std::vector<std::string> strs() {
        std::vector<std::string> v(u32());
        for (std::string& s : v)
            s = str();
        return v;
    }
};

// Writes the result; false when it does not fit.
bool put_result(uint8_t* at, size_t size, const ExecResult& r) {
    Writer w{at + 4, size - 4};
    w.str(r.ending);
    w.u32(static_cast<uint32_t>(r.exit_status));
    w.strs(r.log);
    w.strs(r.diagnostics);
    w.u32(r.internal);
    w.str(r.internal_what);
    w.u32(r.finding.has_value());
    if (r.finding) {
        w.str(r.finding->kind);
        w.str(r.finding->signature);
        w.strs(r.finding->report);
    }
    uint32_t ok = w.ok;
    std::memcpy(at, &ok, 4);
    return w.ok;
}

std::optional<ExecResult> get_result(const uint8_t* at, size_t size) {
    uint32_t ok = 0;
    std::memcpy(&ok, at, 4);
    if (!ok) return std::nullopt;
    Reader rd{at + 4, size - 4};
    ExecResult r;
    r.ending = rd.str();
    r.exit_status = static_cast<int>(rd.u32());
    r.log = rd.strs();
    r.diagnostics = rd.strs();
    r.internal = rd.u32();
    r.internal_what = rd.str();
    if (rd.u32()) {
        Finding f;
        f.kind = rd.str();
        f.signature = rd.str();
        f.report = rd.strs();
        r.finding = std::move(f);
    }
    if (!rd.ok) return std::nullopt;
    return r;
}

bool read_all(int fd, void* d, size_t n) {
    auto* p = static_cast<uint8_t*>(d);
    while (n) {
        ssize_t k = ::read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

bool write_all(int fd, const void* d, size_t n) {
    auto* p = static_cast<const uint8_t*>(d);
    while (n) {
        ssize_t k = ::write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

}  // namespace

ExecResult execute_fresh(const FuzzTarget& t, std::span<const uint8_t> input, uint8_t* counters,
                         size_t size) {
    FuzzDecision d = decode_fuzz_input(input, t.params, t.faults);
    RunOptions opts = apply_fuzz_decision(t.base, d);
    EdgeCoverage cov;
    cov.counters = counters;
    cov.size = size;
    opts.edge_coverage = counters ? &cov : nullptr;
    std::vector<ModuleInput> mods = t.mods;
    mods.back().params = opts.params;
    try {
        return to_result(run_modules(std::move(mods), opts));
    } catch (const std::exception& e) {
        ExecResult r;
        r.internal = true;
        r.internal_what = e.what();
        r.ending = "internal";
        return r;
    }
}

WarmExecutor::WarmExecutor(FuzzTarget t, size_t counters) : t_(std::move(t)), counters_(counters) {
    shm_size_ = counters_ + 4 + input_max + result_max;
    void* m = ::mmap(nullptr, shm_size_, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("fuzz: mmap of the shared memory failed");
    shm_ = static_cast<uint8_t*>(m);
    start();
}

WarmExecutor::~WarmExecutor() {
    stop();
    if (shm_) ::munmap(shm_, shm_size_);
}

void WarmExecutor::stop() {
    if (req_ >= 0) ::close(req_);
    if (resp_ >= 0) ::close(resp_);
    req_ = resp_ = -1;
    if (server_ > 0) {
        int st = 0;
        while (::waitpid(server_, &st, 0) < 0 && errno == EINTR) {
        }
    }
    server_ = -1;
}

void WarmExecutor::start() {
    int req[2], resp[2];
    if (::pipe(req) || ::pipe(resp)) throw std::runtime_error("fuzz: pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fuzz: fork failed");
    if (pid > 0) {
        ::close(req[0]);
        ::close(resp[1]);
        server_ = pid;
        req_ = req[1];
        resp_ = resp[0];
        return;
    }
    // The server. It ends with the fuzzer (end of its request pipe) and never returns.
    ::close(req[1]);
    ::close(resp[0]);
    int in = req[0], out = resp[1];
    uint8_t* counters = shm_;
    uint32_t* input_size = reinterpret_cast<uint32_t*>(shm_ + counters_);
    uint8_t* input = shm_ + counters_ + 4;
    uint8_t* result = input + input_max;
    bool child = false;
    EdgeCoverage cov;
    cov.counters = counters;
    cov.size = counters_;
    RunOptions opts = t_.base;
    opts.edge_coverage = &cov;
    opts.before_target = [&](Kernel& kernel, std::vector<std::string>& params) {
        // The caches of the kit's files, read on first use, filled once here rather than in
        // every child (the kallsyms of the kit's image, its index by name, where its text is).
        if (kernel.config().profile && !kernel.config().profile->generic)
            if (const Kallsyms* ks = kernel.real().kallsyms()) {
                ks->image();
                ks->find("");
            }
        // The next execution's child is forked ahead, while the fuzzer makes its input: the
        // request goes to the child, which answers itself. The server only answers for a child
        // that ended without answering (a crash of kmodemu).
        for (;;) {
            pid_t c = ::fork();
            if (c == 0) {
                child = true;
                uint8_t go = 0;
                if (!read_all(in, &go, 1)) ::_exit(3);  // the fuzzer ended
                ::close(in);
                std::span<const uint8_t> data(input, std::min<size_t>(*input_size, input_max));
                FuzzDecision d = decode_fuzz_input(data, t_.params, t_.faults);
                RunOptions o = apply_fuzz_decision(t_.base, d);
                if (!kernel.set_execution(o.seed, o.faults)) {
                    uint8_t a = answer_inexact;
                    write_all(out, &a, 1);
                    ::_exit(0);
                }
                params.insert(params.end(), d.params.begin(), d.params.end());
                return;
            }
            if (c < 0) ::_exit(1);
            int st = 0;
            while (::waitpid(c, &st, 0) < 0 && errno == EINTR) {
            }
            if (WIFEXITED(st) && WEXITSTATUS(st) == 3) ::_exit(0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                uint8_t a = answer_died;
                if (!write_all(out, &a, 1)) ::_exit(0);
            }
        }
    };
    // The child ends as soon as its outcome is known.
    opts.on_outcome = [&](const RunOutcome& o) {
        if (!child) return;
        uint8_t a = put_result(result, result_max, to_result(o)) ? answer_done : answer_died;
        ::_exit(write_all(out, &a, 1) ? 0 : 1);
    };
    ExecResult r;
    try {
        r = to_result(run_modules(t_.mods, opts));
    } catch (const std::exception& e) {
        r.internal = true;
        r.internal_what = e.what();
        r.ending = "internal";
    }
    if (child) {
        // The child: its result and answer, then its end, without the process's exit handlers.
        uint8_t a = put_result(result, result_max, r) ? answer_done : answer_died;
        ::_exit(write_all(out, &a, 1) ? 0 : 1);
    }
    // No fork point was reached: every execution ends as this run did.
    put_result(result, result_max, r);
    for (;;) {
        uint8_t go = 0;
        if (!read_all(in, &go, 1)) ::_exit(0);
        uint8_t a = answer_static;
        if (!write_all(out, &a, 1)) ::_exit(0);
    }
}

ExecResult WarmExecutor::run(std::span<const uint8_t> input, uint8_t* counters) {
    if (!fresh_reason_.empty()) {
        ++fresh_runs_;
        return execute_fresh(t_, input, counters, counters_);
    }
    if (server_ < 0) start();
    std::memset(shm_, 0, counters_);
    uint32_t n = static_cast<uint32_t>(std::min(input.size(), input_max));
    std::memcpy(shm_ + counters_, &n, 4);
    if (n) std::memcpy(shm_ + counters_ + 4, input.data(), n);  // data() may be NULL when empty
    std::memset(shm_ + counters_ + 4 + input_max, 0, 4);  // no result yet
    uint8_t go = 1, a = answer_died;
    if (!write_all(req_, &go, 1) || !read_all(resp_, &a, 1)) {
        // The server itself ended: a bug of kmodemu. A new one serves the next execution.
        stop();
        ExecResult r;
        r.internal = true;
        r.ending = "internal";
        r.internal_what = "fuzz: the warm path's server ended";
        return r;
    }
    if (a == answer_inexact || a == answer_static) {
        fresh_reason_ = a == answer_inexact
                            ? "the dependencies drew random numbers before the module loads"
                            : "the run ends before the module loads";
        stop();
        ++fresh_runs_;
        return execute_fresh(t_, input, counters, counters_);
    }
    std::optional<ExecResult> r;
    if (a == answer_done) r = get_result(shm_ + counters_ + 4 + input_max, result_max);
    if (!r) {
        ExecResult e;
        e.internal = true;
        e.ending = "internal";
        e.internal_what = "fuzz: a warm execution ended without a result (a crash of kmodemu)";
        return e;
    }
    ++warm_runs_;
    if (counters) std::memcpy(counters, shm_, counters_);
    return *r;
}

}  // namespace kmodemu
