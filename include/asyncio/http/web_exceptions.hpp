// Exceptions a handler throws to answer with an error status.
//
// `throw web::HTTPNotFound()` inside a handler makes the server answer 404 with the exception's
// text as the body; the connection stays usable. Python: aiohttp.web_exceptions (which are
// also responses; here they only carry status, text and headers).
#pragma once

#include <asyncio/http/headers.hpp>

#include <stdexcept>
#include <string>

namespace asyncio::http::web {

/// An HTTP error answer. Python: aiohttp.web.HTTPException.
class HTTPException : public std::runtime_error {
  public:
    /// `text` empty: "<status>: <reason>" (aiohttp's default body).
    explicit HTTPException(int status, std::string text = {}, CIMultiDict headers = {});
    int status() const noexcept { return status_; }
    const std::string& text() const noexcept { return text_; }
    const CIMultiDict& headers() const noexcept { return headers_; }

  private:
    int status_;
    std::string text_;
    CIMultiDict headers_;
};

/// 400. Python: aiohttp.web.HTTPBadRequest.
struct HTTPBadRequest : HTTPException {
    explicit HTTPBadRequest(std::string text = {}) : HTTPException(400, std::move(text)) {}
};
/// 404. Python: aiohttp.web.HTTPNotFound.
struct HTTPNotFound : HTTPException {
    explicit HTTPNotFound(std::string text = {}) : HTTPException(404, std::move(text)) {}
};
/// 405 with the Allow header. Python: aiohttp.web.HTTPMethodNotAllowed(method, allowed_methods).
struct HTTPMethodNotAllowed : HTTPException {
    HTTPMethodNotAllowed(const std::string& method, const std::string& allow)
        : HTTPException(405, "405: Method Not Allowed", CIMultiDict{{"Allow", allow}}) {
        (void)method;
    }
};
/// 413. Python: aiohttp.web.HTTPRequestEntityTooLarge.
struct HTTPRequestEntityTooLarge : HTTPException {
    explicit HTTPRequestEntityTooLarge(std::string text = {})
        : HTTPException(413, std::move(text)) {}
};

}  // namespace asyncio::http::web
