// Compressed modules (.ko.xz, .ko.zst, .ko.gz), as kmod's insmod reads them: kmod_file_open()
// (libkmod/libkmod-file.c) recognises the compression by the file's magic number and hands the
// kernel the decompressed ELF image.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kmodemu {

enum class Compression { none, xz, zstd, gzip };

const char* compression_name(Compression c);  // "none", "xz", "zstd", "gzip"

// The compression of a file, by its magic number (xz FD 37 7A 58 5A 00, zstd 28 B5 2F FD,
// gzip 1F 8B).
Compression sniff_compression(std::span<const uint8_t> bytes);

struct Decompressed {
    Compression format = Compression::none;
    std::vector<uint8_t> bytes;  // the ELF image (the input itself when not compressed)
    int err = 0;                 // -errno when the stream is corrupt or truncated
    std::string message;         // kmod's message then, e.g. "xz: File format not recognized"
};

// Decompresses `bytes` when compressed; at most `limit` bytes of output (a decompression bomb is
// refused with -EFBIG rather than exhausting the host).
Decompressed decompress_module(std::vector<uint8_t> bytes, size_t limit = size_t(1) << 31);

}  // namespace kmodemu
