// The real kernel of a kit beyond its profile: its identity as reports print it (UTS_VERSION,
// Debian's LINUX_PACKAGE_ID), and its own symbol table (kallsyms) and code, read from the kit's
// kernel image. Reports then name the kernel's functions as the kernel does
// ("__memset+0xc8/0x188"), and where a C++ stub would fault, kmodemu can run the kernel's own code
// of a self-contained routine instead, so that the oops is the kernel's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/emulator.h"
#include "kernel_stubs/btf.h"
#include "kernel_stubs/module_sig.h"
#include "kernel_stubs/structs.h"

namespace kmodemu {

struct KernelProfile;

struct KernelSymbol {
    std::string name;   // as kallsyms prints the address: the first of its aliases
    uint64_t addr = 0;  // link-time address (arm64: relative to the lowest symbol)
    uint64_t size = 0;  // up to the next higher symbol, as kallsyms_lookup_size_offset()
    char type = 0;      // as /proc/kallsyms prints it: T t W w (text), D d B b R r (data)
};

// An entry of the kernel's __bug_table.
struct KernelBug {
    uint64_t addr = 0;  // of the trap instruction
    std::string file;
    unsigned line = 0;
    uint16_t flags = 0;
};

// The kallsyms tables of a decompressed kernel image (arm64 Image, ARM Image), as
// scripts/kallsyms.c lays them out with relative offsets (CONFIG_KALLSYMS_BASE_RELATIVE; 6.12 has
// no other way). Up to 6.3: offsets, relative base, count, compressed names, markers,
// [seqs_of_names (6.2+; Debian's 6.1 too),] token table and token index. Since 6.4: count, names,
// markers, token table, token index, offsets, relative base and seqs_of_names. With
// CONFIG_KALLSYMS_ALL (Debian's arm64 6.12) the data symbols are listed too.
class Kallsyms {
  public:
    // Throws std::runtime_error when the image holds no tables of that shape.
    Kallsyms(std::string image, Arch arch, bool thumb2);
    // The same over the bytes of a file, mapped (not read) from `path`; null when unreadable.
    static std::unique_ptr<Kallsyms> from_file(const std::string& path, Arch arch, bool thumb2);
    size_t size() const { return addrs_.size(); }
    // The i-th symbol of the tables (they are in address order): its name, address and type.
    const std::string& name(size_t i) const { return names_[i]; }
    uint64_t address(size_t i) const { return addrs_[i]; }
    char type(size_t i) const { return types_[i]; }
    // The symbol `name` names, under the name kallsyms prints for its address.
    std::optional<KernelSymbol> find(std::string_view name) const;
    // The bytes of [addr, addr + n) of the kernel's text, when the image's placement of its text
    // is known (found from where the calls of the sampled functions land).
    std::optional<std::string_view> code(uint64_t addr, uint64_t n) const;
    // The whole image and the address its first byte is linked at, when that is known as for
    // code() (the kernel's tables that kallsyms does not name, e.g. ARM's unwind index, are in it).
    std::optional<std::pair<uint64_t, std::string_view>> image() const;
    // Where a call from `caller` returns to: after its first call (BL) of `callee`, or with an
    // empty callee after its first indirect call (arm64 BLR, ARM BLX); nullopt when there is
    // none or the code is not known. A call trace names the return address this way.
    std::optional<uint64_t> return_address(std::string_view caller, std::string_view callee) const;
    // The __bug_table entry of a trap in `fn`: the one for `line`, else the first trap's. The
    // entries are struct bug_entry as `layout` (the kernel's) has it.
    std::optional<KernelBug> bug_in(const KernelSymbol& fn, const KernelStructs::BugEntry& layout,
                                    unsigned line = 0) const;
    // Every __bug_table entry of a trap in `fn`, by address.
    std::vector<KernelBug> bugs_in(const KernelSymbol& fn,
                                   const KernelStructs::BugEntry& layout) const;

  private:
    Kallsyms(std::shared_ptr<const void> storage, std::string_view image, Arch arch, bool thumb2);
    void find_text() const;  // on first use
    std::optional<uint64_t> image_offset(uint64_t addr) const;

    std::shared_ptr<const void> storage_;  // what image_ views
    std::string_view image_;
    Arch arch_;
    bool thumb2_;
    std::vector<uint64_t> addrs_;  // sorted, as the kernel keeps them
    std::vector<std::string> names_;
    std::vector<char> types_;
    mutable bool text_searched_ = false;
    mutable std::optional<int64_t> text_delta_;  // image offset = addr + delta
    mutable std::optional<std::unordered_map<std::string_view, size_t>> by_name_;  // first index
};

// What a Kernel knows of the kit's real kernel, read on first use.
class RealKernel {
  public:
    RealKernel(std::shared_ptr<const KernelProfile> profile, Arch arch);
    ~RealKernel();
    // The first word of UTS_VERSION ("#1") and Debian's LINUX_PACKAGE_ID (" Debian 6.1.192-3"),
    // from the kit's headers (include/generated/); "#1" and "" without a kit.
    const std::string& uts_build();
    const std::string& package_id();
    // The kernel's kallsyms, from KIT/Image (tools/fetch-kernel-kit decompresses a compressed
    // vmlinuz there) or the kit's vmlinuz when it is an uncompressed image; null without them.
    const Kallsyms* kallsyms();
    // The BTF in the same image (Debian's arm64 kernels carry it); null without.
    const KernelBtf* btf();
    // The X.509 certificates built into the same image (its system keyring, which verifies
    // module signatures); null without the image.
    const TrustedKeys* trusted_keys();
    // Whether the code of `fn` can run on its own in the emulated kernel: no calls, branches or
    // PC-relative references out of it, no system register writes or exceptions (a leaf
    // routine such as __memset).
    bool self_contained(const KernelSymbol& fn);
    // The user memory of the current task, insmod (a static busybox): the PT_LOAD segments of
    // the kit's busybox (KIT_BUSYBOX; without one, a static executable's default placement at
    // 4 MiB) and its stack at the top of the address space below task_size; [begin, end).
    const std::vector<std::pair<uint64_t, uint64_t>>& user_mappings(uint64_t task_size);
    // enum fortify_func (6.9+ include/linux/fortify-string.h, EACH_FORTIFY_FUNC()): the function
    // names __fortify_report() prints, in order, from the kit's headers (Debian's
    // linux-headers-*-common beside KIT_HEADERS); empty without them.
    const std::vector<std::string>& fortify_funcs();

  private:
    void read_identity();
    std::optional<std::string> image_path() const;
    std::shared_ptr<const KernelProfile> profile_;
    Arch arch_;
    bool identity_read_ = false;
    std::string uts_build_ = "#1", package_id_;
    bool kallsyms_tried_ = false;
    // Shared by every RealKernel of the process while the image is unchanged (a corpus run makes
    // thousands of kernels of one kit): read once.
    std::shared_ptr<const Kallsyms> kallsyms_;
    bool keys_tried_ = false;
    std::shared_ptr<const TrustedKeys> keys_;
    const TrustedKeys* read_trusted_keys(const std::optional<std::string>& image);
    bool btf_tried_ = false;
    std::shared_ptr<const KernelBtf> btf_;
    std::vector<std::pair<uint64_t, uint64_t>> user_;
    bool fortify_read_ = false;
    std::vector<std::string> fortify_funcs_;
};

// The names of the EACH_FORTIFY_FUNC(macro) list in the text of fortify-string.h, in order;
// empty when it has none.
std::vector<std::string> parse_fortify_funcs(std::string_view header);

}  // namespace kmodemu
