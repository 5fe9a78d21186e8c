// The request a handler receives: start line, headers, route parameters, and the body read on
// demand. Python: aiohttp.web_request.Request.
//
// The body is not read before the handler runs: `co_await request.read()` (all of it),
// `text()`, `json()`, or `readany()` piece by piece (aiohttp's request.content.readany()).
// Whatever the handler leaves unread is read and dropped after its response, so the next
// request on the connection can be parsed (or the connection is closed when that would be
// more than the body limit).
#pragma once

#include <asyncio/coro.hpp>
#include <asyncio/http/headers.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace asyncio::http::web {

class Application;
namespace detail {
class RequestHandler;
}

/// One HTTP request. Made by the server; handlers get it by reference, valid until their
/// coroutine completes.
///
/// Errors: the body readers throw PayloadTooLarge (over the application's client_max_size),
/// a BadHttpMessage subclass (malformed chunked body, or the client closed the connection
/// before the body was complete), or HttpProcessingError with status 408 (no byte of the body
/// for the application's read_body_timeout). Left to propagate out of the handler, each is
/// answered with its status; the connection closes after it.
/// Thread safety: the loop's thread only.
class Request {
  public:
    /// "GET", "POST", ... Python: request.method.
    const std::string& method() const noexcept { return method_; }
    /// The path, percent-decoded ("/a b"). Python: request.path.
    const std::string& path() const noexcept { return path_; }
    /// The request target as sent, with the query ("/a%20b?x=1"). Python: request.raw_path.
    const std::string& raw_path() const noexcept { return raw_path_; }
    /// The query after '?', undecoded. Python: request.query_string.
    const std::string& query_string() const noexcept { return query_string_; }
    /// The query parameters, decoded ('+' is a space). Python: request.query.
    const MultiDict& query() const noexcept { return query_; }
    const CIMultiDict& headers() const noexcept { return headers_; }
    /// The route's `{name}` values. Python: request.match_info.
    const std::map<std::string, std::string, std::less<>>& match_info() const noexcept {
        return match_info_;
    }
    /// (major, minor). Python: request.version.
    std::pair<int, int> version() const noexcept { return version_; }
    /// The connection may serve another request after this one. Python: request.keep_alive.
    bool keep_alive() const noexcept { return keep_alive_; }
    /// The peer's address ("127.0.0.1"). Python: request.remote.
    const std::string& remote() const noexcept { return remote_; }
    /// The Host header ("" when absent). Python: request.host.
    std::string host() const { return std::string(headers_.get("Host", "")); }
    /// Over TLS. Python: request.secure.
    bool secure() const noexcept { return secure_; }
    /// The declared Content-Length. Python: request.content_length.
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    /// The media type without parameters ("application/json"). Python: request.content_type.
    std::string content_type() const;
    /// The charset parameter of Content-Type, if any. Python: request.charset.
    std::optional<std::string> charset() const;
    /// A body was sent (chunked, or Content-Length > 0). Python: request.body_exists.
    bool body_exists() const noexcept { return body_exists_; }
    /// Some of the body is still unread. Python: request.can_read_body.
    bool can_read_body() const noexcept { return body_exists_ && !body_done_; }
    Application& app() const noexcept { return *app_; }

    /// The whole (remaining) body. Python: await request.read().
    /// Cancellation: what was read before the cancel is kept for a later read().
    Coro<std::string> read();
    /// The body as text (bytes unchanged: UTF-8 is the default). Python: await request.text().
    Coro<std::string> text();
    /// The body parsed as JSON. Errors: nlohmann::json::parse_error for malformed JSON.
    /// Python: await request.json().
    Coro<nlohmann::json> json();
    /// The next piece of the body as it arrives; "" at its end.
    /// Python: await request.content.readany().
    Coro<std::string> readany();

  private:
    friend class detail::RequestHandler;
    friend class StreamResponse;

    std::string method_, path_, raw_path_, query_string_, remote_;
    MultiDict query_;
    CIMultiDict headers_;
    std::map<std::string, std::string, std::less<>> match_info_;
    std::pair<int, int> version_{1, 1};
    std::optional<std::uint64_t> content_length_;
    bool keep_alive_ = true;
    bool secure_ = false;
    bool body_exists_ = false;
    bool body_done_ = true;
    bool expect_continue_ = false;  // send 100 Continue before reading the body
    std::string buffered_;          // body bytes read but not yet returned (a cancelled read())
    Application* app_ = nullptr;
    detail::RequestHandler* conn_ = nullptr;
};

}  // namespace asyncio::http::web
