// fixture_variant — makes the broken variants of fixture modules that the differential suite
// loads under the real kernel and under kmodemu alike:
//
//   fixture_variant IN OUT --replace FROM TO   replace the first FROM (same length as TO)
//   fixture_variant IN OUT --bad-crc SYMBOL    flip the CRC of SYMBOL in __versions
//   fixture_variant IN OUT --wx SECTION        make an executable SECTION writable too
//   fixture_variant OUT --text                 write a file that is not ELF
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel_stubs/structs.h"
#include "loader/elf_file.h"

using namespace kmodemu;

namespace {

int fail(const std::string& msg) {
    std::fprintf(stderr, "fixture_variant: %s\n", msg.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[2]) == "--text") {
        std::ofstream out(argv[1], std::ios::binary);
        out << "This is not a kernel module: kmodemu's differential suite loads it to check that\n"
               "both kernels refuse a file that is not ELF with the same message.\n";
        return out ? 0 : fail("cannot write the output");
    }
    if (argc < 5)
        return fail("usage: IN OUT --replace FROM TO | IN OUT --bad-crc SYMBOL | OUT --text");
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (bytes.empty()) return fail(std::string("cannot read ") + argv[1]);
    std::string mode = argv[3];
    if (mode == "--replace" && argc == 6) {
        std::string from = argv[4], to = argv[5];
        if (from.size() != to.size()) return fail("FROM and TO must have the same length");
        auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
        if (it == bytes.end()) return fail("'" + from + "' not found");
        std::copy(to.begin(), to.end(), it);
    } else if (mode == "--bad-crc") {
        auto arch = ElfFile::sniff_arch(bytes);
        if (!arch) return fail("not an ARM or AArch64 ELF file");
        ElfFile elf;
        if (Status st = elf.open(bytes, *arch); !st) return fail(st.message);
        const ElfSection* v = elf.find_section("__versions", false);
        if (!v) return fail("no __versions");
        // struct modversion_info as the default kernel has it; the CRC's low byte flipped.
        const KernelStructs::ModversionInfo& mv = KernelStructs::defaults(*arch).modversion_info;
        bool done = false;
        for (uint64_t off = v->hdr.sh_offset; off + mv.size <= v->hdr.sh_offset + v->hdr.sh_size;
             off += mv.size) {
            if (std::strncmp(reinterpret_cast<const char*>(&bytes[off + mv.name]), argv[4],
                             mv.size - mv.name) == 0) {
                bytes[off + mv.crc] ^= 0x5a;
                done = true;
            }
        }
        if (!done) return fail(std::string("no version for ") + argv[4]);
    } else if (mode == "--wx") {
        auto arch = ElfFile::sniff_arch(bytes);
        if (!arch) return fail("not an ARM or AArch64 ELF file");
        ElfFile elf;
        if (Status st = elf.open(bytes, *arch); !st) return fail(st.message);
        const ElfSection* s = elf.find_section(argv[4], true);
        if (!s) return fail(std::string("no section ") + argv[4]);
        // sh_flags: the third field of a section header (ELF32: 4-byte words; ELF64: 8 bytes).
        bool is64 = elf.is64();
        uint64_t shoff = is64 ? *reinterpret_cast<const uint64_t*>(&bytes[0x28])
                              : *reinterpret_cast<const uint32_t*>(&bytes[0x20]);
        size_t shentsize = is64 ? 64 : 40;
        uint8_t& flags = bytes[shoff + s->index * shentsize + 8];
        flags |= 0x1;  // SHF_WRITE (SHF_EXECINSTR, 0x4, is already set)
    } else {
        return fail("unknown mode " + mode);
    }
    std::ofstream out(argv[2], std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return out ? 0 : fail("cannot write the output");
}
