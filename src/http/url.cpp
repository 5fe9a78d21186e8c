// URL splitting and resolution (RFC 3986 §3, §5.2).
#include "asyncio/http/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace asyncio::http {

namespace {

constexpr std::string_view unreserved_marks = "-._~";
constexpr std::string_view sub_delims = "!$&'()*+,;=";

bool is_unreserved(unsigned char c) {
    return std::isalnum(c) || unreserved_marks.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Encodes what may not appear raw in a component: keeps unreserved, sub-delims, `extra`, and
/// well-formed %XX escapes; encodes everything else (controls, spaces, non-ASCII, a stray %).
std::string normalise(std::string_view s, std::string_view extra) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            out.push_back('%');
            out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 1]))));
            out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 2]))));
            i += 2;
        } else if (is_unreserved(c) ||
                   sub_delims.find(static_cast<char>(c)) != std::string_view::npos ||
                   extra.find(static_cast<char>(c)) != std::string_view::npos) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

/// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
    std::string input(in);
    std::string output;
    while (!input.empty()) {
        if (input.starts_with("../")) {
            input.erase(0, 3);
        } else if (input.starts_with("./")) {
            input.erase(0, 2);
        } else if (input.starts_with("/./")) {
            input.erase(0, 2);
        } else if (input == "/.") {
            input = "/";
        } else if (input.starts_with("/../") || input == "/..") {
            input = input == "/.." ? "/" : input.substr(3);
            auto slash = output.rfind('/');
            output.erase(slash == std::string::npos ? 0 : slash);
        } else if (input == "." || input == "..") {
            input.clear();
        } else {
            std::size_t start = input[0] == '/' ? 1 : 0;
            std::size_t end = input.find('/', start);
            if (end == std::string::npos) end = input.size();
            output.append(input, 0, end);
            input.erase(0, end);
        }
    }
    return output;
}

/// RFC 3986 §5.2.3.
std::string merge_paths(const URL& base, std::string_view ref_path) {
    if (base.is_absolute() && base.path().empty()) {
        std::string out = "/";  // not "/" + std::string(...): GCC 12 -Wrestrict, PR105329
        out += ref_path;
        return out;
    }
    auto slash = base.path().rfind('/');
    if (slash == std::string::npos) return std::string(ref_path);
    return base.path().substr(0, slash + 1) + std::string(ref_path);
}

}  // namespace

InvalidURL::InvalidURL(std::string url, const std::string& why)
    : std::invalid_argument("invalid URL '" + url + "': " + why), url_(std::move(url)) {}

std::optional<int> default_port(std::string_view scheme) noexcept {
    if (scheme == "http" || scheme == "ws") return 80;
    if (scheme == "https" || scheme == "wss") return 443;
    return std::nullopt;
}

URL URL::parse(std::string_view text, bool relative_ok) {
    const std::string original(text);
    auto fail = [&](const std::string& why) -> InvalidURL { return InvalidURL(original, why); };
    // Leading and trailing C0 controls and spaces are stripped (WHATWG, urllib.parse 3.11+);
    // inside, a tab or a newline is an error rather than silently dropped.
    while (!text.empty() && static_cast<unsigned char>(text.front()) <= 0x20) text.remove_prefix(1);
    while (!text.empty() && static_cast<unsigned char>(text.back()) <= 0x20) text.remove_suffix(1);

    URL u;
    std::string_view rest = text;
    // scheme ":" — letters, digits, + - . after a first letter, before any / ? #.
    auto colon = rest.find(':');
    auto first_delim = rest.find_first_of("/?#");
    if (colon != std::string_view::npos && colon > 0 &&
        (first_delim == std::string_view::npos || colon < first_delim) &&
        std::isalpha(static_cast<unsigned char>(rest[0]))) {
        std::string_view scheme = rest.substr(0, colon);
        bool ok = std::all_of(scheme.begin(), scheme.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
        if (ok) {
            u.scheme_ = lower(scheme);
            rest.remove_prefix(colon + 1);
        }
    }
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        u.fragment_ = normalise(rest.substr(hash + 1), ":@/?");
        u.has_fragment_ = true;
        rest = rest.substr(0, hash);
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        u.query_ = normalise(rest.substr(q + 1), ":@/?");
        u.has_query_ = true;
        rest = rest.substr(0, q);
    }
    if (rest.starts_with("//")) {
        u.has_authority_ = true;
        rest.remove_prefix(2);
        auto end = rest.find('/');
        std::string_view authority = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        if (auto at = authority.rfind('@'); at != std::string_view::npos) {
            std::string_view userinfo = authority.substr(0, at);
            authority.remove_prefix(at + 1);
            auto c = userinfo.find(':');
            u.user_ = normalise(userinfo.substr(0, c), "");
            if (c != std::string_view::npos) u.password_ = normalise(userinfo.substr(c + 1), ":");
        }
        std::string_view host = authority;
        std::string_view port;
        if (authority.starts_with("[")) {
            auto close = authority.find(']');
            if (close == std::string_view::npos)
                throw fail("an IPv6 literal without its closing ']'");
            host = authority.substr(1, close - 1);
            std::string_view after = authority.substr(close + 1);
            if (!after.empty()) {
                if (after[0] != ':') throw fail("characters after the IPv6 literal");
                port = after.substr(1);
            }
            in6_addr addr{};
            std::string h(host);
            if (auto pct = h.find('%'); pct != std::string::npos) h.erase(pct);  // zone id
            if (::inet_pton(AF_INET6, h.c_str(), &addr) != 1)
                throw fail("'" + std::string(host) + "' is not an IPv6 address");
        } else if (auto c = authority.rfind(':'); c != std::string_view::npos) {
            host = authority.substr(0, c);
            port = authority.substr(c + 1);
        }
        if (!authority.starts_with("[")) {
            for (char ch : host) {
                auto uc = static_cast<unsigned char>(ch);
                if (uc >= 0x80) throw fail("a non-ASCII host name (IDNA is not supported)");
                if (!(is_unreserved(uc) || sub_delims.find(ch) != std::string_view::npos ||
                      ch == '%'))
                    throw fail(std::string("the character ") +
                               (uc < 0x20 || uc == 0x7f ? "0x" + std::to_string(uc)
                                                        : "'" + std::string(1, ch) + "'") +
                               " in the host");
            }
        }
        u.host_ = lower(host);
        if (!port.empty()) {
            int value = 0;
            auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
            if (ec != std::errc{} || ptr != port.data() + port.size() || value < 0 || value > 65535)
                throw fail("the port '" + std::string(port) + "' is not a number from 0 to 65535");
            u.port_ = value;
        }
        if (u.host_.empty() && !u.scheme_.empty()) throw fail("no host");
    }
    u.path_ = normalise(rest, ":@/");
    if (!relative_ok) {
        if (u.scheme_.empty())
            throw fail("no scheme (an absolute URL starts with http:// or https://)");
        if (!u.has_authority_ || u.host_.empty()) throw fail("no host");
    }
    if (u.has_authority_ && !u.host_.empty() && u.path_.empty()) u.path_ = "/";
    return u;
}

std::optional<int> URL::port() const noexcept {
    if (port_) return port_;
    return default_port(scheme_);
}

bool URL::is_default_port() const noexcept { return !port_ || port_ == default_port(scheme_); }

Params URL::query() const {
    Params out;
    std::string_view q = query_;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        out.emplace_back(
            unquote(part.substr(0, eq), true),
            eq == std::string_view::npos ? std::string() : unquote(part.substr(eq + 1), true));
    }
    return out;
}

std::string URL::raw_path_qs() const {
    std::string out = path_.empty() ? "/" : path_;
    if (!query_.empty()) out += "?" + query_;
    return out;
}

std::string URL::host_port() const {
    // Appended piece by piece: `"[" + host_ + "]"` and `":" + std::to_string(...)` make GCC 12
    // warn (-Wrestrict, a false positive, GCC PR105329) on a literal added to a temporary.
    std::string out;
    if (is_ipv6()) {
        out += '[';
        out += host_;
        out += ']';
    } else {
        out = host_;
    }
    if (!is_default_port() && port_) {
        out += ':';
        out += std::to_string(*port_);
    }
    return out;
}

URL URL::origin() const {
    URL o;
    o.scheme_ = scheme_;
    o.host_ = host_;
    o.port_ = port_;
    o.has_authority_ = has_authority_;
    return o;
}

std::string URL::str() const {
    std::string out;
    if (!scheme_.empty()) out += scheme_ + ":";
    if (has_authority_) {
        out += "//";
        if (!user_.empty() || !password_.empty()) {
            out += user_;
            if (!password_.empty()) out += ":" + password_;
            out += "@";
        }
        out += is_ipv6() ? "[" + host_ + "]" : host_;
        if (port_) out += ":" + std::to_string(*port_);
    }
    out += path_;
    if (has_query_) out += "?" + query_;
    if (has_fragment_) out += "#" + fragment_;
    return out;
}

std::string URL::human_repr() const {
    URL copy = *this;
    if (!copy.password_.empty()) copy.password_ = "********";
    return copy.str();
}

URL URL::join(std::string_view reference) const {
    URL r = parse(reference, true);
    URL t;
    if (!r.scheme_.empty()) {
        t = r;
        t.path_ = remove_dot_segments(r.path_);
    } else {
        if (r.has_authority_) {
            t = r;
            t.path_ = remove_dot_segments(r.path_);
        } else {
            if (r.path_.empty()) {
                t.path_ = path_;
                t.query_ = r.has_query_ ? r.query_ : query_;
                t.has_query_ = r.has_query_ || has_query_;
            } else {
                t.path_ = r.path_.starts_with("/")
                              ? remove_dot_segments(r.path_)
                              : remove_dot_segments(merge_paths(*this, r.path_));
                t.query_ = r.query_;
                t.has_query_ = r.has_query_;
            }
            t.user_ = user_;
            t.password_ = password_;
            t.host_ = host_;
            t.port_ = port_;
            t.has_authority_ = has_authority_;
        }
        t.scheme_ = scheme_;
    }
    t.fragment_ = r.fragment_;
    t.has_fragment_ = r.has_fragment_;
    if (t.has_authority_ && !t.host_.empty() && t.path_.empty()) t.path_ = "/";
    if (t.scheme_.empty() || t.host_.empty())
        throw InvalidURL(std::string(reference),
                         "does not resolve to an absolute URL against " + human_repr());
    return t;
}

URL URL::with_query(const Params& params) const {
    URL u = *this;
    u.query_ = urlencode(params);
    u.has_query_ = !u.query_.empty();
    return u;
}

URL URL::update_query(const Params& params) const {
    if (params.empty()) return *this;
    URL u = *this;
    std::string extra = urlencode(params);
    u.query_ = u.query_.empty() ? extra : u.query_ + "&" + extra;
    u.has_query_ = true;
    return u;
}

URL URL::with_fragment(std::string fragment) const {
    URL u = *this;
    u.fragment_ = normalise(fragment, ":@/?");
    u.has_fragment_ = !fragment.empty();
    return u;
}

std::string quote(std::string_view s, std::string_view safe) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || safe.find(ch) != std::string_view::npos) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::string unquote(std::string_view s, bool plus) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else if (plus && s[i] == '+') {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string urlencode(const Params& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out.push_back('&');
        std::string n = quote(name, " "), v = quote(value, " ");
        std::replace(n.begin(), n.end(), ' ', '+');
        std::replace(v.begin(), v.end(), ' ', '+');
        out += n + "=" + v;
    }
    return out;
}

}  // namespace asyncio::http
