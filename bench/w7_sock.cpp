// W7: asyncio-cpp's echo server on the loop's socket methods, run by bench/w7_echo.py (see
// its docstring) next to the protocol and streams servers of w7_echo.cpp.
//   W7sock  sock_accept / sock_recv(65536) / sock_sendall, seed 004's shape, one task per
//           connection. Listens on 127.0.0.1:PORT (argument, default 0: any free port),
//           prints "PORT <n>" on stdout and serves until the process is killed.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <asyncio/asyncio.hpp>
#include <cstdio>
#include <string>

#include "bench_common.hpp"

namespace {

asyncio::Coro<void> echo_sock(asyncio::Socket conn, asyncio::EventLoop& loop) {
    for (;;) {
        std::string data = co_await loop.sock_recv(conn, 65536);
        if (data.empty()) break;
        co_await loop.sock_sendall(conn, std::move(data));
    }
}

asyncio::Coro<void> serve_sock(int port) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Socket sock(AF_INET, SOCK_STREAM);
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.bind("127.0.0.1", port);
    sock.listen(4096);
    sock.setblocking(false);
    std::printf("PORT %d\n", sock.getsockname().port());
    std::fflush(stdout);
    for (;;) {
        auto [conn, addr] = co_await loop.sock_accept(sock);
        // What CPython's transports do by themselves; the sock_* API leaves it to the user.
        conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
        asyncio::create_task(echo_sock(std::move(conn), loop));
    }
}

bench::Outcome w7sock(const bench::Args& a) {
    asyncio::run(serve_sock(static_cast<int>(bench::arg_ll(a, 0, 0))));
    return {0, 0};
}

ASYNCIO_BENCH_WORKLOAD("W7sock", w7sock);

}  // namespace
