// Servers and connections over the epoll backend. Python: base_events.Server,
// BaseEventLoop.create_connection / create_server / connect_accepted_socket /
// create_datagram_endpoint / sendfile, and unix_events' create_unix_* and connect_*_pipe.
#include "asyncio/base_events.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <set>
#include <unordered_set>

#include "asyncio/detail/sslproto.hpp"
#include "asyncio/executors.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/wait.hpp"
#include "selector_events.hpp"

namespace asyncio {

namespace detail {

namespace {

/// CPython: constants.ACCEPT_RETRY_DELAY, how long the server stops accepting after running
/// out of fds (EMFILE...).
constexpr double accept_retry_delay = 1.0;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string errno_text(int err) { return std::strerror(err); }

/// Resolves host:port, skipping the executor for numeric hosts. Python: _ensure_resolved.
Coro<std::vector<AddrInfo>> ensure_resolved(EventLoop& loop, std::string host, int port, int family,
                                            int type, int proto, int flags) {
    if (auto a = ipaddr_info(host, port, family); a && !host.empty()) {
        AddrInfo ai;
        ai.family = a->family();
        ai.type = type;
        ai.proto = proto;
        ai.addr = *a;
        co_return std::vector<AddrInfo>{ai};
    }
    auto op = loop.getaddrinfo(host, port,
                               {.family = family, .type = type, .proto = proto, .flags = flags});
    co_return co_await op;
}

}  // namespace

// Python: base_events._interleave_addrinfos.
std::vector<AddrInfo> interleave_addrinfos(const std::vector<AddrInfo>& infos, int first_count) {
    std::vector<int> order;
    std::vector<std::vector<const AddrInfo*>> by_family;
    for (const auto& ai : infos) {
        auto it = std::find(order.begin(), order.end(), ai.family);
        if (it == order.end()) {
            order.push_back(ai.family);
            by_family.emplace_back();
            it = order.end() - 1;
        }
        by_family[static_cast<std::size_t>(it - order.begin())].push_back(&ai);
    }
    std::vector<AddrInfo> out;
    std::vector<const AddrInfo*> firsts;
    if (!by_family.empty() && first_count > 1) {
        auto& f = by_family[0];
        std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(first_count - 1), f.size());
        for (std::size_t i = 0; i < n; ++i) out.push_back(*f[i]);
        f.erase(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (std::size_t i = 0;; ++i) {
        bool any = false;
        for (auto& f : by_family) {
            if (i < f.size()) {
                out.push_back(*f[i]);
                any = true;
            }
        }
        if (!any) break;
    }
    return out;
}

namespace {

std::string exc_text(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown error";
    }
}

/// One connection attempt. Python: BaseEventLoop._connect_sock.
Coro<void> connect_sock(EventLoop& loop, std::vector<std::exception_ptr>& errors, AddrInfo ai,
                        const std::vector<AddrInfo>* local, std::optional<Socket>& out) {
    Socket sock(ai.family, ai.type ? ai.type : SOCK_STREAM, ai.proto);
    try {
        sock.setblocking(false);
        if (local) {
            bool bound = false;
            std::exception_ptr last;
            for (const auto& l : *local) {
                if (l.family != ai.family) continue;
                try {
                    sock.bind(l.addr);
                    bound = true;
                    break;
                } catch (const std::system_error& e) {
                    last = std::make_exception_ptr(
                        OSError(e.code().value(), "error while attempting to bind on address " +
                                                      l.addr.to_string() + ": " +
                                                      lower(errno_text(e.code().value()))));
                    errors.push_back(last);
                }
            }
            if (!bound) {
                if (last) {
                    errors.pop_back();
                    std::rethrow_exception(last);
                }
                throw OSError(0, "no matching local address with family=" +
                                     std::to_string(ai.family) + " found");
            }
        }
        auto op = loop.sock_connect(sock, ai.addr);
        co_await op;
        out.emplace(std::move(sock));
    } catch (const std::system_error&) {
        errors.push_back(std::current_exception());
        throw;
    }
}

/// Tries the addresses in turn; with a delay, Happy Eyeballs: the next attempt starts when
/// the previous fails or after `delay`, the first to connect wins and the others are
/// cancelled. Python: staggered.staggered_race over _connect_sock.
Coro<std::optional<Socket>> connect_any(EventLoop& loop, const std::vector<AddrInfo>& infos,
                                        const std::vector<AddrInfo>* local,
                                        std::optional<double> delay,
                                        std::vector<std::exception_ptr>& errors) {
    if (!delay) {
        for (const auto& ai : infos) {
            std::optional<Socket> s;
            try {
                co_await connect_sock(loop, errors, ai, local, s);
            } catch (const std::system_error&) {
                continue;
            }
            co_return s;
        }
        co_return std::nullopt;
    }
    std::deque<std::optional<Socket>> slots;  // stable addresses
    std::vector<Task<void>> running;
    std::size_t next = 0;
    std::optional<Socket> winner;
    auto start_next = [&] {
        slots.emplace_back();
        running.push_back(
            create_task(connect_sock(loop, errors, infos[next], local, slots.back())));
        ++next;
    };
    auto cancel_all = [&]() -> Coro<void> {
        for (auto& t : running) t.cancel();
        for (auto& t : running) {
            try {
                co_await t;
            } catch (...) {
            }
        }
        running.clear();
    };
    start_next();
    try {
        while (!running.empty()) {
            std::optional<Seconds> timeout;
            if (next < infos.size()) timeout = Seconds(*delay);
            auto op =
                wait(running, {.timeout = timeout, .return_when = ReturnWhen::FIRST_COMPLETED});
            auto [done, pending] = co_await op;
            bool failed = false;
            for (auto& t : done) {
                if (!t.cancelled() && !t.exception()) {
                    if (!winner) {
                        for (auto& s : slots)
                            if (s) {
                                winner = std::move(s);
                                s.reset();
                                break;
                            }
                    }
                } else {
                    failed = true;
                }
            }
            running.assign(pending.begin(), pending.end());
            if (winner) break;
            if ((failed || done.empty()) && next < infos.size()) start_next();
        }
    } catch (...) {
        // Cancelled: every attempt goes too, and their sockets with them.
        std::exception_ptr e = std::current_exception();
        for (auto& t : running) t.cancel();
        running.clear();
        std::rethrow_exception(e);
    }
    co_await cancel_all();
    co_return winner;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Stream connections

Coro<TransportAndProtocol> make_connection_transport(EventLoop& loop, Socket sock,
                                                     ProtocolFactory& factory,
                                                     std::optional<TLSParams> tls = std::nullopt) {
    sock.setblocking(false);
    std::shared_ptr<Protocol> protocol = factory();
    if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
    if (tls) {
        // TLS: the socket transport's protocol is the TLS layer; the application gets the
        // TLS transport once the handshake is done (Python: _create_connection_transport).
        auto op = make_tls_connection(loop, sock.detach(), protocol, std::move(*tls));
        co_return co_await op;
    }
    Future<void> waiter = loop.create_future<void>();
    auto t = std::make_shared<FdStreamTransport>(loop, sock.detach(),
                                                 FdStreamTransport::Kind::socket, protocol);
    t->start(waiter);
    try {
        co_await waiter;
    } catch (...) {
        t->close();
        throw;
    }
    co_return TransportAndProtocol(t, protocol);
}

Coro<TransportAndProtocol> create_connection(EventLoop& loop, ProtocolFactory factory,
                                             std::string host, int port,
                                             ConnectionOptions options) {
    std::optional<TLSParams> tls = tls_params(options, host, false);
    std::optional<Socket> sock;
    if (!host.empty() || port != 0) {
        if (options.sock)
            throw std::invalid_argument("host/port and sock can not be specified at the same time");
        if (options.happy_eyeballs_delay && options.interleave == 0) options.interleave = 1;
        auto infos = co_await ensure_resolved(loop, host, port, options.family, SOCK_STREAM,
                                              options.proto, options.flags);
        if (infos.empty()) throw OSError(0, "getaddrinfo() returned empty list");
        std::vector<AddrInfo> local;
        if (options.local_addr) {
            local = co_await ensure_resolved(loop, options.local_addr->first,
                                             options.local_addr->second, options.family,
                                             SOCK_STREAM, options.proto, options.flags);
            if (local.empty()) throw OSError(0, "getaddrinfo() returned empty list");
        }
        if (options.interleave > 0) infos = interleave_addrinfos(infos, options.interleave);
        std::vector<std::exception_ptr> errors;
        sock = co_await connect_any(loop, infos, options.local_addr ? &local : nullptr,
                                    options.happy_eyeballs_delay, errors);
        if (!sock) {
            // parity #114: one error as it is; several with the same text, the first;
            // otherwise "Multiple exceptions: ...".
            if (errors.empty()) throw OSError(0, "create_connection failed");
            if (options.all_errors) throw ExceptionGroup("create_connection failed", errors);
            std::string model = exc_text(errors.front());
            bool same = std::all_of(errors.begin(), errors.end(), [&](const std::exception_ptr& e) {
                return exc_text(e) == model;
            });
            if (errors.size() == 1 || same) std::rethrow_exception(errors.front());
            std::string msg = "Multiple exceptions: ";
            for (std::size_t i = 0; i < errors.size(); ++i) {
                if (i) msg += ", ";
                msg += exc_text(errors[i]);
            }
            throw OSError(0, msg);
        }
    } else {
        if (!options.sock)
            throw std::invalid_argument("host and port was not specified and no sock specified");
        sock = std::move(options.sock);
        if (sock->type() != SOCK_STREAM)
            throw std::invalid_argument("A Stream Socket was expected, got type " +
                                        std::to_string(sock->type()));
    }
    auto op = make_connection_transport(loop, std::move(*sock), factory, std::move(tls));
    co_return co_await op;
}

Coro<TransportAndProtocol> create_unix_connection(EventLoop& loop, ProtocolFactory factory,
                                                  std::string path, ConnectionOptions options) {
    std::optional<TLSParams> tls = tls_params(options, path, true);
    Socket sock = Socket::closed();
    if (!path.empty()) {
        if (options.sock)
            throw std::invalid_argument("path and sock can not be specified at the same time");
        sock = Socket(AF_UNIX, SOCK_STREAM);
        sock.setblocking(false);
        auto op = loop.sock_connect(sock, SockAddr::unix_path(path));
        co_await op;
    } else {
        if (!options.sock) throw std::invalid_argument("no path and sock were specified");
        sock = std::move(*options.sock);
        if (sock.family() != AF_UNIX || sock.type() != SOCK_STREAM)
            throw std::invalid_argument("A UNIX Domain Stream Socket was expected");
    }
    auto op = make_connection_transport(loop, std::move(sock), factory, std::move(tls));
    co_return co_await op;
}

Coro<TransportAndProtocol> connect_accepted_socket(EventLoop& loop, ProtocolFactory factory,
                                                   Socket sock) {
    if (sock.type() != SOCK_STREAM)
        throw std::invalid_argument("A Stream Socket was expected, got type " +
                                    std::to_string(sock.type()));
    auto op = make_connection_transport(loop, std::move(sock), factory);
    co_return co_await op;
}

Coro<TransportAndProtocol> connect_pipe(EventLoop& loop, ProtocolFactory factory, int fd,
                                        bool read) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) throw_os_error(errno, "connect_pipe");
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode))
        throw std::invalid_argument(
            "Pipe transport is only for pipes, sockets and character devices");
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw_os_error(errno, "connect_pipe");
    std::shared_ptr<Protocol> protocol = factory();
    if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
    Future<void> waiter = loop.create_future<void>();
    auto t = std::make_shared<FdStreamTransport>(
        loop, fd, read ? FdStreamTransport::Kind::read_pipe : FdStreamTransport::Kind::write_pipe,
        protocol);
    t->start(waiter);
    try {
        co_await waiter;
    } catch (...) {
        t->close();
        throw;
    }
    co_return TransportAndProtocol(t, protocol);
}

// ---------------------------------------------------------------------------------------
// ServerCore

/// The state of a Server. Python: base_events.Server's fields.
/// Invariant: sockets_ is empty once closed_ (close() closes them); waiters_ are completed
/// and `woken_` set once closed with no live connection.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
  public:
    std::optional<TLSParams> tls;  // TLS on every accepted connection (create_server(ssl=))

    ServerCore(EventLoop& loop, std::vector<Socket> sockets, ProtocolFactory factory, int backlog,
               std::string unix_path = {}, std::pair<dev_t, ino_t> unix_id = {})
        : loop_(&loop),
          sockets_(std::move(sockets)),
          factory_(std::move(factory)),
          backlog_(backlog),
          unix_path_(std::move(unix_path)),
          unix_id_(unix_id) {
        loop.add_ref();
    }
    ~ServerCore() {
        // Only reached when no reader refers to the server: closed, or the loop closed (with
        // the server open: reported in debug mode, as an unclosed transport is).
        if (!closed_ && loop_->get_debug()) {
            ExceptionContext ctx;
            try {
                std::string fds;
                for (const auto& s : sockets_)
                    fds += (fds.empty() ? "fd=" : ", fd=") + std::to_string(s.fileno());
                ctx.message = "ResourceWarning: unclosed server <Server sockets=(" + fds + ")>";
            } catch (...) {
            }
            loop_->call_exception_handler(ctx);
        }
        loop_->release();
    }

    void start_serving() {
        if (serving_ || closed_) return;
        serving_ = true;
        for (std::size_t i = 0; i < sockets_.size(); ++i) {
            sockets_[i].listen(backlog_);
            add_accept_reader(i);
        }
    }

    void add_accept_reader(std::size_t i) {
        if (closed_ || i >= sockets_.size()) return;
        loop_->add_reader(sockets_[i].fileno(),
                          [self = shared_from_this(), i] { self->accept_ready(i); });
    }

    void accept_ready(std::size_t i) {
        if (closed_) return;
        Socket& ls = sockets_[i];
        for (int k = 0; k < backlog_; ++k) {
            int fd = ::accept4(ls.fileno(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                int err = errno;
                if (would_block(err) || err == ECONNABORTED) return;
                if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                    // Out of fds: stop accepting for a while instead of spinning on a listening
                    // socket that stays readable. Python: _accept_connection.
                    ExceptionContext ctx;
                    ctx.message = "socket.accept() out of system resource";
                    ctx.exception = os_error_ptr(err, "accept");
                    ctx.details = "socket: " + ls.getsockname().to_string();
                    loop_->call_exception_handler(ctx);
                    loop_->remove_reader(ls.fileno());
                    loop_->call_later(accept_retry_delay, [self = shared_from_this(), i] {
                        self->add_accept_reader(i);
                    });
                    return;
                }
                throw_os_error(err, "accept");
            }
            new_connection(fd);
        }
    }

    void new_connection(int fd) {
        std::shared_ptr<Protocol> protocol;
        try {
            protocol = factory_();
            if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
            std::shared_ptr<BaseProtocol> below = protocol;
            if (tls)
                below = wrap_tls(*loop_, protocol, tls->context, {}, tls->options).lower_protocol;
            auto t = std::make_shared<FdStreamTransport>(
                *loop_, fd, FdStreamTransport::Kind::socket, below, shared_from_this());
            fd = -1;
            t->start();
        } catch (...) {
            if (fd >= 0) ::close(fd);
            ExceptionContext ctx;
            ctx.message = "Error on transport creation for incoming connection";
            ctx.exception = std::current_exception();
            loop_->call_exception_handler(ctx);
        }
    }

    void attach(FdStreamTransport* t) { clients_.insert(t); }
    void detach(FdStreamTransport* t) noexcept {
        if (clients_.erase(t) == 0) return;
        if (clients_.empty() && closed_) wakeup();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        for (auto& s : sockets_) {
            if (!loop_->is_closed()) loop_->remove_reader(s.fileno());
            s.close();
        }
        sockets_.clear();
        serving_ = false;
        if (!unix_path_.empty()) {
            // 3.13 cleanup_socket: remove the file if it is still ours.
            struct stat st {};
            if (::stat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_id_.first &&
                st.st_ino == unix_id_.second)
                ::unlink(unix_path_.c_str());
        }
        if (serving_forever_ && !serving_forever_.done()) serving_forever_.cancel();
        if (clients_.empty()) wakeup();
    }

    void wakeup() {
        if (woken_) return;
        woken_ = true;
        for (auto& w : waiters_)
            if (!w.done()) w.set_result();
        waiters_.clear();
    }

    // Each transport is held while it closes: dropping its registrations may release the
    // last reference to it.
    void close_clients() {
        std::vector<std::shared_ptr<FdStreamTransport>> v;
        for (auto* t : clients_) v.push_back(t->shared_from_this());
        for (auto& t : v) t->close();
    }
    void abort_clients() {
        std::vector<std::shared_ptr<FdStreamTransport>> v;
        for (auto* t : clients_) v.push_back(t->shared_from_this());
        for (auto& t : v) t->abort();
    }

    EventLoop* loop_;
    std::vector<Socket> sockets_;
    ProtocolFactory factory_;
    int backlog_;
    std::string unix_path_;
    std::pair<dev_t, ino_t> unix_id_;
    bool serving_ = false;
    bool closed_ = false;
    bool woken_ = false;
    std::unordered_set<FdStreamTransport*> clients_;
    std::vector<Future<void>> waiters_;
    Future<void> serving_forever_;
};

void server_attach(ServerCore& server, FdStreamTransport* t) { server.attach(t); }
void server_detach(ServerCore& server, FdStreamTransport* t) noexcept { server.detach(t); }

// ---------------------------------------------------------------------------------------
// Datagram endpoints: Python's _SelectorDatagramTransport.

class DatagramTransportImpl final : public DatagramTransport {
  public:
    std::shared_ptr<DatagramTransportImpl> shared_from_this() {
        return std::shared_ptr<DatagramTransportImpl>(BaseTransport::shared_from_this(), this);
    }
    DatagramTransportImpl(EventLoop& loop, Socket sock, std::shared_ptr<DatagramProtocol> protocol,
                          std::optional<SockAddr> remote)
        : loop_(&loop), sock_(std::move(sock)), protocol_(std::move(protocol)), remote_(remote) {
        loop.add_ref();
        extra_["socket"] = sock_.fileno();
        try {
            extra_["sockname"] = sock_.getsockname();
        } catch (...) {
        }
        if (remote_) extra_["peername"] = *remote_;
    }
    ~DatagramTransportImpl() override { loop_->release(); }

    void start(Future<void> waiter) {
        auto self = shared_from_this();
        loop_->call_soon([self] {
            try {
                if (self->protocol_) self->protocol_->connection_made(*self);
            } catch (...) {
                self->fatal_error(std::current_exception(),
                                  "Fatal error: protocol.connection_made() call failed.");
            }
        });
        loop_->call_soon([self] {
            if (!self->closing_) self->add_reader();
        });
        loop_->call_soon([waiter] {
            if (!waiter.done()) waiter.set_result();
        });
        self_ = self;  // until connection_lost: the protocol's reference stays valid
    }

    void close() override {
        if (closing_) return;
        closing_ = true;
        remove_reader();
        if (buffer_.empty()) {
            ++conn_lost_;
            loop_->call_soon([self = shared_from_this()] { self->call_connection_lost(nullptr); });
        }
    }
    bool is_closing() const noexcept override { return closing_; }
    std::any get_extra_info(const std::string& name, std::any def = {}) const override {
        auto it = extra_.find(name);
        return it == extra_.end() ? def : it->second;
    }
    void set_protocol(std::shared_ptr<BaseProtocol> p) override {
        auto d = std::dynamic_pointer_cast<DatagramProtocol>(p);
        if (!d) throw std::invalid_argument("a datagram transport needs a DatagramProtocol");
        protocol_ = std::move(d);
    }
    std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }

    void sendto(std::string_view data, const SockAddr& addr) override {
        const SockAddr* to = addr.empty() ? nullptr : &addr;
        if (remote_ && to && !(*to == *remote_))
            throw std::invalid_argument("Invalid address: must be None or " + remote_->to_string());
        if (!remote_ && !to)
            throw std::invalid_argument("sendto() needs an address on an unconnected endpoint");
        if (remote_) to = nullptr;  // connected: send()
        if (conn_lost_) {
            if (conn_lost_ >= 5)
                std::cerr << "WARNING:asyncio:socket.send() raised exception." << std::endl;
            ++conn_lost_;
            return;
        }
        if (buffer_.empty()) {
            ssize_t n = ::sendto(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL,
                                 to ? to->native() : nullptr, to ? to->size() : 0);
            if (n >= 0) return;
            int err = errno;
            if (!would_block(err)) {
                error_received(os_error_ptr(err, "sendto"));
                return;
            }
        }
        buffer_.emplace_back(std::string(data), to ? *to : SockAddr());
        buffer_size_ += data.size();
        add_writer();
        maybe_pause();
    }
    void abort() override { force_close(nullptr); }
    std::size_t get_write_buffer_size() const noexcept override { return buffer_size_; }
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override {
        std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
        std::size_t l = low ? *low : h / 4;
        if (l > h) throw std::invalid_argument("high must be >= low");
        high_ = h;
        low_ = l;
        maybe_pause();
    }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
        return {low_, high_};
    }

  private:
    void add_reader() {
        if (reader_) return;
        reader_ = true;
        loop_->add_reader(sock_.fileno(), [self = shared_from_this()] { self->on_readable(); });
    }
    void remove_reader() {
        if (!reader_) return;
        reader_ = false;
        if (!loop_->is_closed()) loop_->remove_reader(sock_.fileno());
    }
    void add_writer() {
        if (writer_) return;
        writer_ = true;
        loop_->add_writer(sock_.fileno(), [self = shared_from_this()] { self->on_writable(); });
    }
    void remove_writer() {
        if (!writer_) return;
        writer_ = false;
        if (!loop_->is_closed()) loop_->remove_writer(sock_.fileno());
    }
    void on_readable() {
        if (conn_lost_) return;
        static thread_local std::unique_ptr<char[]> buf(new char[256 * 1024]);
        SockAddr from;
        socklen_t len = from.capacity();
        ssize_t n = ::recvfrom(sock_.fileno(), buf.get(), 256 * 1024, 0, from.native(), &len);
        if (n < 0) {
            int err = errno;
            if (would_block(err)) return;
            error_received(os_error_ptr(err, "recvfrom"));
            return;
        }
        from.set_size(len);
        try {
            if (protocol_)
                protocol_->datagram_received(
                    std::string_view(buf.get(), static_cast<std::size_t>(n)), from);
        } catch (...) {
            fatal_error(std::current_exception(),
                        "Fatal error: protocol.datagram_received() call failed.");
        }
    }
    void on_writable() {
        while (!buffer_.empty()) {
            auto& [data, addr] = buffer_.front();
            ssize_t n = ::sendto(sock_.fileno(), data.data(), data.size(), MSG_NOSIGNAL,
                                 addr.empty() ? nullptr : addr.native(), addr.size());
            if (n < 0) {
                int err = errno;
                if (would_block(err)) return;
                error_received(os_error_ptr(err, "sendto"));
            }
            buffer_size_ -= data.size();
            buffer_.pop_front();
        }
        maybe_resume();
        remove_writer();
        if (closing_) call_connection_lost(nullptr);
    }
    void error_received(std::exception_ptr e) {
        try {
            if (protocol_) protocol_->error_received(e);
        } catch (...) {
            fatal_error(std::current_exception(),
                        "Fatal error: protocol.error_received() call failed.");
        }
    }
    void maybe_pause() {
        if (paused_ || buffer_size_ <= high_) return;
        paused_ = true;
        if (protocol_) protocol_->pause_writing();
    }
    void maybe_resume() {
        if (!paused_ || buffer_size_ > low_) return;
        paused_ = false;
        if (protocol_) protocol_->resume_writing();
    }
    void fatal_error(std::exception_ptr e, const char* msg) {
        report_fatal_error(
            *loop_, e, msg,
            "transport: <datagram transport fd=" + std::to_string(sock_.fileno()) + ">");
        force_close(e);
    }
    void force_close(std::exception_ptr e) {
        if (conn_lost_) return;
        buffer_.clear();
        buffer_size_ = 0;
        remove_writer();
        closing_ = true;
        remove_reader();
        ++conn_lost_;
        loop_->call_soon([self = shared_from_this(), e] { self->call_connection_lost(e); });
    }
    void call_connection_lost(std::exception_ptr e) {
        if (!sock_) return;
        auto keep = shared_from_this();
        remove_reader();
        remove_writer();
        if (conn_lost_ == 0) ++conn_lost_;
        try {
            if (protocol_) protocol_->connection_lost(e);
        } catch (...) {
            report_fatal_error(*loop_, std::current_exception(),
                               "Exception in callback protocol.connection_lost()", "");
        }
        sock_.close();
        protocol_.reset();
        self_.reset();
    }

    EventLoop* loop_;
    Socket sock_;
    std::shared_ptr<DatagramProtocol> protocol_;
    std::optional<SockAddr> remote_;
    std::shared_ptr<DatagramTransportImpl> self_;
    std::deque<std::pair<std::string, SockAddr>> buffer_;
    std::size_t buffer_size_ = 0;
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    int conn_lost_ = 0;
    bool closing_ = false;
    bool reader_ = false;
    bool writer_ = false;
    bool paused_ = false;
    std::map<std::string, std::any> extra_;
};

Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>>
create_datagram_endpoint(EventLoop& loop, DatagramProtocolFactory factory,
                         DatagramOptions options) {
    std::optional<Socket> sock;
    std::optional<SockAddr> remote;
    if (options.sock) {
        if (options.local_addr || options.remote_addr || options.local_path || options.remote_path)
            throw std::invalid_argument(
                "socket modifier keyword arguments can not be used when sock is specified");
        if (options.sock->type() != SOCK_DGRAM)
            throw std::invalid_argument("A datagram socket was expected, got type " +
                                        std::to_string(options.sock->type()));
        sock = std::move(options.sock);
        sock->setblocking(false);
    } else if (options.local_path || options.remote_path || options.family == AF_UNIX) {
        sock.emplace(AF_UNIX, SOCK_DGRAM);
        sock->setblocking(false);
        if (options.local_path) sock->bind(SockAddr::unix_path(*options.local_path));
        if (options.remote_path) {
            remote = SockAddr::unix_path(*options.remote_path);
            auto op = loop.sock_connect(*sock, *remote);
            co_await op;
        }
    } else {
        std::vector<AddrInfo> local, rem;
        if (options.local_addr) {
            local = co_await ensure_resolved(loop, options.local_addr->first,
                                             options.local_addr->second, options.family, SOCK_DGRAM,
                                             options.proto, options.flags);
            if (local.empty()) throw OSError(0, "getaddrinfo() returned empty list");
        }
        if (options.remote_addr) {
            rem = co_await ensure_resolved(loop, options.remote_addr->first,
                                           options.remote_addr->second, options.family, SOCK_DGRAM,
                                           options.proto, options.flags);
            if (rem.empty()) throw OSError(0, "getaddrinfo() returned empty list");
        }
        if (local.empty() && rem.empty())
            throw std::invalid_argument(
                "unexpected address family (give local_addr, remote_addr or sock)");
        // The first family both addresses have (Python pairs them the same way).
        const AddrInfo* l = nullptr;
        const AddrInfo* r = nullptr;
        if (!local.empty() && !rem.empty()) {
            for (const auto& a : local) {
                for (const auto& b : rem)
                    if (a.family == b.family) {
                        l = &a;
                        r = &b;
                        break;
                    }
                if (l) break;
            }
            if (!l) throw std::invalid_argument("can not get address information");
        } else if (!local.empty()) {
            l = &local.front();
        } else {
            r = &rem.front();
        }
        int family = l ? l->family : r->family;
        sock.emplace(family, SOCK_DGRAM, options.proto);
        if (options.reuse_port) sock->setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
        if (options.allow_broadcast) sock->setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
        sock->setblocking(false);
        if (l) sock->bind(l->addr);
        if (r) {
            if (!options.allow_broadcast) {
                auto op = loop.sock_connect(*sock, r->addr);
                co_await op;
            }
            remote = r->addr;
        }
    }
    std::shared_ptr<DatagramProtocol> protocol = factory();
    if (!protocol) throw std::invalid_argument("the protocol factory returned no protocol");
    Future<void> waiter = loop.create_future<void>();
    auto t = std::make_shared<DatagramTransportImpl>(loop, std::move(*sock), protocol, remote);
    t->start(waiter);
    try {
        co_await waiter;
    } catch (...) {
        t->close();
        throw;
    }
    co_return std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<DatagramProtocol>>(
        t, protocol);
}

namespace {

Coro<Server> make_server(std::shared_ptr<ServerCore> core, bool start) {
    if (start) {
        core->start_serving();
        // Python: "Skip one loop iteration so that all 'loop.add_reader' go through."
        co_await sleep(0);
    }
    co_return Server(std::move(core));
}

}  // namespace

}  // namespace detail

// ---------------------------------------------------------------------------------------
// EventLoop: servers

Coro<Server> EventLoop::create_server(ProtocolFactory factory, std::vector<std::string> hosts,
                                      int port, ServerOptions options) {
    std::vector<Socket> sockets;
    check_debug_thread();
    if (options.sock) {
        if (!hosts.empty() || port != 0)
            throw std::invalid_argument("host/port and sock can not be specified at the same time");
        if (options.sock->type() != SOCK_STREAM)
            throw std::invalid_argument("A Stream Socket was expected, got type " +
                                        std::to_string(options.sock->type()));
        sockets.push_back(std::move(*options.sock));
    } else {
        if (hosts.empty()) hosts.push_back("");
        bool reuse_address = options.reuse_address.value_or(true);
        std::vector<AddrInfo> infos;
        for (const auto& h : hosts) {
            auto op = detail::ensure_resolved(*this, h, port, options.family, SOCK_STREAM, 0,
                                              options.flags);
            auto got = co_await op;
            for (auto& ai : got)
                if (std::none_of(infos.begin(), infos.end(),
                                 [&](const AddrInfo& x) { return x.addr == ai.addr; }))
                    infos.push_back(std::move(ai));
        }
        for (const auto& ai : infos) {
            std::optional<Socket> s;
            try {
                s.emplace(ai.family, ai.type ? ai.type : SOCK_STREAM, ai.proto);
            } catch (const std::system_error& e) {
                if (e.code().value() == EAFNOSUPPORT) continue;  // no IPv6 on this host
                throw;
            }
            if (reuse_address) s->setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
            if (options.reuse_port) s->setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
            if (options.keep_alive) s->setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
            // Dual stack would bind the IPv6 socket to IPv4 too and clash with the IPv4 one.
            if (ai.family == AF_INET6) s->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
            try {
                s->bind(ai.addr);
            } catch (const std::system_error& e) {
                throw OSError(e.code().value(),
                              "[Errno " + std::to_string(e.code().value()) +
                                  "] error while attempting to bind on address " +
                                  ai.addr.to_string() + ": " +
                                  detail::lower(detail::errno_text(e.code().value())));
            }
            sockets.push_back(std::move(*s));
        }
        if (sockets.empty()) throw OSError(0, "create_server: no address to bind");
    }
    for (auto& s : sockets) s.setblocking(false);
    auto core = std::make_shared<detail::ServerCore>(*this, std::move(sockets), std::move(factory),
                                                     options.backlog);
    core->tls = detail::tls_params(options.ssl, options.ssl_handshake_timeout,
                                   options.ssl_shutdown_timeout);
    auto op = detail::make_server(std::move(core), options.start_serving);
    co_return co_await op;
}

Coro<Server> EventLoop::create_server(ProtocolFactory factory, std::string host, int port,
                                      ServerOptions options) {
    std::vector<std::string> hosts;
    if (!host.empty()) hosts.push_back(std::move(host));
    if (hosts.empty() && port == 0 && options.sock)
        return create_server(std::move(factory), std::vector<std::string>{}, 0, std::move(options));
    if (hosts.empty()) hosts.push_back("");
    return create_server(std::move(factory), std::move(hosts), port, std::move(options));
}

Coro<Server> EventLoop::create_server(ProtocolFactory factory, ServerOptions options) {
    return create_server(std::move(factory), std::vector<std::string>{}, 0, std::move(options));
}

Coro<Server> EventLoop::create_unix_server(ProtocolFactory factory, std::string path,
                                           UnixServerOptions options) {
    std::vector<Socket> sockets;
    check_debug_thread();
    std::pair<dev_t, ino_t> id{};
    if (!path.empty()) {
        if (options.sock)
            throw std::invalid_argument("path and sock can not be specified at the same time");
        if (path[0] != '\0') {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
        }
        Socket s(AF_UNIX, SOCK_STREAM);
        try {
            s.bind(path);
        } catch (const std::system_error& e) {
            if (e.code().value() == EADDRINUSE)
                throw OSError(EADDRINUSE, "[Errno 98] Address '" + path + "' is already in use");
            throw;
        }
        if (path[0] != '\0' && options.cleanup_socket) {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0) id = {st.st_dev, st.st_ino};
        }
        sockets.push_back(std::move(s));
    } else {
        if (!options.sock)
            throw std::invalid_argument("path was not specified, and no sock specified");
        if (options.sock->family() != AF_UNIX || options.sock->type() != SOCK_STREAM)
            throw std::invalid_argument("A UNIX Domain Stream Socket was expected");
        sockets.push_back(std::move(*options.sock));
    }
    for (auto& s : sockets) s.setblocking(false);
    auto core = std::make_shared<detail::ServerCore>(
        *this, std::move(sockets), std::move(factory), options.backlog,
        (options.cleanup_socket && id.second != 0) ? path : std::string(), id);
    core->tls = detail::tls_params(options.ssl, options.ssl_handshake_timeout,
                                   options.ssl_shutdown_timeout);
    auto op = detail::make_server(std::move(core), options.start_serving);
    co_return co_await op;
}

Coro<std::size_t> EventLoop::sendfile(std::shared_ptr<Transport> transport, int file_fd,
                                      std::size_t offset, std::optional<std::size_t> count,
                                      bool fallback) {
    check_debug_thread();
    if (!transport) throw std::invalid_argument("sendfile: no transport");
    if (transport->is_closing()) throw RuntimeError("Transport is closing");
    auto* fdt = dynamic_cast<detail::FdStreamTransport*>(transport.get());
    if (fdt && fdt->fd() >= 0 && fdt->is_socket()) {
        // Python: _sendfile_native: wait for the buffer to drain, pause reading, sendfile(2)
        // on the socket itself, resume.
        co_await fdt->wait_write_buffer_empty();
        bool resume = fdt->is_reading();
        fdt->pause_reading();
        Socket view = Socket::from_fd(fdt->fd(), AF_INET, SOCK_STREAM, 0, false);
        struct Detach {
            Socket& s;
            ~Detach() { s.detach(); }
        } detach{view};
        std::exception_ptr err;
        std::size_t sent = 0;
        try {
            auto op = sock_sendfile(view, file_fd, offset, count, fallback);
            sent = co_await op;
        } catch (...) {
            err = std::current_exception();
        }
        if (resume && !transport->is_closing()) fdt->resume_reading();
        if (err) std::rethrow_exception(err);
        co_return sent;
    }
    if (!fallback)
        throw SendfileNotAvailableError(
            "fallback is disabled and native sendfile is not supported for this transport");
    // Read and write through the transport (no flow control beyond its buffer).
    std::string buf;
    std::size_t total = 0;
    off_t off = static_cast<off_t>(offset);
    for (;;) {
        std::size_t want = count ? std::min(*count - total, std::size_t{256 * 1024}) : 256 * 1024;
        if (want == 0) break;
        std::size_t n = detail::read_file_block(file_fd, buf, want, off, "sendfile");
        if (n == 0) break;
        transport->write(std::string_view(buf.data(), n));
        total += n;
        co_await sleep(0);
    }
    co_return total;
}

// ---------------------------------------------------------------------------------------
// Server

detail::ServerCore& Server::get() const {
    if (!core_) throw RuntimeError("empty Server handle");
    return *core_;
}

EventLoop& Server::get_loop() const { return *get().loop_; }
bool Server::is_serving() const { return get().serving_; }

Coro<void> Server::start_serving() const {
    auto core = core_;
    get().start_serving();
    co_await sleep(0);
}

Coro<void> Server::serve_forever() const {
    auto core = core_;
    auto& c = get();
    if (c.serving_forever_)
        throw RuntimeError("server is already being awaited on serve_forever()");
    if (c.closed_) throw RuntimeError("server is closed");
    c.start_serving();
    c.serving_forever_ = c.loop_->create_future<void>();
    Future<void> f = c.serving_forever_;
    std::exception_ptr err;
    try {
        co_await f;
    } catch (const CancelledError&) {
        err = std::current_exception();
    }
    c.serving_forever_ = Future<void>();
    if (err) {
        // parity #116: cancelling serve_forever() closes the server.
        c.close();
        Future<void> w;
        if (!c.woken_) {
            w = c.loop_->create_future<void>();
            c.waiters_.push_back(w);
        }
        if (w) {
            try {
                co_await w;
            } catch (...) {
            }
        }
        std::rethrow_exception(err);
    }
}

void Server::close() const { get().close(); }
void Server::close_clients() const { get().close_clients(); }
void Server::abort_clients() const { get().abort_clients(); }

Coro<void> Server::wait_closed() const {
    auto core = core_;
    auto& c = get();
    if (c.woken_) co_return;
    Future<void> w = c.loop_->create_future<void>();
    c.waiters_.push_back(w);
    co_await w;
}

const std::vector<Socket>& Server::sockets() const { return get().sockets_; }

}  // namespace asyncio
