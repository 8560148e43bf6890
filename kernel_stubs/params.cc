// kernel/params.c: the standard parameter types' ops (param_ops_int, ...) whose set() functions
// the loader's parse_args() calls through the guest's struct kernel_param.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/lib/kstrtox.h"
#include "kernel_stubs/slab.h"
#include "kernel_stubs/structs.h"
#include "loader/params.h"

namespace kmodemu {

int kstrtoull(const std::string& in, unsigned base, uint64_t& out) {
    std::string s = in;
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    if (base == 0) {
        if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s.size() > 2 &&
            std::isxdigit(static_cast<unsigned char>(s[2]))) {
            base = 16;
            s.erase(0, 2);
        } else if (!s.empty() && s[0] == '0') {
            base = 8;
        } else {
            base = 10;
        }
    } else if (base == 16 && s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.erase(0, 2);
    }
    size_t i = 0;
    unsigned __int128 v = 0;
    bool overflow = false;
    for (; i < s.size(); ++i) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = unsigned(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = unsigned(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = unsigned(ch - 'A' + 10);
        else
            break;
        if (d >= base) break;
        v = v * base + d;
        if (v > std::numeric_limits<uint64_t>::max()) overflow = true;
    }
    if (i == 0) return -EINVAL;
    if (overflow) return -ERANGE;
    if (i < s.size() && !(s[i] == '\n' && i + 1 == s.size())) return -EINVAL;
    out = static_cast<uint64_t>(v);
    return 0;
}

namespace {

int kstrtoll(const std::string& s, int64_t& out) {
    uint64_t v;
    if (!s.empty() && s[0] == '-') {
        int r = kstrtoull(s.substr(1), 0, v);
        if (r) return r;
        if (v > uint64_t(std::numeric_limits<int64_t>::max()) + 1) return -ERANGE;
        out = static_cast<int64_t>(0 - v);
        return 0;
    }
    int r = kstrtoull(s, 0, v);
    if (r) return r;
    if (v > uint64_t(std::numeric_limits<int64_t>::max())) return -ERANGE;
    out = static_cast<int64_t>(v);
    return 0;
}

// scnprintf(buffer, PAGE_SIZE, ...) into the guest's buffer: at most a page with its NUL; the
// length written (without the NUL) is what param_get_*() return.
uint64_t emit(StubCall& c, uint64_t buf, std::string text) {
    constexpr size_t page_size = 4096;
    if (text.size() > page_size - 1) text.resize(page_size - 1);
    c.write(buf, text.c_str(), text.size() + 1);
    return text.size();
}

// The value of an integer parameter of `bytes` bytes at addr, as its type formats it.
std::string format_int(StubCall& c, uint64_t addr, bool is_signed, unsigned bytes, bool hex) {
    std::vector<uint8_t> b = c.read(addr, bytes);
    uint64_t v = 0;
    std::memcpy(&v, b.data(), bytes);
    char out[32];
    if (hex) {
        // "%#08x": the kernel's '#' gives "0x" even for 0, and the width counts it.
        std::snprintf(out, sizeof out, "0x%06llx", static_cast<unsigned long long>(v));
    } else if (is_signed) {
        int64_t sv = bytes == 8 ? static_cast<int64_t>(v)
                                : static_cast<int64_t>(v << (64 - bytes * 8)) >> (64 - bytes * 8);
        std::snprintf(out, sizeof out, "%lld", static_cast<long long>(sv));
    } else {
        std::snprintf(out, sizeof out, "%llu", static_cast<unsigned long long>(v));
    }
    return out;
}

}  // namespace

int kstrtobool(const std::string& s, bool& out) {
    // kstrtobool(): y/Y/1, n/N/0, on/off (case-insensitive second letter).
    if (s.empty()) return -EINVAL;
    switch (s[0]) {
        case 'y':
        case 'Y':
        case '1':
            out = true;
            return 0;
        case 'n':
        case 'N':
        case '0':
            out = false;
            return 0;
        case 'o':
        case 'O':
            if (s.size() > 1 && (s[1] == 'n' || s[1] == 'N')) {
                out = true;
                return 0;
            }
            if (s.size() > 1 && (s[1] == 'f' || s[1] == 'F')) {
                out = false;
                return 0;
            }
            return -EINVAL;
        default:
            return -EINVAL;
    }
}

// kstrto<int type>: parse in 64 bits, then check the type's range.
int kstrto_int(const std::string& s, bool is_signed, unsigned bytes, uint64_t& out) {
    if (is_signed) {
        int64_t v;
        int r = kstrtoll(s, v);
        if (r) return r;
        int64_t lo =
            bytes == 8 ? std::numeric_limits<int64_t>::min() : -(int64_t(1) << (bytes * 8 - 1));
        int64_t hi =
            bytes == 8 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << (bytes * 8 - 1)) - 1;
        if (v < lo || v > hi) return -ERANGE;
        out = static_cast<uint64_t>(v);
        return 0;
    }
    uint64_t v;
    int r = kstrtoull(s, 0, v);
    if (r) return r;
    if (bytes < 8 && v > ((uint64_t(1) << (bytes * 8)) - 1)) return -ERANGE;
    out = v;
    return 0;
}

void register_params(Kernel& k) {
    const char* sub = "params";
    // Where the kernel's struct kernel_param, kernel_param_ops, kparam_string and kparam_array
    // keep their fields.
    const struct {
        KernelStructs::KernelParam kp;
        KernelStructs::KernelParamOps ops;
        KernelStructs::KparamString str;
        KernelStructs::KparamArray arr;
    } L{k.structs().kernel_param, k.structs().kernel_param_ops, k.structs().kparam_string,
        k.structs().kparam_array};
    const unsigned w = k.word();

    // One ops object per standard type: { flags, set, get, free }.
    // param_get_*(buffer, kp): the value as sysfs shows it, "%<fmt>\n" (kernel/params.c, 6.1:
    // scnprintf(buffer, PAGE_SIZE, ...)); the length written.
    auto add_ops = [&](const std::string& type, StubFn set, uint32_t flags, uint64_t free_fn,
                       StubFn get) {
        uint64_t set_addr = k.add_function("param_set_" + type, sub, std::move(set)).address;
        uint64_t get_addr = k.add_function("param_get_" + type, sub, std::move(get)).address;
        std::vector<uint8_t> ops(L.ops.size, 0);
        std::memcpy(ops.data() + L.ops.flags, &flags, 4);
        std::memcpy(ops.data() + L.ops.set, &set_addr, w);
        std::memcpy(ops.data() + L.ops.get, &get_addr, w);
        std::memcpy(ops.data() + L.ops.free, &free_fn, w);
        k.add_data("param_ops_" + type, sub, ops.size(), ops.data());
    };
    struct IntType {
        const char* name;
        bool is_signed;
        unsigned bytes;
    };
    const IntType ints[] = {{"byte", false, 1},  {"short", true, 2},   {"ushort", false, 2},
                            {"int", true, 4},    {"uint", false, 4},   {"long", true, w},
                            {"ulong", false, w}, {"ullong", false, 8}, {"hexint", false, 4}};
    for (const IntType& t : ints) {
        IntType tt = t;
        add_ops(
            t.name,
            [tt, L](StubCall& c) -> uint64_t {
                std::string val = c.read_cstr(c.arg(0));
                uint64_t kp = c.arg(1);
                uint64_t v;
                int r = kstrto_int(val, tt.is_signed, tt.bytes, v);
                if (r) return static_cast<uint64_t>(int64_t(r));
                uint64_t arg = c.emu.read_word(kp + L.kp.arg);
                c.write(arg, &v, tt.bytes);
                return 0;
            },
            0, 0,
            [tt, L](StubCall& c) -> uint64_t {
                uint64_t arg = c.emu.read_word(c.arg(1) + L.kp.arg);
                bool hex = std::string_view(tt.name) == "hexint";
                return emit(c, c.arg(0), format_int(c, arg, tt.is_signed, tt.bytes, hex) + "\n");
            });
    }
    // param_get_bool(): "%c\n" of Y or N; invbool the other way round.
    auto get_bool = [L](bool inverted) {
        return [L, inverted](StubCall& c) -> uint64_t {
            uint64_t arg = c.emu.read_word(c.arg(1) + L.kp.arg);
            bool v = c.read(arg, 1)[0] != 0;
            return emit(c, c.arg(0), std::string(v != inverted ? "Y" : "N") + "\n");
        };
    };
    // bool: NOARG (a bare name means true).
    const uint32_t noarg = static_cast<uint32_t>(L.ops.fl_noarg);
    add_ops(
        "bool",
        [L](StubCall& c) -> uint64_t {
            std::string val = c.arg(0) ? c.read_cstr(c.arg(0)) : "1";
            bool b;
            if (kstrtobool(val, b)) return static_cast<uint64_t>(int64_t(-EINVAL));
            uint8_t v = b;
            c.write(c.emu.read_word(c.arg(1) + L.kp.arg), &v, 1);
            return 0;
        },
        noarg, 0, get_bool(false));
    add_ops(
        "invbool",
        [L](StubCall& c) -> uint64_t {
            std::string val = c.arg(0) ? c.read_cstr(c.arg(0)) : "1";
            bool b;
            if (kstrtobool(val, b)) return static_cast<uint64_t>(int64_t(-EINVAL));
            uint8_t v = !b;
            c.write(c.emu.read_word(c.arg(1) + L.kp.arg), &v, 1);
            return 0;
        },
        noarg, 0, get_bool(true));
    // bint: an int set like a bool (param_set_bint()), shown by param_get_int().
    {
        uint64_t set_addr = k.add_function("param_set_bint", sub, [L](StubCall& c) -> uint64_t {
                                 std::string val = c.arg(0) ? c.read_cstr(c.arg(0)) : "1";
                                 bool b;
                                 if (kstrtobool(val, b))
                                     return static_cast<uint64_t>(int64_t(-EINVAL));
                                 int32_t v = b;
                                 c.write(c.emu.read_word(c.arg(1) + L.kp.arg), &v, 4);
                                 return 0;
                             }).address;
        uint64_t get_addr = k.find_export("param_get_int")->address;
        std::vector<uint8_t> ops(L.ops.size, 0);
        std::memcpy(ops.data() + L.ops.flags, &noarg, 4);
        std::memcpy(ops.data() + L.ops.set, &set_addr, w);
        std::memcpy(ops.data() + L.ops.get, &get_addr, w);
        k.add_data("param_ops_bint", sub, ops.size(), ops.data());
    }
    // charp: a kmalloc'd copy (param_set_charp()); freed by param_free_charp().
    uint64_t free_charp = k.add_function("param_free_charp", sub, [](StubCall& c) {
                               uint64_t p = c.emu.read_word(c.arg(0));
                               if (c.kernel.slab().ksize(p)) c.kernel.slab().free(p);
                               return uint64_t(0);
                           }).address;
    add_ops(
        "charp",
        [L](StubCall& c) -> uint64_t {
            std::string val = c.read_cstr(c.arg(0));
            uint64_t kp = c.arg(1);
            if (val.size() > 1024) {
                std::string name = c.read_cstr(c.emu.read_word(kp + L.kp.name));
                c.kernel.log(3, name + ": string parameter too long");
                return static_cast<uint64_t>(int64_t(-ENOSPC));
            }
            uint64_t arg = c.emu.read_word(kp + L.kp.arg);
            uint64_t old = c.emu.read_word(arg);
            if (old && c.kernel.slab().ksize(old)) c.kernel.slab().free(old);
            uint64_t p = c.kernel.slab_alloc(val.size() + 1, 0);
            if (!p) return static_cast<uint64_t>(int64_t(-ENOMEM));
            c.write(p, val.c_str(), val.size() + 1);
            c.emu.write_word(arg, p);
            return 0;
        },
        0, free_charp,
        // param_get_charp(): "%s\n" of the string (vsnprintf()'s "(null)" and "(efault)").
        [L](StubCall& c) -> uint64_t {
            uint64_t p = c.emu.read_word(c.emu.read_word(c.arg(1) + L.kp.arg));
            std::string v = !p ? "(null)" : p < 4096 ? "(efault)" : c.read_cstr(p);
            return emit(c, c.arg(0), v + "\n");
        });
    // string: param_set_copystring() into a kparam_string { maxlen, string }.
    add_ops(
        "string",
        [L](StubCall& c) -> uint64_t {
            std::string val = c.read_cstr(c.arg(0));
            uint64_t kp = c.arg(1);
            uint64_t kps = c.emu.read_word(kp + L.kp.arg);
            uint32_t maxlen = c.emu.read_u32(kps + L.str.maxlen);
            if (val.size() + 1 > maxlen) {
                std::string name = c.read_cstr(c.emu.read_word(kp + L.kp.name));
                c.kernel.log(
                    3, name + ": string doesn't fit in " + std::to_string(maxlen - 1) + " chars.");
                return static_cast<uint64_t>(int64_t(-ENOSPC));
            }
            c.write(c.emu.read_word(kps + L.str.string), val.c_str(), val.size() + 1);
            return 0;
        },
        0, 0,
        // param_get_string(): "%s\n" of kps->string.
        [L](StubCall& c) -> uint64_t {
            uint64_t kps = c.emu.read_word(c.arg(1) + L.kp.arg);
            return emit(c, c.arg(0), c.read_cstr(c.emu.read_word(kps + L.str.string)) + "\n");
        });

    // param_array_ops: param_array_set() -> param_array(): comma-separated elements, each set
    // through the element type's ops with a temporary kernel_param.
    uint64_t arr_set =
        k.add_function("param_array_set", sub, [L](StubCall& c) -> uint64_t {
             std::string val = c.read_cstr(c.arg(0));
             uint64_t kp = c.arg(1);
             Emulator& e = c.emu;
             unsigned w = e.word_size();
             uint64_t arr = e.read_word(kp + L.kp.arg);
             uint32_t max = e.read_u32(arr + L.arr.max);
             uint32_t elemsize = e.read_u32(arr + L.arr.elemsize);
             uint64_t nump = e.read_word(arr + L.arr.num);
             uint64_t ops = e.read_word(arr + L.arr.ops);
             uint64_t elem = e.read_word(arr + L.arr.elem);
             std::string name = c.read_cstr(e.read_word(kp + L.kp.name));
             uint64_t set = e.read_word(ops + L.ops.set);
             // A temporary struct kernel_param and a copy of each element string, in guest memory.
             uint64_t tmp = c.kernel.slab_alloc(L.kp.size + val.size() + 1, gfp_zero_flag);
             if (!tmp) return static_cast<uint64_t>(int64_t(-ENOMEM));
             std::vector<uint8_t> kpbytes = c.read(kp, L.kp.size);
             c.write(tmp, kpbytes.data(), kpbytes.size());
             // param_array(): each element is cut out of the value in place (a NUL over its comma,
             // never put back), so a later error message shows only the first elements.
             uint64_t val_addr = c.arg(0);
             int num = 0;
             int ret = 0;
             size_t pos = 0;
             for (;;) {
                 if (num == int(max)) {
                     c.kernel.log(3,
                                  name + ": can only take " + std::to_string(max) + " arguments");
                     ret = -EINVAL;
                     break;
                 }
                 size_t comma = val.find(',', pos);
                 if (comma != std::string::npos) c.write(val_addr + comma, "", 1);
                 e.write_word(tmp + L.kp.arg, elem + uint64_t(elemsize) * num);
                 ret = static_cast<int32_t>(c.kernel.call_guest(set, {val_addr + pos, tmp}));
                 if (ret) break;
                 ++num;
                 if (comma == std::string::npos) break;
                 pos = comma + 1;
             }
             c.kernel.slab().free(tmp);
             if (ret) return static_cast<uint64_t>(int64_t(ret));
             if (nump) e.write_u32(nump, static_cast<uint32_t>(num));
             (void)w;
             return 0;
         }).address;
    // param_array_get(): each element through the element type's get(), at the end of what the
    // previous ones wrote, whose "\n" becomes a comma.
    uint64_t arr_get =
        k.add_function("param_array_get", sub, [L](StubCall& c) -> uint64_t {
             Emulator& e = c.emu;
             uint64_t buf = c.arg(0), kp = c.arg(1);
             uint64_t arr = e.read_word(kp + L.kp.arg);
             uint32_t max = e.read_u32(arr + L.arr.max);
             uint32_t elemsize = e.read_u32(arr + L.arr.elemsize);
             uint64_t nump = e.read_word(arr + L.arr.num);
             uint64_t get = e.read_word(e.read_word(arr + L.arr.ops) + L.ops.get);
             uint64_t elem = e.read_word(arr + L.arr.elem);
             uint32_t num = nump ? e.read_u32(nump) : max;
             uint64_t tmp = c.kernel.slab_alloc(L.kp.size, gfp_zero_flag);  // struct kernel_param p
             if (!tmp) return static_cast<uint64_t>(int64_t(-ENOMEM));
             std::vector<uint8_t> kpbytes = c.read(kp, L.kp.size);
             c.write(tmp, kpbytes.data(), kpbytes.size());
             int64_t off = 0;
             for (uint32_t i = 0; i < num; ++i) {
                 if (i) c.write(buf + off - 1, ",", 1);
                 e.write_word(tmp + L.kp.arg, elem + uint64_t(elemsize) * i);
                 int32_t ret = static_cast<int32_t>(c.kernel.call_guest(get, {buf + off, tmp}));
                 if (ret < 0) {
                     c.kernel.slab().free(tmp);
                     return static_cast<uint64_t>(int64_t(ret));
                 }
                 off += ret;
             }
             c.kernel.slab().free(tmp);
             c.write(buf + off, "", 1);
             return static_cast<uint64_t>(off);
         }).address;
    // param_array_free(arg): the element type's free() for each element.
    uint64_t arr_free = k.add_function("param_array_free", sub, [L](StubCall& c) -> uint64_t {
                             Emulator& e = c.emu;
                             uint64_t arr = c.arg(0);
                             uint64_t fr = e.read_word(e.read_word(arr + L.arr.ops) + L.ops.free);
                             if (!fr) return 0;
                             uint32_t elemsize = e.read_u32(arr + L.arr.elemsize);
                             uint64_t nump = e.read_word(arr + L.arr.num);
                             uint32_t num = nump ? e.read_u32(nump) : e.read_u32(arr + L.arr.max);
                             uint64_t elem = e.read_word(arr + L.arr.elem);
                             for (uint32_t i = 0; i < num; ++i)
                                 c.kernel.call_guest(fr, {elem + uint64_t(elemsize) * i});
                             return 0;
                         }).address;
    std::vector<uint8_t> ops(L.ops.size, 0);
    std::memcpy(ops.data() + L.ops.set, &arr_set, w);
    std::memcpy(ops.data() + L.ops.get, &arr_get, w);
    std::memcpy(ops.data() + L.ops.free, &arr_free, w);
    k.add_data("param_array_ops", sub, ops.size(), ops.data());
}

}  // namespace kmodemu
