// The application: a router from (method, path) to handlers, and the server's settings.
//
// Routes are matched against the percent-decoded request path. A `{name}` takes one or more
// characters other than '/' ("/users/{id}/posts", "/files/{stem}.txt"); a `{name:regex}` takes
// what the ECMAScript regex matches, '/' included (`/users/{id:\d+}`, `/static/{path:.*}`).
// The values land in request.match_info(). No route for the path is 404; a route for the path
// but not for the method is 405 with an Allow header. A GET route also answers HEAD (aiohttp's
// allow_head). Python: aiohttp.web_app.Application and web_urldispatcher.UrlDispatcher.
#pragma once

#include <asyncio/coro.hpp>
#include <asyncio/http/web_request.hpp>
#include <asyncio/http/web_response.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
/// A route whose parameters are all whole `{name}` segments is matched segment by segment;
/// any other (a `{name:regex}`, or a parameter inside a segment) is compiled once, at
/// add_route(), into one std::regex for the whole path, and matched with it.
/// Errors: add_route() throws std::invalid_argument, naming the route, for a path not
/// starting with '/', an unbalanced '{' or '}', a parameter name that is not an identifier
/// (`[_a-zA-Z][_a-zA-Z0-9]*`), the same name twice, or a regex std::regex rejects.
/// Routes are tried in the order they were added.
/// Python: add_route raises ValueError for the same mistakes.
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
    struct Pattern;  // a compiled whole-path regex and its parameters (web_app.cpp)
    /// Either `pattern` is null and `segments` / `trailing_slash` describe the path, or
    /// `pattern` matches the whole path and `segments` is empty.
    struct Route {
        std::string method;
        std::vector<Segment> segments;
        bool trailing_slash = false;
        std::shared_ptr<const Pattern> pattern;
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
    /// A request body that stalls: when the handler (or the server, dropping what the handler
    /// left unread) waits this long for the next byte of the body, the read throws
    /// HttpProcessingError 408, the answer is 408 unless the handler answers otherwise, and
    /// the connection closes. The time between two reads, not for the whole body (nginx's
    /// client_body_timeout, 60 s by default); 0 or less: no limit (aiohttp's behaviour).
    double read_body_timeout = 60.0;
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
