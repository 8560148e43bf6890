// lib/kstrtox.c's conversions, on host strings (kernel_stubs/params.cc defines them).
#pragma once

#include <cstdint>
#include <string>

namespace kmodemu {

// _kstrtoull(): base 0 auto-detects 0x/0; a leading '+' is accepted; one trailing newline;
// -EINVAL for anything else, -ERANGE on overflow.
int kstrtoull(const std::string& in, unsigned base, uint64_t& out);

}  // namespace kmodemu
