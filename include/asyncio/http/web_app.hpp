// The application: a router from (method, path) to handlers, and the server's settings.
//
// Paths are matched segment by segment against the percent-decoded request path: a segment
// is a literal or a `{name}` that takes one whole segment ("/users/{id}/posts"), whose value
// lands in request.match_info(). No route for the path is 404; a route for the path but not
// for the method is 405 with an Allow header. A GET route also answers HEAD (aiohttp's
// allow_head). Python: aiohttp.web_app.Application and web_urldispatcher.UrlDispatcher.
#pragma once

#include <asyncio/coro.hpp>
#include <asyncio/http/web_request.hpp>
#include <asyncio/http/web_response.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace asyncio::http::web {

/// A request handler. Python: `async def handler(request) -> web.StreamResponse`.
using Handler = std::function<Coro<Response>(Request&)>;

/// One route, for add_routes(). Python: web.RouteDef (web.get("/", handler), ...).
struct RouteDef {
    std::string method{};
    std::string path{};
    Handler handler{};
};
inline RouteDef get(std::string path, Handler h) { return {"GET", std::move(path), std::move(h)}; }
inline RouteDef post(std::string path, Handler h) {
    return {"POST", std::move(path), std::move(h)};
}
inline RouteDef put(std::string path, Handler h) { return {"PUT", std::move(path), std::move(h)}; }
inline RouteDef patch(std::string path, Handler h) {
    return {"PATCH", std::move(path), std::move(h)};
}
inline RouteDef delete_(std::string path, Handler h) {
    return {"DELETE", std::move(path), std::move(h)};
}

/// The routing table. Python: aiohttp.web.UrlDispatcher (app.router).
///
/// Errors: add_route() with a path not starting with '/', or an unclosed '{', throws
/// std::invalid_argument. Routes are tried in the order they were added.
class UrlDispatcher {
  public:
    /// `method` "*" matches every method. Python: router.add_route(method, path, handler).
    void add_route(std::string method, std::string_view path, Handler handler);
    void add_get(std::string_view path, Handler h) { add_route("GET", path, std::move(h)); }
    void add_post(std::string_view path, Handler h) { add_route("POST", path, std::move(h)); }
    void add_put(std::string_view path, Handler h) { add_route("PUT", path, std::move(h)); }
    void add_patch(std::string_view path, Handler h) { add_route("PATCH", path, std::move(h)); }
    void add_delete(std::string_view path, Handler h) { add_route("DELETE", path, std::move(h)); }

    /// The outcome of matching a request.
    struct Match {
        const Handler* handler = nullptr;  ///< null: no route (see allowed)
        std::string allowed;               ///< no handler but the path matched: "GET, POST"
    };
    /// Finds the handler of (method, path), filling `params` with its `{name}` values.
    Match resolve(std::string_view method, std::string_view path,
                  std::map<std::string, std::string, std::less<>>& params) const;

  private:
    struct Segment {
        std::string text;  // literal, or the parameter's name
        bool param = false;
    };
    struct Route {
        std::string method;
        std::vector<Segment> segments;
        bool trailing_slash = false;
        Handler handler;
    };
    std::vector<Route> routes_;
};

/// Settings of an application. Python: web.Application(client_max_size=...), and the
/// handler arguments of AppRunner (keepalive_timeout, max_line_size, max_field_size).
struct ApplicationOptions {
    std::uint64_t client_max_size = 1024 * 1024;  ///< request body limit (413 above)
    std::size_t max_line_size = 8190;             ///< request target (414 above)
    std::size_t max_field_size = 8190;            ///< one header name or value (431 above)
    std::size_t max_headers = 128;                ///< header fields per request (431 above)
    std::size_t max_head_size = 65536;            ///< start line + header fields (431 above)
    double keepalive_timeout = 75.0;              ///< idle keep-alive connection: closed after
    double read_head_timeout = 30.0;              ///< a request head started but unfinished: 408
};

/// The application. Python: aiohttp.web.Application.
///
///     web::Application app;
///     app.router().add_get("/users/{id}", get_user);
///     web::run_app(app, {.port = 8080});
class Application {
  public:
    explicit Application(ApplicationOptions options = {}) : options_(options) {}
    UrlDispatcher& router() noexcept { return router_; }
    const UrlDispatcher& router() const noexcept { return router_; }
    /// Python: app.add_routes([web.get("/", h), ...]).
    void add_routes(std::vector<RouteDef> routes);
    const ApplicationOptions& options() const noexcept { return options_; }

  private:
    UrlDispatcher router_;
    ApplicationOptions options_;
};

}  // namespace asyncio::http::web
