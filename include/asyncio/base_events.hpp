// Servers and connections: Server, and the loop's create_connection / create_server family.
// Python: the networking half of asyncio.base_events (Server, create_connection,
// create_server, connect_accepted_socket, create_datagram_endpoint, sendfile) with
// unix_events (create_unix_connection / create_unix_server, connect_read_pipe /
// connect_write_pipe).
//
// The loop methods are declared in events.hpp; the ones generic in the protocol type (they
// return the protocol the factory made, as a std::shared_ptr of its own type) are defined
// here, over non-template cores in src/base_events.cpp.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/net_options.hpp"
#include "asyncio/events.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/sockets.hpp"
#include "asyncio/transports.hpp"

namespace asyncio {

namespace detail {
class ServerCore;
}

/// A listening server: its sockets, the accepting, its live connections. Python:
/// asyncio.Server (base_events.Server).
///
/// Made by loop.create_server / create_unix_server / start_server. A shared handle: copies
/// refer to the same server; the server keeps serving while the loop runs, even when every
/// handle is gone (as in CPython, where the loop's readers keep it), until close().
/// Cancellation: cancelling serve_forever() closes the server; cancelling wait_closed() only
/// stops that wait.
class Server {
  public:
    Server() noexcept = default;
    explicit Server(std::shared_ptr<detail::ServerCore> core) noexcept : core_(std::move(core)) {}

    EventLoop& get_loop() const;
    /// Accepting connections now.
    bool is_serving() const;
    /// Starts accepting (if not already). Python: await server.start_serving().
    Coro<void> start_serving() const;
    /// Starts accepting and waits until the server is closed; then raises CancelledError.
    /// Errors: RuntimeError when already awaited in serve_forever(), or closed.
    Coro<void> serve_forever() const;
    /// Stops accepting and closes the listening sockets at once (a new connect is refused);
    /// live connections stay open. Idempotent.
    void close() const;
    /// Closes every live connection gracefully (buffers flushed). Python 3.13.
    void close_clients() const;
    /// Aborts every live connection (buffers dropped). Python 3.13.
    void abort_clients() const;
    /// Waits until the server is closed and its last connection is gone. Python 3.12+.
    Coro<void> wait_closed() const;
    /// The listening sockets (empty once closed).
    const std::vector<Socket>& sockets() const;

    explicit operator bool() const noexcept { return static_cast<bool>(core_); }
    const std::shared_ptr<detail::ServerCore>& core() const noexcept { return core_; }

  private:
    detail::ServerCore& get() const;
    std::shared_ptr<detail::ServerCore> core_;
};

namespace detail {

using TransportAndProtocol = std::pair<std::shared_ptr<Transport>, std::shared_ptr<Protocol>>;

/// The order create_connection tries addresses in with `interleave` = first_count: the first
/// first_count - 1 of the first family, then one of each family in turn. Python:
/// base_events._interleave_addrinfos.
std::vector<AddrInfo> interleave_addrinfos(const std::vector<AddrInfo>& infos, int first_count);

Coro<TransportAndProtocol> create_connection(EventLoop& loop, ProtocolFactory factory,
                                             std::string host, int port, ConnectionOptions options);
Coro<TransportAndProtocol> create_unix_connection(EventLoop& loop, ProtocolFactory factory,
                                                  std::string path, ConnectionOptions options);
Coro<TransportAndProtocol> connect_accepted_socket(EventLoop& loop, ProtocolFactory factory,
                                                   Socket sock);
Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
create_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory, DatagramOptions options);
Coro<TransportAndProtocol> connect_pipe(EventLoop& loop, ProtocolFactory factory, int fd,
                                        bool read);

template <class P>
std::shared_ptr<P> protocol_cast(std::shared_ptr<Protocol> p) {
    return std::static_pointer_cast<P>(std::move(p));
}

template <class Factory>
using factory_protocol_t = typename std::invoke_result_t<Factory&>::element_type;

}  // namespace detail

template <class Factory>
Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
EventLoop::create_connection(Factory factory, std::string host, int port,
                             ConnectionOptions options) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::create_connection(*this, ProtocolFactory(std::move(factory)), std::move(host),
                                        port, std::move(options));
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>(
        std::move(r.first), detail::protocol_cast<P>(std::move(r.second)));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
EventLoop::create_connection(Factory factory, ConnectionOptions options) {
    return create_connection(std::move(factory), std::string(), 0, std::move(options));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
EventLoop::create_unix_connection(Factory factory, std::string path, ConnectionOptions options) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::create_unix_connection(*this, ProtocolFactory(std::move(factory)),
                                             std::move(path), std::move(options));
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>(
        std::move(r.first), detail::protocol_cast<P>(std::move(r.second)));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
EventLoop::connect_accepted_socket(Factory factory, Socket sock) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::connect_accepted_socket(*this, ProtocolFactory(std::move(factory)),
                                              std::move(sock));
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>(
        std::move(r.first), detail::protocol_cast<P>(std::move(r.second)));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<DatagramTransport>, std::invoke_result_t<Factory&>>>
EventLoop::create_datagram_endpoint(Factory factory, DatagramOptions options) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::create_datagram_endpoint(*this, DatagramProtocolFactory(std::move(factory)),
                                               std::move(options));
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<P>>(
        std::move(r.first), std::static_pointer_cast<P>(std::move(r.second)));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<ReadTransport>, std::invoke_result_t<Factory&>>>
EventLoop::connect_read_pipe(Factory factory, int fd) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::connect_pipe(*this, ProtocolFactory(std::move(factory)), fd, true);
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<ReadTransport>, std::shared_ptr<P>>(
        std::move(r.first), detail::protocol_cast<P>(std::move(r.second)));
}

template <class Factory>
Coro<std::pair<std::shared_ptr<WriteTransport>, std::invoke_result_t<Factory&>>>
EventLoop::connect_write_pipe(Factory factory, int fd) {
    using P = detail::factory_protocol_t<Factory>;
    check_debug_thread();
    // WORKAROUND(gcc-12): no temporaries with destructors inside a co_await expression
    auto op = detail::connect_pipe(*this, ProtocolFactory(std::move(factory)), fd, false);
    auto r = co_await op;
    co_return std::pair<std::shared_ptr<WriteTransport>, std::shared_ptr<P>>(
        std::move(r.first), detail::protocol_cast<P>(std::move(r.second)));
}

}  // namespace asyncio
