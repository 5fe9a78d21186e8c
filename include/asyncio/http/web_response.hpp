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
#include <optional>
#include <string>
#include <string_view>

namespace asyncio::http::web {

class Request;

/// A complete response. Python: aiohttp.web.Response(status=, text=, body=, content_type=,
/// headers=, reason=).
///
/// `text` gives Content-Type "text/plain; charset=utf-8", `body` "application/octet-stream",
/// unless `content_type` (or a Content-Type in `headers`) says otherwise.
/// Errors: text and body together make the server answer 500 (aiohttp raises ValueError).
struct Response {
    int status = 200;
    std::string text{};
    std::string body{};
    std::string content_type{};
    CIMultiDict headers{};
    std::string reason{};  ///< empty: the standard phrase of `status`
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
    Request* request_ = nullptr;
    bool eof_ = false;
};

/// The standard reason phrase of an HTTP status ("Not Found"), "" for an unknown code.
std::string_view reason_phrase(int status) noexcept;

}  // namespace asyncio::http::web
