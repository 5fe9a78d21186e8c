// The loop's sock_* methods on a readiness (epoll) backend. Python: selector_events.py's
// BaseSelectorEventLoop.sock_recv ... sock_accept, and base_events.py's sock_sendfile,
// getaddrinfo and getnameinfo.
//
// Each operation tries the system call first; when the kernel says EAGAIN it waits for the
// fd's readiness through one add_reader / add_writer registration, removed by a guard when the
// wait ends however it ends (result, error, cancellation, the frame destroyed with the loop).
// A receive runs only in the resumed coroutine, never in the readiness callback, so that a
// cancelled receive has read nothing: no byte is lost.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/executors.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/sockets.hpp"
#include "selector_events.hpp"

namespace asyncio {

namespace detail {

namespace {

/// Reads go into one buffer per thread: the protocol sees the bytes only during
/// data_received (sock_recv: until it has copied them out), so every connection of the loop can
/// share it (no buffer per connection, no allocation per read). 256 KiB as CPython's max_size for a
/// read.
constexpr std::size_t read_size = 256 * 1024;
char* read_buffer() {
    static thread_local std::unique_ptr<char[]> buf(new char[read_size]);
    return buf.get();
}

struct FdWaitGuard {
    EventLoop& loop;
    int fd;
    bool write;
    ~FdWaitGuard() {
        try {
            if (write)
                loop.remove_writer(fd);
            else
                loop.remove_reader(fd);
        } catch (...) {
        }
    }
};

}  // namespace

Coro<void> wait_fd(EventLoop& loop, int fd, bool write) {
    Future<void> ready = loop.create_future<void>();
    auto wake = [ready] {
        if (!ready.done()) ready.set_result();
    };
    if (write)
        loop.add_writer(fd, wake);
    else
        loop.add_reader(fd, wake);
    FdWaitGuard guard{loop, fd, write};
    co_await ready;
}

void check_nonblocking(const Socket& sock, const char* op) {
    if (sock.fileno() < 0)
        throw OSError(EBADF,
                      std::string(op) + ": [Errno 9] Bad file descriptor (socket is closed)");
    if (sock.getblocking())
        throw std::invalid_argument(std::string(op) + ": the socket must be non-blocking");
}

std::optional<SockAddr> ipaddr_info(const std::string& host, int port, int family) {
    return parse_numeric(host, port, family);
}

}  // namespace detail

using detail::check_nonblocking;
using detail::wait_fd;
using detail::would_block;

Coro<std::string> EventLoop::sock_recv(Socket& sock, std::size_t nbytes) {
    check_nonblocking(sock, "sock_recv");
    check_debug_thread();
    // Into the thread's read buffer, then copied into a string of the size received: a
    // std::string(nbytes, '\0') to receive into is zero-filled first (64 KiB per call for
    // a 1 KiB message in W7's sock_* echo) and keeps that capacity in what it returns.
    std::string big;
    char* buf = detail::read_buffer();
    if (nbytes > detail::read_size) {
        big.resize(nbytes);
        buf = big.data();
    }
    for (;;) {
        ssize_t n = ::recv(sock.fileno(), buf, nbytes, 0);
        if (n >= 0) {
            if (!big.empty()) {
                big.resize(static_cast<std::size_t>(n));
                co_return big;
            }
            co_return std::string(buf, static_cast<std::size_t>(n));
        }
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recv");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::size_t> EventLoop::sock_recv_into(Socket& sock, std::span<char> buf) {
    check_nonblocking(sock, "sock_recv_into");
    check_debug_thread();
    for (;;) {
        ssize_t n = ::recv(sock.fileno(), buf.data(), buf.size(), 0);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recv_into");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::pair<std::string, SockAddr>> EventLoop::sock_recvfrom(Socket& sock, std::size_t bufsize) {
    check_nonblocking(sock, "sock_recvfrom");
    check_debug_thread();
    std::string buf(bufsize, '\0');
    for (;;) {
        SockAddr from;
        socklen_t len = from.capacity();
        ssize_t n = ::recvfrom(sock.fileno(), buf.data(), bufsize, 0, from.native(), &len);
        if (n >= 0) {
            from.set_size(len);
            buf.resize(static_cast<std::size_t>(n));
            co_return std::pair<std::string, SockAddr>(std::move(buf), from);
        }
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recvfrom");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::pair<std::size_t, SockAddr>> EventLoop::sock_recvfrom_into(Socket& sock,
                                                                     std::span<char> buf,
                                                                     std::size_t nbytes) {
    check_nonblocking(sock, "sock_recvfrom_into");
    check_debug_thread();
    check_debug_thread();
    if (nbytes == 0 || nbytes > buf.size()) nbytes = buf.size();
    for (;;) {
        SockAddr from;
        socklen_t len = from.capacity();
        ssize_t n = ::recvfrom(sock.fileno(), buf.data(), nbytes, 0, from.native(), &len);
        if (n >= 0) {
            from.set_size(len);
            co_return std::pair<std::size_t, SockAddr>(static_cast<std::size_t>(n), from);
        }
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recvfrom_into");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<void> EventLoop::sock_sendall(Socket& sock, std::string data) {
    check_nonblocking(sock, "sock_sendall");
    check_debug_thread();
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(sock.fileno(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_sendall");
        co_await wait_fd(*this, sock.fileno(), true);
    }
}

Coro<std::size_t> EventLoop::sock_sendto(Socket& sock, std::string data, SockAddr address) {
    check_nonblocking(sock, "sock_sendto");
    check_debug_thread();
    for (;;) {
        ssize_t n = ::sendto(sock.fileno(), data.data(), data.size(), MSG_NOSIGNAL,
                             address.empty() ? nullptr : address.native(), address.size());
        if (n >= 0) co_return static_cast<std::size_t>(n);
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_sendto");
        co_await wait_fd(*this, sock.fileno(), true);
    }
}

Coro<void> EventLoop::sock_connect(Socket& sock, std::string host, int port) {
    check_nonblocking(sock, "sock_connect");
    check_debug_thread();
    if (sock.family() == AF_UNIX) {
        co_await sock_connect(sock, SockAddr::unix_path(host));
        co_return;
    }
    auto addr = detail::ipaddr_info(host, port, sock.family());
    if (!addr) {
        auto infos =
            co_await getaddrinfo(host, port, {.family = sock.family(), .type = sock.type()});
        if (infos.empty()) throw GaiError(EAI_NONAME, "getaddrinfo() returned empty list");
        addr = infos.front().addr;
    }
    co_await sock_connect(sock, *addr);
}

Coro<void> EventLoop::sock_connect(Socket& sock, SockAddr address) {
    check_nonblocking(sock, "sock_connect");
    check_debug_thread();
    if (::connect(sock.fileno(), address.native(), address.size()) == 0) co_return;
    int err = errno;
    if (err == EINPROGRESS || err == EINTR) {
        co_await wait_fd(*this, sock.fileno(), true);
        err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
        if (err == 0) co_return;
    }
    throw OSError(err,
                  "[Errno " + std::to_string(err) + "] Connect call failed " + address.to_string());
}

Coro<std::pair<Socket, SockAddr>> EventLoop::sock_accept(Socket& sock) {
    check_nonblocking(sock, "sock_accept");
    check_debug_thread();
    for (;;) {
        SockAddr from;
        socklen_t len = from.capacity();
        int fd = ::accept4(sock.fileno(), from.native(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            from.set_size(len);
            co_return std::pair<Socket, SockAddr>(
                Socket::from_fd(fd, sock.family(), sock.type(), sock.proto(), false), from);
        }
        if (!would_block(errno) && errno != ECONNABORTED)
            detail::throw_os_error(errno, "sock_accept");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::size_t> EventLoop::sock_sendfile(Socket& sock, int file_fd, std::size_t offset,
                                           std::optional<std::size_t> count, bool fallback) {
    check_nonblocking(sock, "sock_sendfile");
    check_debug_thread();
    if (sock.type() != SOCK_STREAM)
        throw std::invalid_argument("sock_sendfile: only SOCK_STREAM type sockets are supported");
    constexpr std::size_t chunk = std::size_t{1} << 30;
    std::size_t total = 0;
    off_t off = static_cast<off_t>(offset);
    bool use_fallback = false;
    for (;;) {
        std::size_t want = count ? std::min(*count - total, chunk) : chunk;
        if (want == 0) co_return total;
        ssize_t n = ::sendfile(sock.fileno(), file_fd, &off, want);
        if (n > 0) {
            total += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0) co_return total;  // end of file
        int err = errno;
        if (would_block(err)) {
            co_await wait_fd(*this, sock.fileno(), true);
            continue;
        }
        if (total == 0 && (err == EINVAL || err == ENOSYS || err == ESPIPE || err == EOVERFLOW)) {
            use_fallback = true;
            break;
        }
        detail::throw_os_error(err, "sock_sendfile");
    }
    if (!use_fallback) co_return total;
    if (!fallback) throw SendfileNotAvailableError("os.sendfile() is not available for this file");
    // Read and send in 256 KiB blocks (CPython's _sock_sendfile_fallback uses the same size).
    std::string buf;
    for (;;) {
        std::size_t want = count ? std::min(*count - total, std::size_t{256 * 1024}) : 256 * 1024;
        if (want == 0) break;
        std::size_t n = detail::read_file_block(file_fd, buf, want, off, "sock_sendfile");
        if (n == 0) break;
        buf.resize(n);
        total += n;
        co_await sock_sendall(sock, buf);
    }
    co_return total;
}

namespace {

// WORKAROUND(gcc-12): a lambda whose init-captures move a coroutine's parameters, made inside
// the coroutine, frees a bad pointer when destroyed on the worker thread; the futures are
// therefore made by plain functions.
Future<std::vector<AddrInfo>> resolve_in_executor(EventLoop& loop, std::string host,
                                                  std::string port, AddrInfoOptions options) {
    return loop.run_in_executor(nullptr, [host = std::move(host), port = std::move(port), options] {
        return detail::getaddrinfo_blocking(host, port, options);
    });
}

Future<std::pair<std::string, std::string>> nameinfo_in_executor(EventLoop& loop, SockAddr address,
                                                                 int flags) {
    return loop.run_in_executor(nullptr, [address, flags] {
        char host[NI_MAXHOST] = {};
        char serv[NI_MAXSERV] = {};
        int rc = ::getnameinfo(address.native(), address.size(), host, sizeof host, serv,
                               sizeof serv, flags);
        if (rc != 0) {
            if (rc == EAI_SYSTEM) detail::throw_os_error(errno, "getnameinfo");
            throw GaiError(rc, "[Errno " + std::to_string(rc) + "] " + ::gai_strerror(rc));
        }
        return std::pair<std::string, std::string>(host, serv);
    });
}

}  // namespace

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, std::string port,
                                                   AddrInfoOptions options) {
    auto f = resolve_in_executor(*this, host, port, options);
    co_return co_await f;
}

Coro<std::vector<AddrInfo>> EventLoop::getaddrinfo(std::string host, int port,
                                                   AddrInfoOptions options) {
    return getaddrinfo(std::move(host), std::to_string(port), options);
}

Coro<std::pair<std::string, std::string>> EventLoop::getnameinfo(SockAddr address, int flags) {
    auto f = nameinfo_in_executor(*this, address, flags);
    co_return co_await f;
}

}  // namespace asyncio

// ---------------------------------------------------------------------------------------
// FdStreamTransport: Python's _SelectorSocketTransport and the Unix pipe transports.

#include <signal.h>

#include <iostream>
#include <mutex>

namespace asyncio::detail {

namespace {

/// CPython logs a warning from the fifth write after the connection was lost.
constexpr int log_threshold_for_connlost_writes = 5;

bool peer_vanished(const std::exception_ptr& exc) {
    try {
        std::rethrow_exception(exc);
    } catch (const std::system_error& e) {
        int v = e.code().value();
        return e.code().category() == std::generic_category() &&
               (v == ECONNRESET || v == EPIPE || v == ECONNABORTED);
    } catch (...) {
    }
    return false;
}

}  // namespace

std::exception_ptr os_error_ptr(int err, const std::string& context) {
    try {
        throw_os_error(err, context);
    } catch (...) {
        return std::current_exception();
    }
}

void ignore_sigpipe_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL)
            ::signal(SIGPIPE, SIG_IGN);
    });
}

void report_fatal_error(EventLoop& loop, std::exception_ptr exc, const char* message,
                        const std::string& details) {
    if (peer_vanished(exc)) return;  // CPython: _FATAL_ERROR_IGNORE, logged in debug mode only
    ExceptionContext ctx;
    ctx.message = message;
    ctx.exception = exc;
    ctx.details = details;
    loop.call_exception_handler(ctx);
}

FdStreamTransport::FdStreamTransport(EventLoop& loop, int fd, Kind kind,
                                     std::shared_ptr<BaseProtocol> protocol,
                                     std::shared_ptr<ServerCore> server)
    : loop_(&loop), fd_(fd), kind_(kind), server_(std::move(server)) {
    loop.add_ref();
    set_protocol(std::move(protocol));
    if (kind != Kind::read_pipe) ignore_sigpipe_once();
    if (kind == Kind::socket) {
        peername_.load(fd, true);
        sockname_.load(fd, false);
        // As CPython (base_events._set_nodelay): no Nagle delay on TCP transports, so that a
        // request/response exchange is not held back 40 ms by delayed ACKs.
        int family = peername_.empty() ? AF_UNSPEC : peername_.get().family();
        if (family == AF_INET || family == AF_INET6) {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
    if (server_) server_attach(*server_, this);
}

FdStreamTransport::~FdStreamTransport() {
    // Reached once nothing registered with the loop refers to the transport: after
    // connection_lost, or when the loop closed with the connection still open. Debug mode
    // reports the latter as CPython's _SelectorTransport.__del__ does (a ResourceWarning).
    if (fd_ >= 0) {
        if (loop_->get_debug()) {
            const char* cls = kind_ == Kind::socket      ? "_SelectorSocketTransport"
                              : kind_ == Kind::read_pipe ? "_UnixReadPipeTransport"
                                                         : "_UnixWritePipeTransport";
            ExceptionContext ctx;
            try {
                ctx.message = std::string("ResourceWarning: unclosed transport <") + cls +
                              " fd=" + std::to_string(fd_) + ">";
            } catch (...) {
            }
            loop_->call_exception_handler(ctx);
        }
        ::close(fd_);
    }
    if (server_) server_detach(*server_, this);
    loop_->release();
}

void FdStreamTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
    protocol_ = std::move(protocol);
    stream_protocol_ = dynamic_cast<Protocol*>(protocol_.get());
    buffered_ = dynamic_cast<BufferedProtocol*>(protocol_.get());
    in_place_ = dynamic_cast<ReadsInPlace*>(protocol_.get());
    protocol_connected_ = true;
}

void FdStreamTransport::start(Future<void> waiter) {
    auto self = shared_from_this();
    loop_->call_soon([self] {
        if (self->stream_protocol_) {
            try {
                self->stream_protocol_->connection_made(*self);
            } catch (...) {
                self->fatal_error(std::current_exception(),
                                  "Fatal error: protocol.connection_made() call failed.");
            }
        }
    });
    if (kind_ != Kind::write_pipe) {
        loop_->call_soon([self] {
            if (!self->closing_ && !self->paused_) self->add_reader();
        });
    } else {
        // A write pipe watches its fd for reading to learn early that the reader went away
        // (CPython does so for sockets and FIFOs); here the write error reports it.
    }
    if (waiter) {
        loop_->call_soon([waiter] {
            if (!waiter.done()) waiter.set_result();
        });
    }
    update_keepalive();
}

void FdStreamTransport::add_reader() {
    if (reader_registered_ || fd_ < 0) return;
    loop_->add_reader(fd_, [self = shared_from_this()] { self->on_readable(); });
    reader_registered_ = true;
    update_keepalive();
}

void FdStreamTransport::remove_reader() {
    if (!reader_registered_) return;
    auto keep = shared_from_this();  // the registration may hold the last reference
    reader_registered_ = false;
    if (!loop_->is_closed()) loop_->remove_reader(fd_);
    update_keepalive();
}

void FdStreamTransport::add_writer() {
    if (writer_registered_ || fd_ < 0) return;
    loop_->add_writer(fd_, [self = shared_from_this()] { self->on_writable(); });
    writer_registered_ = true;
    update_keepalive();
}

void FdStreamTransport::remove_writer() {
    if (!writer_registered_) return;
    auto keep = shared_from_this();  // the registration may hold the last reference
    writer_registered_ = false;
    if (!loop_->is_closed()) loop_->remove_writer(fd_);
    update_keepalive();
}

void FdStreamTransport::update_keepalive() {
    // Before connection_lost nothing may free the transport under the protocol's reference.
    bool need = conn_lost_ == 0 && !reader_registered_ && !writer_registered_;
    if (need && !self_) {
        self_ = shared_from_this();
    } else if (!need && self_) {
        if (loop_->is_closed())
            self_.reset();
        else
            loop_->call_soon([keep = std::move(self_)] {});  // never free `this` in a method
    }
}

void FdStreamTransport::pause_reading() {
    if (kind_ == Kind::write_pipe || closing_ || paused_) return;
    paused_ = true;
    remove_reader();
}

void FdStreamTransport::resume_reading() {
    if (kind_ == Kind::write_pipe || closing_ || !paused_) return;
    paused_ = false;
    add_reader();
}

void FdStreamTransport::on_readable() {
    if (conn_lost_) return;
    // Where the bytes go: the protocol's buffer (a BufferedProtocol, or a stream reader with
    // room), else the thread's buffer, shown to data_received.
    std::span<char> buf;
    if (buffered_) {
        try {
            buf = buffered_->get_buffer(read_size);
            if (buf.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
        } catch (...) {
            fatal_error(std::current_exception(),
                        "Fatal error: protocol.get_buffer() call failed.");
            return;
        }
    } else if (in_place_) {
        buf = in_place_->read_room();
    }
    bool shared = buf.empty();
    if (shared) buf = std::span<char>(read_buffer(), read_size);
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) {
        auto count = static_cast<std::size_t>(n);
        try {
            if (buffered_)
                buffered_->buffer_updated(count);
            else if (!shared)
                in_place_->room_filled(count);
            else if (stream_protocol_)
                stream_protocol_->data_received(std::string_view(buf.data(), count));
        } catch (...) {
            fatal_error(std::current_exception(),
                        buffered_ ? "Fatal error: protocol.buffer_updated() call failed."
                                  : "Fatal error: protocol.data_received() call failed.");
        }
        return;
    }
    if (n == 0) return read_eof();
    if (would_block(errno)) return;
    fatal_error(os_error_ptr(errno, "read"), kind_ == Kind::socket
                                                 ? "Fatal read error on socket transport"
                                                 : "Fatal read error on pipe transport");
}

void FdStreamTransport::read_eof() {
    if (kind_ == Kind::read_pipe) {
        // Python: _UnixReadPipeTransport._read_ready: EOF closes the pipe; the protocol gets
        // eof_received, then connection_lost(None).
        closing_ = true;
        remove_reader();
        auto self = shared_from_this();
        loop_->call_soon([self] {
            if (self->stream_protocol_) {
                try {
                    self->stream_protocol_->eof_received();
                } catch (...) {
                    report_fatal_error(*self->loop_, std::current_exception(),
                                       "Fatal error: protocol.eof_received() call failed.", "");
                }
            }
        });
        ++conn_lost_;
        loop_->call_soon([self] { self->call_connection_lost(nullptr); });
        return;
    }
    bool keep_open = false;
    try {
        keep_open = stream_protocol_ ? stream_protocol_->eof_received() : false;
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
        return;
    }
    if (keep_open) {
        // Half-closed: stop reading, the protocol may still write and will close.
        remove_reader();
    } else {
        close();
    }
}

void FdStreamTransport::check_writable() const {
    if (kind_ == Kind::read_pipe) throw RuntimeError("write() on a read pipe transport");
    if (eof_) throw RuntimeError("Cannot call write() after write_eof()");
    if (!empty_waiters_.empty()) throw RuntimeError("unable to write; sendfile is in progress");
}

void FdStreamTransport::writelines(std::span<const std::string_view> pieces) {
    check_writable();
    constexpr std::size_t max_iov = 16;
    std::array<iovec, max_iov> iov{};
    std::size_t count = 0, total = 0;
    for (std::string_view p : pieces) {
        if (p.empty()) continue;
        if (count == max_iov || !wbuf_.empty() || conn_lost_) {
            count = max_iov + 1;  // not one sendmsg: piece by piece
            break;
        }
        iov[count++] = iovec{const_cast<char*>(p.data()), p.size()};
        total += p.size();
    }
    if (count == 0) return;
    if (count == 1 || count > max_iov) {
        for (std::string_view p : pieces) write(p);
        return;
    }
    // Nothing buffered: try at once, as write() does.
    ssize_t n;
    if (kind_ == Kind::socket) {
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = count;
        n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    } else {
        n = ::writev(fd_, iov.data(), static_cast<int>(count));
    }
    if (n < 0) {
        if (!would_block(errno)) {
            fatal_error(os_error_ptr(errno, "write"), kind_ == Kind::socket
                                                          ? "Fatal write error on socket transport"
                                                          : "Fatal write error on pipe transport");
            return;
        }
        n = 0;
    }
    auto sent = static_cast<std::size_t>(n);
    if (sent == total) return;
    for (std::string_view p : pieces) {
        if (sent >= p.size()) {
            sent -= p.size();
            continue;
        }
        wbuf_.append(p.substr(sent));
        sent = 0;
    }
    add_writer();
    maybe_pause_protocol();
}

void FdStreamTransport::write(std::string_view data) {
    check_writable();
    if (data.empty()) return;
    if (conn_lost_) {
        if (conn_lost_ >= log_threshold_for_connlost_writes)
            std::cerr << "WARNING:asyncio:socket.send() raised exception." << std::endl;
        ++conn_lost_;
        return;
    }
    if (wbuf_.empty()) {
        // Try at once: most writes complete here, without a buffer or a registration.
        ssize_t n = kind_ == Kind::socket ? ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL)
                                          : ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (!would_block(errno)) {
                fatal_error(os_error_ptr(errno, "write"),
                            kind_ == Kind::socket ? "Fatal write error on socket transport"
                                                  : "Fatal write error on pipe transport");
                return;
            }
            n = 0;
        }
        if (static_cast<std::size_t>(n) == data.size()) return;
        data.remove_prefix(static_cast<std::size_t>(n));
        add_writer();
    }
    wbuf_.append(data);
    maybe_pause_protocol();
}

void FdStreamTransport::on_writable() {
    if (conn_lost_) return;
    std::string_view v = wbuf_.view();
    if (!v.empty()) {
        ssize_t n = kind_ == Kind::socket ? ::send(fd_, v.data(), v.size(), MSG_NOSIGNAL)
                                          : ::write(fd_, v.data(), v.size());
        if (n < 0) {
            if (would_block(errno)) return;
            int err = errno;
            remove_writer();
            wbuf_.clear();
            fatal_error(os_error_ptr(err, "write"), kind_ == Kind::socket
                                                        ? "Fatal write error on socket transport"
                                                        : "Fatal write error on pipe transport");
            return;
        }
        wbuf_.consume(static_cast<std::size_t>(n));
    }
    maybe_resume_protocol();
    if (!wbuf_.empty()) return;
    remove_writer();
    for (auto& w : empty_waiters_)
        if (!w.done()) w.set_result();
    empty_waiters_.clear();
    if (closing_) {
        call_connection_lost(nullptr);
    } else if (eof_) {
        if (kind_ == Kind::socket) ::shutdown(fd_, SHUT_WR);
    }
}

void FdStreamTransport::maybe_pause_protocol() {
    if (protocol_paused_ || wbuf_.size() <= high_) return;
    protocol_paused_ = true;
    try {
        if (protocol_) protocol_->pause_writing();
    } catch (...) {
        report_fatal_error(*loop_, std::current_exception(), "protocol.pause_writing() failed", "");
    }
}

void FdStreamTransport::maybe_resume_protocol() {
    if (!protocol_paused_ || wbuf_.size() > low_) return;
    protocol_paused_ = false;
    try {
        if (protocol_) protocol_->resume_writing();
    } catch (...) {
        report_fatal_error(*loop_, std::current_exception(), "protocol.resume_writing() failed",
                           "");
    }
}

void FdStreamTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                                std::optional<std::size_t> low) {
    std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
    std::size_t l = low ? *low : h / 4;
    if (l > h)
        throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" +
                                    std::to_string(l) + ") must be >= 0");
    high_ = h;
    low_ = l;
    maybe_pause_protocol();
}

void FdStreamTransport::write_eof() {
    if (kind_ == Kind::read_pipe) throw RuntimeError("write_eof() on a read pipe transport");
    if (closing_ || eof_) return;
    eof_ = true;
    if (kind_ == Kind::write_pipe) {
        // Python: _UnixWritePipeTransport.write_eof closes the pipe once flushed.
        closing_ = true;
        if (wbuf_.empty()) {
            ++conn_lost_;
            loop_->call_soon([self = shared_from_this()] { self->call_connection_lost(nullptr); });
        }
        return;
    }
    if (wbuf_.empty()) ::shutdown(fd_, SHUT_WR);
}

void FdStreamTransport::close() {
    if (closing_) return;
    closing_ = true;
    remove_reader();
    if (wbuf_.empty()) {
        ++conn_lost_;
        remove_writer();
        loop_->call_soon([self = shared_from_this()] { self->call_connection_lost(nullptr); });
    }
    update_keepalive();
}

void FdStreamTransport::abort() { force_close(nullptr); }

void FdStreamTransport::close_now() {
    if (fd_ < 0) return;
    force_close(nullptr);
    call_connection_lost(nullptr);
}

void FdStreamTransport::fatal_error(std::exception_ptr exc, const char* message) {
    report_fatal_error(*loop_, exc, message,
                       "transport: <" + std::string(kind_ == Kind::socket ? "socket" : "pipe") +
                           " transport fd=" + std::to_string(fd_) + ">");
    force_close(exc);
}

void FdStreamTransport::force_close(std::exception_ptr exc) {
    if (conn_lost_) return;
    if (!wbuf_.empty()) {
        wbuf_.clear();
        remove_writer();
    }
    if (!closing_) {
        closing_ = true;
        remove_reader();
    }
    ++conn_lost_;
    loop_->call_soon([self = shared_from_this(), exc] { self->call_connection_lost(exc); });
    update_keepalive();
}

void FdStreamTransport::call_connection_lost(std::exception_ptr exc) {
    if (fd_ < 0) return;  // delivered already
    if (conn_lost_ == 0) ++conn_lost_;
    auto keep = shared_from_this();
    remove_reader();
    remove_writer();
    for (auto& w : empty_waiters_) {
        if (w.done()) continue;
        if (exc)
            w.set_exception(exc);
        else
            w.set_result();
    }
    empty_waiters_.clear();
    if (protocol_connected_ && protocol_) {
        try {
            protocol_->connection_lost(exc);
        } catch (...) {
            report_fatal_error(*loop_, std::current_exception(),
                               "Exception in callback protocol.connection_lost()", "");
        }
    }
    ::close(fd_);
    fd_ = -1;
    protocol_.reset();
    stream_protocol_ = nullptr;
    buffered_ = nullptr;
    in_place_ = nullptr;
    if (server_) {
        server_detach(*server_, this);
        server_.reset();
    }
    self_.reset();  // `keep` holds the transport until this returns
}

Coro<void> FdStreamTransport::wait_write_buffer_empty() {
    if (wbuf_.empty() || conn_lost_) co_return;
    empty_waiters_.push_back(loop_->create_future<void>());
    Future<void> w = empty_waiters_.back();
    co_await w;
}

std::any FdStreamTransport::get_extra_info(const std::string& name, std::any default_value) const {
    if (kind_ != Kind::socket) {
        if (name == "pipe") return fd_;  // -1 once closed, as a closed file's fileno()
        return default_value;
    }
    if (name == "socket") return fd_;
    bool peer = name == "peername";
    if (!peer && name != "sockname") return default_value;
    const SmallAddr& kept = peer ? peername_ : sockname_;
    if (!kept.empty()) return kept.get();
    if (fd_ < 0) return default_value;
    SockAddr a;
    socklen_t len = a.capacity();
    int rc = peer ? ::getpeername(fd_, a.native(), &len) : ::getsockname(fd_, a.native(), &len);
    if (rc != 0) return default_value;
    a.set_size(len);
    return a;
}

bool SmallAddr::load(int fd, bool peer) noexcept {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    auto* sa = reinterpret_cast<sockaddr*>(&ss);
    int rc = peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
    if (rc != 0 || len > bytes_.size()) return false;
    std::memcpy(bytes_.data(), &ss, len);
    len_ = static_cast<std::uint8_t>(len);
    return true;
}

SockAddr SmallAddr::get() const noexcept {
    sockaddr_storage ss{};
    std::memcpy(&ss, bytes_.data(), len_);
    return SockAddr::from_native(reinterpret_cast<const sockaddr*>(&ss), len_);
}

}  // namespace asyncio::detail

namespace asyncio::detail {

std::size_t read_file_block(int file_fd, std::string& buf, std::size_t want, off_t& off,
                            const char* what) {
    buf.resize(want);
    for (;;) {
        ssize_t n = ::pread(file_fd, buf.data(), want, off);
        if (n < 0 && errno == ESPIPE) n = ::read(file_fd, buf.data(), want);
        if (n >= 0) {
            off += n;
            return static_cast<std::size_t>(n);
        }
        if (errno != EINTR) throw_os_error(errno, std::string(what) + " (read)");
    }
}

}  // namespace asyncio::detail
