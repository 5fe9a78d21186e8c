// AppRunner, TCPSite, run_app: the listening side and the graceful shutdown.
#include <asyncio/http/web_runner.hpp>

#include "http/web_protocol.hpp"

#include <asyncio/runners.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/wait_for.hpp>

#include <csignal>
#include <cstdio>

namespace asyncio::http::web {

void stderr_access_log(std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

void stdout_print(std::string_view line) {
    std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
}

AppRunner::AppRunner(Application& app, AppRunnerOptions options)
    : state_(std::make_shared<detail::ServerState>()) {
    state_->app = &app;
    state_->options = std::move(options);
}

AppRunner::~AppRunner() {
    // Destructors never wait: whatever cleanup() did not end is aborted.
    for (auto& s : state_->servers) s.close();
    auto handlers = state_->handlers;
    for (auto* h : handlers) h->abort();
}

Application& AppRunner::app() const noexcept { return *state_->app; }
std::size_t AppRunner::connections() const noexcept { return state_->handlers.size(); }

Coro<void> AppRunner::setup() {
    state_->set_up = true;
    co_return;
}

Coro<void> AppRunner::cleanup() {
    auto state = state_;
    for (auto& s : state->servers) s.close();
    state->closing = true;
    if (!state->handlers.empty()) {
        state->all_gone = get_running_loop().create_future<void>();
        auto handlers = state->handlers;  // close_when_idle may end a handler later, not now
        for (auto* h : handlers) h->close_when_idle();
        try {
            co_await wait_for(*state->all_gone, state->options.shutdown_timeout);
        } catch (const TimeoutError&) {
        }
        auto left = state->handlers;
        for (auto* h : left) h->abort();
        // Let the aborted handlers' tasks see their cancellation.
        for (int i = 0; i < 3 && !state->handlers.empty(); ++i) co_await sleep(0);
    }
    for (auto& s : state->servers) co_await s.wait_closed();
    state->servers.clear();
}

TCPSite::TCPSite(AppRunner& runner, std::string host, int port, SiteOptions options)
    : runner_(&runner), host_(std::move(host)), port_(port), options_(std::move(options)) {}

Coro<void> TCPSite::start() {
    auto state = runner_->state();
    if (!state->set_up) throw RuntimeError("TCPSite.start(): call AppRunner.setup() first");
    const bool secure = options_.ssl.has_value();
    // WORKAROUND(gcc-12): a lambda temporary inside the co_await expression is destroyed twice
    // (its captured shared_ptr released twice); named locals avoid it.
    ProtocolFactory factory = [state, secure] {
        return std::make_shared<detail::RequestHandler>(state, secure);
    };
    ServerOptions server_options{
        .backlog = options_.backlog, .reuse_port = options_.reuse_port, .ssl = options_.ssl};
    server_ = co_await get_running_loop().create_server(std::move(factory), host_, port_,
                                                        std::move(server_options));
    state->servers.push_back(server_);
}

void TCPSite::stop() {
    if (server_) server_.close();
}

int TCPSite::port() const {
    if (server_ && !server_.sockets().empty()) return server_.sockets()[0].getsockname().port();
    return port_;
}

std::string TCPSite::name() const {
    std::string host = host_;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return std::string(options_.ssl ? "https://" : "http://") + host + ":" + std::to_string(port());
}

namespace detail {

Coro<void> run_app(Application& app, RunAppOptions options) {
    AppRunner runner(
        app, {.access_log = options.access_log, .shutdown_timeout = options.shutdown_timeout});
    co_await runner.setup();
    TCPSite site(runner, options.host, options.port, {.ssl = options.ssl});
    co_await site.start();
    EventLoop& loop = get_running_loop();
    Future<void> stop = loop.create_future<void>();
    auto on_signal = [stop]() mutable {
        if (!stop.done()) stop.set_result();
    };
    loop.add_signal_handler(SIGINT, on_signal);
    loop.add_signal_handler(SIGTERM, on_signal);
    if (options.print) {
        options.print("======== Running on " + site.name() + " ========");
        options.print("(Press CTRL+C to quit)");
    }
    std::exception_ptr error;  // a cancellation of run_app: still shut down first
    try {
        co_await stop;
    } catch (...) {
        error = std::current_exception();
    }
    loop.remove_signal_handler(SIGINT);
    loop.remove_signal_handler(SIGTERM);
    co_await runner.cleanup();
    if (error) std::rethrow_exception(error);
}

}  // namespace detail

void run_app(Application& app, RunAppOptions options) {
    asyncio::run(detail::run_app(app, std::move(options)));
}

}  // namespace asyncio::http::web
