// ClientResponse: body reads, decoding, charset, JSON, release.
#include "asyncio/http/client_reqrep.hpp"

#include <iconv.h>
#include <uchardet/uchardet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <system_error>

#include "asyncio/http/exceptions.hpp"
#include "http/client_impl.hpp"

namespace asyncio::http {

namespace detail {

Coro<std::string> read_some(Connection& c, const Deadlines& d, const std::string& what) {
    try {
        // Bytes already buffered (or EOF) come without waiting: no timer for them.
        if (c.reader.buffered() > 0 || c.reader.at_eof()) co_return co_await c.reader.read(65536);
        co_return co_await timed(c.reader.read(65536), d, d.sock_read, "sock_read", what);
    } catch (const std::system_error& e) {
        throw ServerDisconnectedError(what + ": server disconnected (" + e.code().message() + ")");
    }
}

std::string ResponseBody::take(std::size_t n) {
    n = std::min(n, available());
    std::string out;
    if (buffer_pos == 0 && n == buffer.size()) {
        out = std::move(buffer);
        buffer.clear();
    } else {
        out = buffer.substr(buffer_pos, n);
        buffer_pos += n;
        if (buffer_pos == buffer.size()) {
            buffer.clear();
            buffer_pos = 0;
        }
    }
    return out;
}

void ResponseBody::fail(std::exception_ptr e) {
    error = e;
    lease.release(false);
    std::rethrow_exception(e);
}

bool ResponseBody::handle_next_event() {
    std::optional<ParserEvent> ev;
    try {
        ev = lease->parser.next();
    } catch (const HttpProcessingError& e) {
        fail(std::make_exception_ptr(ClientPayloadError(what + ": " + e.what())));
    }
    if (!ev) return false;
    if (auto* chunk = std::get_if<BodyChunk>(&*ev)) {
        try {
            if (decoder)
                buffer += decoder->feed(chunk->data);
            else if (buffer.empty())
                buffer = std::move(chunk->data);
            else
                buffer += chunk->data;
        } catch (const ContentEncodingError& e) {
            fail(std::make_exception_ptr(ContentEncodingError(what + ": " + e.what())));
        }
    } else if (auto* end = std::get_if<MessageEnd>(&*ev)) {
        try {
            if (decoder) decoder->finish();
        } catch (const ContentEncodingError& e) {
            fail(std::make_exception_ptr(ContentEncodingError(what + ": " + e.what())));
        }
        eof = true;
        lease.release(reuse && end->keep_alive && !eof_fed);
    } else {
        fail(std::make_exception_ptr(
            RemoteProtocolError(what + ": a second response head inside the body")));
    }
    return true;
}

void ResponseBody::pump() {
    if (error) return;
    try {
        while (!eof && lease && handle_next_event()) {
        }
    } catch (...) {
        // Kept in `error` (fail() stored it): the first body read raises it.
    }
}

Coro<bool> ResponseBody::fill() {
    if (error) std::rethrow_exception(error);
    std::size_t before = available();
    for (;;) {
        if (eof) co_return available() > before;
        if (!lease)
            throw ClientPayloadError(what +
                                     ": the connection was released before the body was read");
        while (!eof && handle_next_event()) {
        }
        if (available() > before || eof) co_return available() > before;
        if (eof_fed) {
            fail(std::make_exception_ptr(
                ClientPayloadError(what + ": Response payload is not completed")));
        }
        std::string data;
        try {
            data = co_await read_some(*lease.get(), deadlines, what);
        } catch (const ServerDisconnectedError& e) {
            error =
                std::make_exception_ptr(ClientPayloadError(std::string(e.what()) + " in the body"));
        }
        if (error) fail(error);
        if (data.empty()) {
            eof_fed = true;
            lease->parser.feed_eof();
        } else {
            lease->parser.feed(data);
        }
    }
}

}  // namespace detail

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// The length of the valid UTF-8 sequence at `i`, or 0 (RFC 3629: no overlongs, no
/// surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogates
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return n;
}

std::string check_utf8(std::string body, const std::string& errors) {
    for (std::size_t i = 0; i < body.size();) {
        std::size_t n = utf8_sequence(body, i);
        if (n != 0) {
            i += n;
            continue;
        }
        if (errors != "replace") {
            char buf[120];
            std::snprintf(buf, sizeof buf,
                          "text(): 'utf-8' codec can't decode byte 0x%02x in position %zu",
                          static_cast<unsigned char>(body[i]), i);
            throw std::invalid_argument(buf);
        }
        body.replace(i, 1, "\xEF\xBF\xBD");
        i += 3;
    }
    return body;
}

std::string convert(const std::string& body, const std::string& charset,
                    const std::string& errors) {
    iconv_t cd = ::iconv_open("UTF-8", charset.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1))
        throw std::invalid_argument("text(): unknown encoding: " + charset);
    std::string out;
    out.reserve(body.size() + body.size() / 2);
    char* in = const_cast<char*>(body.data());
    std::size_t in_left = body.size();
    char buf[4096];
    while (in_left > 0) {
        char* o = buf;
        std::size_t o_left = sizeof buf;
        std::size_t r = ::iconv(cd, &in, &in_left, &o, &o_left);
        out.append(buf, sizeof buf - o_left);
        if (r == static_cast<std::size_t>(-1) && errno != E2BIG) {
            if (errors == "replace") {
                out += "\xEF\xBF\xBD";
                ++in;
                --in_left;
                continue;
            }
            std::size_t pos = static_cast<std::size_t>(in - body.data());
            ::iconv_close(cd);
            char msg[160];
            std::snprintf(msg, sizeof msg,
                          "text(): '%s' codec can't decode byte 0x%02x in position %zu",
                          charset.c_str(),
                          pos < body.size() ? static_cast<unsigned char>(body[pos]) : 0u, pos);
            throw std::invalid_argument(msg);
        }
    }
    ::iconv_close(cd);
    return out;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

/// The charset uchardet finds in `body` (iconv's name for it, lower case), or nullopt when it
/// finds none. Python: aiohttp's fallback charset resolver (chardet / charset-normalizer).
std::optional<std::string> detect_charset(const std::string& body) {
    uchardet_t ud = ::uchardet_new();
    if (!ud) return std::nullopt;
    std::optional<std::string> found;
    if (::uchardet_handle_data(ud, body.data(), body.size()) == 0) {
        ::uchardet_data_end(ud);
        if (const char* cs = ::uchardet_get_charset(ud); cs && *cs) found = lower(cs);
    }
    ::uchardet_delete(ud);
    return found;
}

}  // namespace

ClientResponse::ClientResponse() = default;
ClientResponse::ClientResponse(std::shared_ptr<detail::ResponseBody> body) noexcept
    : body_(std::move(body)) {}
ClientResponse::ClientResponse(ClientResponse&&) noexcept = default;
ClientResponse& ClientResponse::operator=(ClientResponse&&) noexcept = default;
ClientResponse::~ClientResponse() = default;  // the body's Lease closes an unfinished connection

void ClientResponse::raise_for_status() const {
    if (status >= 400) throw ClientResponseError(status, reason, url.human_repr());
}

std::string ClientResponse::content_type() const {
    auto v = headers.get("Content-Type");
    if (!v) return "application/octet-stream";
    return lower(trim(v->substr(0, v->find(';'))));
}

std::optional<std::string> ClientResponse::charset() const {
    auto v = headers.get("Content-Type");
    if (!v) return std::nullopt;
    std::string_view rest = *v;
    while (true) {
        auto semi = rest.find(';');
        if (semi == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(semi + 1);
        std::string_view param = trim(rest.substr(0, rest.find(';')));
        auto eq = param.find('=');
        if (eq != std::string_view::npos && lower(trim(param.substr(0, eq))) == "charset") {
            std::string_view value = trim(param.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return lower(value);
        }
    }
}

std::optional<std::uint64_t> ClientResponse::content_length() const {
    auto v = headers.get("Content-Length");
    if (!v) return std::nullopt;
    try {
        return std::stoull(std::string(*v));
    } catch (...) {
        return std::nullopt;
    }
}

bool ClientResponse::at_eof() const noexcept {
    return !body_ || (body_->eof && body_->available() == 0);
}

Coro<std::string> ClientResponse::read() {
    if (!body_) co_return std::string();
    auto body = body_;  // kept alive across the suspensions
    if (body->cached) co_return *body->cached;
    for (;;) {  // WORKAROUND(gcc-12): no co_await in a loop condition (docs/footguns.md)
        bool more = co_await body->fill();
        if (!more) break;
    }
    body->cached = body->take(body->available());
    co_return *body->cached;
}

Coro<std::string> ClientResponse::text(std::optional<std::string> encoding, std::string errors) {
    std::string raw = co_await read();
    std::optional<std::string> named = encoding ? std::optional(lower(*encoding)) : charset();
    // No charset named: UTF-8 when the bytes are UTF-8 (or the type is JSON, UTF-8 by its
    // RFC), else what uchardet makes of them (UTF-8's error when it makes nothing).
    if (!named && !valid_utf8(raw)) {
        std::string ct = content_type();
        if (ct != "application/json" && !ct.ends_with("+json")) named = detect_charset(raw);
    }
    std::string cs = named.value_or("utf-8");
    if (cs == "utf-8" || cs == "utf8") co_return check_utf8(std::move(raw), errors);
    if (cs == "us-ascii" || cs == "ascii") {
        for (std::size_t i = 0; i < raw.size(); ++i)
            if (static_cast<unsigned char>(raw[i]) >= 0x80 && errors != "replace") {
                char buf[120];
                std::snprintf(buf, sizeof buf,
                              "text(): 'ascii' codec can't decode byte 0x%02x in position %zu",
                              static_cast<unsigned char>(raw[i]), i);
                throw std::invalid_argument(buf);
            }
    }
    co_return convert(raw, cs, errors);
}

Coro<nlohmann::json> ClientResponse::json(std::optional<std::string> content_type_expected) {
    if (content_type_expected) {
        std::string ct = content_type();
        bool ok = ct == lower(*content_type_expected) || (ct.size() > 5 && ct.ends_with("+json"));
        if (!ok) {
            release();
            throw ContentTypeError(status, "Attempt to decode JSON with unexpected mimetype: " + ct,
                                   url.human_repr());
        }
    }
    std::string text_body = co_await text();
    co_return nlohmann::json::parse(text_body);
}

Coro<std::string> ClientResponse::read_chunk(std::size_t n) {
    if (!body_ || n == 0) co_return std::string();
    auto body = body_;
    if (body->cached) {  // read() took it all: hand out the rest of the cached copy
        std::string out = body->cached->substr(0, n);
        body->cached->erase(0, out.size());
        co_return out;
    }
    if (body->available() == 0) co_await body->fill();
    co_return body->take(n);
}

Coro<std::string> ClientResponse::readline() {
    if (!body_) co_return std::string();
    auto body = body_;
    constexpr std::size_t limit = 65536;
    for (;;) {
        std::string_view buffered(body->buffer.data() + body->buffer_pos, body->available());
        auto nl = buffered.find('\n');
        if (nl != std::string_view::npos) co_return body->take(nl + 1);
        if (buffered.size() > limit) {
            body->take(buffered.size());
            throw ClientPayloadError(body->what + ": readline(): a line longer than 65536 bytes");
        }
        bool more = co_await body->fill();  // WORKAROUND(gcc-12): not in the if condition
        if (!more) co_return body->take(body->available());
    }
}

AsyncGenerator<std::string> ClientResponse::iter_chunked(std::size_t n) {
    for (;;) {
        std::string chunk = co_await read_chunk(n);
        if (chunk.empty()) co_return;
        co_yield std::move(chunk);
    }
}

void ClientResponse::release() noexcept {
    if (!body_) return;
    body_->lease.release(body_->eof);
}

void ClientResponse::close() noexcept {
    if (!body_) return;
    body_->lease.release(false);
}

}  // namespace asyncio::http
