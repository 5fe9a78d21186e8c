// ClientResponse: a response of the HTTP client, its head read, its body still on the wire.
//
// A session's request gives the response once the status line and the header fields have
// arrived. The body is read on demand: all at once (read(), text(), json()), or as it comes
// (read_chunk(), readline(), iter_chunked()). A body compressed with gzip, deflate or br is
// decoded on the way (Content-Encoding; auto_decompress). Once the last byte of the body is
// read the connection goes back to the session's pool (when both sides keep it alive);
// release() or destroying the response before that closes the connection instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asyncio/asyncgen.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/http/client_exceptions.hpp"
#include "asyncio/http/headers.hpp"
#include "asyncio/http/url.hpp"

namespace asyncio::http {

namespace detail {
struct ResponseBody;
}

/// JSON asked of a response whose Content-Type is not JSON.
/// Python: aiohttp.ContentTypeError.
class ContentTypeError : public ClientResponseError {
  public:
    using ClientResponseError::ClientResponseError;
};

/// A response. Move-only. Python: aiohttp.ClientResponse (httpx.Response).
///
/// `status` and `status_code` hold the same number, so that both aiohttp's and httpx's habits
/// compile (`resp.status` in aiohttp; `resp.status_code` in httpx, where `.status` does not
/// exist). Read-only by convention: changing one does not change the other.
/// Cancellation: cancelling a body read closes the connection (the response is then
/// unusable; its next read raises ClientPayloadError); what was decoded before stays unread.
/// Errors (body reads): ClientPayloadError (malformed or truncated body), ContentEncodingError,
/// TimeoutError (the session's sock_read or total timeout), ServerDisconnectedError.
class ClientResponse {
  public:
    ClientResponse();
    ClientResponse(ClientResponse&&) noexcept;
    ClientResponse& operator=(ClientResponse&&) noexcept;
    /// Closes the connection if the body was not read to the end (never waits).
    ~ClientResponse();

    int status = 0;       ///< Python: aiohttp resp.status
    int status_code = 0;  ///< Python: httpx resp.status_code (the same value)
    std::string reason;   ///< "OK", "Not Found"... as the server sent it
    int version_major = 1;
    int version_minor = 1;
    CIMultiDict headers;  ///< case-insensitive, multi-valued, in order received
    URL url;              ///< the URL of this response (after redirects: the last one)
    std::string method;   ///< the request's method
    /// The redirect responses that led here, first to last (their bodies released).
    std::vector<ClientResponse> history;

    /// status < 400. Python: resp.ok (httpx: is_success is 2xx only).
    bool ok() const noexcept { return status < 400; }
    /// Errors: ClientResponseError(status, reason, url) when status ≥ 400.
    /// Python: resp.raise_for_status().
    void raise_for_status() const;
    /// The media type of Content-Type, lower case ("text/html"); "application/octet-stream"
    /// when absent. Python: resp.content_type.
    std::string content_type() const;
    /// The charset parameter of Content-Type, lower case, if any. Python: resp.charset.
    std::optional<std::string> charset() const;
    /// Content-Length, if the server sent one. Python: resp.content_length.
    std::optional<std::uint64_t> content_length() const;

    /// The whole body (decoded), read to the end. A second call gives the same bytes.
    /// Python: await resp.read().
    Coro<std::string> read();
    /// The body as UTF-8 text: decoded from `encoding`, or from the Content-Type's charset.
    /// Without either: UTF-8 when the bytes are valid UTF-8 (or the type is JSON), else the
    /// charset uchardet detects in them (latin-1, Shift_JIS...), converted with iconv; UTF-8
    /// (and its error) when it detects none. Python: await resp.text(encoding=None,
    /// errors='strict') (aiohttp ≤ 3.8 detected with charset-normalizer; later versions call
    /// the session's fallback_charset_resolver, UTF-8 by default).
    /// Errors: std::invalid_argument when the bytes are not valid in that charset (with
    /// `errors` "strict"; "replace" puts U+FFFD instead), or for an unknown charset.
    Coro<std::string> text(std::optional<std::string> encoding = std::nullopt,
                           std::string errors = "strict");
    /// The body parsed as JSON. Python: await resp.json(content_type='application/json').
    /// Errors: ContentTypeError when `content_type` is set and the response's is neither it
    /// nor a "+json" type; nlohmann::json::parse_error for invalid JSON.
    Coro<nlohmann::json> json(std::optional<std::string> content_type = "application/json");

    /// Up to `n` bytes of the body as they come ("" at the end). Python: resp.content.read(n).
    Coro<std::string> read_chunk(std::size_t n = 65536);
    /// The next line of the body, "\n" included ("" at the end; the last line may lack
    /// "\n"). Python: resp.content.readline(). Errors: ClientPayloadError for a line over
    /// 64 KiB.
    Coro<std::string> readline();
    /// The body in pieces of at most `n` bytes. Python: `async for c in
    /// resp.content.iter_chunked(n)`. The response must outlive the generator.
    AsyncGenerator<std::string> iter_chunked(std::size_t n = 65536);
    /// The body was read to the end (or there is none).
    bool at_eof() const noexcept;

    /// Ends the use of the connection: back to the pool when the body was read to the end,
    /// closed otherwise. Python: resp.release().
    void release() noexcept;
    /// Closes the connection whatever was read. Python: resp.close().
    void close() noexcept;

    const std::shared_ptr<detail::ResponseBody>& body_state() const noexcept { return body_; }
    explicit ClientResponse(std::shared_ptr<detail::ResponseBody> body) noexcept;

  private:
    std::shared_ptr<detail::ResponseBody> body_;
};

}  // namespace asyncio::http
