// A streams echo server (start_server) and its client (open_connection): the shape most
// asyncio network code takes. The Python reference is examples/expected/05_streams_echo.py.
#include <iostream>

#include <asyncio/asyncio.hpp>

#include "support/bytes_repr.hpp"

asyncio::Coro<void> handle(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        std::cout << "server got " << example::bytes_repr(line) << std::endl;
        writer.write(line);
        co_await writer.drain();
    }
    std::cout << "server: client closed" << std::endl;
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> amain() {
    asyncio::Server server = co_await asyncio::start_server(handle, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    for (std::string msg : {"hello\n", "streams\n", "bye\n"}) {
        writer.write(msg);
        co_await writer.drain();
        std::cout << "client got " << example::bytes_repr(co_await reader.readline()) << std::endl;
    }
    writer.close();
    co_await writer.wait_closed();
    co_await asyncio::sleep(0.05);
    server.close();
    co_await server.wait_closed();
    std::cout << "done" << std::endl;
}

int main() { asyncio::run(amain()); }
