// TCPConnector: leases, the idle pool, the bounds and their waiters.
#include "asyncio/http/connector.hpp"

#include <cstdio>
#include <system_error>

#include "asyncio/exceptions.hpp"
#include "asyncio/http/client_exceptions.hpp"
#include "asyncio/http/detail/client_connection.hpp"
#include "asyncio/sockets.hpp"
#include "asyncio/timeouts.hpp"

namespace asyncio::http {

namespace detail {

std::string ConnectionKey::str() const {
    bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::size_t ConnectionKeyHash::operator()(const ConnectionKey& k) const noexcept {
    std::size_t h = std::hash<std::string>{}(k.host);
    h ^= std::hash<int>{}(k.port) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= std::hash<const void*>{}(k.ssl) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= std::hash<std::string>{}(k.scheme) + (h << 6);
    h ^= std::hash<std::string>{}(k.server_hostname) + (h << 6);
    h ^= std::hash<std::string>{}(k.proxy) + (h << 6);
    return h;
}

void Connection::abort() noexcept {
    if (closed) return;
    closed = true;
    try {
        if (auto t = writer.transport())
            t->abort();
        else
            writer.close();
    } catch (...) {
    }
}

void Connection::close() noexcept {
    if (closed) return;
    closed = true;
    try {
        writer.close();
    } catch (...) {
    }
}

bool Connection::reusable() const noexcept {
    if (closed) return false;
    try {
        return !reader.at_eof() && reader.buffered() == 0 && !reader.exception() &&
               !writer.is_closing() && parser.state() == HttpParser::State::idle &&
               !parser.has_event();
    } catch (...) {
        return false;
    }
}

void Lease::release(bool reuse) noexcept {
    if (!conn_) return;
    auto conn = std::move(conn_);
    auto state = std::move(state_);
    conn_.reset();
    state_.reset();
    if (state)
        state->give_back(std::move(conn), reuse);
    else if (reuse)
        conn->close();
    else
        conn->abort();
}

ConnectorState::~ConnectorState() {
    for (auto& [key, conns] : idle)
        for (auto& c : conns) c->abort();
}

bool ConnectorState::can_lease(const ConnectionKey& key) const {
    if (options.limit != 0 && acquired >= options.limit) return false;
    if (options.limit_per_host != 0) {
        auto it = acquired_per_key.find(key);
        if (it != acquired_per_key.end() && it->second >= options.limit_per_host) return false;
    }
    return true;
}

void ConnectorState::wake_next() {
    for (auto it = waiters.begin(); it != waiters.end(); ++it) {
        if (it->ready.done()) continue;
        if (can_lease(it->key)) {
            it->ready.set_result();
            waiters.erase(it);
            return;
        }
    }
}

void ConnectorState::give_back(std::shared_ptr<Connection> conn, bool reuse) noexcept {
    leased.erase(conn.get());
    --acquired;
    if (auto it = acquired_per_key.find(conn->key);
        it != acquired_per_key.end() && --it->second == 0)
        acquired_per_key.erase(it);
    if (reuse && !closed && !options.force_close && conn->reusable()) {
        try {
            conn->idle_since = get_running_loop().time();
            idle[conn->key].push_back(std::move(conn));
        } catch (...) {
            conn->abort();
        }
    } else if (reuse) {
        conn->close();
    } else {
        conn->abort();
    }
    try {
        wake_next();
    } catch (...) {
    }
}

std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", s);
    return buf;
}

namespace {

/// Takes a lease slot for `key` (the caller checked can_lease).
void take_slot(ConnectorState& s, const ConnectionKey& key) {
    ++s.acquired;
    ++s.acquired_per_key[key];
}

void free_slot(ConnectorState& s, const ConnectionKey& key) {
    --s.acquired;
    if (auto it = s.acquired_per_key.find(key); it != s.acquired_per_key.end() && --it->second == 0)
        s.acquired_per_key.erase(it);
    s.wake_next();
}

/// Asks the proxy behind `r`/`w` for a tunnel to p.host:p.port. Errors: ClientHttpProxyError
/// (a status other than 2xx), ServerDisconnectedError, RemoteProtocolError.
Coro<void> open_tunnel(StreamReader& r, StreamWriter& w, const ConnectParams& p) {
    bool v6 = p.host.find(':') != std::string::npos;
    std::string authority = (v6 ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
    std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (p.proxy_authorization) req += "Proxy-Authorization: " + *p.proxy_authorization + "\r\n";
    req += "\r\n";
    w.write(req);
    co_await w.drain();
    const std::string where = "proxy " + *p.proxy_host + ":" + std::to_string(p.proxy_port);
    // The head alone: the bytes after a 200 are the server's TLS, read by the TLS layer.
    std::string head;
    try {
        head = co_await r.readuntil("\r\n\r\n");
    } catch (const IncompleteReadError&) {
        throw ServerDisconnectedError(where + " closed the connection before answering CONNECT");
    } catch (const LimitOverrunError&) {
        throw RemoteProtocolError(where + ": the answer to CONNECT has an oversized head");
    }
    HttpParser parser(MessageType::response);
    parser.expect_no_body();
    parser.feed(head);
    std::optional<ParserEvent> ev;
    try {
        ev = parser.next();
    } catch (const std::exception& e) {
        throw RemoteProtocolError(where + ": the answer to CONNECT is not HTTP: " + e.what());
    }
    auto* h = ev ? std::get_if<MessageHead>(&*ev) : nullptr;
    if (!h) throw RemoteProtocolError(where + ": the answer to CONNECT is not HTTP");
    if (h->status < 200 || h->status >= 300)
        throw ClientHttpProxyError(h->status, h->reason, p.url);
}

Coro<std::pair<StreamReader, StreamWriter>> connect(ConnectParams p) {
    OpenConnectionOptions o;
    if (!p.proxy_host) {
        if (p.ssl) {
            o.ssl = p.ssl;
            o.server_hostname = p.server_hostname ? *p.server_hostname : p.host;
        }
        co_return co_await open_connection(p.host, p.port, std::move(o));
    }
    auto streams = co_await open_connection(*p.proxy_host, p.proxy_port);
    if (!p.ssl) co_return streams;  // http: requests go to the proxy in absolute form
    try {
        co_await open_tunnel(streams.first, streams.second, p);
        StartTlsOptions t;
        t.server_hostname = p.server_hostname ? *p.server_hostname : p.host;
        co_await streams.second.start_tls(*p.ssl, std::move(t));
    } catch (...) {
        if (auto tr = streams.second.transport()) tr->abort();
        throw;
    }
    co_return streams;
}

Coro<std::pair<StreamReader, StreamWriter>> connect_mapped(ConnectParams p, std::string where) {
    std::optional<double> limit = p.sock_connect;
    const bool proxied = p.proxy_host.has_value();
    if (proxied) {
        bool v6 = p.proxy_host->find(':') != std::string::npos;
        where =
            (v6 ? "[" + *p.proxy_host + "]" : *p.proxy_host) + ":" + std::to_string(p.proxy_port);
    }
    try {
        if (limit) co_return co_await asyncio::timeout(Seconds(*limit), connect(std::move(p)));
        co_return co_await connect(std::move(p));
    } catch (const TimeoutError&) {
        throw TimeoutError("Connection timeout to host " + where +
                           " (ClientTimeout sock_connect, " + format_seconds(*limit) + ")");
    } catch (const std::system_error& e) {
        if (proxied) throw ClientProxyConnectionError(where, e.code(), e.code().message());
        throw ClientConnectorError(where, e.code(), e.code().message());
    } catch (const GaiError& e) {
        if (proxied) throw ClientProxyConnectionError(where, std::error_code(), e.what());
        throw ClientConnectorError(where, std::error_code(), e.what());
    }
}

}  // namespace

Coro<Lease> acquire(std::shared_ptr<ConnectorState> s, ConnectionKey key, ConnectParams params,
                    bool fresh) {
    EventLoop& loop = get_running_loop();
    for (;;) {
        if (s->closed) throw RuntimeError("Session is closed");
        if (s->can_lease(key)) {
            if (!fresh && !s->options.force_close) {
                auto it = s->idle.find(key);
                while (it != s->idle.end() && !it->second.empty()) {
                    std::shared_ptr<Connection> conn = std::move(it->second.back());
                    it->second.pop_back();
                    if (it->second.empty()) {
                        s->idle.erase(it);
                        it = s->idle.end();
                    }
                    if (conn->reusable() &&
                        loop.time() - conn->idle_since < s->options.keepalive_timeout) {
                        take_slot(*s, key);
                        s->leased.insert(conn.get());
                        co_return Lease(s, std::move(conn), true);
                    }
                    conn->abort();
                }
            }
            take_slot(*s, key);
            std::pair<StreamReader, StreamWriter> streams{StreamReader(nullptr), StreamWriter()};
            try {
                streams = co_await connect_mapped(params, key.str().substr(key.scheme.size() + 3));
            } catch (...) {
                free_slot(*s, key);
                throw;
            }
            auto conn = std::make_shared<Connection>();
            conn->reader = std::move(streams.first);
            conn->writer = std::move(streams.second);
            conn->key = key;
            ++s->made;
            if (s->closed) {  // the session closed while we connected
                conn->abort();
                free_slot(*s, key);
                throw RuntimeError("Session is closed");
            }
            s->leased.insert(conn.get());
            co_return Lease(s, std::move(conn), false);
        }
        Future<void> ready = loop.create_future<void>();
        s->waiters.push_back({key, ready});
        bool woken = false;
        try {
            co_await ready;
            woken = true;
        } catch (...) {
            // Cancelled while waiting: leave the queue; if our turn had come, pass it on.
            for (auto it = s->waiters.begin(); it != s->waiters.end(); ++it)
                if (it->ready == ready) {
                    s->waiters.erase(it);
                    break;
                }
            if (ready.done() && !ready.cancelled()) s->wake_next();
            throw;
        }
        (void)woken;
    }
}

}  // namespace detail

TCPConnector::TCPConnector(TCPConnectorOptions options)
    : s_(std::make_shared<detail::ConnectorState>(options)) {}

Coro<void> TCPConnector::close() const {
    auto s = s_;
    if (s->closed) co_return;
    s->closed = true;
    std::vector<StreamWriter> closing;
    for (auto& [key, conns] : s->idle)
        for (auto& c : conns) {
            closing.push_back(c->writer);
            // A TLS close would wait for the peer's close_notify: an idle one is aborted.
            if (c->key.scheme == "https")
                c->abort();
            else
                c->close();
        }
    s->idle.clear();
    for (detail::Connection* c : s->leased) c->abort();
    for (auto& w : s->waiters)
        if (!w.ready.done()) w.ready.set_exception(RuntimeError("Session is closed"));
    s->waiters.clear();
    for (auto& w : closing) {
        try {
            co_await w.wait_closed();
        } catch (const std::exception&) {
        }
    }
}

bool TCPConnector::closed() const noexcept { return s_->closed; }
const TCPConnectorOptions& TCPConnector::options() const noexcept { return s_->options; }
std::size_t TCPConnector::connections_made() const noexcept { return s_->made; }
std::size_t TCPConnector::acquired_count() const noexcept { return s_->acquired; }
std::size_t TCPConnector::idle_count() const noexcept {
    std::size_t n = 0;
    for (auto& [key, conns] : s_->idle) n += conns.size();
    return n;
}

}  // namespace asyncio::http
