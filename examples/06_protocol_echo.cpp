// An echo server written as a Protocol (create_server) and a client Protocol
// (create_connection): the callback style under streams. The client half-closes once the
// echo is back (write_eof); the server sees EOF and closes (eof_received returns false).
// The Python reference is examples/expected/06_protocol_echo.py.
#include <iostream>

#include <asyncio/asyncio.hpp>

#include "support/bytes_repr.hpp"

struct Echo : asyncio::Protocol {
    asyncio::Transport* transport = nullptr;
    void connection_made(asyncio::Transport& t) override {
        transport = &t;
        std::cout << "server: connection made" << std::endl;
    }
    void data_received(std::string_view data) override {
        std::cout << "server got " << example::bytes_repr(data) << std::endl;
        transport->write(data);
    }
    bool eof_received() override {
        std::cout << "server: eof" << std::endl;
        return false;  // Python: return None, the transport closes
    }
    void connection_lost(std::exception_ptr exc) override {
        std::cout << "server: connection lost " << (exc ? "error" : "None") << std::endl;
    }
};

struct Client : asyncio::Protocol {
    asyncio::Future<void> done;
    asyncio::Transport* transport = nullptr;
    explicit Client(asyncio::Future<void> d) : done(std::move(d)) {}
    void connection_made(asyncio::Transport& t) override {
        transport = &t;
        t.write("hello protocol");
    }
    void data_received(std::string_view data) override {
        std::cout << "client got " << example::bytes_repr(data) << std::endl;
        transport->write_eof();
    }
    bool eof_received() override {
        std::cout << "client: eof" << std::endl;
        return false;
    }
    void connection_lost(std::exception_ptr exc) override {
        std::cout << "client: connection lost " << (exc ? "error" : "None") << std::endl;
        done.set_result();
    }
};

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    asyncio::Server server =
        co_await loop.create_server([] { return std::make_shared<Echo>(); }, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto done = loop.create_future<void>();
    // The factory is a named variable, not a temporary inside the co_await: GCC 12 destroys
    // such temporaries twice (docs/footguns.md).
    auto client_factory = [done] { return std::make_shared<Client>(done); };
    auto [transport, protocol] = co_await loop.create_connection(client_factory, "127.0.0.1", port);
    co_await done;
    server.close();
    co_await server.wait_closed();
    std::cout << "done" << std::endl;
}

int main() { asyncio::run(amain()); }
