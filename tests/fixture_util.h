// Helpers shared by the end-to-end suites: fixture modules, log lines, fixture source lines.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "loader/elf_file.h"
#include "tools/runner.h"

namespace fx {

// The kits the tests run on: KMODEMU_KIT_ARM64, KMODEMU_KIT_ARMHF, then those of KMODEMU_KITS.
inline std::vector<std::string> kits() {
    std::vector<std::string> out = {KMODEMU_KIT_ARM64, KMODEMU_KIT_ARMHF};
    std::string extra = KMODEMU_KITS;
    for (size_t at = 0; at < extra.size();) {
        size_t end = std::min(extra.find(':', at), extra.size());
        if (end > at) out.push_back(extra.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

// The bytes of build/fixtures/FLAVOUR/NAME/NAME.ko (a missing fixture fails the test).
inline std::vector<uint8_t> module(const std::string& flavour, const std::string& name) {
    std::string path =
        std::string(KMODEMU_FIXTURES) + "/" + flavour + "/" + name + "/" + name + ".ko";
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing fixture " << path;
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

// The module with an import renamed, as if its source had called `to` where it calls `from`: the
// symbol's name rewritten in place in .strtab (`to` no longer than `from`).
inline std::vector<uint8_t> rename_import(std::vector<uint8_t> bytes, const std::string& from,
                                          const std::string& to) {
    EXPECT_LE(to.size(), from.size());
    kmodemu::ElfFile elf;
    kmodemu::Status st = elf.open(bytes, kmodemu::ElfFile::sniff_arch(bytes).value());
    EXPECT_TRUE(st) << st.message;
    const auto& strtab = elf.sections().at(elf.sections().at(elf.symtab_index()).hdr.sh_link);
    for (size_t i = 1; i < elf.num_symbols(); ++i) {
        if (elf.symbol_name(i) != from) continue;
        size_t off = strtab.hdr.sh_offset + elf.symbol(i).st_name;
        std::fill(bytes.begin() + off, bytes.begin() + off + from.size(), 0);
        std::copy(to.begin(), to.end(), bytes.begin() + off);
        return bytes;
    }
    ADD_FAILURE() << "no symbol " << from;
    return bytes;
}

inline std::vector<std::string> texts(const kmodemu::RunOutcome& out) {
    std::vector<std::string> v;
    for (const kmodemu::LogLine& l : out.log)
        v.push_back(l.text);
    return v;
}

inline bool has_line(const kmodemu::RunOutcome& out, const std::string& line) {
    auto t = texts(out);
    return std::find(t.begin(), t.end(), line) != t.end();
}

// The line of fixtures/faulty/faulty.c holding `needle`: what __FILE__/__LINE__ of a WARN or BUG
// there expand to.
inline std::string faulty_line(const std::string& needle) {
    std::ifstream in(std::string(KMODEMU_SOURCE_DIR) + "/fixtures/faulty/faulty.c");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.find(needle) != std::string::npos) return "faulty.c:" + std::to_string(n);
    ADD_FAILURE() << "no " << needle << " in faulty.c";
    return "?";
}

}  // namespace fx
