// parse_args() (kernel/params.c) for module parameters, over the module's __param table.
#pragma once

#include <optional>
#include <string>

#include "kernel_stubs/kernel.h"
#include "loader/module.h"

namespace kmodemu {

constexpr uint64_t gfp_zero_flag = 0x100;

struct ParamResult {
    int err = 0;
    std::optional<RunResult> abort;
    std::optional<std::string> panic;
};

ParamResult parse_module_args(Kernel& k, LoadedModule& mod, const std::string& args);
// destroy_params(): ops->free for each parameter that has one.
void destroy_module_params(Kernel& k, LoadedModule& mod);

int kstrtobool(const std::string& s, bool& out);
int kstrto_int(const std::string& s, bool is_signed, unsigned bytes, uint64_t& out);

}  // namespace kmodemu
