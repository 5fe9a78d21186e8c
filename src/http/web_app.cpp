// The router: routes as segment lists, matched in the order added.
#include <asyncio/http/web_app.hpp>

#include <stdexcept>

namespace asyncio::http::web {

namespace {
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (!path.empty()) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}
}  // namespace

void UrlDispatcher::add_route(std::string method, std::string_view path, Handler handler) {
    if (path.empty() || path.front() != '/')
        throw std::invalid_argument("add_route: path '" + std::string(path) +
                                    "' must start with '/'");
    if (!handler)
        throw std::invalid_argument("add_route: empty handler for '" + std::string(path) + "'");
    Route r;
    r.method = std::move(method);
    for (char& c : r.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    r.trailing_slash = path.size() > 1 && path.back() == '/';
    for (auto seg : split_path(path)) {
        if (!seg.empty() && seg.front() == '{') {
            if (seg.back() != '}' || seg.size() < 3)
                throw std::invalid_argument("add_route: bad parameter segment '" +
                                            std::string(seg) + "' in '" + std::string(path) +
                                            "' (expected {name})");
            r.segments.push_back({std::string(seg.substr(1, seg.size() - 2)), true});
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos)
                throw std::invalid_argument("add_route: a parameter must be a whole segment in '" +
                                            std::string(path) + "'");
            r.segments.push_back({std::string(seg), false});
        }
    }
    r.handler = std::move(handler);
    routes_.push_back(std::move(r));
}

UrlDispatcher::Match UrlDispatcher::resolve(
    std::string_view method, std::string_view path,
    std::map<std::string, std::string, std::less<>>& params) const {
    Match m;
    auto segs = split_path(path);
    const bool trailing = path.size() > 1 && path.back() == '/';
    if (trailing && !segs.empty() && segs.back().empty()) segs.pop_back();
    for (const Route& r : routes_) {
        if (r.segments.size() != segs.size() || r.trailing_slash != trailing) continue;
        bool ok = true;
        for (std::size_t i = 0; i < segs.size() && ok; ++i) {
            const Segment& s = r.segments[i];
            ok = s.param ? !segs[i].empty() : s.text == segs[i];
        }
        if (!ok) continue;
        if (r.method != "*" && r.method != method) {
            if (m.allowed.find(r.method) == std::string::npos) {
                if (!m.allowed.empty()) m.allowed += ", ";
                m.allowed += r.method;
            }
            continue;
        }
        params.clear();
        for (std::size_t i = 0; i < segs.size(); ++i) {
            if (r.segments[i].param) params.emplace(r.segments[i].text, std::string(segs[i]));
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
