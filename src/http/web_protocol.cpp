// RequestHandler: the server side of one HTTP/1.1 connection.
//
// data_received feeds the parser and wakes serve(); serve() takes a request head, builds the
// Request, runs the handler, writes the response, drops what the handler left of the body,
// and loops while the connection is keep-alive (pipelined requests wait in the parser's
// queue). Malformed input is answered with its status (400, 413, 414, 431) and the connection
// closed; a head left unfinished for read_head_timeout gets 408, and so does a body with no
// new byte for read_body_timeout. Responses asking for it are compressed (gzip / deflate).
// Python: aiohttp's web_protocol.RequestHandler.
#include "http/web_protocol.hpp"
#include "http/url_util.hpp"

#include <asyncio/exceptions.hpp>
#include <asyncio/http/exceptions.hpp>
#include <asyncio/http/web_exceptions.hpp>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace asyncio::http::web::detail {

namespace {

struct HeadTimeout {};  // a request head stalled: 408
struct IdleTimeout {};  // a keep-alive connection stayed idle: close
struct BodyTimeout {};  // a request body stalled: 408 (read_body_piece turns it into an error)

constexpr std::size_t pause_reading_above = 256 * 1024;  // parser-queued body bytes

// "Wed, 02 Dec 2026 14:00:00 GMT", recomputed once a second.
const std::string& http_date() {
    thread_local std::time_t last = 0;
    thread_local std::string text;
    std::time_t now = std::time(nullptr);
    if (now != last) {
        last = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        text = buf;
    }
    return text;
}

// Bodies up to this size are copied behind the head and sent with it; larger ones are sent
// from where they are, head and body in one sendmsg().
constexpr std::size_t join_below = 2048;

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    do {
        *--p = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    out.append(p, static_cast<std::size_t>(end - p));
}

// `token` is one of the comma-separated elements of `list` (case-insensitive).
bool contains_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", s);
    return buf;
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

HttpParser RequestHandler::make_parser(const Application& app) {
    const auto& o = app.options();
    return HttpParser(http::detail::MessageType::request, {.max_line_size = o.max_line_size,
                                                           .max_field_size = o.max_field_size,
                                                           .max_headers = o.max_headers,
                                                           .max_head_size = o.max_head_size,
                                                           .max_body_size = o.client_max_size});
}

RequestHandler::~RequestHandler() {
    if (timer_) timer_->cancel();  // its callback holds `this`
}

void RequestHandler::connection_made(Transport& transport) {
    transport_ = &transport;
    loop_ = &transport.get_loop();
    auto peer = transport.get_extra_info("peername");
    if (auto* addr = std::any_cast<SockAddr>(&peer)) remote_ = addr->host();
    state_->handlers.insert(this);
    task_ = transport.get_loop().create_task(serve());
}

void RequestHandler::data_received(std::string_view data) {
    const bool was_idle = parser_.state() == HttpParser::State::idle;
    parser_.feed(data);
    bool head_began = false;
    if (was_idle && parser_.state() == HttpParser::State::head) {
        head_started_ = transport_->get_loop().time();
        head_began = true;  // serve() moves from the idle timeout to the head deadline
    }
    update_reading();
    if (parser_.has_event() || head_began) wake();
}

bool RequestHandler::eof_received() {
    eof_ = true;
    parser_.feed_eof();
    wake();
    // Keep the write side open: a response to the last request may still be on its way.
    return true;
}

void RequestHandler::connection_lost(std::exception_ptr) {
    lost_ = true;
    if (!eof_) parser_.feed_eof();
    wake();
    if (drain_ && !drain_->done()) drain_->set_result();
}

void RequestHandler::pause_writing() {
    write_paused_ = true;
    update_reading();
}

void RequestHandler::resume_writing() {
    write_paused_ = false;
    update_reading();
    if (drain_ && !drain_->done()) drain_->set_result();
}

// Reading pauses while the peer does not read our responses (our write buffer is over its
// high-water mark) or while the parser holds much unread body: a client cannot make the
// server buffer without bound.
void RequestHandler::update_reading() {
    if (lost_ || transport_ == nullptr || transport_->is_closing()) return;
    const bool want_pause = write_paused_ || parser_.queued_bytes() > pause_reading_above;
    if (want_pause && !read_paused_) {
        transport_->pause_reading();
        read_paused_ = true;
    } else if (!want_pause && read_paused_) {
        transport_->resume_reading();
        read_paused_ = false;
    }
}

void RequestHandler::wake() {
    if (waiter_ && !waiter_->done()) waiter_->set_result();
}

void RequestHandler::close_when_idle() {
    close_after_ = true;
    if (!busy_) wake();
}

void RequestHandler::abort() {
    if (transport_ && !lost_) transport_->abort();
    if (task_ && !task_.done()) task_.cancel();
}

void RequestHandler::arm_deadline(double when) {
    deadline_ = when;
    if (timer_when_ >= 0 && timer_when_ <= when) return;  // fires in time, re-arms itself then
    if (timer_) timer_->cancel();
    timer_when_ = when;
    timer_ = loop_->call_at(when, [this] { on_timer(); });
}

void RequestHandler::on_timer() {
    timer_when_ = -1;
    timer_.reset();
    if (deadline_ < 0) return;
    if (loop_->time() < deadline_) {
        arm_deadline(deadline_);
        return;
    }
    deadline_ = -1;
    timed_out_ = true;
    wake();
}

std::optional<ParserEvent> RequestHandler::take_event() {
    if (!parser_.has_event()) return std::nullopt;
    std::optional<ParserEvent> ev = parser_.next();  // throws a parse error
    update_reading();
    return ev;
}

Coro<void> RequestHandler::wait_event(Wait wait) {
    EventLoop& loop = transport_->get_loop();
    while (!parser_.has_event()) {
        if (eof_ || lost_) co_return;
        if (wait == Wait::head && close_after_) co_return;
        // Wait for bytes, with the head's deadline, the keep-alive idle timeout or the body's
        // read timeout.
        const auto& o = state_->app->options();
        double deadline = -1;
        bool stalled_head = false;
        if (wait == Wait::head) {
            if (parser_.state() == HttpParser::State::head && head_started_ >= 0) {
                deadline = head_started_ + o.read_head_timeout;
                stalled_head = true;
            } else {
                deadline = loop.time() + o.keepalive_timeout;
            }
        } else if (o.read_body_timeout > 0) {
            deadline = loop.time() + o.read_body_timeout;
        }
        waiter_ = loop.create_future<void>();
        timed_out_ = false;
        if (deadline >= 0) arm_deadline(deadline);
        try {
            co_await *waiter_;
        } catch (...) {
            deadline_ = -1;
            waiter_.reset();
            throw;
        }
        deadline_ = -1;
        waiter_.reset();
        if (timed_out_ && !parser_.has_event() && !eof_ && !lost_) {
            timed_out_ = false;
            if (wait == Wait::body) throw BodyTimeout{};
            if (stalled_head || parser_.state() == HttpParser::State::head) throw HeadTimeout{};
            throw IdleTimeout{};
        }
    }
}

Coro<void> RequestHandler::serve() {
    auto self = shared_from_this();  // the connection lives while it is served
    try {
        while (!lost_) {
            std::optional<ParserEvent> ev;
            try {
                if (!parser_.has_event()) co_await wait_event(Wait::head);
                ev = take_event();
            } catch (const HttpProcessingError& e) {
                send_error(e.status(), e.what());
                break;
            } catch (const HeadTimeout&) {
                send_error(408, "408: Request Timeout (request head not complete in time)");
                break;
            } catch (const IdleTimeout&) {
                break;
            }
            if (!ev) break;
            auto* head = std::get_if<MessageHead>(&*ev);
            if (head == nullptr) continue;  // cannot happen: bodies are consumed below
            head_started_ = -1;

            Request req;
            req.method_ = std::move(head->method);
            req.raw_path_ = std::move(head->target);
            std::string_view target = req.raw_path_;
            auto qpos = target.find('?');
            req.path_ = http::detail::unquote(target.substr(0, qpos), false);
            if (qpos != std::string_view::npos) {
                req.query_string_ = std::string(target.substr(qpos + 1));
                req.query_ = http::detail::parse_query(req.query_string_);
            }
            req.headers_ = std::move(head->headers);
            req.version_ = {head->version_major, head->version_minor};
            req.keep_alive_ = head->keep_alive;
            req.content_length_ = head->content_length;
            req.body_exists_ = head->chunked || (head->content_length && *head->content_length > 0);
            req.body_done_ = !req.body_exists_;
            req.expect_continue_ = req.body_exists_ && req.version_ == std::pair{1, 1} &&
                                   iequals(req.headers_.get("Expect", ""), "100-continue");
            req.remote_ = remote_;
            req.secure_ = secure_;
            req.app_ = state_->app;
            req.conn_ = this;

            busy_ = true;
            head_request_ = req.method_ == "HEAD";
            http10_ = req.version_ == std::pair{1, 0};
            stream_started_ = stream_chunked_ = stream_ended_ = false;
            stream_compressor_.reset();
            bytes_sent_ = 0;
            bool broken = false;  // the request's framing cannot be trusted any more
            Response resp;
            try {
                const Handler& handler = find_handler(req);  // HTTPException: 404, 405
                resp = co_await handler(req);
            } catch (const HTTPException& e) {
                resp = Response{.status = e.status(), .text = e.text(), .headers = e.headers()};
            } catch (const HttpProcessingError& e) {
                resp = Response{.status = e.status(), .text = e.what()};
                broken = true;
            } catch (const std::exception&) {
                if (lost_) {
                    resp = Response{.status = 499};
                } else {
                    report_error();
                    close_after_ = true;
                    resp = Response{.status = 500, .text = "500: Internal Server Error"};
                }
            }
            if (!req.body_done_ && !broken) {
                // Drop the unread body (bounded by client_max_size in the parser).
                try {
                    for (;;) {
                        auto piece = co_await read_body_piece(req);
                        if (piece.empty()) break;
                    }
                } catch (const HttpProcessingError& e) {
                    if (!stream_started_) resp = Response{.status = e.status(), .text = e.what()};
                    broken = true;
                }
            }
            if (broken || !req.keep_alive_ || state_->closing) close_after_ = true;
            int status = resp.status;
            if (lost_) {
                status = stream_started_ ? stream_status_ : 499;
            } else if (stream_started_) {
                status = stream_status_;
                if (!stream_ended_) co_await end_stream();
            } else {
                try {
                    send_response(req, resp);
                } catch (const std::exception&) {
                    report_error();
                    status = 500;
                    send_error(500, "500: Internal Server Error");
                    close_after_ = true;
                }
            }
            log_access(req, status, bytes_sent_);
            busy_ = false;
            if (close_after_ || lost_) break;
        }
    } catch (const IdleTimeout&) {
    } catch (const HeadTimeout&) {
    }
    busy_ = false;
    deadline_ = -1;
    if (timer_) timer_->cancel();
    timer_.reset();
    if (!lost_ && transport_ && !transport_->is_closing()) transport_->close();
    state_->handlers.erase(this);
    if (state_->closing && state_->handlers.empty() && state_->all_gone &&
        !state_->all_gone->done()) {
        state_->all_gone->set_result();
    }
}

const Handler& RequestHandler::find_handler(Request& req) {
    const UrlDispatcher& router = state_->app->router();
    std::string_view method = req.method_;
    auto match = router.resolve(method == "HEAD" ? std::string_view("GET") : method, req.path_,
                                req.match_info_);
    if (match.handler == nullptr && method == "HEAD")
        match = router.resolve(method, req.path_, req.match_info_);
    if (match.handler == nullptr) {
        if (!match.allowed.empty()) throw HTTPMethodNotAllowed(req.method_, match.allowed);
        throw HTTPNotFound();
    }
    return *match.handler;
}

void RequestHandler::head_block(int status, std::string_view reason, const CIMultiDict& headers,
                                std::string_view content_type, std::optional<std::uint64_t> length,
                                bool chunked, std::string_view extra) {
    if (reason.empty()) reason = reason_phrase(status);
    if (has_crlf(reason)) throw std::invalid_argument("newline in the reason phrase");
    using namespace std::string_view_literals;
    std::string& out = head_;
    out.clear();
    out += "HTTP/1.1 "sv;
    append_number(out, static_cast<std::uint64_t>(status));
    out += ' ';
    out += reason;
    out += "\r\n"sv;
    bool has_type = false, has_date = false, has_server = false;
    for (const auto& [k, v] : headers) {
        if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") ||
            iequals(k, "Connection"))
            continue;
        if (has_crlf(k) || has_crlf(v) || k.find(':') != std::string::npos)
            throw std::invalid_argument("newline or colon in response header '" + k + "'");
        has_type = has_type || iequals(k, "Content-Type");
        has_date = has_date || iequals(k, "Date");
        has_server = has_server || iequals(k, "Server");
        out += k;
        out += ": "sv;
        out += v;
        out += "\r\n"sv;
    }
    if (!content_type.empty() && !has_type) {
        out += "Content-Type: "sv;
        out += content_type;
        out += "\r\n"sv;
    }
    if (length) {
        out += "Content-Length: "sv;
        append_number(out, *length);
        out += "\r\n"sv;
    }
    if (chunked) out += "Transfer-Encoding: chunked\r\n"sv;
    if (!has_date) {
        out += "Date: "sv;
        out += http_date();
        out += "\r\n"sv;
    }
    if (!has_server) out += "Server: asyncio-cpp\r\n"sv;
    if (close_after_) {
        out += "Connection: close\r\n"sv;
    } else if (http10_) {
        out += "Connection: keep-alive\r\n"sv;  // HTTP/1.0 keep-alive is opt-in: confirm it
    }
    out += extra;
    out += "\r\n"sv;
}

ContentCoding RequestHandler::negotiate_coding(const Request& req, const CIMultiDict& headers,
                                               std::optional<ContentCoding> force,
                                               std::string& extra) {
    if (headers.contains("Content-Encoding")) return ContentCoding::identity;  // encoded already
    ContentCoding coding = ContentCoding::identity;
    if (force) {
        coding = *force;
    } else {
        coding = http::detail::choose_coding(req.headers_.get("Accept-Encoding", ""));
        // The answer depends on Accept-Encoding: caches must know (unless Vary says so).
        bool varies = false;
        for (std::string_view v : headers.getall("Vary")) {
            varies = varies || v.find('*') != std::string_view::npos ||
                     contains_token(v, "Accept-Encoding");
        }
        if (!varies) extra += "Vary: Accept-Encoding\r\n";
    }
    if (coding != ContentCoding::identity) {
        extra += "Content-Encoding: ";
        extra += http::detail::coding_name(coding);
        extra += "\r\n";
    }
    return coding;
}

void RequestHandler::send_response(const Request& req, const Response& r) {
    const bool shared = r.shared_body && !r.shared_body->empty();
    if (int(!r.text.empty()) + int(!r.body.empty()) + int(shared) > 1)
        throw std::invalid_argument("Response: only one of text, body and shared_body is allowed");
    std::string_view payload = !r.text.empty() ? std::string_view(r.text)
                               : shared        ? std::string_view(*r.shared_body)
                                               : std::string_view(r.body);
    std::string_view ctype = r.content_type;
    if (ctype.empty()) {
        ctype = !r.text.empty() || payload.empty() ? "text/plain; charset=utf-8"
                                                   : "application/octet-stream";
    }
    const bool no_body = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    std::string extra, compressed;
    if (r.compression && !no_body) {
        ContentCoding coding = negotiate_coding(req, r.headers, r.compression_force, extra);
        if (coding != ContentCoding::identity) {
            http::detail::Compressor z(coding);
            compressed = z.compress(payload);
            compressed += z.finish();
            payload = compressed;
        }
    }
    head_block(r.status, r.reason, r.headers, ctype,
               no_body ? std::nullopt : std::optional<std::uint64_t>(payload.size()), false, extra);
    if (head_request_ || no_body || payload.empty()) {
        write(head_);
        return;
    }
    bytes_sent_ = payload.size();
    if (payload.size() <= join_below) {
        head_ += payload;  // one small copy, one send
        write(head_);
    } else {
        const std::string_view parts[] = {head_, payload};  // the body is not copied
        writelines(parts);
    }
}

void RequestHandler::send_error(int status, std::string_view text) {
    if (lost_ || transport_ == nullptr || transport_->is_closing()) return;
    close_after_ = true;
    std::string body(text);
    body += "\n";
    head_block(status, {}, {}, "text/plain; charset=utf-8", body.size(), false);
    head_ += body;
    write(head_);
    if (state_->options.access_log) {
        state_->options.access_log(remote_ + " - \"-\" " + std::to_string(status) + " " +
                                   std::to_string(body.size()) +
                                   " (bad request: " + std::string(text.substr(0, 200)) + ")");
    }
}

// The handler's exception (being handled) to the loop's exception handler.
void RequestHandler::report_error() {
    ExceptionContext ctx;
    ctx.message = "Error handling request";
    ctx.exception = std::current_exception();
    transport_->get_loop().call_exception_handler(ctx);
}

void RequestHandler::write(std::string_view data) {
    if (lost_ || transport_ == nullptr || transport_->is_closing()) return;
    transport_->write(data);
}

void RequestHandler::writelines(std::span<const std::string_view> pieces) {
    if (lost_ || transport_ == nullptr || transport_->is_closing()) return;
    transport_->writelines(pieces);
}

// One chunk of a chunked body ("5\r\nhello\r\n"), or the bytes as they are.
void RequestHandler::write_chunk(std::string_view data) {
    if (data.empty()) return;
    bytes_sent_ += data.size();
    if (!stream_chunked_) {
        write(data);
        return;
    }
    char size[24];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    const std::string_view parts[] = {std::string_view(size, static_cast<std::size_t>(n)), data,
                                      "\r\n"};
    writelines(parts);
}

Coro<void> RequestHandler::drain() {
    if (lost_) {
        throw std::system_error(ECONNRESET, std::generic_category(),
                                "HTTP response: the client disconnected");
    }
    if (!write_paused_) co_return;
    drain_ = transport_->get_loop().create_future<void>();
    Future<void> f = *drain_;
    co_await f;
    if (lost_) {
        throw std::system_error(ECONNRESET, std::generic_category(),
                                "HTTP response: the client disconnected");
    }
}

Coro<std::string> RequestHandler::read_body_piece(Request& req) {
    if (req.body_done_) co_return std::string();
    if (req.expect_continue_) {
        // The client waits for our go-ahead before sending the body (RFC 9110 10.1.1), as
        // curl does for bodies over 1 KiB; sent only once the handler asks for the body.
        req.expect_continue_ = false;
        write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    for (;;) {
        std::optional<ParserEvent> ev;
        try {
            if (!parser_.has_event()) co_await wait_event(Wait::body);
            ev = take_event();
        } catch (const BodyTimeout&) {
            // The rest of the body will not come in time: the connection closes after the
            // response, whatever the handler makes of the error.
            req.body_done_ = true;
            close_after_ = true;
            throw HttpProcessingError(408,
                                      "Request Timeout: no byte of the request body for " +
                                          format_seconds(state_->app->options().read_body_timeout));
        }
        if (!ev) {
            req.body_done_ = true;
            throw PayloadEncodingError(
                "Bad HTTP request: the client closed the connection "
                "before the body was complete");
        }
        if (auto* chunk = std::get_if<BodyChunk>(&*ev)) {
            if (!chunk->data.empty()) co_return std::move(chunk->data);
            continue;
        }
        if (std::holds_alternative<MessageEnd>(*ev)) {
            req.body_done_ = true;
            co_return std::string();
        }
    }
}

Coro<void> RequestHandler::start_stream(Request& req, StreamResponse& r) {
    if (stream_started_) throw RuntimeError("StreamResponse: prepare() called twice");
    stream_started_ = true;
    stream_status_ = r.status;
    std::optional<std::uint64_t> length = r.content_length;
    std::string extra;
    if (r.compression_) {
        ContentCoding coding = negotiate_coding(req, r.headers, r.compression_force_, extra);
        if (coding != ContentCoding::identity) {
            length.reset();  // the compressed length is known only at the end
            if (!head_request_)
                stream_compressor_ = std::make_unique<http::detail::Compressor>(coding);
        }
    }
    stream_chunked_ = !length.has_value() && req.version_ != std::pair{1, 0};
    if (!length && !stream_chunked_) close_after_ = true;  // HTTP/1.0: ends at close
    if (state_->closing || !req.keep_alive_) close_after_ = true;
    std::string_view ctype = r.content_type.empty() ? std::string_view("application/octet-stream")
                                                    : std::string_view(r.content_type);
    head_block(r.status, r.reason, r.headers, ctype, length, stream_chunked_, extra);
    write(head_);
    co_await drain();
}

Coro<void> RequestHandler::write_stream(std::string_view data) {
    if (!stream_started_) throw RuntimeError("StreamResponse: write() before prepare()");
    if (stream_ended_) throw RuntimeError("StreamResponse: write() after write_eof()");
    if (data.empty() || head_request_) co_return;
    if (stream_compressor_) {
        write_chunk(stream_compressor_->compress(data));
    } else {
        write_chunk(data);
    }
    co_await drain();
}

Coro<void> RequestHandler::end_stream() {
    if (!stream_started_ || stream_ended_) co_return;
    stream_ended_ = true;
    if (stream_compressor_) {
        write_chunk(stream_compressor_->finish());
        stream_compressor_.reset();
    }
    if (stream_chunked_ && !head_request_) write("0\r\n\r\n");
    if (!lost_) co_await drain();
}

void RequestHandler::log_access(const Request& req, int status, std::uint64_t bytes) {
    const auto& log = state_->options.access_log;
    if (!log) return;
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char when[64];
    std::strftime(when, sizeof when, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
    std::string line = remote_.empty() ? "-" : remote_;
    line += ' ';
    line += when;
    line += " \"";
    line += req.method_;
    line += ' ';
    line += req.raw_path_;
    line +=
        " HTTP/" + std::to_string(req.version_.first) + "." + std::to_string(req.version_.second);
    line += "\" " + std::to_string(status) + " " + std::to_string(bytes) + " \"";
    line += req.headers_.get("Referer", "-");
    line += "\" \"";
    line += req.headers_.get("User-Agent", "-");
    line += "\"";
    log(line);
}

}  // namespace asyncio::http::web::detail
