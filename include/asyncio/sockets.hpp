// Sockets: the part of Python's socket module that the loop's sock_* methods, servers and
// transports need. A Socket owns one file descriptor (closed in its destructor, movable, not
// copyable); a SockAddr is an address of any family (IPv4, IPv6, Unix) with Python's
// (host, port) reading. Addresses given as text are numeric here (no name lookup: use
// loop.getaddrinfo, which runs in the default executor); Socket::bind and connect also accept
// a name and then resolve it synchronously, as Python's socket does.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "asyncio/exceptions.hpp"

namespace asyncio {

/// A socket address of any family. Python: the address tuples ('host', port),
/// ('host', port, flowinfo, scope_id) and the path string of a Unix socket.
class SockAddr {
  public:
    SockAddr() noexcept = default;
    /// From a numeric host ("127.0.0.1", "::1", "fe80::1%lo") and a port.
    /// Errors: std::invalid_argument when `host` is not a numeric address.
    static SockAddr inet(std::string_view host, int port);
    /// A Unix socket path; a leading '\0' names Linux's abstract namespace.
    /// Errors: std::invalid_argument when the path is too long.
    static SockAddr unix_path(std::string_view path);
    /// Copies `len` bytes of a kernel address.
    static SockAddr from_native(const sockaddr* sa, socklen_t len) noexcept;

    int family() const noexcept { return storage_.ss_family; }
    /// The numeric host ("127.0.0.1", "::1"), or the path of a Unix address.
    std::string host() const;
    /// The port (0 for a Unix address).
    int port() const noexcept;
    /// Python's repr of the address: "('127.0.0.1', 8080)", "('::1', 80, 0, 0)", "'/path'".
    std::string to_string() const;
    bool empty() const noexcept { return len_ == 0; }

    const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* native() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    /// Room for the kernel to write an address into (accept, recvfrom, getsockname).
    socklen_t capacity() const noexcept { return sizeof storage_; }
    void set_size(socklen_t len) noexcept { len_ = len; }

    friend bool operator==(const SockAddr& a, const SockAddr& b) noexcept;

  private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

/// A socket: owns its fd and closes it when destroyed. Python: socket.socket.
///
/// Made blocking, as Python makes it; sockets handed out by the loop (sock_accept,
/// create_connection) are non-blocking. Moves leave the source closed (fileno() == -1).
/// Errors: every OS failure is a std::system_error carrying the errno (Python's OSError and
/// its subclasses: ECONNREFUSED is ConnectionRefusedError, EADDRINUSE ...).
/// Thread safety: like any object, one thread at a time.
class Socket {
  public:
    /// Opens a new socket. Python: socket.socket(family, type, proto).
    explicit Socket(int family = AF_INET, int type = SOCK_STREAM, int proto = 0);
    /// Adopts `fd` (an open socket); its family and type are read from the kernel.
    /// Python: socket.socket(fileno=fd).
    static Socket from_fd(int fd);
    /// Adopts `fd` whose family, type and mode the caller knows (no system call).
    static Socket from_fd(int fd, int family, int type, int proto, bool blocking) noexcept {
        Socket s(adopt, fd, family, type, proto);
        s.blocking_ = blocking;
        return s;
    }
    /// An empty (closed) socket.
    static Socket closed() noexcept { return Socket(adopt, -1, 0, 0, 0); }
    ~Socket() { close(); }
    Socket(Socket&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)),
          family_(o.family_),
          type_(o.type_),
          proto_(o.proto_),
          blocking_(o.blocking_) {}
    Socket& operator=(Socket&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            family_ = o.family_;
            type_ = o.type_;
            proto_ = o.proto_;
            blocking_ = o.blocking_;
        }
        return *this;
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    /// Python: setsockopt(level, option, value) with an int value.
    void setsockopt(int level, int option, int value);
    int getsockopt(int level, int option) const;
    /// Binds to a host (numeric, or a name resolved now) and port. Python: bind((host, port)).
    void bind(std::string_view host, int port);
    /// Binds a Unix socket to `path`. Python: bind(path).
    void bind(std::string_view path);
    void bind(const SockAddr& addr);
    /// Python: listen(backlog).
    void listen(int backlog = 128);
    /// Blocking connect (a non-blocking socket raises EINPROGRESS: use loop.sock_connect).
    void connect(std::string_view host, int port);
    void connect(const SockAddr& addr);
    /// Python: setblocking(flag) / getblocking().
    void setblocking(bool flag);
    bool getblocking() const noexcept { return blocking_; }
    SockAddr getsockname() const;
    SockAddr getpeername() const;
    int fileno() const noexcept { return fd_; }
    int family() const noexcept { return family_; }
    int type() const noexcept { return type_; }
    int proto() const noexcept { return proto_; }
    /// Closes the fd (idempotent, never throws).
    void close() noexcept;
    /// Gives up the fd without closing it. Python: detach().
    int detach() noexcept { return std::exchange(fd_, -1); }
    /// Python: shutdown(how) with SHUT_RD / SHUT_WR / SHUT_RDWR.
    void shutdown(int how);
    explicit operator bool() const noexcept { return fd_ >= 0; }

  private:
    struct adopt_t {};
    static constexpr adopt_t adopt{};
    Socket(adopt_t, int fd, int family, int type, int proto) noexcept
        : fd_(fd), family_(family), type_(type), proto_(proto) {}
    int checked_fd(const char* op) const;

    int fd_ = -1;
    int family_ = 0;
    int type_ = 0;
    int proto_ = 0;
    bool blocking_ = true;
};

/// One result of getaddrinfo. Python: the tuple (family, type, proto, canonname, sockaddr).
struct AddrInfo {
    int family = 0;
    int type = 0;
    int proto = 0;
    std::string canonname;
    SockAddr addr;
};

/// Keyword arguments of getaddrinfo. Python: getaddrinfo(host, port, *, family=0, type=0,
/// proto=0, flags=0).
struct AddrInfoOptions {
    int family = AF_UNSPEC;
    int type = 0;
    int proto = 0;
    int flags = 0;
};

/// A name that does not resolve. Python: socket.gaierror; what() carries getaddrinfo's text
/// ("[Errno -2] Name or service not known"), code() the EAI_* value.
class GaiError : public std::runtime_error {
  public:
    GaiError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

  private:
    int code_;
};

/// An OS error with Python's text: a std::system_error (catch it as one: `e.code().value()`
/// is the errno) whose what() reads as Python's str(OSError), "[Errno 111] Connect call
/// failed ('127.0.0.1', 1)". errno 0 stands for Python's OSError without an errno.
class OSError : public std::system_error {
  public:
    OSError(int err, std::string message)
        : std::system_error(err, std::generic_category()), message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }

  private:
    std::string message_;
};

/// loop.sock_sendfile(..., fallback=false) where sendfile(2) cannot serve the file.
/// Python: asyncio.SendfileNotAvailableError (a RuntimeError).
class SendfileNotAvailableError : public RuntimeError {
  public:
    using RuntimeError::RuntimeError;
};

namespace detail {
/// getaddrinfo(3), blocking; throws GaiError. An empty host means no host (None).
std::vector<AddrInfo> getaddrinfo_blocking(const std::string& host, const std::string& port,
                                           const AddrInfoOptions& options);
/// Numeric host only, without a system call; nullopt when `host` needs a lookup.
std::optional<SockAddr> parse_numeric(std::string_view host, int port, int family);
/// Python's errno text: "[Errno 111] Connection refused".
[[noreturn]] void throw_os_error(int err, const std::string& context);
}  // namespace detail

}  // namespace asyncio
