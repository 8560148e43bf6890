#include "kernel_stubs/btf.h"

#include <bpf/btf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

namespace kmodemu {

extern const char default_prototypes_txt[];  // generated from prototypes.txt by the build

std::string Prototype::str() const {
    switch (ret) {
        case Ret::void_:
            return "void";
        case Ret::integer:
            return "int";
        case Ret::pointer:
            return "ptr " + std::to_string(pointee_size);
    }
    return "int";
}

std::optional<Prototype> Prototype::parse(std::string_view s) {
    if (s == "void") return Prototype{Ret::void_, 0};
    if (s == "int") return Prototype{Ret::integer, 0};
    if (s.starts_with("ptr ")) {
        uint32_t n = 0;
        for (char c : s.substr(4)) {
            if (c < '0' || c > '9') return std::nullopt;
            n = n * 10 + uint32_t(c - '0');
        }
        return Prototype{Ret::pointer, n};
    }
    return std::nullopt;
}

KernelBtf::~KernelBtf() {
    btf__free(btf_);
}

std::unique_ptr<KernelBtf> KernelBtf::from_image(std::string_view image) {
    // struct btf_header: magic (u16), version, flags (u8), hdr_len, type_off, type_len, str_off,
    // str_len (u32), little-endian here.
    static const char magic[] = {'\x9f', '\xeb', 1, 0, 24, 0, 0, 0};
    size_t pos = 0;
    while ((pos = image.find(std::string_view(magic, sizeof magic), pos)) !=
           std::string_view::npos) {
        uint32_t h[5];
        if (pos + 24 > image.size()) break;
        std::memcpy(h, image.data() + pos + 4, sizeof h);
        uint64_t size = uint64_t(h[0]) + std::max(uint64_t(h[1]) + h[2], uint64_t(h[3]) + h[4]);
        if (h[2] > 0 && pos + size <= image.size()) {
            struct btf* b = btf__new(image.data() + pos, static_cast<uint32_t>(size));
            if (b && btf__type_cnt(b) > 1000) return std::unique_ptr<KernelBtf>(new KernelBtf(b));
            btf__free(b);
        }
        ++pos;
    }
    return nullptr;
}

std::unique_ptr<KernelBtf> KernelBtf::from_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    void* p = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
        p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return nullptr;
    // btf__new() copies the blob: the mapping is not needed afterwards.
    auto out = from_image(std::string_view(static_cast<const char*>(p), size_t(st.st_size)));
    ::munmap(p, size_t(st.st_size));
    return out;
}

size_t KernelBtf::types() const {
    return btf__type_cnt(btf_);
}

std::optional<Prototype> KernelBtf::proto_of(int func_id) const {
    const struct btf_type* f = btf__type_by_id(btf_, func_id);
    if (!f || !btf_is_func(f)) return std::nullopt;
    const struct btf_type* proto = btf__type_by_id(btf_, f->type);
    if (!proto || !btf_is_func_proto(proto)) return std::nullopt;
    if (proto->type == 0) return Prototype{Prototype::Ret::void_, 0};
    int ret = btf__resolve_type(btf_, proto->type);  // through typedefs and qualifiers
    const struct btf_type* t = ret > 0 ? btf__type_by_id(btf_, ret) : nullptr;
    if (t && btf_is_ptr(t)) {
        int target = btf__resolve_type(btf_, t->type);
        Prototype p{Prototype::Ret::pointer, 0};
        if (target > 0) {
            const struct btf_type* tt = btf__type_by_id(btf_, target);
            if (tt && !btf_is_func_proto(tt) && !btf_is_fwd(tt)) {
                long long n = btf__resolve_size(btf_, target);
                if (n > 0) p.pointee_size = static_cast<uint32_t>(n);
            }
        }
        return p;
    }
    // Integers, enums, bool, and the rare struct returned by value: 0 in the return register.
    return Prototype{Prototype::Ret::integer, 0};
}

std::optional<Prototype> KernelBtf::function(std::string_view name) const {
    const auto& idx = index();
    auto it = idx.find(name);
    if (it == idx.end()) return std::nullopt;
    return proto_of(it->second);
}

std::optional<uint32_t> KernelBtf::variable_size(std::string_view name) const {
    // By an index of the VARs made once (btf__find_by_name_kind() scans every type: a kernel's
    // BTF has ~100,000), holding the first of a name as btf__find_by_name_kind() finds it.
    if (!vars_) {
        vars_.emplace();
        for (uint32_t id = 1; id < btf__type_cnt(btf_); ++id) {
            const struct btf_type* t = btf__type_by_id(btf_, id);
            if (btf_is_var(t)) vars_->try_emplace(btf__name_by_offset(btf_, t->name_off), int(id));
        }
    }
    auto it = vars_->find(name);
    if (it == vars_->end()) return std::nullopt;
    int id = it->second;
    long long n = btf__resolve_size(btf_, btf__type_by_id(btf_, id)->type);
    if (n <= 0) return std::nullopt;
    return static_cast<uint32_t>(n);
}

const std::unordered_map<std::string_view, int>& KernelBtf::index() const {
    if (index_) return *index_;
    // A name may have several FUNCs (static functions of other files, assembly routines
    // described as void (void)): the global one counts, else the one with the most parameters
    // (pahole marks most functions static), else one returning something, else the first.
    index_.emplace();
    auto rank = [&](const struct btf_type* t) {
        const struct btf_type* proto = btf__type_by_id(btf_, t->type);
        if (!proto || !btf_is_func_proto(proto)) return 0;
        return (btf_vlen(t) == BTF_FUNC_GLOBAL ? 1 << 16 : 0) + (btf_vlen(proto) << 1) +
               (proto->type ? 1 : 0);  // a FUNC's vlen is its linkage
    };
    for (uint32_t id = 1; id < btf__type_cnt(btf_); ++id) {
        const struct btf_type* t = btf__type_by_id(btf_, id);
        if (!btf_is_func(t)) continue;
        std::string_view name = btf__name_by_offset(btf_, t->name_off);
        auto [it, fresh] = index_->try_emplace(name, int(id));
        if (!fresh && rank(t) > rank(btf__type_by_id(btf_, it->second))) it->second = int(id);
    }
    return *index_;
}

void KernelBtf::for_each_function(
    const std::function<void(std::string_view, Prototype)>& fn) const {
    for (const auto& [name, id] : index())
        if (auto p = proto_of(id)) fn(name, *p);
}

std::optional<Prototype> default_prototype(std::string_view name) {
    // NAME PROTOTYPE lines, sorted; parsed once.
    static const auto table = [] {
        std::unordered_map<std::string_view, Prototype> m;
        std::string_view all(default_prototypes_txt);
        size_t pos = 0;
        while (pos < all.size()) {
            size_t end = all.find('\n', pos);
            if (end == std::string_view::npos) end = all.size();
            std::string_view line = all.substr(pos, end - pos);
            pos = end + 1;
            if (line.empty() || line[0] == '#') continue;
            size_t sp = line.find(' ');
            if (sp == std::string_view::npos) continue;
            if (auto p = Prototype::parse(line.substr(sp + 1))) m.emplace(line.substr(0, sp), *p);
        }
        return m;
    }();
    auto it = table.find(name);
    if (it == table.end()) return std::nullopt;
    return it->second;
}

}  // namespace kmodemu
