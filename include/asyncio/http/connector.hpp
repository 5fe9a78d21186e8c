// TCPConnector: the HTTP client's pool of keep-alive connections.
//
// A connection is keyed by (scheme, host, port, TLS context): a request takes an idle
// connection of its key when there is one (the most recently used first), or opens a new one.
// `limit` bounds the connections leased at once in total and `limit_per_host` those of one
// key; a request over a bound waits, in order, for a lease to end. A connection goes back to
// the pool only when its response was read to the end and both sides allow keep-alive;
// otherwise it is closed. An idle connection the server closed is noticed before reuse (its
// reader is at EOF) and dropped; one idle longer than keepalive_timeout is closed.
#pragma once

#include <cstddef>
#include <memory>

#include "asyncio/coro.hpp"

namespace asyncio::http {

namespace detail {
struct ConnectorState;
}

/// The pool's bounds. Python: aiohttp.TCPConnector(limit=100, limit_per_host=0,
/// keepalive_timeout=15, force_close=False).
struct TCPConnectorOptions {
    /// Connections leased at once, in total (0: no bound).
    std::size_t limit = 100;
    /// Connections leased at once to one (scheme, host, port, ssl) (0: no bound).
    std::size_t limit_per_host = 0;
    /// Seconds an idle connection is kept for reuse.
    double keepalive_timeout = 15.0;
    /// Never reuse a connection (each request opens its own and closes it).
    bool force_close = false;
};

/// The pool of a ClientSession. A shared handle: copies refer to the same pool.
/// Python: aiohttp.TCPConnector.
class TCPConnector {
  public:
    explicit TCPConnector(TCPConnectorOptions options = {});

    /// Closes every connection (idle ones at once, leased ones too: their responses fail),
    /// and refuses new requests. Waits until the sockets are closed. Python: close().
    Coro<void> close() const;
    bool closed() const noexcept;
    const TCPConnectorOptions& options() const noexcept;

    /// Connections opened so far (a test sees keep-alive reuse with it).
    std::size_t connections_made() const noexcept;
    /// Connections idle in the pool now.
    std::size_t idle_count() const noexcept;
    /// Connections leased now (in use by a request or an unread response).
    std::size_t acquired_count() const noexcept;

    const std::shared_ptr<detail::ConnectorState>& state() const noexcept { return s_; }

  private:
    std::shared_ptr<detail::ConnectorState> s_;
};

}  // namespace asyncio::http
