// Boost.Asio echo server for the W7 benchmark: C++20 coroutines (asio::awaitable,
// co_spawn) on one single-threaded io_context.
//
// Build: g++ -O2 -std=c++20 asio_echo.cpp -o asio_echo   (Boost 1.81, header-only)
// Usage: asio_echo echo|lines [PORT]
//
// Listens on 127.0.0.1:PORT (default 0: any free port), prints "PORT <n>" on stdout and
// serves until killed. One coroutine per connection, TCP_NODELAY set (as CPython and Go
// do by default).
//   echo   each coroutine loops async_read_some into a 64 KiB buffer / async_write
//   lines  each coroutine loops async_read_until(dynamic_buffer(std::string), '\n') /
//          async_write (the idle connections of the memory measurement wait there)

#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket sock) {
    std::vector<char> buf(65536);
    try {
        for (;;) {
            std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::use_awaitable);
            co_await asio::async_write(sock, asio::buffer(buf.data(), n), asio::use_awaitable);
        }
    } catch (const std::exception&) {
        // EOF or reset: the connection is done.
    }
}

asio::awaitable<void> lines(tcp::socket sock) {
    std::string data;
    try {
        for (;;) {
            std::size_t n = co_await asio::async_read_until(sock, asio::dynamic_buffer(data), '\n',
                                                            asio::use_awaitable);
            co_await asio::async_write(sock, asio::buffer(data.data(), n), asio::use_awaitable);
            data.erase(0, n);
        }
    } catch (const std::exception&) {
    }
}

asio::awaitable<void> serve(tcp::acceptor acceptor, bool line_mode) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer backoff(ex);
    for (;;) {
        boost::system::error_code ec;
        tcp::socket sock =
            co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            // EMFILE and the like: keep serving the connections already open.
            backoff.expires_after(std::chrono::milliseconds(1));
            co_await backoff.async_wait(asio::use_awaitable);
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        if (line_mode)
            asio::co_spawn(ex, lines(std::move(sock)), asio::detached);
        else
            asio::co_spawn(ex, echo(std::move(sock)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || (std::strcmp(argv[1], "echo") != 0 && std::strcmp(argv[1], "lines") != 0)) {
        std::fprintf(stderr, "usage: asio_echo echo|lines [PORT]\n");
        return 2;
    }
    bool line_mode = std::strcmp(argv[1], "lines") == 0;
    unsigned short port = argc > 2 ? static_cast<unsigned short>(std::atoi(argv[2])) : 0;
    asio::io_context ctx(1);
    tcp::acceptor acceptor(ctx);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(4096);
    std::printf("PORT %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    asio::co_spawn(ctx, serve(std::move(acceptor), line_mode), asio::detached);
    ctx.run();
    return 0;
}
