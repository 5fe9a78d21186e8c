// The server's response compression: choosing a content coding from Accept-Encoding, and a
// streaming zlib compressor for gzip and deflate (zlib format, as aiohttp's "deflate").
// Private to asyncio::http. Python: aiohttp's ZLibCompressor and StreamResponse's
// _start_compression.
#pragma once

#include <asyncio/http/web_response.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace asyncio::http::detail {

/// The coding to answer a request with, from its Accept-Encoding value: gzip or deflate when
/// acceptable (q > 0, by name or through "*"), the one with the higher q, gzip on a tie;
/// otherwise identity. Python: aiohttp takes the first of deflate, gzip whose name occurs in
/// the header and ignores q-values; here q=0 is honoured and gzip preferred.
web::ContentCoding choose_coding(std::string_view accept_encoding) noexcept;

/// "gzip", "deflate" or "identity".
std::string_view coding_name(web::ContentCoding coding) noexcept;

/// Compresses one body in pieces. Errors: std::runtime_error when zlib fails (out of memory).
class Compressor {
  public:
    /// `coding` is gzip or deflate.
    explicit Compressor(web::ContentCoding coding);
    ~Compressor();
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    /// The compressed bytes zlib has ready after taking `data` ("" while it holds them).
    std::string compress(std::string_view data);
    /// The rest of the stream and its end (the gzip trailer). Call once, last.
    std::string finish();

  private:
    std::string run(std::string_view data, int flush);
    struct State;
    std::unique_ptr<State> s_;
};

}  // namespace asyncio::http::detail
