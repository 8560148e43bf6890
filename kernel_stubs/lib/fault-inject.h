// Fault injection (lib/fault-inject.c, mm/failslab.c, mm/fail_page_alloc.c): the calls of the
// emulated kernel's fallible functions that are made to fail, the way init error paths are
// tested. Debian's kernels are built without CONFIG_FAULT_INJECTION, so a failure injected here
// prints nothing in the kernel log; kmodemu says which call failed (a diagnostic, and the JSON
// report's "injected_faults").
//
// Which functions can fail, and how their failure looks to the caller, is declared once, in
// the table of fault-inject.cc: a function is named as the kernel source calls it (kmalloc,
// register_chrdev), and stands for the exports that implement it (__kmalloc, kmalloc_trace, ...;
// __register_chrdev). The hook sits in the stub call path (Kernel::dispatch): a call chosen to
// fail returns the failure without running the function.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kmodemu {

// How a failed call of a function looks to its caller.
enum class FailureForm : uint8_t {
    error,    // returns -ERRNO (an int)
    err_ptr,  // returns ERR_PTR(-ERRNO)
    null,     // returns NULL
};

struct FallibleFunction {
    const char* name;                  // as the kernel source calls it
    std::vector<const char*> exports;  // the exported functions that implement it
    FailureForm form;
    // An allocation of the slab or the page allocator (failslab / fail_page_alloc): counted by
    // --fail-alloc, --fail-alloc-every and --fail-probability; fails with NULL.
    bool allocation = false;
};

// The table, and a function of it by its name or the name of one of its exports.
const std::vector<FallibleFunction>& fallible_functions();
const FallibleFunction* find_fallible(std::string_view name);

// One --fail NAME:NTH:ERRNO: the nth call (from 1) of the function fails with -err (NULL for a
// function that fails with NULL, when no errno is given: then err is ENOMEM).
struct FaultSpec {
    std::string function;  // the table's name
    uint64_t nth = 1;
    int err = 0;
};

// What is to fail in a run.
struct FaultPlan {
    uint64_t fail_alloc = 0;        // the nth allocation fails (0: none)
    uint64_t fail_alloc_every = 0;  // every nth allocation fails (0: none)
    double probability = 0;         // percent of allocations that fail (failslab's probability)
    uint64_t seed = 0;              // of the probability's random numbers
    std::vector<FaultSpec> fail;
    // Record every call of a fallible function while armed (Kernel::fallible_calls), failing
    // or not: the list `kmodemu faults` makes each call fail from, one run per call.
    bool record = false;
    bool any() const { return fail_alloc || fail_alloc_every || probability > 0 || !fail.empty(); }
};

// Parses NAME:NTH:ERRNO (ERRNO a name such as EBUSY or a number; optional for a function that
// fails with NULL); on a bad form or an unknown function, nullopt and `error` says why.
std::optional<FaultSpec> parse_fault_spec(std::string_view text, std::string& error);

// The errno of a name ("EBUSY") or a number ("16"), as the kernel numbers them
// (include/uapi/asm-generic/errno*.h and include/linux/errno.h); nullopt if none.
std::optional<int> parse_errno(std::string_view s);
// "EBUSY" for 16; the number for one without a name.
std::string errno_string(int err);

// A call that was made to fail.
struct InjectedFault {
    std::string function;     // the table's name ("kmalloc")
    std::string export_name;  // the export the module called ("__kmalloc")
    uint64_t nth = 0;         // the function's nth call
    uint64_t allocation = 0;  // for an allocation: the run's nth allocation
    int err = 0;
    std::string returned;  // "-EBUSY", "ERR_PTR(-ENOMEM)", "NULL"
    std::string reason;    // "--fail", "--fail-alloc", "--fail-alloc-every", "--fail-probability"
    uint64_t caller = 0;   // the return address
    std::string where;     // the caller symbolized: "hello_init+0x24/0x80 [hello]"
};

// A call of a fallible function made while armed, when FaultPlan::record is on.
struct FallibleCall {
    std::string function;     // the table's name
    std::string export_name;  // the export called
    uint64_t nth = 0;         // the function's nth call
    uint64_t caller = 0;      // the return address
    std::string where;        // the caller symbolized
    std::string module;       // the module the caller is in (empty: the kernel)
    bool failed = false;      // the plan made it fail
    // What a successful allocation returned and the object's size (ksize()), 0 when it failed
    // or gave no slab object: how `kmodemu faults` tells the objects an error path leaks.
    uint64_t object = 0;
    uint64_t object_size = 0;
};

// The counts of a run: calls of each function of the table, allocations, and the random numbers
// of --fail-probability (xorshift64*, the same from a seed on every host).
struct FaultCounters {
    std::map<std::string, uint64_t, std::less<>> calls;  // by the table's name
    uint64_t allocations = 0;
    uint64_t rng;
    explicit FaultCounters(uint64_t seed);
    double uniform();  // [0, 1)
};

}  // namespace kmodemu
