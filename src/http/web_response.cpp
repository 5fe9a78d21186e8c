// Response helpers, StreamResponse over the connection, and the HTTP reason phrases.
#include <asyncio/http/web_exceptions.hpp>
#include <asyncio/http/web_response.hpp>

#include "http/web_protocol.hpp"

namespace asyncio::http::web {

Response json_response(const nlohmann::json& data, int status, CIMultiDict headers) {
    return Response{.status = status,
                    .body = data.dump(),
                    .content_type = "application/json; charset=utf-8",
                    .headers = std::move(headers)};
}

Coro<void> StreamResponse::prepare(Request& request) {
    if (request_ != nullptr) throw RuntimeError("StreamResponse: prepare() called twice");
    request_ = &request;
    co_await request.conn_->start_stream(request, *this);
}

void StreamResponse::enable_compression(std::optional<ContentCoding> force) {
    if (request_ != nullptr)
        throw RuntimeError("StreamResponse: enable_compression() after prepare()");
    compression_ = true;
    compression_force_ = force;
}

Coro<void> StreamResponse::write(std::string_view data) {
    if (request_ == nullptr) throw RuntimeError("StreamResponse: write() before prepare()");
    co_await request_->conn_->write_stream(data);
}

Coro<void> StreamResponse::write_eof() {
    if (request_ == nullptr) throw RuntimeError("StreamResponse: write_eof() before prepare()");
    if (eof_) co_return;
    eof_ = true;
    co_await request_->conn_->end_stream();
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Long";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 499: return "Client Closed Request";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "";
    }
}

HTTPException::HTTPException(int status, std::string text, CIMultiDict headers)
    : std::runtime_error(
          text.empty() ? std::to_string(status) + ": " + std::string(reason_phrase(status)) : text),
      status_(status),
      text_(what()),
      headers_(std::move(headers)) {}

}  // namespace asyncio::http::web
