// Serving an application: AppRunner (the connections and the graceful shutdown), TCPSite (a
// listening socket, optionally TLS), and run_app (both, until SIGINT or SIGTERM).
//
// Shutdown is graceful, as aiohttp's: the sites stop accepting, idle keep-alive connections
// are closed, requests in progress run to their end (their response says Connection: close)
// for up to shutdown_timeout seconds, then what is left is aborted and its handler cancelled.
// Python: aiohttp.web_runner (AppRunner, TCPSite) and aiohttp.web.run_app.
#pragma once

#include <asyncio/base_events.hpp>
#include <asyncio/coro.hpp>
#include <asyncio/http/web_app.hpp>
#include <asyncio/ssl.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asyncio::http::web {

namespace detail {
struct ServerState;
}

/// Writes one access-log line to stderr (the default access log).
void stderr_access_log(std::string_view line);
/// Writes a line to stdout (run_app's default `print`).
void stdout_print(std::string_view line);

/// Python: AppRunner(app, access_log=..., shutdown_timeout=...).
struct AppRunnerOptions {
    /// Receives one line per request, aiohttp's default format
    /// `%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"`; empty: no access log.
    std::function<void(std::string_view)> access_log = stderr_access_log;
    double shutdown_timeout = 60.0;  ///< how long cleanup() lets requests in progress run
};

/// Serves one application on any number of sites. Python: aiohttp.web.AppRunner.
///
/// Cancellation: cancelling cleanup() aborts the connections left.
/// Errors: a TCPSite started on a runner not set up throws RuntimeError.
class AppRunner {
  public:
    explicit AppRunner(Application& app, AppRunnerOptions options = {});
    AppRunner(const AppRunner&) = delete;
    AppRunner& operator=(const AppRunner&) = delete;
    ~AppRunner();

    /// Python: await runner.setup().
    Coro<void> setup();
    /// Stops every site, then shuts the connections down gracefully (see above).
    /// Python: await runner.cleanup().
    Coro<void> cleanup();
    Application& app() const noexcept;
    /// Connections open now.
    std::size_t connections() const noexcept;

    const std::shared_ptr<detail::ServerState>& state() const noexcept { return state_; }

  private:
    std::shared_ptr<detail::ServerState> state_;
};

/// Python: TCPSite(runner, host, port, ssl_context=, backlog=, reuse_port=).
struct SiteOptions {
    std::optional<ssl::SSLContext> ssl = std::nullopt;  ///< serve HTTPS with this context
    int backlog = 128;
    bool reuse_port = false;
};

/// A listening TCP socket of a runner. Python: aiohttp.web.TCPSite.
class TCPSite {
  public:
    TCPSite(AppRunner& runner, std::string host = "0.0.0.0", int port = 8080,
            SiteOptions options = {});
    /// Binds and starts accepting. Errors: std::system_error (EADDRINUSE, ...).
    Coro<void> start();
    /// Stops accepting; connections stay (cleanup() ends them).
    void stop();
    /// The bound port (the real one when constructed with 0).
    int port() const;
    /// "http://127.0.0.1:8080" or "https://...". Python: site.name.
    std::string name() const;

  private:
    AppRunner* runner_;
    std::string host_;
    int port_;
    SiteOptions options_;
    Server server_;
};

/// Python: run_app(app, host=, port=, ssl_context=, shutdown_timeout=, access_log=, print=).
struct RunAppOptions {
    std::string host = "0.0.0.0";
    int port = 8080;
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    double shutdown_timeout = 60.0;
    std::function<void(std::string_view)> access_log = stderr_access_log;
    /// Receives "======== Running on http://HOST:PORT ========" once serving (the real port
    /// when `port` is 0); empty: nothing printed. Default: stdout.
    std::function<void(std::string_view)> print = stdout_print;
};

/// Serves `app` until SIGINT or SIGTERM, then shuts down gracefully and returns.
/// Python: aiohttp.web.run_app (which also ends on KeyboardInterrupt).
void run_app(Application& app, RunAppOptions options = {});

namespace detail {
/// run_app's coroutine, for a caller that already runs a loop.
Coro<void> run_app(Application& app, RunAppOptions options);
}  // namespace detail

}  // namespace asyncio::http::web
