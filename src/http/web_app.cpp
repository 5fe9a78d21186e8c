// The router: plain routes as segment lists, the others as one compiled regex each, tried in
// the order added.
#include <asyncio/http/web_app.hpp>

#include <array>
#include <regex>
#include <stdexcept>

namespace asyncio::http::web {

/// A route matched as a whole: `re` is the path as one regex, `names[i]` the parameter of
/// capture group `groups[i]` (a parameter's own regex may hold capture groups of its own).
struct UrlDispatcher::Pattern {
    std::regex re;
    std::vector<std::string> names;
    std::vector<std::size_t> groups;
};

namespace {

// The segments of a path, without allocating for up to 16 of them.
class PathSegments {
  public:
    explicit PathSegments(std::string_view path) {
        if (!path.empty() && path.front() == '/') path.remove_prefix(1);
        while (!path.empty()) {
            auto slash = path.find('/');
            push(path.substr(0, slash));
            if (slash == std::string_view::npos) break;
            path.remove_prefix(slash + 1);
        }
    }
    std::size_t size() const noexcept { return size_; }
    std::string_view operator[](std::size_t i) const noexcept {
        return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
    }
    void pop_back() noexcept {
        if (size_ > inline_.size()) more_.pop_back();
        --size_;
    }

  private:
    void push(std::string_view s) {
        if (size_ < inline_.size()) {
            inline_[size_] = s;
        } else {
            more_.push_back(s);
        }
        ++size_;
    }
    std::array<std::string_view, 16> inline_{};
    std::vector<std::string_view> more_;
    std::size_t size_ = 0;
};

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

// `s` as a regex that matches exactly it.
std::string regex_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

// One piece of a route's path: literal text, or a parameter (with its regex, if given).
struct Piece {
    std::string text{};  // literal, or the parameter's name
    bool param = false;
    bool has_regex = false;
    std::string regex{};
};

[[noreturn]] void bad_route(std::string_view path, const std::string& why) {
    throw std::invalid_argument("add_route: bad route '" + std::string(path) + "': " + why);
}

// Splits a route's path into literals and parameters. A parameter's regex may hold braces
// of its own ("{code:\\d{3}}"): the parameter ends at the '}' that balances its '{'.
std::vector<Piece> parse_pieces(std::string_view path) {
    std::vector<Piece> out;
    std::string literal;
    for (std::size_t i = 0; i < path.size();) {
        const char c = path[i];
        if (c == '}') bad_route(path, "'}' without its '{' at offset " + std::to_string(i));
        if (c != '{') {
            literal += c;
            ++i;
            continue;
        }
        std::size_t depth = 1, j = i + 1;
        for (; j < path.size() && depth > 0; ++j) {
            if (path[j] == '\\' && j + 1 < path.size()) {
                ++j;  // an escaped character, "\{" included
            } else if (path[j] == '{') {
                ++depth;
            } else if (path[j] == '}') {
                --depth;
            }
        }
        if (depth != 0) bad_route(path, "unclosed '{' at offset " + std::to_string(i));
        std::string_view inner = path.substr(i + 1, j - i - 2);
        Piece p{.param = true};
        auto colon = inner.find(':');
        p.text = std::string(inner.substr(0, colon));
        if (!is_identifier(p.text)) {
            bad_route(path, "parameter name '" + p.text +
                                "' is not an identifier (expected {name} or {name:regex})");
        }
        if (colon != std::string_view::npos) {
            p.has_regex = true;
            p.regex = std::string(inner.substr(colon + 1));
            if (p.regex.empty()) bad_route(path, "empty regex for parameter '" + p.text + "'");
        }
        for (const Piece& q : out) {
            if (q.param && q.text == p.text) bad_route(path, "parameter '" + p.text + "' twice");
        }
        if (!literal.empty()) out.push_back(Piece{.text = std::exchange(literal, {})});
        out.push_back(std::move(p));
        i = j;
    }
    if (!literal.empty()) out.push_back(Piece{.text = std::move(literal)});
    return out;
}

// True when every parameter is a whole segment without a regex: the segment matcher serves.
bool is_plain(const std::vector<Piece>& pieces) {
    for (std::size_t k = 0; k < pieces.size(); ++k) {
        const Piece& p = pieces[k];
        if (!p.param) continue;
        if (p.has_regex) return false;
        const bool starts = k > 0 && !pieces[k - 1].text.empty() &&
                            pieces[k - 1].text.back() == '/' && !pieces[k - 1].param;
        const bool ends =
            k + 1 == pieces.size() || (!pieces[k + 1].param && pieces[k + 1].text.front() == '/');
        if (!starts || !ends) return false;
    }
    return true;
}

std::regex compile(std::string_view path, const std::string& source, const std::string& what) {
    try {
        return std::regex(source, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
        bad_route(path, what + " is not a valid regex (" + e.what() + ")");
    }
}

}  // namespace

void UrlDispatcher::add_route(std::string method, std::string_view path, Handler handler) {
    if (path.empty() || path.front() != '/') bad_route(path, "the path must start with '/'");
    if (!handler) bad_route(path, "empty handler");
    Route r;
    r.method = std::move(method);
    for (char& c : r.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::vector<Piece> pieces = parse_pieces(path);
    if (is_plain(pieces)) {
        r.trailing_slash = path.size() > 1 && path.back() == '/';
        std::size_t k = 0;
        PathSegments segs(path);
        for (std::size_t i = 0; i < segs.size(); ++i) {
            std::string_view seg = segs[i];
            if (!seg.empty() && seg.front() == '{') {
                while (!pieces[k].param) ++k;
                r.segments.push_back({pieces[k++].text, true});
            } else {
                r.segments.push_back({std::string(seg), false});
            }
        }
    } else {
        auto pattern = std::make_shared<Pattern>();
        std::string source;
        std::size_t group = 0;
        for (const Piece& p : pieces) {
            if (!p.param) {
                source += regex_escape(p.text);
                continue;
            }
            std::size_t inner_groups = 0;
            if (p.has_regex) {
                // Compiled alone first: an error names the parameter, and its capture groups
                // are counted so that the outer groups are numbered right.
                inner_groups =
                    compile(path, p.regex, "the regex '" + p.regex + "' of '" + p.text + "'")
                        .mark_count();
            }
            source += '(';
            source += p.has_regex ? p.regex : std::string("[^{}/]+");
            source += ')';
            pattern->names.push_back(p.text);
            pattern->groups.push_back(++group);
            group += inner_groups;
        }
        pattern->re = compile(path, source, "the path as the regex '" + source + "'");
        r.pattern = std::move(pattern);
    }
    r.handler = std::move(handler);
    routes_.push_back(std::move(r));
}

UrlDispatcher::Match UrlDispatcher::resolve(
    std::string_view method, std::string_view path,
    std::map<std::string, std::string, std::less<>>& params) const {
    Match m;
    PathSegments segs(path);
    const bool trailing = path.size() > 1 && path.back() == '/';
    if (trailing && segs.size() > 0 && segs[segs.size() - 1].empty()) segs.pop_back();
    std::match_results<std::string_view::const_iterator> groups;
    for (const Route& r : routes_) {
        if (r.pattern) {
            if (!std::regex_match(path.begin(), path.end(), groups, r.pattern->re)) continue;
        } else {
            if (r.segments.size() != segs.size() || r.trailing_slash != trailing) continue;
            bool ok = true;
            for (std::size_t i = 0; i < segs.size() && ok; ++i) {
                const Segment& s = r.segments[i];
                ok = s.param ? !segs[i].empty() : s.text == segs[i];
            }
            if (!ok) continue;
        }
        if (r.method != "*" && r.method != method) {
            if (m.allowed.find(r.method) == std::string::npos) {
                if (!m.allowed.empty()) m.allowed += ", ";
                m.allowed += r.method;
            }
            continue;
        }
        params.clear();
        if (r.pattern) {
            for (std::size_t i = 0; i < r.pattern->names.size(); ++i)
                params.emplace(r.pattern->names[i], groups.str(r.pattern->groups[i]));
        } else {
            for (std::size_t i = 0; i < segs.size(); ++i) {
                if (r.segments[i].param) params.emplace(r.segments[i].text, std::string(segs[i]));
            }
        }
        m.handler = &r.handler;
        m.allowed.clear();
        return m;
    }
    return m;
}

void Application::add_routes(std::vector<RouteDef> routes) {
    for (auto& r : routes) router_.add_route(std::move(r.method), r.path, std::move(r.handler));
}

}  // namespace asyncio::http::web
