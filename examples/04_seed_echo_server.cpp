// Seed 004 ("asyncio and non-blocking sockets"): an echo server written with the loop's socket
// methods, sock_accept / sock_recv / sock_sendall, as the seed writes it. The seed's server
// never ends; here it listens on a free port (the seed: 8080) and a client in the same program
// sends three messages, checks each echo, then the server task is cancelled. The Python
// reference is examples/expected/04_seed_echo_server.py; the output matches it.
#include <iostream>

#include <asyncio/asyncio.hpp>

#include "support/bytes_repr.hpp"

asyncio::Coro<void> echo(asyncio::Socket conn, asyncio::EventLoop& loop) {
    for (;;) {
        std::string data = co_await loop.sock_recv(conn, 1024);
        if (data.empty()) break;
        std::cout << example::bytes_repr(data) << std::endl;
        co_await loop.sock_sendall(conn, data);
    }
}

asyncio::Coro<void> listen(asyncio::Socket& sock, asyncio::EventLoop& loop) {
    for (;;) {
        auto [conn, addr] = co_await loop.sock_accept(sock);
        asyncio::create_task(echo(std::move(conn), loop));
    }
}

asyncio::Coro<void> client(int port, asyncio::EventLoop& loop) {
    asyncio::Socket c(AF_INET, SOCK_STREAM);
    c.setblocking(false);
    co_await loop.sock_connect(c, "127.0.0.1", port);
    for (std::string msg : {"hello", "asyncio", "non-blocking sockets"}) {
        co_await loop.sock_sendall(c, msg);
        std::string got;
        while (got.size() < msg.size()) got += co_await loop.sock_recv(c, 1024);
        std::cout << "client got " << example::bytes_repr(got) << std::endl;
    }
    c.close();
}

asyncio::Coro<void> amain() {
    asyncio::Socket sock(AF_INET, SOCK_STREAM);
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);

    sock.setblocking(false);
    sock.bind("127.0.0.1", 0);

    sock.listen(5);

    auto& loop = asyncio::get_running_loop();
    auto server = asyncio::create_task(listen(sock, loop));
    co_await client(sock.getsockname().port(), loop);
    server.cancel();
    try {
        co_await server;
    } catch (const asyncio::CancelledError&) {
    }
    sock.close();
    std::cout << "done" << std::endl;
}

int main() { asyncio::run(amain()); }
