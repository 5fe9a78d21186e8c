// A UDP echo server and client with create_datagram_endpoint: the client sends the next
// datagram when the echo of the previous one is back. The Python reference is
// examples/expected/07_udp_echo.py.
#include <deque>
#include <iostream>

#include <asyncio/asyncio.hpp>

#include "support/bytes_repr.hpp"

struct EchoServer : asyncio::DatagramProtocol {
    asyncio::DatagramTransport* transport = nullptr;
    void connection_made(asyncio::DatagramTransport& t) override { transport = &t; }
    void datagram_received(std::string_view data, const asyncio::SockAddr& addr) override {
        std::cout << "server got " << example::bytes_repr(data) << std::endl;
        transport->sendto(data, addr);
    }
};

struct Client : asyncio::DatagramProtocol {
    std::deque<std::string> messages;
    asyncio::Future<void> done;
    asyncio::DatagramTransport* transport = nullptr;
    Client(std::deque<std::string> m, asyncio::Future<void> d)
        : messages(std::move(m)), done(std::move(d)) {}
    void connection_made(asyncio::DatagramTransport& t) override {
        transport = &t;
        send_next();
    }
    void datagram_received(std::string_view data, const asyncio::SockAddr&) override {
        std::cout << "client got " << example::bytes_repr(data) << std::endl;
        if (!messages.empty())
            send_next();
        else
            transport->close();
    }
    void connection_lost(std::exception_ptr) override { done.set_result(); }
    void send_next() {
        transport->sendto(messages.front());
        messages.pop_front();
    }
};

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    // Options holding strings are declared before the co_await (docs/footguns.md, GCC 12).
    asyncio::DatagramOptions server_options{.local_addr = asyncio::HostPort{"127.0.0.1", 0}};
    auto [transport, server] = co_await loop.create_datagram_endpoint(
        [] { return std::make_shared<EchoServer>(); }, std::move(server_options));
    int port = std::any_cast<asyncio::SockAddr>(transport->get_extra_info("sockname")).port();
    auto done = loop.create_future<void>();
    asyncio::DatagramOptions client_options{.remote_addr = asyncio::HostPort{"127.0.0.1", port}};
    // The factory is a named variable, not a temporary inside the co_await: GCC 12 destroys
    // such temporaries twice (docs/footguns.md).
    auto client_factory = [done] {
        return std::make_shared<Client>(std::deque<std::string>{"one", "two", "three"}, done);
    };
    co_await loop.create_datagram_endpoint(client_factory, std::move(client_options));
    co_await done;
    transport->close();
    std::cout << "done" << std::endl;
}

int main() { asyncio::run(amain()); }
