// What a handler answers: a whole response, a JSON response, or a streamed one.
//
// Response is an aggregate filled with designated initialisers
// (`co_return web::Response{.status = 201, .text = "made"}`); the server adds Content-Length,
// Date, Server and Connection. StreamResponse sends its head at prepare() and its body in
// pieces (chunked unless a Content-Length is set), waiting at each write for the transport's
// buffer to drain. Python: aiohttp.web_response (Response, StreamResponse, json_response).
#pragma once

#include <asyncio/coro.hpp>
#include <asyncio/http/headers.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asyncio::http::web {

class Request;
namespace detail {
class RequestHandler;
}

/// A content coding of a response body. Python: aiohttp.web.ContentCoding.
enum class ContentCoding { deflate, gzip, identity };

/// A complete response. Python: aiohttp.web.Response(status=, text=, body=, content_type=,
/// headers=, reason=).
///
/// `text` gives Content-Type "text/plain; charset=utf-8", `body` and `shared_body`
/// "application/octet-stream", unless `content_type` (or a Content-Type in `headers`) says
/// otherwise.
/// Errors: more than one of text, body and shared_body make the server answer 500 (aiohttp
/// raises ValueError for text and body together).
struct Response {
    int status = 200;
    std::string text{};
    std::string body{};
    std::string content_type{};
    CIMultiDict headers{};
    std::string reason{};  ///< empty: the standard phrase of `status`
    /// A body sent from where it is, never copied: bytes many responses share (a constant
    /// page, a cached file). The server keeps it alive until it is written.
    /// Python: body=bytes (a bytes object is shared by reference, not copied).
    std::shared_ptr<const std::string> shared_body{};
    /// Compress the body (see enable_compression()); `.compression = true` in an initialiser
    /// is enable_compression(). Python: resp.compression.
    bool compression = false;
    /// The coding compression uses whatever the request accepts; empty: negotiated.
    std::optional<ContentCoding> compression_force = std::nullopt;

    /// Sends the body compressed: with `force`, in that coding (identity: not compressed);
    /// without, in gzip or deflate as the request's Accept-Encoding allows (gzip when both
    /// are, identity when neither is), adding `Vary: Accept-Encoding`. A compressed body gets
    /// `Content-Encoding` and the Content-Length of the compressed bytes. Nothing is
    /// compressed when the response has a Content-Encoding already or no body (204, 304).
    /// Python: resp.enable_compression(force=None); aiohttp prefers deflate and ignores
    /// q-values, here q=0 refuses a coding and gzip wins a tie.
    void enable_compression(std::optional<ContentCoding> force = std::nullopt) noexcept {
        compression = true;
        compression_force = force;
    }
};

/// A response whose body is `data` serialised, Content-Type application/json.
/// Python: aiohttp.web.json_response(data, status=, headers=).
Response json_response(const nlohmann::json& data, int status = 200, CIMultiDict headers = {});

/// A response written in pieces. Python: aiohttp.web.StreamResponse.
///
///     web::StreamResponse resp;
///     co_await resp.prepare(request);          // sends the head
///     co_await resp.write("part 1\n");         // one chunk; waits while the peer is slow
///     co_await resp.write_eof();               // the last chunk
///     co_return resp;                          // converts to a Response (for the access log)
///
/// Cancellation: a cancelled write() leaves the response unfinished; the server closes the
/// connection after the handler.
/// Errors: write() after the peer went away throws std::system_error (ECONNRESET); prepare()
/// twice or write() before prepare() throws RuntimeError.
class StreamResponse {
  public:
    explicit StreamResponse(int status = 200, std::string reason = {})
        : status(status), reason(std::move(reason)) {}

    int status;
    std::string reason;
    CIMultiDict headers;
    std::string content_type;                     ///< empty: application/octet-stream
    std::optional<std::uint64_t> content_length;  ///< set: no chunked encoding

    /// Compresses the body as Response::enable_compression() says; the body is then sent
    /// chunked (HTTP/1.0: until the connection closes) and `content_length` is ignored. The
    /// compressor may hold what write() gives it until later writes or write_eof(), as
    /// aiohttp's does. Errors: RuntimeError after prepare().
    /// Python: resp.enable_compression(force=None).
    void enable_compression(std::optional<ContentCoding> force = std::nullopt);
    /// Python: resp.compression.
    bool compression() const noexcept { return compression_; }

    /// Sends the status line and the headers. Resumes once they are handed to the transport.
    Coro<void> prepare(Request& request);
    /// Sends `data` (a chunk), then waits until the transport's buffer is under its high-water
    /// mark. `data` must stay valid until the co_await returns.
    Coro<void> write(std::string_view data);
    /// Ends the body (the terminating chunk). Idempotent.
    Coro<void> write_eof();
    bool prepared() const noexcept { return request_ != nullptr; }

    /// The status and headers, for the handler's `co_return`.
    operator Response() const {
        return Response{.status = status, .headers = headers, .reason = reason};
    }

  private:
    friend class detail::RequestHandler;
    Request* request_ = nullptr;
    bool eof_ = false;
    bool compression_ = false;
    std::optional<ContentCoding> compression_force_;
};

/// The standard reason phrase of an HTTP status ("Not Found"), "" for an unknown code.
std::string_view reason_phrase(int status) noexcept;

}  // namespace asyncio::http::web
