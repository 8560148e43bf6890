#include "loader/decompress.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace kmodemu {

const char* compression_name(Compression c) {
    switch (c) {
        case Compression::xz:
            return "xz";
        case Compression::zstd:
            return "zstd";
        case Compression::gzip:
            return "gzip";
        case Compression::none:
            break;
    }
    return "none";
}

Compression sniff_compression(std::span<const uint8_t> b) {
    static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
    static const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
    if (b.size() >= sizeof xz && std::memcmp(b.data(), xz, sizeof xz) == 0) return Compression::xz;
    if (b.size() >= sizeof zstd && std::memcmp(b.data(), zstd, sizeof zstd) == 0)
        return Compression::zstd;
    if (b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) return Compression::gzip;
    return Compression::none;
}

namespace {

constexpr size_t chunk = 1 << 20;

// The output grows by chunks up to the limit; `step` decompresses into [out, out + avail) and
// says how much it wrote, whether the stream ended, and fails with a message.
Decompressed too_big(Decompressed d, size_t limit) {
    d.bytes.clear();
    d.err = -EFBIG;
    d.message = std::string(compression_name(d.format)) + ": decompressed module exceeds " +
                std::to_string(limit >> 20) + " MiB";
    return d;
}

// libkmod-file-xz.c xz_uncompress_belch()
std::string xz_message(lzma_ret ret) {
    switch (ret) {
        case LZMA_MEM_ERROR:
            return std::string("xz: ") + std::strerror(ENOMEM);
        case LZMA_FORMAT_ERROR:
            return "xz: File format not recognized";
        case LZMA_OPTIONS_ERROR:
            return "xz: Unsupported compression options";
        case LZMA_DATA_ERROR:
            return "xz: File is corrupt";
        case LZMA_BUF_ERROR:
            return "xz: Unexpected end of input";
        default:
            return "xz: Internal error (bug)";
    }
}

Decompressed unxz(std::vector<uint8_t> in, size_t limit) {
    Decompressed d;
    d.format = Compression::xz;
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret ret = lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED);
    if (ret != LZMA_OK) {
        d.err = -EINVAL;
        d.message = xz_message(ret);
        return d;
    }
    s.next_in = in.data();
    s.avail_in = in.size();
    for (;;) {
        if (d.bytes.size() >= limit) {
            lzma_end(&s);
            return too_big(std::move(d), limit);
        }
        size_t have = d.bytes.size();
        d.bytes.resize(have + chunk);
        s.next_out = d.bytes.data() + have;
        s.avail_out = chunk;
        ret = lzma_code(&s, LZMA_FINISH);
        d.bytes.resize(have + chunk - s.avail_out);
        if (ret == LZMA_STREAM_END) break;
        if (ret != LZMA_OK) {
            lzma_end(&s);
            d.bytes.clear();
            d.err = -EINVAL;
            d.message = xz_message(ret);
            return d;
        }
    }
    lzma_end(&s);
    return d;
}

// libkmod-file-zstd.c
Decompressed unzstd(std::vector<uint8_t> in, size_t limit) {
    Decompressed d;
    d.format = Compression::zstd;
    ZSTD_DStream* s = ZSTD_createDStream();
    ZSTD_initDStream(s);
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    size_t last = 1;
    while (ib.pos < ib.size || last != 0) {
        if (d.bytes.size() >= limit) {
            ZSTD_freeDStream(s);
            return too_big(std::move(d), limit);
        }
        size_t have = d.bytes.size();
        d.bytes.resize(have + chunk);
        ZSTD_outBuffer ob{d.bytes.data() + have, chunk, 0};
        size_t before = ib.pos;
        last = ZSTD_decompressStream(s, &ob, &ib);
        d.bytes.resize(have + ob.pos);
        if (ZSTD_isError(last)) {
            d.bytes.clear();
            d.err = -EINVAL;
            d.message = std::string("zstd: ") + ZSTD_getErrorName(last);
            ZSTD_freeDStream(s);
            return d;
        }
        if (last != 0 && ob.pos == 0 && ib.pos == before) {
            // No progress with all input consumed: the frame is truncated.
            d.bytes.clear();
            d.err = -EINVAL;
            d.message = "zstd: Unexpected end of input";
            ZSTD_freeDStream(s);
            return d;
        }
    }
    ZSTD_freeDStream(s);
    return d;
}

// libkmod-file-zlib.c (gzread: a truncated or corrupt stream is an error)
Decompressed ungzip(std::vector<uint8_t> in, size_t limit) {
    Decompressed d;
    d.format = Compression::gzip;
    z_stream s{};
    if (inflateInit2(&s, 15 + 32) != Z_OK) {
        d.err = -ENOMEM;
        d.message = "gzip: cannot initialise zlib";
        return d;
    }
    s.next_in = in.data();
    s.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
    int ret = Z_OK;
    for (;;) {
        if (d.bytes.size() >= limit) {
            inflateEnd(&s);
            return too_big(std::move(d), limit);
        }
        size_t have = d.bytes.size();
        d.bytes.resize(have + chunk);
        s.next_out = d.bytes.data() + have;
        s.avail_out = chunk;
        ret = inflate(&s, Z_NO_FLUSH);
        d.bytes.resize(have + chunk - s.avail_out);
        if (ret == Z_STREAM_END) break;
        if (ret != Z_OK || (s.avail_in == 0 && s.avail_out != 0)) {
            d.bytes.clear();
            d.err = -EINVAL;
            d.message = ret == Z_OK || ret == Z_BUF_ERROR
                            ? "gzip: unexpected end of file"
                            : std::string("gzip: ") + (s.msg ? s.msg : "data error");
            inflateEnd(&s);
            return d;
        }
    }
    inflateEnd(&s);
    return d;
}

}  // namespace

Decompressed decompress_module(std::vector<uint8_t> bytes, size_t limit) {
    switch (sniff_compression(bytes)) {
        case Compression::xz:
            return unxz(std::move(bytes), limit);
        case Compression::zstd:
            return unzstd(std::move(bytes), limit);
        case Compression::gzip:
            return ungzip(std::move(bytes), limit);
        case Compression::none:
            break;
    }
    Decompressed d;
    d.bytes = std::move(bytes);
    return d;
}

}  // namespace kmodemu
