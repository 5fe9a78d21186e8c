// Sockets and the loop's sock_* methods, getaddrinfo and getnameinfo. Ported from CPython's
// test_asyncio/test_sock_lowlevel.py and test_base_events.py (test names in comments); the
// peers are loopback sockets made in the test.
#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "asyncio_test.hpp"
#include "cancel_harness.hpp"

using namespace asyncio;
using asyncio::testing::loop;
using asyncio::testing::open_fd_count;

namespace {

Socket make_listener(int family = AF_INET) {
    Socket s(family, SOCK_STREAM);
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    s.bind(family == AF_INET6 ? "::1" : "127.0.0.1", 0);
    s.listen(16);
    s.setblocking(false);
    return s;
}

/// A connected pair of non-blocking TCP sockets on loopback.
std::pair<Socket, Socket> tcp_pair() {
    Socket l(AF_INET, SOCK_STREAM);
    l.bind("127.0.0.1", 0);
    l.listen(1);
    Socket c(AF_INET, SOCK_STREAM);
    c.connect("127.0.0.1", l.getsockname().port());
    int fd = ::accept4(l.fileno(), nullptr, nullptr, SOCK_CLOEXEC);
    Socket a = Socket::from_fd(fd);
    a.setblocking(false);
    c.setblocking(false);
    return {std::move(a), std::move(c)};
}

}  // namespace

// --- Socket ---

TEST(Socket, BindsToAFreePortAndReportsHostAndPort) {
    Socket s(AF_INET, SOCK_STREAM);
    s.bind("127.0.0.1", 0);
    EXPECT_EQ(s.getsockname().host(), "127.0.0.1");
    EXPECT_GT(s.getsockname().port(), 0);
    EXPECT_EQ(s.getsockname().family(), AF_INET);
    EXPECT_TRUE(s.getblocking());
    s.setblocking(false);
    EXPECT_FALSE(s.getblocking());
    EXPECT_EQ(s.getsockname().to_string(),
              "('127.0.0.1', " + std::to_string(s.getsockname().port()) + ")");
}

TEST(Socket, Ipv6AddressReadsAsPythonsFourTuple) {
    Socket s(AF_INET6, SOCK_STREAM);
    s.bind("::1", 0);
    EXPECT_EQ(s.getsockname().host(), "::1");
    EXPECT_EQ(s.getsockname().to_string(),
              "('::1', " + std::to_string(s.getsockname().port()) + ", 0, 0)");
}

TEST(Socket, UnixSocketBindsToAPath) {
    std::string path = "/tmp/asyncio-test-sock-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    Socket s(AF_UNIX, SOCK_STREAM);
    s.bind(path);
    EXPECT_EQ(s.getsockname().host(), path);
    EXPECT_EQ(s.getsockname().port(), 0);
    EXPECT_EQ(s.getsockname().to_string(), "'" + path + "'");  // Python: repr of the path str
    ::unlink(path.c_str());
}

TEST(Socket, MoveLeavesTheSourceClosedAndTheDestructorClosesTheFd) {
    int before = open_fd_count();
    {
        Socket a(AF_INET, SOCK_STREAM);
        int fd = a.fileno();
        Socket b = std::move(a);
        EXPECT_EQ(a.fileno(), -1);
        EXPECT_EQ(b.fileno(), fd);
        EXPECT_EQ(open_fd_count(), before + 1);
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Socket, OsErrorsCarryTheErrno) {
    Socket a = make_listener();
    Socket b(AF_INET, SOCK_STREAM);
    try {
        b.bind("127.0.0.1", a.getsockname().port());
        FAIL() << "bind to a port in use succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find("Address already in use"), std::string::npos);
    }
    Socket closed = Socket::closed();
    EXPECT_THROW(closed.listen(), std::system_error);
}

TEST(Socket, ANonNumericAddressIsRefusedBySockAddrInet) {
    EXPECT_THROW(SockAddr::inet("localhost", 80), std::invalid_argument);
    EXPECT_EQ(SockAddr::inet("127.0.0.1", 80).port(), 80);
    EXPECT_THROW(SockAddr::unix_path(std::string(200, 'x')), std::invalid_argument);
}

// --- sock_* ---

// test_sock_lowlevel: test_sock_client_ops / test_sock_accept
ASYNCIO_TEST_REALTIME(SockOps, AcceptConnectSendallAndRecvMakeAnEcho) {
    Socket listener = make_listener();
    int port = listener.getsockname().port();
    auto server = create_task([](Socket& l) -> Coro<std::string> {
        auto [conn, addr] = co_await loop().sock_accept(l);
        EXPECT_EQ(addr.host(), "127.0.0.1");
        EXPECT_FALSE(conn.getblocking());
        std::string all;
        for (;;) {
            std::string data = co_await loop().sock_recv(conn, 1024);
            if (data.empty()) break;
            all += data;
            co_await loop().sock_sendall(conn, data);
        }
        co_return all;
    }(listener));
    Socket c(AF_INET, SOCK_STREAM);
    c.setblocking(false);
    co_await loop().sock_connect(c, "127.0.0.1", port);
    EXPECT_EQ(c.getpeername().port(), port);
    std::string big(200000, 'x');  // larger than the socket buffers: partial sends
    auto sender = create_task(loop().sock_sendall(c, big));
    std::string got;
    char buf[4096];
    while (got.size() < big.size()) {
        std::size_t n = co_await loop().sock_recv_into(c, std::span<char>(buf, sizeof buf));
        CO_ASSERT_TRUE(n > 0);
        got.append(buf, n);
    }
    co_await sender;
    c.shutdown(SHUT_WR);
    EXPECT_EQ(co_await loop().sock_recv(c, 10), "");
    EXPECT_EQ(co_await server, big);
    EXPECT_EQ(got, big);
}

// test_sock_lowlevel: test_sock_client_fail
ASYNCIO_TEST_REALTIME(SockOps, ConnectToAClosedPortRaisesConnectionRefused) {
    int port;
    {
        Socket l = make_listener();
        port = l.getsockname().port();
    }
    Socket c(AF_INET, SOCK_STREAM);
    c.setblocking(false);
    try {
        co_await loop().sock_connect(c, "127.0.0.1", port);
        ADD_FAILURE() << "connect succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
        EXPECT_NE(std::string(e.what()).find("Connect call failed ('127.0.0.1', "),
                  std::string::npos)
            << e.what();
    }
}

// test_base_events: test_sock_*_blocking (BaseSelectorEventLoop._check_sock... ValueError)
ASYNCIO_TEST(SockOps, ABlockingSocketIsInvalidArgument) {
    Socket s(AF_INET, SOCK_STREAM);
    EXPECT_THROW(co_await loop().sock_recv(s, 1), std::invalid_argument);
    EXPECT_THROW(co_await loop().sock_sendall(s, "x"), std::invalid_argument);
    EXPECT_THROW(co_await loop().sock_accept(s), std::invalid_argument);
    EXPECT_THROW(co_await loop().sock_connect(s, "127.0.0.1", 1), std::invalid_argument);
    char b[1];
    EXPECT_THROW(co_await loop().sock_recv_into(s, std::span<char>(b, 1)), std::invalid_argument);
}

// test_sock_lowlevel: test_cancel_sock_accept; the registration goes with the cancel.
ASYNCIO_TEST_REALTIME(SockOps, CancellingRecvLeavesNoRegistrationAndLosesNoBytes) {
    auto [a, b] = tcp_pair();
    auto t = create_task(loop().sock_recv(a, 100));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_FALSE(loop().remove_reader(a.fileno()));  // nothing left registered
    co_await loop().sock_sendall(b, "payload");
    std::string got;
    while (got.size() < 7) got += co_await loop().sock_recv(a, 100);
    EXPECT_EQ(got, "payload");
}

ASYNCIO_TEST_REALTIME(SockOps, CancellingAcceptLeavesNoFdAndNoRegistration) {
    int before = open_fd_count();
    {
        Socket l = make_listener();
        auto t = create_task(loop().sock_accept(l));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_FALSE(loop().remove_reader(l.fileno()));
    }
    EXPECT_EQ(open_fd_count(), before);
}

ASYNCIO_TEST_REALTIME(SockOps, CancellingConnectLeavesNoRegistration) {
    // A connect to a non-routable address stays in progress; cancel it.
    Socket c(AF_INET, SOCK_STREAM);
    c.setblocking(false);
    auto t = create_task(loop().sock_connect(c, "10.255.255.1", 9));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    t.cancel();
    try {
        co_await t;
    } catch (const CancelledError&) {
    } catch (const std::system_error&) {  // no route at all on this machine: fine too
    }
    EXPECT_FALSE(loop().remove_writer(c.fileno()));
}

// test_sock_lowlevel: test_sock_sendto_recvfrom / test_sock_recvfrom_into
ASYNCIO_TEST_REALTIME(SockOps, DatagramsGoBothWaysWithTheirAddresses) {
    Socket a(AF_INET, SOCK_DGRAM);
    a.bind("127.0.0.1", 0);
    a.setblocking(false);
    Socket b(AF_INET, SOCK_DGRAM);
    b.bind("127.0.0.1", 0);
    b.setblocking(false);
    std::size_t sent = co_await loop().sock_sendto(a, "ping", b.getsockname());
    EXPECT_EQ(sent, 4u);
    auto [data, from] = co_await loop().sock_recvfrom(b, 100);
    EXPECT_EQ(data, "ping");
    EXPECT_EQ(from, a.getsockname());
    co_await loop().sock_sendto(b, "pong!", from);
    char buf[16];
    auto [n, from2] = co_await loop().sock_recvfrom_into(a, std::span<char>(buf, sizeof buf));
    EXPECT_EQ(std::string(buf, n), "pong!");
    EXPECT_EQ(from2, b.getsockname());
}

// test_base_events: test_sock_sendfile / test_sock_sendfile_fallback
ASYNCIO_TEST_REALTIME(SockOps, SendfileSendsAFileRangeAndFallsBackForAPipe) {
    char path[] = "/tmp/asyncio-sendfile-XXXXXX";
    int fd = ::mkstemp(path);
    std::string content;
    for (int i = 0; i < 100000; ++i) content += static_cast<char>('a' + i % 26);
    CO_ASSERT_TRUE(::write(fd, content.data(), content.size()) ==
                   static_cast<ssize_t>(content.size()));
    ::unlink(path);
    auto [a, b] = tcp_pair();
    auto reader = [](Socket& s, std::size_t n) -> Coro<std::string> {
        std::string got;
        while (got.size() < n) got += co_await loop().sock_recv(s, 65536);
        co_return got;
    };
    auto r = create_task(reader(b, 50000));
    std::size_t sent = co_await loop().sock_sendfile(a, fd, 1000, 50000);
    EXPECT_EQ(sent, 50000u);
    std::string got = co_await r;
    EXPECT_EQ(got, content.substr(1000, 50000));
    ::close(fd);

    int p[2];
    CO_ASSERT_TRUE(::pipe(p) == 0);
    CO_ASSERT_TRUE(::write(p[1], "through a pipe", 14) == 14);
    ::close(p[1]);
    EXPECT_THROW(co_await loop().sock_sendfile(a, p[0], 0, std::nullopt, false),
                 SendfileNotAvailableError);
    auto r2 = create_task(reader(b, 14));
    sent = co_await loop().sock_sendfile(a, p[0]);
    EXPECT_EQ(sent, 14u);
    got = co_await r2;
    EXPECT_EQ(got, "through a pipe");
    ::close(p[0]);
}

// --- resolution ---

ASYNCIO_TEST_REALTIME(Resolver, GetaddrinfoResolvesLocalhostInTheExecutor) {
    auto infos = co_await loop().getaddrinfo("localhost", 80, {.type = SOCK_STREAM});
    CO_ASSERT_TRUE(!infos.empty());
    for (const auto& ai : infos) {
        EXPECT_EQ(ai.addr.port(), 80);
        EXPECT_TRUE(ai.family == AF_INET || ai.family == AF_INET6);
    }
    co_await loop().shutdown_default_executor();
}

ASYNCIO_TEST_REALTIME(Resolver, ANameThatDoesNotResolveCarriesGetaddrinfosText) {
    try {
        co_await loop().getaddrinfo("no-such-host.invalid", 80);
        ADD_FAILURE() << "resolved";
    } catch (const GaiError& e) {
        EXPECT_NE(std::string(e.what()).find(::gai_strerror(e.code())), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos);
    }
    co_await loop().shutdown_default_executor();
}

ASYNCIO_TEST_REALTIME(Resolver, GetnameinfoGivesNumericHostAndService) {
    auto [host, serv] = co_await loop().getnameinfo(SockAddr::inet("127.0.0.1", 8080),
                                                    NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(serv, "8080");
    co_await loop().shutdown_default_executor();
}

// --- the cancellation harness on sock_recv and sock_accept ---

namespace {

struct SockRecvScenario {
    std::pair<Socket, Socket> p = tcp_pair();
    std::string got;
    Coro<void> victim() { got += co_await loop().sock_recv(p.first, 100); }
    Coro<void> others() {
        co_await loop().sock_sendall(p.second, "abc");
        co_return;
    }
    Coro<void> after_victim(bool cancelled) {
        // Whatever the victim did not take is still there: nothing lost, nothing doubled.
        while (got.size() < 3) got += co_await loop().sock_recv(p.first, 100);
        EXPECT_EQ(got, "abc") << (cancelled ? "cancelled" : "finished");
        EXPECT_FALSE(loop().remove_reader(p.first.fileno()));
    }
    void check(bool) {}
};

struct SockAcceptScenario {
    Socket listener = make_listener();
    Socket client{AF_INET, SOCK_STREAM};
    int accepted = 0;
    Coro<void> victim() {
        auto [conn, addr] = co_await loop().sock_accept(listener);
        ++accepted;
    }
    Coro<void> others() {
        client.setblocking(false);
        co_await loop().sock_connect(client, "127.0.0.1", listener.getsockname().port());
    }
    Coro<void> after_victim(bool) {
        if (accepted == 0) {
            auto [conn, addr] = co_await loop().sock_accept(listener);  // still queued
            ++accepted;
        }
        EXPECT_FALSE(loop().remove_reader(listener.fileno()));
    }
    void check(bool) { EXPECT_EQ(accepted, 1); }
};

}  // namespace

TEST(SockOpsCancellation, SockRecvSweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<SockRecvScenario>(50), 0);
}

TEST(SockOpsCancellation, SockAcceptSweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<SockAcceptScenario>(50), 0);
}
