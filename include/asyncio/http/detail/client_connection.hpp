// The client's connections and the pool's state (TCPConnector's machinery).
//
// A Connection is a stream pair with its response parser. A Lease holds one Connection for a
// request and its response: release(true) gives it back to the pool for reuse, release(false)
// or the Lease's destruction closes it (aborts it: a cancelled request never waits for a
// clean close). Invariant: a Connection is either idle in the pool or held by exactly one
// Lease, and ConnectorState::acquired counts the Leases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "asyncio/futures.hpp"
#include "asyncio/http/connector.hpp"
#include "asyncio/http/detail/http_parser.hpp"
#include "asyncio/ssl.hpp"
#include "asyncio/streams.hpp"

namespace asyncio::http::detail {

/// What makes connections interchangeable.
struct ConnectionKey {
    std::string scheme;
    std::string host;
    int port = 0;
    const void* ssl = nullptr;    // the SSLContext's identity (https only)
    std::string server_hostname;  // the name verified (https only)
    std::string proxy;            // "host:port|Proxy-Authorization" of the proxy, if any

    bool operator==(const ConnectionKey&) const = default;
    std::string str() const;  // "http://host:port"
};

struct ConnectionKeyHash {
    std::size_t operator()(const ConnectionKey& k) const noexcept;
};

/// One open connection.
struct Connection {
    StreamReader reader{nullptr};
    StreamWriter writer;
    ConnectionKey key;
    HttpParser parser{MessageType::response};
    double idle_since = 0;   // loop time it went back to the pool
    std::uint64_t uses = 0;  // requests sent on it
    bool closed = false;

    /// Closes at once (no TLS close_notify wait, no flush).
    void abort() noexcept;
    /// Closes after flushing (a clean end).
    void close() noexcept;
    /// Usable for another request: open, nothing unread, the peer has not closed.
    bool reusable() const noexcept;
};

/// Where and how to connect.
struct ConnectParams {
    std::string host;
    int port = 0;
    std::optional<ssl::SSLContext> ssl;
    std::optional<std::string> server_hostname;
    std::optional<double> sock_connect;  // seconds for the connect itself
    /// Through an HTTP proxy: the connection is made to it; an https request (ssl set) then
    /// asks it for a CONNECT tunnel to host:port and runs TLS inside.
    std::optional<std::string> proxy_host = std::nullopt;
    int proxy_port = 0;
    std::optional<std::string> proxy_authorization = std::nullopt;  // the header's value
    std::string url = {};  // the request's URL, for ClientHttpProxyError
};

struct ConnectorState;

/// A Connection held for one request and its response.
class Lease {
  public:
    Lease() = default;
    Lease(std::shared_ptr<ConnectorState> state, std::shared_ptr<Connection> conn, bool reused)
        : state_(std::move(state)), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&& o) noexcept {
        if (this != &o) {
            release(false);
            state_ = std::move(o.state_);
            conn_ = std::move(o.conn_);
            reused_ = o.reused_;
        }
        return *this;
    }
    ~Lease() { release(false); }

    /// Ends the lease: the connection goes back to the pool when `reuse` and it is still
    /// usable, else it is closed. Idempotent.
    void release(bool reuse) noexcept;
    Connection* get() const noexcept { return conn_.get(); }
    Connection* operator->() const noexcept { return conn_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(conn_); }
    /// The connection came from the pool (it served a request before).
    bool reused() const noexcept { return reused_; }

  private:
    std::shared_ptr<ConnectorState> state_;
    std::shared_ptr<Connection> conn_;
    bool reused_ = false;
};

struct ConnectorState : std::enable_shared_from_this<ConnectorState> {
    struct Waiter {
        ConnectionKey key;
        Future<void> ready;
    };

    explicit ConnectorState(TCPConnectorOptions o) : options(o) {}
    ~ConnectorState();

    TCPConnectorOptions options;
    std::unordered_map<ConnectionKey, std::vector<std::shared_ptr<Connection>>, ConnectionKeyHash>
        idle;
    std::unordered_map<ConnectionKey, std::size_t, ConnectionKeyHash> acquired_per_key;
    std::size_t acquired = 0;
    std::unordered_set<Connection*> leased;  // to abort them at close()
    std::list<Waiter> waiters;
    std::size_t made = 0;
    bool closed = false;

    bool can_lease(const ConnectionKey& key) const;
    /// Wakes the first waiter that can lease now.
    void wake_next();
    void give_back(std::shared_ptr<Connection> conn, bool reuse) noexcept;
};

/// "0.5 s": a duration in a message.
std::string format_seconds(double seconds);

/// A connection for `key`: an idle one (unless `fresh`), or a new one, waiting for a lease
/// under the pool's bounds. Errors: ClientConnectorError (connect failed), TimeoutError
/// (sock_connect), TLS errors, RuntimeError("Session is closed").
Coro<Lease> acquire(std::shared_ptr<ConnectorState> state, ConnectionKey key, ConnectParams params,
                    bool fresh);

}  // namespace asyncio::http::detail
