// The keyword arguments of the loop's connection and server methods (create_connection,
// create_server, create_unix_*, create_datagram_endpoint), as aggregates for designated
// initialisers: `{.reuse_port = true, .backlog = 1000}`. Included by events.hpp. Every member
// has a default member initialiser, so that naming only some of them is warning-free under
// -Wextra (-Wmissing-field-initializers); tests/compile/designated_options.cpp checks it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "asyncio/sockets.hpp"
#include "asyncio/ssl.hpp"

namespace asyncio {

class Protocol;
class DatagramProtocol;
class Server;

/// Makes the protocol of each new connection. Python: protocol_factory.
using ProtocolFactory = std::function<std::shared_ptr<Protocol>()>;
using DatagramProtocolFactory = std::function<std::shared_ptr<DatagramProtocol>()>;

/// A (host, port) pair. Python: the address tuple of local_addr / remote_addr.
using HostPort = std::pair<std::string, int>;

/// Python: loop.create_connection(..., *, family, proto, flags, sock, local_addr,
/// happy_eyeballs_delay, interleave, all_errors) and create_unix_connection(sock=).
struct ConnectionOptions {
    int family = AF_UNSPEC;
    int proto = 0;
    int flags = 0;
    /// An already connected socket to wrap (then host/port must be empty).
    std::optional<Socket> sock{};
    /// Bind the local end to this address before connecting.
    std::optional<HostPort> local_addr{};
    /// Happy Eyeballs (RFC 8305): start the next address after this many seconds without
    /// waiting for the previous attempt to fail. CPython recommends 0.25.
    std::optional<double> happy_eyeballs_delay{};
    /// Interleave address families, starting with the first family (0: 1 when
    /// happy_eyeballs_delay is set, else none).
    int interleave = 0;
    /// Raise every attempt's error (an ExceptionGroup) instead of one OSError.
    bool all_errors = false;
    /// TLS with this context (Python: ssl=context; ssl=True is
    /// `.ssl = ssl::create_default_context()`).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    /// The name the server's certificate must match, sent as SNI (default: host).
    std::optional<std::string> server_hostname = std::nullopt;
    /// Seconds (defaults 60 and 30). Errors: std::invalid_argument without ssl, or <= 0.
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Python: loop.create_server(..., *, family, flags, sock, backlog, reuse_address,
/// reuse_port, keep_alive, start_serving).
struct ServerOptions {
    int family = AF_UNSPEC;
    int flags = 0x0001;  // AI_PASSIVE
    /// A listening socket to serve (then no host/port).
    std::optional<Socket> sock{};
    int backlog = 100;
    /// SO_REUSEADDR (default: on, as CPython on POSIX).
    std::optional<bool> reuse_address{};
    bool reuse_port = false;
    bool keep_alive = false;
    bool start_serving = true;
    /// TLS with this server context (Python: ssl=context).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Python: loop.start_tls(transport, protocol, sslcontext, *, server_side, server_hostname,
/// ssl_handshake_timeout, ssl_shutdown_timeout).
struct StartTlsOptions {
    bool server_side = false;
    std::optional<std::string> server_hostname = std::nullopt;
    double ssl_handshake_timeout = 60.0;
    double ssl_shutdown_timeout = 30.0;
};

/// Python: loop.create_unix_server(..., *, sock, backlog, start_serving, cleanup_socket).
struct UnixServerOptions {
    std::optional<Socket> sock{};
    int backlog = 100;
    bool start_serving = true;
    /// Remove the socket file when the server closes (3.13).
    bool cleanup_socket = true;
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Python: loop.create_datagram_endpoint(..., *, local_addr, remote_addr, family, proto,
/// flags, reuse_port, allow_broadcast, sock).
struct DatagramOptions {
    std::optional<HostPort> local_addr{};
    std::optional<HostPort> remote_addr{};
    /// A Unix datagram path to bind (AF_UNIX), instead of local_addr.
    std::optional<std::string> local_path{};
    std::optional<std::string> remote_path{};
    int family = AF_UNSPEC;
    int proto = 0;
    int flags = 0;
    bool reuse_port = false;
    bool allow_broadcast = false;
    std::optional<Socket> sock{};
};

}  // namespace asyncio
