// The errors of HTTP message processing, named after aiohttp's http_exceptions module.
//
// Each carries the HTTP status a server answers with (400 for a malformed message, 413 for a
// body over the limit, 431 for header fields over the limit) and a message saying what was
// wrong. The parser (detail/http_parser.hpp) raises them for requests and responses alike; the
// server turns one into its status and closes the connection, the client reports it to the
// caller. Client-side errors (aiohttp's client_exceptions) live with the client.
#pragma once

#include <stdexcept>
#include <string>

namespace asyncio::http {

/// Base of the HTTP processing errors: a status code and a message.
///
/// Python: aiohttp.http_exceptions.HttpProcessingError (`code`, `message`); here status()
/// and what().
class HttpProcessingError : public std::runtime_error {
  public:
    HttpProcessingError(int status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    /// The HTTP status a server answers this error with.
    int status() const noexcept { return status_; }

  private:
    int status_;
};

/// A malformed message (status 400). Python: aiohttp.http_exceptions.BadHttpMessage.
class BadHttpMessage : public HttpProcessingError {
  public:
    explicit BadHttpMessage(const std::string& message, int status = 400)
        : HttpProcessingError(status, message) {}
};

/// A malformed start line: method, request target, version or status code.
/// Python: aiohttp.http_exceptions.BadStatusLine.
class BadStatusLine : public BadHttpMessage {
  public:
    using BadHttpMessage::BadHttpMessage;
};

/// A malformed header field (name or value). Python: aiohttp.http_exceptions.InvalidHeader.
class InvalidHeader : public BadHttpMessage {
  public:
    using BadHttpMessage::BadHttpMessage;
};

/// The start line or header fields are over a size or count limit: status 414 for a request
/// target, 431 for header fields. Python: aiohttp.http_exceptions.LineTooLong (which aiohttp
/// answers with 400).
class LineTooLong : public BadHttpMessage {
  public:
    using BadHttpMessage::BadHttpMessage;
};

/// A body framing error: a bad chunk size or chunk terminator, Content-Length together with
/// Transfer-Encoding, a message cut short. Python: aiohttp.http_exceptions.PayloadEncodingError.
class PayloadEncodingError : public BadHttpMessage {
  public:
    using BadHttpMessage::BadHttpMessage;
};

/// Chunked framing is broken (chunk size, terminator, a Transfer-Encoding the parser cannot
/// frame). Python: aiohttp.http_exceptions.TransferEncodingError.
class TransferEncodingError : public PayloadEncodingError {
  public:
    using PayloadEncodingError::PayloadEncodingError;
};

/// Content-Length is invalid, repeated with different values, combined with
/// Transfer-Encoding, or the body ended before it. Python:
/// aiohttp.http_exceptions.ContentLengthError.
class ContentLengthError : public PayloadEncodingError {
  public:
    using PayloadEncodingError::PayloadEncodingError;
};

/// The body is larger than the configured limit (status 413).
/// Python: aiohttp.web.HTTPRequestEntityTooLarge, raised when client_max_size is exceeded.
class PayloadTooLarge : public HttpProcessingError {
  public:
    explicit PayloadTooLarge(const std::string& message) : HttpProcessingError(413, message) {}
};

}  // namespace asyncio::http
