// parse_args() (kernel/params.c) for module parameters, over the module's __param table.
#pragma once

#include <optional>
#include <string>

#include "kernel_stubs/kernel.h"
#include "loader/module.h"

namespace kmodemu {

constexpr uint64_t gfp_zero_flag = 0x100;

// Offsets in struct kernel_param, kernel_param_ops, kparam_string and kparam_array.
struct KParamLayout {
    uint64_t kp_size, kp_name, kp_ops, kp_perm, kp_level, kp_flags, kp_arg;
    uint64_t ops_set, ops_get, ops_free;
    uint64_t kps_string;
    uint64_t arr_max, arr_elemsize, arr_num, arr_ops, arr_elem;
    static KParamLayout for_arch(Arch a);
};

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
