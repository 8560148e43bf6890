#include "loader/params.h"

#include <cerrno>
#include <cstring>

#include "kernel_stubs/structs.h"

namespace kmodemu {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// parameq(): '-' and '_' are the same.
bool parameq(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y) return false;
    }
    return true;
}

struct Arg {
    size_t param;               // offset of the name in the args buffer
    std::optional<size_t> val;  // offset of the value
};

}  // namespace

ParamResult parse_module_args(Kernel& k, LoadedModule& mod, const std::string& args_in) {
    ParamResult res;
    Emulator& e = k.emu();
    const KernelStructs::KernelParam& kpl = k.structs().kernel_param;
    const KernelStructs::KernelParamOps& opsl = k.structs().kernel_param_ops;
    // mod->args = strndup_user(uargs): the buffer parse_args() cuts up in place.
    std::string buf = args_in;
    uint64_t gbuf = k.slab_alloc(buf.size() + 1, 0);
    if (!gbuf) {
        res.err = -ENOMEM;
        return res;
    }

    // next_arg() over the host copy, recording offsets; NULs are written as the kernel does.
    std::vector<Arg> list;
    size_t pos = 0;
    auto skip_spaces = [&] {
        while (pos < buf.size() && is_space(buf[pos]))
            ++pos;
    };
    skip_spaces();
    std::optional<size_t> after_dashes;
    while (pos < buf.size()) {
        size_t start = pos;
        bool in_quote = false, quoted = false;
        if (buf[start] == '"') {
            ++start;
            in_quote = quoted = true;
        }
        size_t i = 0, equals = 0;
        for (; start + i < buf.size() && buf[start + i]; ++i) {
            char ch = buf[start + i];
            if (is_space(ch) && !in_quote) break;
            if (equals == 0 && ch == '=') equals = i;
            if (ch == '"') in_quote = !in_quote;
        }
        Arg a{start, std::nullopt};
        if (equals) {
            buf[start + equals] = '\0';
            size_t v = start + equals + 1;
            if (v < buf.size() && buf[v] == '"') {
                ++v;
                if (buf[start + i - 1] == '"') buf[start + i - 1] = '\0';
            }
            a.val = v;
        }
        if (quoted && i > 0 && buf[start + i - 1] == '"') buf[start + i - 1] = '\0';
        if (start + i < buf.size()) {
            buf[start + i] = '\0';
            pos = start + i + 1;
        } else {
            pos = start + i;
        }
        skip_spaces();
        std::string param(buf.c_str() + a.param);
        if (!a.val && param == "--") {
            after_dashes = pos;
            break;
        }
        list.push_back(a);
    }
    e.write(gbuf, buf.c_str(), buf.size() + 1);

    int err = 0;
    for (const Arg& a : list) {
        std::string param(buf.c_str() + a.param);
        std::optional<std::string> val;
        if (a.val) val = std::string(buf.c_str() + *a.val);
        int ret = 0;
        bool found = false;
        for (size_t i = 0; i < mod.num_kp; ++i) {
            uint64_t kp = mod.kp + i * kpl.size;
            std::string name;
            uint64_t name_ptr = 0;
            if (!e.try_read(kp + kpl.name, &name_ptr, k.word()) ||
                !e.read_cstring(name_ptr, 256, name)) {
                // parameq() would dereference it: an oops in parse_args().
                RunResult r;
                r.reason = RunResult::Reason::fault;
                r.fault.kind = Fault::Kind::read;
                r.fault.unmapped = true;
                r.fault.address = name_ptr ? name_ptr : kp + kpl.name;
                res.abort = r;
                return res;
            }
            if (!parameq(param, name)) continue;
            found = true;
            uint64_t ops = 0;
            uint32_t flags = 0;
            if (!e.try_read(kp + kpl.ops, &ops, k.word()) ||
                !e.try_read(ops + opsl.flags, &flags, 4)) {
                RunResult r;
                r.reason = RunResult::Reason::fault;
                r.fault.kind = Fault::Kind::read;
                r.fault.unmapped = true;
                r.fault.address = ops;
                res.abort = r;
                return res;
            }
            if (!val && !(flags & opsl.fl_noarg)) {
                ret = -EINVAL;
                break;
            }
            uint8_t kpflags = 0;
            e.read(kp + kpl.flags, &kpflags, 1);
            // param_check_unsafe(): pr_notice() with kp->name, add_taint(TAINT_USER,
            // LOCKDEP_STILL_OK).
            if (kpflags & kpl.fl_unsafe) {
                k.log(5, "Setting dangerous option " + name + " - tainting kernel");
                k.add_taint('U');
            }
            uint64_t set = e.read_word(ops + opsl.set);
            try {
                ret = static_cast<int32_t>(k.call_guest(set, {a.val ? gbuf + *a.val : 0, kp}));
            } catch (const GuestFault& f) {
                res.abort = f.result;
                return res;
            } catch (const KernelPanic& p) {
                res.panic = p.message;
                return res;
            }
            break;
        }
        if (!found) {
            // unknown_module_param_cb()
            if (param != "async_probe" && !param.starts_with("dyndbg"))
                k.log(4, mod.name + ": unknown parameter '" + param + "' ignored");
            continue;
        }
        if (ret == 0) continue;
        // The messages show the value as the set() function left it (param_array() cuts it).
        if (a.val) {
            std::string now;
            if (e.read_cstring(gbuf + *a.val, buf.size(), now)) val = now;
        }
        if (ret == -ENOENT)
            k.log(3, mod.name + ": Unknown parameter `" + param + "'");
        else if (ret == -ENOSPC)
            k.log(3, mod.name + ": `" + val.value_or("") + "' too large for parameter `" + param +
                         "'");
        else
            k.log(3,
                  mod.name + ": `" + val.value_or("") + "' invalid for parameter `" + param + "'");
        err = ret;
    }
    if (!err && after_dashes && *after_dashes < buf.size())
        k.log(4, mod.name + ": parameters '" + std::string(buf.c_str() + *after_dashes) +
                     "' after `--' ignored");
    res.err = err;
    return res;
}

void destroy_module_params(Kernel& k, LoadedModule& mod) {
    Emulator& e = k.emu();
    const KernelStructs::KernelParam& kpl = k.structs().kernel_param;
    const uint64_t ops_free = k.structs().kernel_param_ops.free;
    if (!mod.kp || !e.is_mapped(mod.kp)) return;
    // A corrupt parameter table makes the kernel oops in destroy_params(); kmodemu reports it
    // and goes on freeing the module.
    for (size_t i = 0; i < mod.num_kp; ++i)
        try {
            uint64_t kp = mod.kp + i * kpl.size;
            uint64_t ops = e.read_word(kp + kpl.ops);
            uint64_t fr = ops ? e.read_word(ops + ops_free) : 0;
            if (!fr) continue;
            k.call_guest(fr, {e.read_word(kp + kpl.arg)});
        } catch (const EmulatorError&) {
            k.diag("destroy_params: bad parameter entry " + std::to_string(i) + " in " + mod.name);
        } catch (const GuestFault&) {
            k.diag("destroy_params: parameter " + std::to_string(i) + "'s free() faulted in " +
                   mod.name);
        } catch (const KernelPanic&) {
            k.diag("destroy_params: parameter " + std::to_string(i) + "'s free() panicked in " +
                   mod.name);
        }
}

}  // namespace kmodemu
