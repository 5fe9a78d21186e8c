// Request: the body readers, over the connection's RequestHandler.
#include <asyncio/http/web_request.hpp>

#include "http/web_protocol.hpp"

namespace asyncio::http::web {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

std::string Request::content_type() const {
    std::string_view v = headers_.get("Content-Type", "application/octet-stream");
    std::string out(trim(v.substr(0, v.find(';'))));
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> Request::charset() const {
    auto v = headers_.get("Content-Type");
    if (!v) return std::nullopt;
    std::string_view rest = *v;
    while (true) {
        auto semi = rest.find(';');
        if (semi == std::string_view::npos) return std::nullopt;
        rest = rest.substr(semi + 1);
        std::string_view param = trim(rest.substr(0, rest.find(';')));
        if (param.size() > 8 && iequals(param.substr(0, 8), "charset=")) {
            std::string_view value = param.substr(8);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
    }
}

Coro<std::string> Request::readany() {
    if (!buffered_.empty()) co_return std::exchange(buffered_, {});
    co_return co_await conn_->read_body_piece(*this);
}

Coro<std::string> Request::read() {
    // Pieces accumulate in buffered_ so a cancelled read() loses nothing.
    while (!body_done_) {
        std::string piece = co_await conn_->read_body_piece(*this);
        buffered_ += piece;
    }
    co_return std::exchange(buffered_, {});
}

Coro<std::string> Request::text() { co_return co_await read(); }

Coro<nlohmann::json> Request::json() {
    std::string body = co_await read();
    co_return nlohmann::json::parse(body);
}

}  // namespace asyncio::http::web
