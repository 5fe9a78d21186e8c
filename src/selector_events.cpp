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
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

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
        throw std::system_error(EBADF, std::generic_category(),
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
    std::string buf(nbytes, '\0');
    for (;;) {
        ssize_t n = ::recv(sock.fileno(), buf.data(), nbytes, 0);
        if (n >= 0) {
            buf.resize(static_cast<std::size_t>(n));
            co_return buf;
        }
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recv");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::size_t> EventLoop::sock_recv_into(Socket& sock, std::span<char> buf) {
    check_nonblocking(sock, "sock_recv_into");
    for (;;) {
        ssize_t n = ::recv(sock.fileno(), buf.data(), buf.size(), 0);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        if (!would_block(errno)) detail::throw_os_error(errno, "sock_recv_into");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::pair<std::string, SockAddr>> EventLoop::sock_recvfrom(Socket& sock, std::size_t bufsize) {
    check_nonblocking(sock, "sock_recvfrom");
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
    if (sock.family() == AF_UNIX) {
        co_await sock_connect(sock, SockAddr::unix_path(host));
        co_return;
    }
    auto addr = detail::ipaddr_info(host, port, sock.family());
    if (!addr) {
        auto infos = co_await getaddrinfo(host, port, {.family = sock.family(), .type = sock.type()});
        if (infos.empty()) throw GaiError(EAI_NONAME, "getaddrinfo() returned empty list");
        addr = infos.front().addr;
    }
    co_await sock_connect(sock, *addr);
}

Coro<void> EventLoop::sock_connect(Socket& sock, SockAddr address) {
    check_nonblocking(sock, "sock_connect");
    if (::connect(sock.fileno(), address.native(), address.size()) == 0) co_return;
    int err = errno;
    if (err == EINPROGRESS || err == EINTR) {
        co_await wait_fd(*this, sock.fileno(), true);
        err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
        if (err == 0) co_return;
    }
    throw std::system_error(err, std::generic_category(),
                            "[Errno " + std::to_string(err) + "] Connect call failed " +
                                address.to_string());
}

Coro<std::pair<Socket, SockAddr>> EventLoop::sock_accept(Socket& sock) {
    check_nonblocking(sock, "sock_accept");
    for (;;) {
        SockAddr from;
        socklen_t len = from.capacity();
        int fd = ::accept4(sock.fileno(), from.native(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            from.set_size(len);
            co_return std::pair<Socket, SockAddr>(
                Socket::from_fd(fd, sock.family(), sock.type(), sock.proto(), false), from);
        }
        if (!would_block(errno) && errno != ECONNABORTED) detail::throw_os_error(errno, "sock_accept");
        co_await wait_fd(*this, sock.fileno(), false);
    }
}

Coro<std::size_t> EventLoop::sock_sendfile(Socket& sock, int file_fd, std::size_t offset,
                                           std::optional<std::size_t> count, bool fallback) {
    check_nonblocking(sock, "sock_sendfile");
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
    if (!fallback)
        throw SendfileNotAvailableError("os.sendfile() is not available for this file");
    // Read and send in 256 KiB blocks (CPython's _sock_sendfile_fallback uses the same size).
    std::string buf;
    for (;;) {
        std::size_t want = count ? std::min(*count - total, std::size_t{256 * 1024}) : 256 * 1024;
        if (want == 0) break;
        buf.resize(want);
        ssize_t n = ::pread(file_fd, buf.data(), want, off);
        if (n < 0 && errno == ESPIPE) n = ::read(file_fd, buf.data(), want);
        if (n < 0) {
            if (errno == EINTR) continue;
            detail::throw_os_error(errno, "sock_sendfile (read)");
        }
        if (n == 0) break;
        buf.resize(static_cast<std::size_t>(n));
        off += n;
        total += static_cast<std::size_t>(n);
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

Future<std::pair<std::string, std::string>> nameinfo_in_executor(EventLoop& loop,
                                                                 SockAddr address, int flags) {
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
