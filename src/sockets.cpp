#include "asyncio/sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace asyncio {

namespace detail {

void throw_os_error(int err, const std::string& context) {
    // what(): "<context>: [Errno 111] Connection refused" (Python's str(OSError) after the
    // context, so that messages read as Python's do).
    std::string msg = context.empty() ? std::string() : context + ": ";
    msg += "[Errno " + std::to_string(err) + "] " + std::strerror(err);
    throw OSError(err, msg);
}

std::optional<SockAddr> parse_numeric(std::string_view host, int port, int family) {
    std::string h(host);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (family == AF_UNSPEC || family == AF_INET) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        if (h.empty() && family == AF_INET) {
            a.sin_addr.s_addr = htonl(INADDR_ANY);
            return SockAddr::from_native(reinterpret_cast<sockaddr*>(&a), sizeof a);
        }
        if (::inet_pton(AF_INET, h.c_str(), &a.sin_addr) == 1)
            return SockAddr::from_native(reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    if (family == AF_UNSPEC || family == AF_INET6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(static_cast<std::uint16_t>(port));
        if (h.empty() && family == AF_INET6) {
            a.sin6_addr = in6addr_any;
            return SockAddr::from_native(reinterpret_cast<sockaddr*>(&a), sizeof a);
        }
        std::string addr = h;
        auto pct = h.find('%');
        if (pct != std::string::npos) {
            addr = h.substr(0, pct);
            std::string scope = h.substr(pct + 1);
            unsigned idx = ::if_nametoindex(scope.c_str());
            if (idx == 0) {
                char* end = nullptr;
                unsigned long v = std::strtoul(scope.c_str(), &end, 10);
                if (end == scope.c_str() || *end) return std::nullopt;
                idx = static_cast<unsigned>(v);
            }
            a.sin6_scope_id = idx;
        }
        if (::inet_pton(AF_INET6, addr.c_str(), &a.sin6_addr) == 1)
            return SockAddr::from_native(reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    return std::nullopt;
}

std::vector<AddrInfo> getaddrinfo_blocking(const std::string& host, const std::string& port,
                                           const AddrInfoOptions& options) {
    addrinfo hints{};
    hints.ai_family = options.family;
    hints.ai_socktype = options.type;
    hints.ai_protocol = options.proto;
    hints.ai_flags = options.flags;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                           port.empty() ? nullptr : port.c_str(), &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM) throw_os_error(errno, "getaddrinfo");
        throw GaiError(rc, "[Errno " + std::to_string(rc) + "] " + ::gai_strerror(rc) + " (" +
                               (host.empty() ? std::string("None") : host) + ")");
    }
    std::vector<AddrInfo> out;
    for (addrinfo* p = res; p; p = p->ai_next) {
        AddrInfo ai;
        ai.family = p->ai_family;
        ai.type = p->ai_socktype;
        ai.proto = p->ai_protocol;
        if (p->ai_canonname) ai.canonname = p->ai_canonname;
        ai.addr = SockAddr::from_native(p->ai_addr, p->ai_addrlen);
        out.push_back(std::move(ai));
    }
    ::freeaddrinfo(res);
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// SockAddr

SockAddr SockAddr::inet(std::string_view host, int port) {
    if (port < 0 || port > 65535)
        throw std::invalid_argument("port must be 0-65535, got " + std::to_string(port));
    auto a = detail::parse_numeric(host, port, AF_UNSPEC);
    if (!a) throw std::invalid_argument("not a numeric IP address: '" + std::string(host) + "'");
    return *a;
}

SockAddr SockAddr::unix_path(std::string_view path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path)
        throw std::invalid_argument("AF_UNIX path too long (" + std::to_string(path.size()) +
                                    " bytes, at most " + std::to_string(sizeof a.sun_path - 1) +
                                    ")");
    std::memcpy(a.sun_path, path.data(), path.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                           (path.empty() || path[0] != '\0' ? 1 : 0));
    return from_native(reinterpret_cast<sockaddr*>(&a), len);
}

SockAddr SockAddr::from_native(const sockaddr* sa, socklen_t len) noexcept {
    SockAddr out;
    if (len > sizeof out.storage_) len = sizeof out.storage_;
    std::memcpy(&out.storage_, sa, len);
    out.len_ = len;
    return out;
}

std::string SockAddr::host() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    switch (family()) {
        case AF_INET:
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                        sizeof buf);
            return buf;
        case AF_INET6: {
            auto* a = reinterpret_cast<const sockaddr_in6*>(&storage_);
            ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
            std::string s = buf;
            if (a->sin6_scope_id != 0) {
                char name[IF_NAMESIZE] = {};
                s += '%';
                s += ::if_indextoname(a->sin6_scope_id, name) ? name
                                                              : std::to_string(a->sin6_scope_id);
            }
            return s;
        }
        case AF_UNIX: {
            auto* a = reinterpret_cast<const sockaddr_un*>(&storage_);
            std::size_t n =
                len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
            if (n > 0 && a->sun_path[0] != '\0') n = ::strnlen(a->sun_path, n);
            return std::string(a->sun_path, n);
        }
        default: return std::string();
    }
}

int SockAddr::port() const noexcept {
    switch (family()) {
        case AF_INET: return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
        case AF_INET6: return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
        default: return 0;
    }
}

std::string SockAddr::to_string() const {
    switch (family()) {
        case AF_INET: return "('" + host() + "', " + std::to_string(port()) + ")";
        case AF_INET6: {
            auto* a = reinterpret_cast<const sockaddr_in6*>(&storage_);
            return "('" + host() + "', " + std::to_string(port()) + ", " +
                   std::to_string(ntohl(a->sin6_flowinfo)) + ", " +
                   std::to_string(a->sin6_scope_id) + ")";
        }
        case AF_UNIX: {
            // Not "'" + host() + "'": GCC 12 warns (-Wrestrict, a false positive, GCC PR105329)
            // on a literal added to a temporary string.
            std::string out = "'";
            out += host();
            out += '\'';
            return out;
        }
        default: return len_ == 0 ? "None" : "<family " + std::to_string(family()) + ">";
    }
}

bool operator==(const SockAddr& a, const SockAddr& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

// ---------------------------------------------------------------------------------------
// Socket

Socket::Socket(int family, int type, int proto) : family_(family), type_(type), proto_(proto) {
    fd_ = ::socket(family, type | SOCK_CLOEXEC, proto);
    if (fd_ < 0) detail::throw_os_error(errno, "socket");
    blocking_ = (type & SOCK_NONBLOCK) == 0;
    type_ = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
}

Socket Socket::from_fd(int fd) {
    int family = 0, type = 0, proto = 0;
    socklen_t len = sizeof family;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
        detail::throw_os_error(errno, "socket(fileno=" + std::to_string(fd) + ")");
    len = sizeof type;
    ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof proto;
    ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
    Socket s(adopt, fd, family, type, proto);
    int flags = ::fcntl(fd, F_GETFL);
    s.blocking_ = flags >= 0 && (flags & O_NONBLOCK) == 0;
    return s;
}

int Socket::checked_fd(const char* op) const {
    if (fd_ < 0)
        throw OSError(EBADF,
                      std::string(op) + ": [Errno 9] Bad file descriptor (socket is closed)");
    return fd_;
}

void Socket::setsockopt(int level, int option, int value) {
    if (::setsockopt(checked_fd("setsockopt"), level, option, &value, sizeof value) < 0)
        detail::throw_os_error(errno, "setsockopt");
}

int Socket::getsockopt(int level, int option) const {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(checked_fd("getsockopt"), level, option, &value, &len) < 0)
        detail::throw_os_error(errno, "getsockopt");
    return value;
}

void Socket::bind(std::string_view host, int port) {
    checked_fd("bind");
    if (family_ == AF_UNIX) throw std::invalid_argument("bind(host, port) on an AF_UNIX socket");
    auto a = detail::parse_numeric(host, port, family_);
    if (!a) {
        auto infos = detail::getaddrinfo_blocking(std::string(host), std::to_string(port),
                                                  {.family = family_, .type = type_});
        if (infos.empty()) throw GaiError(EAI_NONAME, "no address for '" + std::string(host) + "'");
        a = infos.front().addr;
    }
    bind(*a);
}

void Socket::bind(std::string_view path) {
    if (family_ != AF_UNIX)
        throw std::invalid_argument("bind(path) needs an AF_UNIX socket (use bind(host, port))");
    bind(SockAddr::unix_path(path));
}

void Socket::bind(const SockAddr& addr) {
    if (::bind(checked_fd("bind"), addr.native(), addr.size()) < 0)
        detail::throw_os_error(errno, "bind " + addr.to_string());
}

void Socket::listen(int backlog) {
    if (::listen(checked_fd("listen"), backlog) < 0) detail::throw_os_error(errno, "listen");
}

void Socket::connect(std::string_view host, int port) {
    checked_fd("connect");
    auto a = detail::parse_numeric(host, port, family_);
    if (!a) {
        auto infos = detail::getaddrinfo_blocking(std::string(host), std::to_string(port),
                                                  {.family = family_, .type = type_});
        if (infos.empty()) throw GaiError(EAI_NONAME, "no address for '" + std::string(host) + "'");
        a = infos.front().addr;
    }
    connect(*a);
}

void Socket::connect(const SockAddr& addr) {
    if (::connect(checked_fd("connect"), addr.native(), addr.size()) < 0)
        detail::throw_os_error(errno, "connect " + addr.to_string());
}

void Socket::setblocking(bool flag) {
    int fd = checked_fd("setblocking");
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) detail::throw_os_error(errno, "setblocking");
    int want = flag ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
    if (want != flags && ::fcntl(fd, F_SETFL, want) < 0)
        detail::throw_os_error(errno, "setblocking");
    blocking_ = flag;
}

SockAddr Socket::getsockname() const {
    SockAddr a;
    socklen_t len = a.capacity();
    if (::getsockname(checked_fd("getsockname"), a.native(), &len) < 0)
        detail::throw_os_error(errno, "getsockname");
    a.set_size(len);
    return a;
}

SockAddr Socket::getpeername() const {
    SockAddr a;
    socklen_t len = a.capacity();
    if (::getpeername(checked_fd("getpeername"), a.native(), &len) < 0)
        detail::throw_os_error(errno, "getpeername");
    a.set_size(len);
    return a;
}

void Socket::close() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void Socket::shutdown(int how) {
    if (::shutdown(checked_fd("shutdown"), how) < 0) detail::throw_os_error(errno, "shutdown");
}

}  // namespace asyncio
