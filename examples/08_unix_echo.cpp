// A streams echo over a Unix socket (start_unix_server / open_unix_connection); closing the
// server removes its socket file (Python 3.13's cleanup_socket). The Python reference is
// examples/expected/08_unix_echo.py.
#include <unistd.h>

#include <iostream>

#include <asyncio/asyncio.hpp>

#include "support/bytes_repr.hpp"

asyncio::Coro<void> handle(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string data = co_await reader.read(100);
    std::cout << "server got " << example::bytes_repr(data) << std::endl;
    for (char& c : data) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    writer.write(data);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> amain() {
    std::string path = "/tmp/asyncio-example-" + std::to_string(::getpid()) + ".sock";
    asyncio::Server server = co_await asyncio::start_unix_server(handle, path);
    auto [reader, writer] = co_await asyncio::open_unix_connection(path);
    writer.write("over a unix socket");
    std::cout << "client got " << example::bytes_repr(co_await reader.read()) << std::endl;
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    std::cout << "socket file removed: " << (::access(path.c_str(), F_OK) != 0 ? "True" : "False")
              << std::endl;
}

int main() { asyncio::run(amain()); }
