// Content-Encoding decoders: gzip, deflate (zlib and raw), br; truncated and corrupt input.
#include <gtest/gtest.h>

#include <asyncio/http/client_exceptions.hpp>
#include <asyncio/http/detail/decompress.hpp>

#if ASYNCIO_TEST_BROTLIENC
#include <brotli/encode.h>
#endif

using namespace asyncio::http;
using detail::Decompressor;
using detail::Encoding;

namespace {

std::string sample() {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += "line " + std::to_string(i) + " of the body\n";
    return s;
}

// Feeds `data` in pieces of `step` bytes.
std::string decode(Encoding e, const std::string& data, std::size_t step) {
    Decompressor d(e);
    std::string out;
    for (std::size_t i = 0; i < data.size(); i += step)
        out += d.feed(std::string_view(data).substr(i, step));
    d.finish();
    return out;
}

std::string error_of(Encoding e, const std::string& data) {
    try {
        decode(e, data, 100);
    } catch (const ContentEncodingError& err) {
        return err.what();
    }
    return "no error";
}

}  // namespace

TEST(HttpDecompress, GzipAndDeflateDecodeInAnyPieces) {
    std::string body = sample();
    for (Encoding e : {Encoding::gzip, Encoding::deflate}) {
        std::string packed = detail::compress(body, e);
        EXPECT_LT(packed.size(), body.size() / 4);
        for (std::size_t step : {1ul, 7ul, 4096ul, packed.size()})
            EXPECT_EQ(decode(e, packed, step), body);
    }
}

TEST(HttpDecompress, RawDeflateWithoutTheZlibWrapperIsAccepted) {
    std::string body = sample();
    std::string zlib = detail::compress(body, Encoding::deflate);
    std::string raw = zlib.substr(2, zlib.size() - 6);  // no 2-byte header, no adler32
    EXPECT_EQ(decode(Encoding::deflate, raw, 1000), body);
    EXPECT_EQ(decode(Encoding::deflate, raw, 1), body);
}

TEST(HttpDecompress, ConcatenatedGzipMembersDecodeAsOne) {
    std::string a = detail::compress("first part\n", Encoding::gzip);
    std::string b = detail::compress("second part\n", Encoding::gzip);
    EXPECT_EQ(decode(Encoding::gzip, a + b, 3), "first part\nsecond part\n");
}

TEST(HttpDecompress, CorruptAndTruncatedDataRaiseContentEncodingError) {
    EXPECT_EQ(error_of(Encoding::gzip, "this is not gzip at all"),
              "cannot decode the gzip body: incorrect header check");
    std::string packed = detail::compress(sample(), Encoding::gzip);
    std::string corrupt = packed;
    for (std::size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
    EXPECT_NE(error_of(Encoding::gzip, corrupt), "no error");
    EXPECT_EQ(error_of(Encoding::gzip, packed.substr(0, packed.size() / 2)),
              "cannot decode the gzip body: the body ended in the middle of the compressed stream");
    EXPECT_EQ(error_of(Encoding::br, "\xff\xff\xff\xff garbage"),
              "cannot decode the br body: invalid brotli data (PADDING_2)");
    // It is a ClientPayloadError, as in aiohttp.
    EXPECT_THROW(decode(Encoding::deflate, std::string(50, '\xff'), 10), ClientPayloadError);
}

TEST(HttpDecompress, AnEmptyBodyDecodesToNothing) {
    for (Encoding e : {Encoding::gzip, Encoding::deflate, Encoding::br})
        EXPECT_EQ(decode(e, "", 1), "");
}

TEST(HttpDecompress, ContentEncodingNames) {
    EXPECT_EQ(detail::parse_content_encoding("GZIP"), Encoding::gzip);
    EXPECT_EQ(detail::parse_content_encoding("x-gzip"), Encoding::gzip);
    EXPECT_EQ(detail::parse_content_encoding(" deflate "), Encoding::deflate);
    EXPECT_EQ(detail::parse_content_encoding("br"), Encoding::br);
    EXPECT_EQ(detail::parse_content_encoding(""), Encoding::identity);
    EXPECT_EQ(detail::parse_content_encoding("identity"), Encoding::identity);
    try {
        detail::parse_content_encoding("zstd");
        FAIL();
    } catch (const ContentEncodingError& e) {
        EXPECT_STREQ(e.what(), "unsupported Content-Encoding 'zstd'");
    }
}

#if ASYNCIO_TEST_BROTLIENC
TEST(HttpDecompress, BrotliDecodesInAnyPieces) {
    std::string body = sample();
    std::string packed(BrotliEncoderMaxCompressedSize(body.size()), '\0');
    std::size_t size = packed.size();
    ASSERT_TRUE(BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW,
                                      BROTLI_MODE_TEXT, body.size(),
                                      reinterpret_cast<const uint8_t*>(body.data()), &size,
                                      reinterpret_cast<uint8_t*>(packed.data())));
    packed.resize(size);
    for (std::size_t step : {13ul, 1000ul, packed.size()})
        EXPECT_EQ(decode(Encoding::br, packed, step), body);
    EXPECT_EQ(error_of(Encoding::br, packed.substr(0, packed.size() - 3)),
              "cannot decode the br body: the body ended in the middle of the compressed stream");
}
#endif
