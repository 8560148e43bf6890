#include "tools/coverage.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

namespace kmodemu {

namespace {

std::string hex16(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string region_file(const ModuleCoverage& cov, const ModuleCoverage::Section& s) {
    std::string f = cov.module + ".ko";
    return s.name == "text" ? f : f + ":" + s.name;
}

// The granule of the lcov pseudo-lines: A64 and ARM instructions are 4 bytes, Thumb-2's 2 or 4.
uint64_t granule(const ModuleCoverage& cov) {
    return cov.arch == Arch::arm64 ? 4 : 2;
}

}  // namespace

void write_drcov(std::ostream& os, const ModuleCoverage& cov) {
    os << "DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\n";
    os << "Module Table: version 2, count " << cov.sections.size() << "\n";
    os << "Columns: id, base, end, entry, checksum, timestamp, path\n";
    for (size_t i = 0; i < cov.sections.size(); ++i) {
        const ModuleCoverage::Section& s = cov.sections[i];
        os << " " << i << ", " << hex16(s.base) << ", " << hex16(s.base + s.size) << ", "
           << hex16(0) << ", 0x00000000, 0x00000000, " << region_file(cov, s) << "\n";
    }
    // struct _bb_entry_t { uint start; ushort size; ushort mod_id; }, little-endian.
    std::string table;
    size_t n = 0;
    for (const auto& [addr, b] : cov.blocks)
        for (size_t i = 0; i < cov.sections.size(); ++i) {
            const ModuleCoverage::Section& s = cov.sections[i];
            if (addr < s.base || addr >= s.base + s.size) continue;
            uint32_t off = static_cast<uint32_t>(addr - s.base);
            uint16_t size = static_cast<uint16_t>(std::min<uint32_t>(b.size, 0xffff));
            uint16_t id = static_cast<uint16_t>(i);
            const uint8_t rec[8] = {uint8_t(off),       uint8_t(off >> 8), uint8_t(off >> 16),
                                    uint8_t(off >> 24), uint8_t(size),     uint8_t(size >> 8),
                                    uint8_t(id),        uint8_t(id >> 8)};
            table.append(reinterpret_cast<const char*>(rec), sizeof rec);
            ++n;
        }
    os << "BB Table: " << n << " bbs\n";
    os.write(table.data(), static_cast<std::streamsize>(table.size()));
}

void write_lcov(std::ostream& os, const ModuleCoverage& cov) {
    const uint64_t g = granule(cov);
    os << "TN:\n";
    for (const ModuleCoverage::Section& s : cov.sections) {
        auto line_of = [&](uint64_t addr) { return (addr - s.base) / g + 1; };
        // Runs of each granule of the region: the blocks that cover it.
        std::map<uint64_t, uint64_t> runs;
        for (const auto& [addr, b] : cov.blocks) {
            if (addr < s.base || addr >= s.base + s.size) continue;
            for (uint64_t a = addr; a < addr + b.size && a < s.base + s.size; a += g)
                runs[line_of(a)] += b.hits;
        }
        os << "SF:" << region_file(cov, s) << "\n";
        size_t fnf = 0, fnh = 0;
        std::map<uint64_t, uint64_t> lines;  // DA: line -> runs
        for (const ModuleSymbol& f : cov.functions) {
            if (f.address < s.base || f.address >= s.base + s.size) continue;
            uint64_t first = line_of(f.address);
            auto it = cov.blocks.find(f.address);
            uint64_t entries = it == cov.blocks.end() ? 0 : it->second.hits;
            os << "FN:" << first << "," << f.name << "\n";
            os << "FNDA:" << entries << "," << f.name << "\n";
            ++fnf;
            if (entries) ++fnh;
            uint64_t end = std::min(f.address + std::max<uint64_t>(f.size, g), s.base + s.size);
            for (uint64_t a = f.address; a < end; a += g) {
                auto r = runs.find(line_of(a));
                lines[line_of(a)] = r == runs.end() ? 0 : r->second;
            }
        }
        for (const auto& [l, n] : runs)
            lines[l] = n;  // executed code outside any function symbol too
        os << "FNF:" << fnf << "\nFNH:" << fnh << "\n";
        size_t lh = 0;
        for (const auto& [l, n] : lines) {
            os << "DA:" << l << "," << n << "\n";
            if (n) ++lh;
        }
        os << "LF:" << lines.size() << "\nLH:" << lh << "\nend_of_record\n";
    }
}

bool write_coverage(const std::string& path, const ModuleCoverage& cov, std::string& error) {
    bool drcov = path.ends_with(".drcov");
    if (!drcov && !path.ends_with(".info")) {
        error = "--coverage: the file's extension says the format: .drcov or .info (lcov)";
        return false;
    }
    std::ofstream os(path, std::ios::binary);
    if (drcov)
        write_drcov(os, cov);
    else
        write_lcov(os, cov);
    if (!os) {
        error = "--coverage: cannot write " + path;
        return false;
    }
    return true;
}

}  // namespace kmodemu
