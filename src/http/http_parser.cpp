// HttpParser: llhttp's callbacks turned into a queue of events, with the limits checked in the
// callbacks and llhttp's error codes turned into aiohttp-named exceptions.
#include <asyncio/http/detail/http_parser.hpp>
#include <asyncio/http/exceptions.hpp>

#include <llhttp.h>

#include <cstdio>
#include <utility>

namespace asyncio::http::detail {

namespace {
std::string excerpt(const char* pos, const char* end);
}

struct HttpParser::Impl {
    llhttp_t parser{};
    HttpParser* owner = nullptr;    // set at each feed: the HttpParser may have moved
    MessageHead head;               // the head being read (moved out at headers complete)
    std::string field;              // the header name being read
    std::string value;              // the header value being read
    std::size_t head_size = 0;      // bytes of start line and fields so far
    std::uint64_t body_size = 0;    // body bytes of the current message
    std::exception_ptr user_error;  // a limit the callbacks found (llhttp only sees HPE_USER)

    static Impl& of(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

    const char* side() const {
        return owner->type_ == MessageType::request ? "Bad HTTP request" : "Bad HTTP response";
    }

    // A limit exceeded: remember the exception, make llhttp stop.
    template <class E, class... Args>
    int refuse(Args&&... args) {
        user_error = std::make_exception_ptr(E(std::forward<Args>(args)...));
        return HPE_USER;
    }

    int grow_head(std::size_t n) {
        head_size += n;
        if (head_size > owner->limits_.max_head_size) {
            return refuse<LineTooLong>(std::string(side()) + ": header fields larger than " +
                                           std::to_string(owner->limits_.max_head_size) + " bytes",
                                       431);
        }
        return 0;
    }

    static int on_message_begin(llhttp_t* p) {
        Impl& s = of(p);
        s.head = MessageHead{};
        s.field.clear();
        s.value.clear();
        s.head_size = 0;
        s.body_size = 0;
        s.owner->state_ = State::head;
        return 0;
    }

    static int on_url(llhttp_t* p, const char* at, std::size_t n) {
        Impl& s = of(p);
        s.head.target.append(at, n);
        if (s.head.target.size() > s.owner->limits_.max_line_size) {
            return s.refuse<LineTooLong>(std::string(s.side()) + ": request target longer than " +
                                             std::to_string(s.owner->limits_.max_line_size) +
                                             " bytes",
                                         414);
        }
        return s.grow_head(n);
    }

    static int on_status(llhttp_t* p, const char* at, std::size_t n) {
        Impl& s = of(p);
        s.head.reason.append(at, n);
        if (s.head.reason.size() > s.owner->limits_.max_line_size) {
            return s.refuse<LineTooLong>(std::string(s.side()) + ": reason phrase longer than " +
                                             std::to_string(s.owner->limits_.max_line_size) +
                                             " bytes",
                                         400);
        }
        return s.grow_head(n);
    }

    static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
        Impl& s = of(p);
        s.field.append(at, n);
        if (s.field.size() > s.owner->limits_.max_field_size) {
            return s.refuse<LineTooLong>(std::string(s.side()) + ": header name longer than " +
                                             std::to_string(s.owner->limits_.max_field_size) +
                                             " bytes",
                                         431);
        }
        return s.grow_head(n);
    }

    static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
        Impl& s = of(p);
        s.value.append(at, n);
        if (s.value.size() > s.owner->limits_.max_field_size) {
            return s.refuse<LineTooLong>(
                std::string(s.side()) + ": value of header '" + s.field + "' longer than " +
                    std::to_string(s.owner->limits_.max_field_size) + " bytes",
                431);
        }
        return s.grow_head(n);
    }

    // RFC 9110 token characters. llhttp 8 lets a space or other separators into a header name
    // ("Host : x"), which proxies read differently (request smuggling): refused here.
    static bool is_token(std::string_view name) {
        if (name.empty()) return false;
        for (unsigned char c : name) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') ||
                            std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
            if (!ok) return false;
        }
        return true;
    }

    static int on_header_value_complete(llhttp_t* p) {
        Impl& s = of(p);
        if (!is_token(s.field)) {
            s.user_error = std::make_exception_ptr(
                InvalidHeader(std::string(s.side()) + ": invalid header field name '" +
                              excerpt(s.field.data(), s.field.data() + s.field.size()) +
                              "' (not an RFC 9110 token)"));
            return -1;
        }
        if (s.head.headers.size() >= s.owner->limits_.max_headers) {
            return s.refuse<LineTooLong>(std::string(s.side()) + ": more than " +
                                             std::to_string(s.owner->limits_.max_headers) +
                                             " header fields",
                                         431);
        }
        s.head.headers.add(std::move(s.field), std::move(s.value));
        s.field.clear();
        s.value.clear();
        return s.grow_head(4);  // ": " and CRLF
    }

    static int on_headers_complete(llhttp_t* p) {
        Impl& s = of(p);
        HttpParser& o = *s.owner;
        MessageHead& h = s.head;
        if (o.type_ == MessageType::request) {
            h.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
        } else {
            h.status = llhttp_get_status_code(p);
        }
        h.version_major = p->http_major;
        h.version_minor = p->http_minor;
        h.keep_alive = llhttp_should_keep_alive(p) != 0;
        h.upgrade = p->upgrade != 0;
        h.chunked = (p->flags & F_CHUNKED) != 0;
        if (p->flags & F_CONTENT_LENGTH) h.content_length = p->content_length;
        const std::uint64_t max_body = o.limits_.max_body_size;
        if (max_body != 0 && h.content_length && *h.content_length > max_body) {
            s.user_error = std::make_exception_ptr(PayloadTooLarge(
                std::string(s.side()) + ": Content-Length " + std::to_string(*h.content_length) +
                " is over the body limit of " + std::to_string(max_body) + " bytes"));
            return -1;
        }
        bool skip_body = false;
        if (o.type_ == MessageType::response && o.no_body_next_) {
            skip_body = true;
            o.no_body_next_ = false;
        }
        o.events_.emplace_back(std::move(h));
        o.state_ = State::body;
        return skip_body ? 1 : 0;
    }

    static int on_body(llhttp_t* p, const char* at, std::size_t n) {
        Impl& s = of(p);
        HttpParser& o = *s.owner;
        const std::uint64_t max_body = o.limits_.max_body_size;
        bool over = false;
        if (max_body != 0 && s.body_size + n > max_body) {
            // Deliver the body up to the limit, then the error: the same bytes come out
            // however the input was split.
            n = static_cast<std::size_t>(max_body - s.body_size);
            over = true;
        }
        s.body_size += n;
        if (over) {
            if (n != 0) append_body(o, at, n);
            return s.refuse<PayloadTooLarge>(std::string(s.side()) + ": body over the limit of " +
                                             std::to_string(max_body) + " bytes");
        }
        append_body(o, at, n);
        return 0;
    }

    static void append_body(HttpParser& o, const char* at, std::size_t n) {
        if (!o.events_.empty()) {
            if (auto* chunk = std::get_if<BodyChunk>(&o.events_.back())) {
                chunk->data.append(at, n);
                o.queued_bytes_ += n;
                return;
            }
        }
        o.events_.emplace_back(BodyChunk{std::string(at, n)});
        o.queued_bytes_ += n;
    }

    static int on_message_complete(llhttp_t* p) {
        Impl& s = of(p);
        s.owner->events_.emplace_back(MessageEnd{llhttp_should_keep_alive(p) != 0});
        s.owner->state_ = State::idle;
        return 0;
    }

    static const llhttp_settings_t* settings() {
        static const llhttp_settings_t settings = [] {
            llhttp_settings_t st;
            llhttp_settings_init(&st);
            st.on_message_begin = on_message_begin;
            st.on_url = on_url;
            st.on_status = on_status;
            st.on_header_field = on_header_field;
            st.on_header_value = on_header_value;
            st.on_header_value_complete = on_header_value_complete;
            st.on_headers_complete = on_headers_complete;
            st.on_body = on_body;
            st.on_message_complete = on_message_complete;
            return st;
        }();
        return &settings;
    }
};

namespace {

// A short printable excerpt of the bytes at the error ("GET /\x01 HTT").
std::string excerpt(const char* pos, const char* end) {
    std::string out;
    for (int i = 0; i < 24 && pos < end; ++i, ++pos) {
        auto c = static_cast<unsigned char>(*pos);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

// llhttp's error code as the aiohttp-named exception, with what was wrong in words.
std::exception_ptr llhttp_error(llhttp_errno_t err, const char* side, const char* reason,
                                std::uint64_t offset, const std::string& near) {
    auto msg = [&](const char* what) {
        std::string m = std::string(side) + ": " + what;
        if (reason && *reason) m += std::string(" (") + reason + ")";
        m += std::string(" [llhttp ") + llhttp_errno_name(err) + " at byte " +
             std::to_string(offset);
        if (!near.empty()) m += ", near \"" + near + "\"";
        m += "]";
        return m;
    };
    switch (err) {
        case HPE_INVALID_METHOD:
            return std::make_exception_ptr(BadStatusLine(msg("invalid method")));
        case HPE_INVALID_URL:
            return std::make_exception_ptr(BadStatusLine(msg("invalid request target")));
        case HPE_INVALID_VERSION:
            return std::make_exception_ptr(BadStatusLine(msg("invalid HTTP version")));
        case HPE_INVALID_STATUS:
            return std::make_exception_ptr(BadStatusLine(msg("invalid status code")));
        case HPE_INVALID_CONSTANT:
            return std::make_exception_ptr(BadStatusLine(msg("malformed start line")));
        case HPE_INVALID_HEADER_TOKEN:
            return std::make_exception_ptr(InvalidHeader(msg("invalid header field")));
        case HPE_UNEXPECTED_CONTENT_LENGTH:
            return std::make_exception_ptr(ContentLengthError(
                msg("Content-Length together with Transfer-Encoding (request smuggling)")));
        case HPE_INVALID_CONTENT_LENGTH:
            return std::make_exception_ptr(ContentLengthError(msg("invalid Content-Length")));
        case HPE_INVALID_TRANSFER_ENCODING:
            return std::make_exception_ptr(TransferEncodingError(msg("invalid Transfer-Encoding")));
        case HPE_INVALID_CHUNK_SIZE:
            return std::make_exception_ptr(TransferEncodingError(msg("invalid chunk size")));
        case HPE_INVALID_EOF_STATE:
            return std::make_exception_ptr(
                PayloadEncodingError(msg("connection closed before the message was complete")));
        case HPE_CLOSED_CONNECTION:
            return std::make_exception_ptr(
                BadHttpMessage(msg("data after a message with Connection: close")));
        case HPE_CR_EXPECTED:
        case HPE_LF_EXPECTED:
        case HPE_STRICT:
        case HPE_UNEXPECTED_SPACE:
            return std::make_exception_ptr(BadHttpMessage(msg("malformed line ending or spacing")));
        default: return std::make_exception_ptr(BadHttpMessage(msg("malformed message")));
    }
}

}  // namespace

HttpParser::HttpParser(MessageType type, ParserLimits limits)
    : type_(type), limits_(limits), impl_(std::make_unique<Impl>()) {
    llhttp_init(&impl_->parser, type == MessageType::request ? HTTP_REQUEST : HTTP_RESPONSE,
                Impl::settings());
    impl_->parser.data = impl_.get();
}

HttpParser::HttpParser(HttpParser&&) noexcept = default;
HttpParser& HttpParser::operator=(HttpParser&&) noexcept = default;
HttpParser::~HttpParser() = default;

void HttpParser::fail(std::exception_ptr error) {
    error_ = std::move(error);
    state_ = State::failed;
}

void HttpParser::feed(std::string_view data) {
    if (state_ == State::failed) return;
    if (state_ == State::upgraded) {
        upgrade_data_.append(data);
        return;
    }
    impl_->owner = this;
    const std::uint64_t base = fed_;
    fed_ += data.size();
    const llhttp_errno_t err = llhttp_execute(&impl_->parser, data.data(), data.size());
    if (err == HPE_OK) return;
    const char* end = data.data() + data.size();
    const char* pos = llhttp_get_error_pos(&impl_->parser);
    if (pos == nullptr || pos < data.data() || pos > end) pos = end;
    if (err == HPE_PAUSED_UPGRADE) {
        state_ = State::upgraded;
        upgrade_data_.assign(pos, end);
        return;
    }
    if (impl_->user_error) {
        fail(std::exchange(impl_->user_error, nullptr));
        return;
    }
    const auto offset = base + static_cast<std::uint64_t>(pos - data.data());
    fail(llhttp_error(err, impl_->side(), llhttp_get_error_reason(&impl_->parser), offset,
                      excerpt(pos, end)));
}

void HttpParser::feed_eof() {
    if (state_ == State::failed || state_ == State::upgraded) return;
    impl_->owner = this;
    const llhttp_errno_t err = llhttp_finish(&impl_->parser);
    if (err == HPE_OK) return;
    if (impl_->user_error) {
        fail(std::exchange(impl_->user_error, nullptr));
        return;
    }
    fail(llhttp_error(err, impl_->side(), llhttp_get_error_reason(&impl_->parser), fed_, ""));
}

std::optional<ParserEvent> HttpParser::next() {
    if (events_.empty()) {
        if (error_) std::rethrow_exception(error_);
        return std::nullopt;
    }
    ParserEvent ev = std::move(events_.front());
    events_.pop_front();
    if (auto* chunk = std::get_if<BodyChunk>(&ev)) queued_bytes_ -= chunk->data.size();
    return ev;
}

}  // namespace asyncio::http::detail
