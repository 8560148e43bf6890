// gen_prototypes OUT KIT... — writes kernel_stubs/exports/prototypes.txt: what each function
// the kits' kernels export returns, from the BTF in their images (arm64 kits; a kit without BTF
// is an error). Where two kernels disagree, a pointer wins over an integer over void: assembly
// routines (memcpy, crc32_le) appear in BTF as void (void), and for an auto-stub only a pointer
// return makes a difference (void and integer functions both return 0). The build
// compiles the file into the binary (default_prototype()): the typed auto-stubs of the default
// kernel and of kits whose kernels carry no BTF (armhf).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "kernel_stubs/btf.h"
#include "kernel_stubs/profile.h"

using namespace kmodemu;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: gen_prototypes OUT KIT...\n";
        return 64;
    }
    std::map<std::string, Prototype> protos;
    std::vector<std::string> kernels;
    for (int i = 2; i < argc; ++i) {
        std::string kit = argv[i];
        auto env = read_kit_env(kit + "/kit.env");
        if (!env) {
            std::cerr << "gen_prototypes: " << kit << ": not a kit\n";
            return 1;
        }
        std::string release = (*env)["KIT_RELEASE"];
        std::string image = kit + "/Image";
        std::unique_ptr<KernelBtf> btf = KernelBtf::from_file(image);
        if (!btf) btf = KernelBtf::from_file((*env)["KIT_BOOT"] + "/vmlinuz-" + release);
        if (!btf) {
            std::cerr << "gen_prototypes: " << kit << ": no BTF in the kernel image\n";
            return 1;
        }
        // vmlinux's exports (Module.symvers): symbol is the second tab-separated field.
        std::set<std::string> exported;
        std::ifstream sv((*env)["KIT_HEADERS"] + "/Module.symvers");
        std::string line;
        while (std::getline(sv, line)) {
            std::istringstream ss(line);
            std::string crc, sym, mod;
            std::getline(ss, crc, '\t');
            std::getline(ss, sym, '\t');
            std::getline(ss, mod, '\t');
            if (mod == "vmlinux") exported.insert(sym);
        }
        if (exported.empty()) {
            std::cerr << "gen_prototypes: " << kit << ": no Module.symvers\n";
            return 1;
        }
        btf->for_each_function([&](std::string_view name, Prototype p) {
            if (!exported.count(std::string(name))) return;
            auto [it, fresh] = protos.try_emplace(std::string(name), p);
            if (!fresh && int(p.ret) > int(it->second.ret)) it->second = p;
        });
        kernels.push_back(release + " (Debian " + (*env)["KIT_VERSION"] + ")");
    }
    std::ofstream out(argv[1]);
    out << "# What the exported functions of Debian's arm64 kernels return, from their BTF.\n"
           "# Made by build/gen_prototypes (tools/gen_prototypes.cc); do not edit.\n"
           "# NAME void|int|ptr SIZE (the size of the object pointed to; 0: void * or unknown)\n";
    for (const std::string& k : kernels)
        out << "# kernel: " << k << "\n";
    for (const auto& [name, p] : protos)
        out << name << " " << p.str() << "\n";
    if (!out) {
        std::cerr << "gen_prototypes: cannot write " << argv[1] << "\n";
        return 1;
    }
    std::cout << argv[1] << ": " << protos.size() << " prototypes\n";
    return 0;
}
