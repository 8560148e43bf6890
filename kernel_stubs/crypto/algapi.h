// crypto/algapi.c: the kernel's list of registered algorithms and templates, for the
// registration functions of each algorithm type (crypto/shash.c, crypto/skcipher.c, ...) and
// the lookups of crypto/api.c.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "kernel_stubs/kernel.h"
#include "kernel_stubs/structs.h"

namespace kmodemu::crypto {

// crypto_register_alg(alg): crypto_check_alg(), -EEXIST for a name clash, then the algorithm is
// on the list (and its self-test, see algapi.cc).
int register_alg(StubCall& c, uint64_t alg);
// crypto_unregister_alg(alg)
void unregister_alg(StubCall& c, uint64_t alg);
// What the type's *_prepare_alg() does to its struct crypto_alg in all types: cra_type is the
// kernel's struct crypto_type of the type (`type_object`, e.g. "crypto_shash_type", an object
// of the emulated kernel) and the type bits of cra_flags are the type's.
void set_type(StubCall& c, uint64_t alg, const std::string& type_object, uint64_t type_bits);
// crypto_register_shashes() and its kind: registers `count` structures of `size` bytes from
// `first` one by one; on an error, unregisters those it registered, the last first.
int register_array(StubCall& c, uint64_t first, int count, uint64_t size,
                   const std::function<int(uint64_t)>& reg,
                   const std::function<void(uint64_t)>& unreg);
// crypto_unregister_shashes() and its kind: the last first.
void unregister_array(StubCall& c, uint64_t first, int count, uint64_t size,
                      const std::function<void(uint64_t)>& unreg);
// The registration functions of one algorithm type (crypto/shash.c, ...):
// crypto_register_<type>(alg) runs `prepare` (the type's *_prepare_alg(): its limits, -EINVAL,
// and set_type()) and then crypto_register_alg() on the structure's crypto_alg at `base`;
// crypto_unregister_<type>(alg) unregisters that. With a `size` (sizeof the type's structure),
// also crypto_register_<types>(algs, count) and crypto_unregister_<types>() (`types`: the
// plural, "shashes").
using Types = KernelStructs::CryptoTypes;
void add_type(Kernel& k, const char* sub, const std::string& type, const std::string& types,
              uint64_t Types::*base, uint64_t Types::*size,
              std::function<int(StubCall&, uint64_t)> prepare);
uint32_t read_u32(StubCall& c, uint64_t addr);
void write_u32(StubCall& c, uint64_t addr, uint32_t v);
// Whether a module registered an algorithm whose cra_name or cra_driver_name is `name`, or a
// template of that name.
bool registered_alg(Kernel& k, const std::string& name);
bool registered_template(Kernel& k, const std::string& name);
// The kernel's built-in algorithms' names (their MODULE_ALIAS_CRYPTO() names), when the kernel
// is a kit's; empty otherwise (crypto/api.cc).
const std::set<std::string>& builtin(Kernel& k);

}  // namespace kmodemu::crypto
