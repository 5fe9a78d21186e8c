// Streaming decoders of Content-Encoding: gzip and deflate over zlib, br over libbrotli.
//
// feed() takes the next compressed bytes and gives the bytes they decode to; finish() checks
// that the stream ended where the body ended. A Decompressor is the state of one body.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace asyncio::http::detail {

enum class Encoding { identity, gzip, deflate, br };

/// The encoding named by a Content-Encoding value ("gzip", "x-gzip", "deflate", "br",
/// "identity" or ""). Errors: ContentEncodingError for anything else (or several codings).
Encoding parse_content_encoding(std::string_view value);

/// The value of Accept-Encoding the client sends ("gzip, deflate" and ", br" when built).
std::string_view accept_encoding() noexcept;

/// Decodes one body. Python: aiohttp's ZLibDecompressor / BrotliDecoder.
/// Errors: ContentEncodingError (from feed() or finish()) naming the encoding and zlib's or
/// brotli's reason, e.g. "gzip: incorrect header check".
class Decompressor {
  public:
    explicit Decompressor(Encoding encoding);
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    /// The decoded bytes of `data` (maybe "" while the decoder needs more input).
    std::string feed(std::string_view data);
    /// Checks that the compressed stream is complete. Errors: ContentEncodingError when the
    /// body ended in the middle of it.
    void finish();
    Encoding encoding() const noexcept { return encoding_; }

    struct State;

  private:
    Encoding encoding_;
    std::unique_ptr<State> s_;
};

/// Compresses `data` whole (tests, request bodies). gzip or deflate (zlib format).
std::string compress(std::string_view data, Encoding encoding);

}  // namespace asyncio::http::detail
