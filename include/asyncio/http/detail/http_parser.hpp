// An incremental HTTP/1.x message parser over llhttp, for requests (the server) and responses
// (the client).
//
// Bytes go in with feed() as they arrive, in pieces of any size; parsed events come out of
// next() in order: a MessageHead (start line and header fields), zero or more BodyChunks, then
// a MessageEnd; and again for the next message on a keep-alive connection (pipelining). The
// framing (Content-Length, chunked, until EOF) is llhttp's. Limits bound what a peer can make
// the parser hold: the request target, each header field, the count and total size of the
// header fields, and optionally the body. An error is an event too: next() throws it after the
// events that came before it, so a server still answers the well-formed requests a client
// pipelined ahead of a malformed one. llhttp.h stays out of this header.
#pragma once

#include <asyncio/http/headers.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace asyncio::http::detail {

/// Which side's messages the parser reads.
enum class MessageType { request, response };

/// Bounds on what one message may make the parser hold. Going over one is an error event:
/// LineTooLong (status 414 for the request target, 431 for header fields) or PayloadTooLarge.
struct ParserLimits {
    std::size_t max_line_size =
        8190;  ///< request target, or reason phrase (aiohttp's max_line_size)
    std::size_t max_field_size =
        8190;  ///< one header name or one header value (aiohttp's max_field_size)
    std::size_t max_headers = 128;      ///< number of header fields
    std::size_t max_head_size = 65536;  ///< start line and every header field together
    std::uint64_t max_body_size = 0;    ///< body bytes per message; 0 is no limit
};

/// The start line and header fields of a message.
///
/// Python: aiohttp's RawRequestMessage / RawResponseMessage.
struct MessageHead {
    std::string method;  ///< request: "GET", "POST", ... (empty for a response)
    std::string target;  ///< request: the request target as sent ("/a/b?x=1")
    int status = 0;      ///< response: the status code
    std::string reason;  ///< response: the reason phrase
    int version_major = 1;
    int version_minor = 1;
    CIMultiDict headers;     ///< in order received; names as the peer spelled them
    bool keep_alive = true;  ///< another message may follow on this connection
    bool upgrade = false;    ///< Upgrade / CONNECT: the bytes after this message are not HTTP
    bool chunked = false;    ///< Transfer-Encoding: chunked
    std::optional<std::uint64_t> content_length;  ///< the Content-Length, if given
};

/// Some bytes of the current message's body (after chunked decoding; not decompressed).
struct BodyChunk {
    std::string data;
};

/// The current message is complete.
struct MessageEnd {
    bool keep_alive = true;  ///< the connection may carry another message
};

using ParserEvent = std::variant<MessageHead, BodyChunk, MessageEnd>;

/// The incremental parser. Not copyable; movable.
///
/// Errors: next() throws a subclass of HttpProcessingError (BadStatusLine, InvalidHeader,
/// LineTooLong, TransferEncodingError, ContentLengthError, PayloadEncodingError,
/// PayloadTooLarge) whose message names the side, what was wrong, llhttp's error code and the
/// byte offset in the stream. After an error the parser is `failed` and ignores input.
/// Thread safety: none; one connection's parser is used by one thread.
/// Python: aiohttp's HttpRequestParser / HttpResponseParser (its C parser is llhttp too).
class HttpParser {
  public:
    /// Where the parser stands in the stream.
    enum class State {
        idle,      ///< between messages (nothing of the next one seen yet)
        head,      ///< inside a start line or header fields
        body,      ///< inside a body
        upgraded,  ///< after an Upgrade / CONNECT message: take_upgrade_data() has the rest
        failed,    ///< an error was found; next() throws it once the earlier events are taken
    };

    explicit HttpParser(MessageType type, ParserLimits limits = {});
    HttpParser(HttpParser&&) noexcept;
    HttpParser& operator=(HttpParser&&) noexcept;
    ~HttpParser();

    /// Parses `data` (any piece of the stream) and queues the events found. Never throws for
    /// bad input (the error is queued); std::bad_alloc aside.
    void feed(std::string_view data);
    /// The peer closed its side. Completes a response whose body runs to the end of the
    /// stream; a message cut short becomes an error event (PayloadEncodingError).
    void feed_eof();
    /// The next event, or nullopt when more bytes are needed.
    /// Errors: throws the queued error once the events before it are taken (and again on each
    /// later call).
    std::optional<ParserEvent> next();
    /// True when next() would return an event or throw.
    bool has_event() const noexcept { return !events_.empty() || error_ != nullptr; }

    State state() const noexcept { return state_; }
    /// Bytes held in queued events (body data); a reader pauses above a bound.
    std::size_t queued_bytes() const noexcept { return queued_bytes_; }
    /// Total bytes fed so far.
    std::uint64_t bytes_fed() const noexcept { return fed_; }

    /// Response parsers: the next response answers a HEAD request (or a CONNECT), so it has no
    /// body whatever its Content-Length says.
    void expect_no_body() noexcept { no_body_next_ = true; }
    /// After an upgrade: the bytes that followed the message's head (the new protocol's).
    std::string take_upgrade_data() noexcept { return std::move(upgrade_data_); }

    struct Impl;  // llhttp's state and the callbacks' scratch (src/http/http_parser.cpp)

  private:
    friend struct Impl;
    void fail(std::exception_ptr error);

    MessageType type_;
    ParserLimits limits_;
    std::unique_ptr<Impl> impl_;
    std::deque<ParserEvent> events_;
    std::exception_ptr error_;
    State state_ = State::idle;
    std::size_t queued_bytes_ = 0;
    std::uint64_t fed_ = 0;
    bool no_body_next_ = false;
    std::string upgrade_data_;
};

}  // namespace asyncio::http::detail
