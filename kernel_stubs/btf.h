// The kernel's function prototypes, for typed auto-stubs (--auto-stub): what a function returns
// decides what a pretended call returns as its success. They come from BTF, the type
// information vmlinux carries in its .BTF section (CONFIG_DEBUG_INFO_BTF; Debian's arm64 kernels
// have it, its armhf kernels do not), found in the kit's kernel image and read with libbpf. For
// the default kernel and for kits without BTF, the prototypes compiled in from Debian's arm64
// kernels of the same versions apply (kernel_stubs/exports/prototypes.txt, made by
// build/gen_prototypes): the pointee sizes there are arm64's, at least the 32-bit ones.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct btf;

namespace kmodemu {

struct Prototype {
    enum class Ret : uint8_t { void_, integer, pointer };
    Ret ret = Ret::integer;
    // For pointers: the size of the object pointed to; 0 for void *, a function or an
    // incomplete type.
    uint32_t pointee_size = 0;

    std::string str() const;  // "void", "int", "ptr 24": the form prototypes.txt uses
    static std::optional<Prototype> parse(std::string_view s);
    bool operator==(const Prototype&) const = default;
};

class KernelBtf {
  public:
    ~KernelBtf();
    KernelBtf(const KernelBtf&) = delete;
    KernelBtf& operator=(const KernelBtf&) = delete;
    // The BTF of a kernel image (raw bytes): the first blob with BTF's header (magic 0xeB9F,
    // version 1) that libbpf reads as a whole type table; null when there is none.
    static std::unique_ptr<KernelBtf> from_image(std::string_view image);
    static std::unique_ptr<KernelBtf> from_file(const std::string& path);

    size_t types() const;
    std::optional<Prototype> function(std::string_view name) const;
    // The size of a variable BTF describes (vmlinux's BTF has its per-CPU variables).
    std::optional<uint32_t> variable_size(std::string_view name) const;
    // Every function (BTF_KIND_FUNC) with its prototype.
    void for_each_function(const std::function<void(std::string_view, Prototype)>& fn) const;

  private:
    explicit KernelBtf(struct btf* b) : btf_(b) {}
    std::optional<Prototype> proto_of(int func_id) const;
    const std::unordered_map<std::string_view, int>& index() const;  // name -> FUNC id
    struct btf* btf_;
    mutable std::optional<std::unordered_map<std::string_view, int>> index_;
    mutable std::optional<std::unordered_map<std::string_view, int>> vars_;  // name -> VAR id
};

// The prototypes compiled into the binary (kernel_stubs/exports/prototypes.txt).
std::optional<Prototype> default_prototype(std::string_view name);

}  // namespace kmodemu
