// Compressed modules load as kmod's insmod loads them: the same run as the plain .ko, for every
// compression Debian ships modules with; a truncated stream is an error, never a crash.
#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "loader/decompress.h"
#include "tests/fixture_util.h"

using namespace kmodemu;

namespace {

std::vector<uint8_t> xz(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out(lzma_stream_buffer_bound(in.size()));
    size_t pos = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(),
                                      out.data(), &pos, out.size()),
              LZMA_OK);
    out.resize(pos);
    return out;
}

std::vector<uint8_t> zst(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 19);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

std::vector<uint8_t> gz(const std::vector<uint8_t>& in) {
    z_stream s{};
    EXPECT_EQ(deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&s, in.size()) + 32);
    s.next_in = const_cast<uint8_t*>(in.data());
    s.avail_in = in.size();
    s.next_out = out.data();
    s.avail_out = out.size();
    EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

struct Format {
    Compression c;
    std::vector<uint8_t> (*compress)(const std::vector<uint8_t>&);
};
const Format formats[] = {{Compression::xz, xz}, {Compression::zstd, zst}, {Compression::gzip, gz}};

}  // namespace

TEST(Decompress, EveryFormatRunsLikeThePlainModule) {
    std::vector<uint8_t> plain = fx::module("arm64", "hello");
    RunOutcome ref = run_module(plain, {});
    ASSERT_EQ(ref.exit_status, 0);
    EXPECT_EQ(ref.compression, "none");
    for (const Format& f : formats) {
        std::vector<uint8_t> packed = f.compress(plain);
        ASSERT_EQ(sniff_compression(packed), f.c);
        Decompressed d = decompress_module(packed);
        EXPECT_EQ(d.err, 0) << d.message;
        EXPECT_EQ(d.bytes, plain) << compression_name(f.c);
        RunOutcome out = run_module(packed, {});
        EXPECT_EQ(out.compression, compression_name(f.c));
        EXPECT_EQ(out.exit_status, ref.exit_status);
        ASSERT_EQ(out.log.size(), ref.log.size()) << compression_name(f.c);
        for (size_t i = 0; i < out.log.size(); ++i)
            EXPECT_EQ(out.log[i].text, ref.log[i].text);
    }
}

TEST(Decompress, TruncatedStreamsFailWithEinvalAndKmodsMessage) {
    std::vector<uint8_t> plain = fx::module("arm64", "hello");
    for (const Format& f : formats) {
        std::vector<uint8_t> packed = f.compress(plain);
        packed.resize(packed.size() / 2);
        RunOutcome out = run_module(packed, {});
        EXPECT_EQ(out.exit_status, EINVAL) << compression_name(f.c);
        ASSERT_EQ(out.diagnostics.size(), 1u);
        EXPECT_TRUE(out.diagnostics[0].starts_with(std::string(compression_name(f.c)) + ": "))
            << out.diagnostics[0];
        EXPECT_TRUE(out.log.empty());
    }
}

TEST(Decompress, CorruptXzIsRefusedAndABombIsCutAtTheLimit) {
    std::vector<uint8_t> plain = fx::module("arm64", "hello");
    std::vector<uint8_t> packed = xz(plain);
    packed[packed.size() / 2] ^= 0xff;  // the block's CRC32 no longer matches
    Decompressed d = decompress_module(packed);
    EXPECT_EQ(d.err, -EINVAL);
    EXPECT_EQ(d.message, "xz: File is corrupt");
    EXPECT_TRUE(d.bytes.empty());
    // 64 MiB of zeros compresses to a few KiB; with a 1 MiB limit the output stops there.
    std::vector<uint8_t> zeros(64 << 20);
    for (const Format& f : formats) {
        Decompressed bomb = decompress_module(f.compress(zeros), 1 << 20);
        EXPECT_EQ(bomb.err, -EFBIG) << compression_name(f.c);
        EXPECT_TRUE(bomb.bytes.empty());
    }
}

TEST(Decompress, PlainBytesPassThrough) {
    std::vector<uint8_t> text = {'h', 'i'};
    Decompressed d = decompress_module(text);
    EXPECT_EQ(d.format, Compression::none);
    EXPECT_EQ(d.err, 0);
    EXPECT_EQ(d.bytes, text);
    EXPECT_EQ(sniff_compression({}), Compression::none);
}
