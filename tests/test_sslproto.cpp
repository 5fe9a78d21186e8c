// The TLS protocol layer (CPython's sslproto.SSLProtocol) driven in memory: two SSLProtocols
// joined by a fake transport pair on a virtual-time loop. Ported in our own words from
// CPython's Lib/test/test_asyncio/test_sslproto.py (names in comments).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/resource.h>
#include <algorithm>
#include <asyncio/asyncio.hpp>
#include <asyncio/detail/sslproto.hpp>
#include <memory>
#include <string>
#include <vector>

#include "asyncio_test.hpp"
#include "peer_process.hpp"
#include "test_certs.hpp"

namespace ssl = asyncio::ssl;
using asyncio::detail::SSLProtocol;
using asyncio::detail::SSLProtocolOptions;
using asyncio::detail::SSLProtocolState;
using asyncio::testing::loop;
using asyncio::testing::test_certs;

using asyncio::testing::python;
using asyncio::testing::read_port;

namespace {

ssl::SSLContext client_context() {
    return ssl::create_default_context(ssl::Purpose::SERVER_AUTH,
                                       {.cafile = test_certs()("ca.pem")});
}

ssl::SSLContext server_context(const std::string& cert = "server") {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(test_certs()(cert + ".pem"), test_certs()(cert + ".key"));
    return ctx;
}

// Records what the TLS layer tells the application.
struct App : asyncio::detail::TLSApp {
    std::vector<std::string> events;
    std::string data;
    bool echo = false;
    SSLProtocol* proto = nullptr;
    std::exception_ptr lost_exc;
    bool lost = false;

    void connection_made() override { events.push_back("made"); }
    void data_received(std::string_view d) override {
        data += d;
        if (echo) proto->app_write(d);
    }
    bool eof_received() override {
        events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr exc) override {
        events.push_back("lost");
        lost = true;
        lost_exc = exc;
    }
    void pause_writing() override { events.push_back("pause_writing"); }
    void resume_writing() override { events.push_back("resume_writing"); }
};

// One end of an in-memory byte pipe: writes reach the peer's protocol in a later callback;
// close() sends EOF after the bytes, force_close() drops them. Either ends with
// connection_lost on both sides, as a socket pair would.
struct FakeTransport : asyncio::detail::TLSLower {
    std::shared_ptr<SSLProtocol> proto;  // owns the protocol, as a transport does
    FakeTransport* peer = nullptr;
    bool closed = false;
    bool deaf = false;  // swallow what is written (a peer that never answers)
    bool reading = true;
    std::string held;  // bytes that arrived while reading was paused
    bool eof_held = false;
    std::vector<std::string> calls;
    std::size_t written = 0;

    void write(std::string_view data) override {
        if (closed) return;
        written += data.size();
        if (deaf || !peer) return;
        loop().call_soon([p = peer, d = std::string(data)] { p->deliver(d); });
    }
    void deliver(const std::string& d) {
        if (closed) return;
        if (!reading) {
            held += d;
            return;
        }
        proto->data_received(d);
    }
    void deliver_eof() {
        if (closed) return;
        if (!reading) {
            eof_held = true;
            return;
        }
        if (!proto->eof_received()) close();
    }
    void pause_reading() override {
        calls.push_back("pause_reading");
        reading = false;
    }
    void resume_reading() override {
        calls.push_back("resume_reading");
        reading = true;
        if (!held.empty()) {
            std::string d;
            d.swap(held);
            proto->data_received(d);
        }
        if (eof_held) deliver_eof();
    }
    void close() override {
        if (closed) return;
        calls.push_back("close");
        closed = true;
        if (peer && !deaf) loop().call_soon([p = peer] { p->deliver_eof(); });
        loop().call_soon([self = proto] { self->connection_lost(nullptr); });
    }
    void force_close(std::exception_ptr exc) override {
        if (closed) return;
        calls.push_back("force_close");
        closed = true;
        if (peer && !deaf) loop().call_soon([p = peer] { p->deliver_eof(); });
        loop().call_soon([self = proto, exc] { self->connection_lost(exc); });
    }
    std::any get_extra_info(const std::string& name) const override {
        if (name == "peername") return std::string("memory");
        return {};
    }
};

struct End {
    std::shared_ptr<App> app = std::make_shared<App>();
    asyncio::Future<void> waiter = loop().create_future<void>();
    FakeTransport transport;
    std::shared_ptr<SSLProtocol> proto;

    End(ssl::SSLContext ctx, SSLProtocolOptions options) {
        proto =
            std::make_shared<SSLProtocol>(loop(), app, std::move(ctx), waiter, std::move(options));
        app->proto = proto.get();
        transport.proto = proto;
    }
    ~End() { transport.proto = nullptr; }
};

struct Pair {
    End client;
    End server;
    Pair(ssl::SSLContext cctx = client_context(), ssl::SSLContext sctx = server_context(),
         SSLProtocolOptions copts = {.server_hostname = "localhost"},
         SSLProtocolOptions sopts = {.server_side = true})
        : client(std::move(cctx), std::move(copts)), server(std::move(sctx), std::move(sopts)) {
        client.transport.peer = &server.transport;
        server.transport.peer = &client.transport;
    }
    void connect() {
        server.proto->connection_made(&server.transport);
        client.proto->connection_made(&client.transport);
    }
};

template <class E>
std::string error_text(const asyncio::Future<void>& f) {
    try {
        f.result();
    } catch (const E& e) {
        return e.what();
    } catch (...) {
        return "<other exception>";
    }
    return "<no exception>";
}

asyncio::Coro<void> settle(int rounds = 20) {
    for (int i = 0; i < rounds; ++i) co_await asyncio::sleep(0);
}

}  // namespace

// CPython: test_sslproto.py BaseStartTLS.test_start_tls_client_buf_proto_1 (handshake, data)
ASYNCIO_TEST(SSLProtocol, HandshakeThenEchoThroughTheAppTransport) {
    Pair p;
    p.server.app->echo = true;
    p.connect();
    co_await p.client.waiter;
    co_await p.server.waiter;
    EXPECT_EQ(p.client.proto->state(), SSLProtocolState::WRAPPED);
    EXPECT_EQ(p.client.app->events, std::vector<std::string>{"made"});
    p.client.proto->app_write("ping");
    co_await settle();
    EXPECT_EQ(p.server.app->data, "ping");
    EXPECT_EQ(p.client.app->data, "ping");

    // Extra info after the handshake.
    auto cert = std::any_cast<ssl::Certificate>(p.client.proto->get_extra_info("peercert"));
    EXPECT_EQ(cert.common_name(), "localhost");
    auto cipher = std::any_cast<ssl::Cipher>(p.client.proto->get_extra_info("cipher"));
    EXPECT_EQ(cipher.protocol, "TLSv1.3");
    EXPECT_FALSE(p.client.proto->get_extra_info("compression").has_value());
    EXPECT_FALSE(p.client.proto->get_extra_info("selected_alpn_protocol").has_value());
    auto obj = std::any_cast<ssl::SSLObject>(p.client.proto->get_extra_info("ssl_object"));
    EXPECT_EQ(obj.version(), "TLSv1.3");
    EXPECT_TRUE(std::any_cast<ssl::SSLContext>(p.client.proto->get_extra_info("sslcontext")) ==
                p.client.proto->ssl_object().context());
    EXPECT_EQ(std::any_cast<std::string>(p.client.proto->get_extra_info("peername")), "memory");
    EXPECT_EQ(std::any_cast<int>(p.client.proto->get_extra_info("nope", 7)), 7);
    EXPECT_FALSE(p.server.proto->get_extra_info("peercert").has_value());  // no client cert

    p.client.proto->app_close();
    co_await settle();
}

ASYNCIO_TEST(SSLProtocol, AlpnIsInTheExtraInfo) {
    auto cctx = client_context();
    cctx.set_alpn_protocols({"h2", "http/1.1"});
    auto sctx = server_context();
    sctx.set_alpn_protocols({"http/1.1"});
    Pair p(cctx, sctx);
    p.connect();
    co_await p.client.waiter;
    EXPECT_EQ(std::any_cast<std::string>(p.client.proto->get_extra_info("selected_alpn_protocol")),
              "http/1.1");
    p.client.proto->app_close();
    co_await settle();
}

// Data written before the handshake completes is queued, then sent.
ASYNCIO_TEST(SSLProtocol, WritesBeforeTheHandshakeAreSentAfterIt) {
    Pair p;
    p.connect();
    p.client.proto->app_write("early ");
    p.client.proto->app_write("bird");
    EXPECT_EQ(p.client.proto->app_get_write_buffer_size(), 10u);
    co_await p.client.waiter;
    co_await settle();
    EXPECT_EQ(p.server.app->data, "early bird");
    p.client.proto->app_close();
    co_await settle();
}

// CPython: test_close_during_handshake / data in flight at close(): flushed, then close_notify.
ASYNCIO_TEST(SSLProtocol, CloseFlushesDataThenSendsCloseNotify) {
    Pair p;
    p.connect();
    co_await p.client.waiter;
    std::string big(300 * 1024, 'x');
    p.client.proto->app_write(big);
    p.client.proto->app_write("end");
    p.client.proto->app_close();
    EXPECT_TRUE(p.client.proto->app_is_closing());
    p.client.proto->app_write("dropped");  // after close: ignored, as in CPython
    co_await settle(50);
    EXPECT_EQ(p.server.app->data.size(), big.size() + 3);
    EXPECT_EQ(p.server.app->data.substr(big.size()), "end");
    EXPECT_EQ(p.server.app->events, (std::vector<std::string>{"made", "eof", "lost"}));
    // The side that closed also sees eof_received when the peer's close_notify arrives
    // (CPython: _do_shutdown calls _call_eof_received).
    EXPECT_EQ(p.client.app->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(p.client.app->lost_exc);
    EXPECT_FALSE(p.server.app->lost_exc);
    // Both closed the transport below normally (no force_close).
    EXPECT_EQ(p.client.transport.calls, std::vector<std::string>{"close"});
    EXPECT_EQ(p.server.transport.calls, std::vector<std::string>{"close"});
}

// A peer that closes the connection without close_notify: CPython's SSLProtocol treats the
// transport's EOF as the end (eof_received, then connection_lost(None)).
ASYNCIO_TEST(SSLProtocol, TransportEofWithoutCloseNotifyEndsTheStream) {
    Pair p;
    p.connect();
    co_await p.client.waiter;
    p.server.proto->app_write("bye");
    co_await settle();
    p.server.transport.deaf = true;  // no close_notify reaches the client
    p.server.transport.closed = true;
    p.client.transport.deliver_eof();
    co_await settle();
    EXPECT_EQ(p.client.app->data, "bye");
    EXPECT_EQ(p.client.app->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(p.client.app->lost_exc);
    p.server.proto->connection_lost(nullptr);
    co_await settle();
}

// CPython: test_handshake_timeout
ASYNCIO_TEST(SSLProtocol, AHandshakeThatNeverCompletesTimesOut) {
    End client(client_context(), {.server_hostname = "localhost", .ssl_handshake_timeout = 5});
    client.transport.deaf = true;  // nobody answers the ClientHello
    double start = loop().time();
    client.proto->connection_made(&client.transport);
    EXPECT_GT(client.transport.written, 0u);  // the ClientHello went out
    try {
        co_await client.waiter;
        ADD_FAILURE() << "expected a TimeoutError";
    } catch (const asyncio::TimeoutError& e) {
        EXPECT_STREQ(e.what(),
                     "SSL handshake is taking longer than 5.0 seconds: aborting the connection");
    }
    EXPECT_NEAR(loop().time() - start, 5.0, 1e-6);
    EXPECT_EQ(client.transport.calls, std::vector<std::string>{"force_close"});
    EXPECT_TRUE(client.app->events.empty());  // the application never saw a connection
    EXPECT_EQ(client.proto->state(), SSLProtocolState::UNWRAPPED);
}

ASYNCIO_TEST(SSLProtocol, TheDefaultHandshakeTimeoutIsSixtySeconds) {
    End client(client_context(), {.server_hostname = "localhost"});
    client.transport.deaf = true;
    double start = loop().time();
    client.proto->connection_made(&client.transport);
    EXPECT_THROW(co_await client.waiter, asyncio::TimeoutError);
    EXPECT_NEAR(loop().time() - start, 60.0, 1e-6);
}

// CPython: test_shutdown_timeout (the peer never answers our close_notify)
ASYNCIO_TEST(SSLProtocol, AShutdownThePeerNeverAnswersTimesOut) {
    Pair p(client_context(), server_context(),
           {.server_hostname = "localhost", .ssl_shutdown_timeout = 3}, {.server_side = true});
    p.connect();
    co_await p.client.waiter;
    co_await settle();
    p.client.transport.deaf = true;  // our close_notify is lost
    double start = loop().time();
    p.client.proto->app_close();
    for (int i = 0; i < 1000 && !p.client.app->lost; ++i) co_await asyncio::sleep(0.01);
    EXPECT_NEAR(loop().time() - start, 3.0, 0.02);
    EXPECT_EQ(p.client.transport.calls, std::vector<std::string>{"force_close"});
    try {
        std::rethrow_exception(p.client.app->lost_exc);
    } catch (const asyncio::TimeoutError& e) {
        EXPECT_STREQ(e.what(), "SSL shutdown timed out");
    } catch (...) {
        ADD_FAILURE() << "expected a TimeoutError";
    }
    p.server.proto->app_abort();
    co_await settle();
}

ASYNCIO_TEST(SSLProtocol, ACertificateFailureFailsTheWaiterWithoutAReport) {
    Pair p(client_context(), server_context("other"));
    p.connect();
    std::string text = "<none>";
    try {
        co_await p.client.waiter;
    } catch (const ssl::SSLCertVerificationError& e) {
        text = e.what();
    }
    EXPECT_NE(text.find("certificate verify failed: hostname mismatch"), std::string::npos) << text;
    EXPECT_THROW(co_await p.server.waiter, ssl::SSLError);  // the client's alert
    co_await settle();
    EXPECT_TRUE(p.client.app->events.empty());
    EXPECT_TRUE(p.server.app->events.empty());
    EXPECT_TRUE(asyncio::testing::take_reports().empty());  // a peer's failure is not a bug
}

ASYNCIO_TEST(SSLProtocol, EofDuringTheHandshakeIsAConnectionReset) {
    End client(client_context(), {.server_hostname = "localhost"});
    client.transport.deaf = true;
    client.proto->connection_made(&client.transport);
    client.transport.deliver_eof();
    try {
        co_await client.waiter;
        ADD_FAILURE() << "expected an error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNRESET);
    }
    co_await settle();
}

ASYNCIO_TEST(SSLProtocol, CloseDuringTheHandshakeAborts) {
    End client(client_context(), {.server_hostname = "localhost"});
    client.transport.deaf = true;
    client.proto->connection_made(&client.transport);
    client.proto->app_close();
    co_await settle();
    EXPECT_EQ(client.transport.calls, std::vector<std::string>{"force_close"});
    EXPECT_TRUE(client.waiter.done());
    EXPECT_TRUE(client.app->events.empty());
}

// start_tls: the application protocol is already connected (no second connection_made).
ASYNCIO_TEST(SSLProtocol, StartTlsModeDoesNotCallConnectionMade) {
    Pair p(client_context(), server_context(),
           {.server_hostname = "localhost", .call_connection_made = false},
           {.server_side = true, .call_connection_made = false});
    p.connect();
    co_await p.client.waiter;
    co_await p.server.waiter;
    EXPECT_TRUE(p.client.app->events.empty());
    p.client.proto->app_write("hi");
    co_await settle();
    EXPECT_EQ(p.server.app->data, "hi");
    p.client.proto->app_close();
    co_await settle();
    EXPECT_EQ(p.server.app->events, (std::vector<std::string>{"eof", "lost"}));
}

// Flow control of writes: the transport below pauses, TLS records pile up in the outgoing
// BIO, the application is paused at the high-water mark and resumed at the low one.
ASYNCIO_TEST(SSLProtocol, AFullTransportPausesTheApplicationsWrites) {
    Pair p;
    p.connect();
    co_await p.client.waiter;
    p.client.proto->app_set_write_buffer_limits(64 * 1024);
    EXPECT_EQ(p.client.proto->app_get_write_buffer_limits(),
              (std::pair<std::size_t, std::size_t>(16 * 1024, 64 * 1024)));
    p.client.proto->pause_writing();  // the socket is full
    p.client.proto->app_write(std::string(40 * 1024, 'a'));
    EXPECT_TRUE(p.client.app->events.size() == 1);  // still below the mark
    p.client.proto->app_write(std::string(40 * 1024, 'b'));
    EXPECT_EQ(p.client.app->events.back(), "pause_writing");
    EXPECT_GE(p.client.proto->app_get_write_buffer_size(), 80u * 1024);
    p.client.proto->resume_writing();  // the socket drained
    EXPECT_EQ(p.client.app->events.back(), "resume_writing");
    EXPECT_EQ(p.client.proto->app_get_write_buffer_size(), 0u);
    co_await settle();
    EXPECT_EQ(p.server.app->data.size(), 80u * 1024);
    p.client.proto->app_close();
    co_await settle();
}

// Flow control of reads: the application pauses reading, the encrypted bytes stay in the
// incoming BIO, and above its high-water mark the transport below is paused.
ASYNCIO_TEST(SSLProtocol, APausedApplicationPausesTheTransportBelow) {
    Pair p;
    p.connect();
    co_await p.client.waiter;
    co_await p.server.waiter;
    p.server.proto->app_set_read_buffer_limits(32 * 1024);
    p.server.proto->app_pause_reading();
    EXPECT_FALSE(p.server.proto->app_is_reading());
    p.client.proto->app_write(std::string(100 * 1024, 'z'));
    co_await settle();
    EXPECT_EQ(p.server.app->data.size(), 0u);
    EXPECT_GE(p.server.proto->app_get_read_buffer_size(), 32u * 1024);
    EXPECT_EQ(p.server.transport.calls, std::vector<std::string>{"pause_reading"});
    p.server.proto->app_resume_reading();
    co_await settle();
    EXPECT_EQ(p.server.app->data.size(), 100u * 1024);
    EXPECT_EQ(p.server.transport.calls,
              (std::vector<std::string>{"pause_reading", "resume_reading"}));
    p.client.proto->app_close();
    co_await settle();
}

ASYNCIO_TEST(SSLProtocol, AbortClosesAtOnce) {
    Pair p;
    p.connect();
    co_await p.client.waiter;
    p.client.proto->app_write("lost");
    p.client.proto->app_abort();
    co_await settle();
    EXPECT_EQ(p.client.transport.calls, std::vector<std::string>{"force_close"});
    EXPECT_EQ(p.client.app->events, (std::vector<std::string>{"made", "lost"}));
}

// An application that closes from inside data_received while more records are pending.
ASYNCIO_TEST(SSLProtocol, CloseFromInsideDataReceivedIsSafe) {
    struct Closer : App {
        void data_received(std::string_view d) override {
            std::string copy(d);
            proto->app_close();
            data += copy;
            EXPECT_EQ(std::string(d), copy);  // the view stayed valid
        }
    };
    Pair p;
    auto closer = std::make_shared<Closer>();
    closer->proto = p.server.proto.get();
    p.server.proto->set_app(closer);
    p.connect();
    co_await p.client.waiter;
    p.client.proto->app_write(std::string(600 * 1024, 'q'));
    co_await settle(50);
    EXPECT_FALSE(closer->data.empty());
    EXPECT_EQ(closer->events.back(), "lost");
    co_await settle();
}

// An application with a buffer of its own gets the bytes decrypted straight into it, in
// pieces as small as its buffer (smaller than a TLS record), never through data_received.
// CPython: test_sslproto.py test_buf_feed_data / BaseStartTLS.test_start_tls_client_buf_proto_1.
ASYNCIO_TEST(SSLProtocol, ABufferedApplicationGetsBytesInItsOwnSmallBuffer) {
    struct Buffered : App {
        char buf[100];
        std::size_t max_chunk = 0;
        std::size_t copied = 0;
        std::vector<std::size_t> hints;
        std::span<char> get_buffer(std::size_t sizehint) override {
            hints.push_back(sizehint);
            return {buf, sizeof buf};
        }
        void buffer_updated(std::size_t n) override {
            max_chunk = std::max(max_chunk, n);
            std::string_view d(buf, n);
            data += d;
            if (echo) proto->app_write(d);
        }
        void data_received(std::string_view d) override {
            copied += d.size();
            App::data_received(d);
        }
    };
    Pair p;
    auto server = std::make_shared<Buffered>();
    server->proto = p.server.proto.get();
    server->echo = true;
    p.server.proto->set_app(server);
    auto client = std::make_shared<Buffered>();
    client->proto = p.client.proto.get();
    p.client.proto->set_app(client);
    p.connect();
    co_await p.client.waiter;
    std::string big;
    for (int i = 0; i < 40 * 1024; ++i) big += static_cast<char>('a' + i % 26);
    p.client.proto->app_write(big);  // three records
    co_await settle(50);
    EXPECT_EQ(server->data, big);
    EXPECT_EQ(client->data, big);  // echoed from inside buffer_updated
    EXPECT_EQ(server->max_chunk, 100u);
    EXPECT_EQ(server->copied + client->copied, 0u);
    CO_ASSERT_TRUE(!server->hints.empty());
    EXPECT_GT(server->hints.front(), 0u);  // what is waiting to be decrypted
    p.client.proto->app_close();
    co_await settle(50);
    EXPECT_EQ(server->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_EQ(client->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(server->lost_exc);
}

// CPython: _app_protocol_get_buffer raises RuntimeError for an empty buffer: a fatal error
// of the connection, which the application learns in connection_lost.
ASYNCIO_TEST(SSLProtocol, AnEmptyApplicationBufferIsAFatalError) {
    struct NoRoom : App {
        std::span<char> get_buffer(std::size_t) override {
            throw asyncio::RuntimeError("get_buffer() returned an empty buffer");
        }
    };
    Pair p;
    auto server = std::make_shared<NoRoom>();
    server->proto = p.server.proto.get();
    p.server.proto->set_app(server);
    p.connect();
    co_await p.client.waiter;
    p.client.proto->app_write("x");
    co_await settle(50);
    EXPECT_TRUE(server->data.empty());
    EXPECT_EQ(p.server.transport.calls, std::vector<std::string>{"force_close"});
    EXPECT_EQ(server->events.back(), "lost");
    EXPECT_TRUE(server->lost_exc);
    co_await settle();
    // Not a connection error: reported, as CPython's _fatal_error does.
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Fatal error on SSL protocol");
}

// CPython: test_sslproto.py SslProtoHandshakeTests (bad arguments)
TEST(SSLProtocol, TimeoutsMustBePositive) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop();
    auto app = std::make_shared<App>();
    EXPECT_THROW(SSLProtocol(*l, app, client_context(), {},
                             {.server_hostname = "localhost", .ssl_handshake_timeout = 0}),
                 std::invalid_argument);
    EXPECT_THROW(SSLProtocol(*l, app, client_context(), {},
                             {.server_hostname = "localhost", .ssl_shutdown_timeout = -1}),
                 std::invalid_argument);
    asyncio::testing::close_and_check(l, fds);
}

// ---------------------------------------------------------------------------------------
// Real peers over loopback sockets: openssl s_server / s_client and CPython's asyncio.
// The TLS layer runs here over a minimal socket transport written for these tests (the
// library's socket transports belong to the networking layer); it only moves bytes.

namespace {

struct SocketLower : asyncio::detail::TLSLower, std::enable_shared_from_this<SocketLower> {
    int fd;
    std::shared_ptr<SSLProtocol> proto;
    std::string wbuf;
    bool closing = false;
    bool closed = false;
    bool reading = false;

    SocketLower(int fd, std::shared_ptr<SSLProtocol> p) : fd(fd), proto(std::move(p)) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    void start() {
        resume_reading();
        proto->connection_made(this);
    }
    void on_readable() {
        char buf[65536];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            proto->data_received(std::string_view(buf, static_cast<std::size_t>(n)));
        } else if (n == 0) {
            pause_reading();
            if (!proto->eof_received()) close();
        } else if (errno != EAGAIN && errno != EINTR) {
            force_close(std::make_exception_ptr(std::system_error(errno, std::generic_category())));
        }
    }
    void on_writable() {
        ssize_t n = ::send(fd, wbuf.data(), wbuf.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            force_close(std::make_exception_ptr(std::system_error(errno, std::generic_category())));
            return;
        }
        if (n > 0) wbuf.erase(0, static_cast<std::size_t>(n));
        if (wbuf.empty()) {
            loop().remove_writer(fd);
            if (closing) finish(nullptr);
        }
    }
    void write(std::string_view data) override {
        if (closed) return;
        if (wbuf.empty()) {
            ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN) {
                force_close(
                    std::make_exception_ptr(std::system_error(errno, std::generic_category())));
                return;
            }
            if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
            if (data.empty()) return;
            loop().add_writer(fd, [self = shared_from_this()] { self->on_writable(); });
        }
        wbuf.append(data);
    }
    void pause_reading() override {
        if (reading && !closed) loop().remove_reader(fd);
        reading = false;
    }
    void resume_reading() override {
        if (reading || closed) return;
        reading = true;
        loop().add_reader(fd, [self = shared_from_this()] { self->on_readable(); });
    }
    void close() override {
        if (closing || closed) return;
        closing = true;
        pause_reading();
        if (wbuf.empty()) finish(nullptr);
    }
    void force_close(std::exception_ptr exc) override {
        if (closed) return;
        wbuf.clear();
        finish(exc);
    }
    void finish(std::exception_ptr exc) {
        if (closed) return;
        pause_reading();
        loop().remove_writer(fd);
        closed = true;
        ::close(fd);
        loop().call_soon([self = shared_from_this(), exc] {
            self->proto->connection_lost(exc);
            self->proto = nullptr;  // break the cycle
        });
    }
    std::any get_extra_info(const std::string& name) const override {
        if (name == "socket") return fd;
        return {};
    }
};

// An application protocol that keeps what it receives and signals when it has `want` bytes
// or the connection ends.
struct Collect : App {
    std::size_t want = 0;
    asyncio::Event got;
    asyncio::Event done;
    void data_received(std::string_view d) override {
        App::data_received(d);
        if (data.size() >= want) got.set();
    }
    void connection_lost(std::exception_ptr exc) override {
        App::connection_lost(exc);
        got.set();
        done.set();
    }
};

int connect_loopback(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// A listening loopback socket on a free port.
std::pair<int, int> listen_loopback() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return {fd, ntohs(a.sin_port)};
}

// Accepts one connection, waiting on the loop (bounded by the test's timeout).
asyncio::Coro<int> accept_one(int lfd) {
    ::fcntl(lfd, F_SETFL, ::fcntl(lfd, F_GETFL) | O_NONBLOCK);
    for (int i = 0; i < 2000; ++i) {
        int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) co_return c;
        co_await asyncio::sleep(0.01);
    }
    co_return -1;
}

}  // namespace

// Our client against `openssl s_server -rev` (it answers each line reversed).
ASYNCIO_TEST_REALTIME(SSLProtocolPeers, OurClientAgainstOpensslServer) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::STDOUT}, "openssl",
        "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev", "-cert",
        test_certs()("server.pem"), "-key", test_certs()("server.key"));
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "ACCEPT"), 20.0);
    CO_ASSERT_TRUE(port > 0);
    int fd = connect_loopback(port);
    CO_ASSERT_TRUE(fd >= 0);
    auto app = std::make_shared<Collect>();
    app->want = 6;
    auto waiter = loop().create_future<void>();
    auto proto = std::make_shared<SSLProtocol>(loop(), app, client_context(), waiter,
                                               SSLProtocolOptions{.server_hostname = "localhost"});
    app->proto = proto.get();
    auto lower = std::make_shared<SocketLower>(fd, proto);
    lower->start();
    co_await asyncio::wait_for(waiter, 20.0);
    EXPECT_EQ(std::any_cast<ssl::Certificate>(proto->get_extra_info("peercert")).common_name(),
              "localhost");
    proto->app_write("hello\n");
    co_await asyncio::wait_for(app->got.wait(), 20.0);
    EXPECT_EQ(app->data, "olleh\n");
    proto->app_close();
    co_await asyncio::wait_for(app->done.wait(), 20.0);
    EXPECT_FALSE(app->lost_exc);
    // s_server -naccept 1 exits after the connection.
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

// Our server against `openssl s_client`: it verifies our certificate for "localhost", sends a
// line from its stdin, prints our echo, and closes with close_notify at its stdin's EOF.
ASYNCIO_TEST_REALTIME(SSLProtocolPeers, OurServerAgainstOpensslClient) {
    auto [lfd, port] = listen_loopback();
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::DEVNULL}, "openssl",
        "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-servername", "localhost",
        "-verify_hostname", "localhost", "-CAfile", test_certs()("ca.pem"), "-verify_return_error",
        "-quiet", "-no_ign_eof");
    int fd = co_await accept_one(lfd);
    ::close(lfd);
    CO_ASSERT_TRUE(fd >= 0);
    auto app = std::make_shared<Collect>();
    app->echo = true;
    app->want = 1000000;
    auto waiter = loop().create_future<void>();
    auto proto = std::make_shared<SSLProtocol>(loop(), app, server_context(), waiter,
                                               SSLProtocolOptions{.server_side = true});
    app->proto = proto.get();
    auto lower = std::make_shared<SocketLower>(fd, proto);
    lower->start();
    co_await asyncio::wait_for(waiter, 20.0);
    proc.stdin_.write("ping over tls\n");
    co_await proc.stdin_.drain();
    std::string line = co_await asyncio::wait_for(proc.stdout_.readline(), 20.0);
    EXPECT_EQ(line, "ping over tls\n");
    proc.stdin_.close();  // s_client sends close_notify and exits
    co_await asyncio::wait_for(app->done.wait(), 20.0);
    EXPECT_EQ(app->data, "ping over tls\n");
    EXPECT_EQ(app->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

// A CPython asyncio TLS server (its ssl module): echoes the first line upper-cased, reads
// until the client's close_notify, prints "SERVER-DONE <bytes after the line>" and exits.
// Arguments: the certificate and key files. Prints "PORT:<n>" once listening.
const char* const python_tls_upper_server = R"PY(
import asyncio, ssl, sys
async def handle(r, w):
    data = await r.readline()
    w.write(data.upper())
    await w.drain()
    rest = await r.read()          # until our close_notify
    w.close()
    await w.wait_closed()
    print("SERVER-DONE", len(rest), flush=True)
    srv.close()
async def main():
    global srv
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print("PORT:%d" % srv.sockets[0].getsockname()[1], flush=True)
    async with srv:
        try:
            await srv.serve_forever()
        except asyncio.CancelledError:
            pass
asyncio.run(main())
)PY";

// Our client against a CPython asyncio server with its ssl module.
ASYNCIO_TEST_REALTIME(SSLProtocolPeers, OurClientAgainstPythonAsyncioServer) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdout_ = asyncio::PIPE}, python(), "-c", python_tls_upper_server,
        test_certs()("server.pem"), test_certs()("server.key"));
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
    CO_ASSERT_TRUE(port > 0);
    int fd = connect_loopback(port);
    CO_ASSERT_TRUE(fd >= 0);
    auto app = std::make_shared<Collect>();
    app->want = 6;
    auto waiter = loop().create_future<void>();
    auto proto = std::make_shared<SSLProtocol>(loop(), app, client_context(), waiter,
                                               SSLProtocolOptions{.server_hostname = "localhost"});
    app->proto = proto.get();
    auto lower = std::make_shared<SocketLower>(fd, proto);
    lower->start();
    co_await asyncio::wait_for(waiter, 20.0);
    proto->app_write("hello\n");
    co_await asyncio::wait_for(app->got.wait(), 20.0);
    EXPECT_EQ(app->data, "HELLO\n");
    proto->app_close();
    co_await asyncio::wait_for(app->done.wait(), 20.0);
    EXPECT_FALSE(app->lost_exc);
    std::string line = co_await asyncio::wait_for(proc.stdout_.readline(), 20.0);
    EXPECT_EQ(line, "SERVER-DONE 0\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

// Our server against a CPython asyncio client with its ssl module (verifying our certificate
// against the test CA and the name "localhost").
ASYNCIO_TEST_REALTIME(SSLProtocolPeers, OurServerAgainstPythonAsyncioClient) {
    const std::string script = R"PY(
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx,
                                         server_hostname="localhost")
    w.write(b"x" * 100000 + b"\n")
    await w.drain()
    echo = await r.readexactly(100001)
    w.close()
    await w.wait_closed()
    print("CLIENT-OK" if echo == b"x" * 100000 + b"\n" else "CLIENT-BAD", flush=True)
asyncio.run(main())
)PY";
    auto [lfd, port] = listen_loopback();
    auto proc =
        co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(), "-c", script,
                                                 std::to_string(port), test_certs()("ca.pem"));
    int fd = co_await accept_one(lfd);
    ::close(lfd);
    CO_ASSERT_TRUE(fd >= 0);
    auto app = std::make_shared<Collect>();
    app->echo = true;
    app->want = 100001;
    auto waiter = loop().create_future<void>();
    auto proto = std::make_shared<SSLProtocol>(loop(), app, server_context(), waiter,
                                               SSLProtocolOptions{.server_side = true});
    app->proto = proto.get();
    auto lower = std::make_shared<SocketLower>(fd, proto);
    lower->start();
    co_await asyncio::wait_for(waiter, 20.0);
    std::string line = co_await asyncio::wait_for(proc.stdout_.readline(), 30.0);
    EXPECT_EQ(line, "CLIENT-OK\n");
    co_await asyncio::wait_for(app->done.wait(), 20.0);
    EXPECT_EQ(app->data.size(), 100001u);
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

// ---------------------------------------------------------------------------------------
// TLS through the loop: create_server / create_connection with ssl, and start_tls.

namespace {

using asyncio::Protocol;
using asyncio::Transport;

struct Recorder : Protocol {
    Transport* transport = nullptr;
    std::vector<std::string> events;
    std::string data;
    std::size_t want = 0;
    asyncio::Event got;
    asyncio::Event lost;
    std::exception_ptr lost_exc;
    void connection_made(Transport& t) override {
        transport = &t;
        events.push_back("made");
    }
    void data_received(std::string_view d) override {
        data += d;
        if (data.size() >= want) got.set();
    }
    bool eof_received() override {
        events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr exc) override {
        events.push_back("lost");
        lost_exc = exc;
        transport = nullptr;
        got.set();
        lost.set();
    }
};

struct EchoProtocol : Protocol {
    Transport* transport = nullptr;
    void connection_made(Transport& t) override { transport = &t; }
    void data_received(std::string_view d) override { transport->write(d); }
};

}  // namespace

// CPython: test_asyncio/test_ssl.py TestSSL.test_create_server_ssl_1 (echo over TLS)
ASYNCIO_TEST_REALTIME(TLSConnections, CreateServerAndCreateConnectionWithSsl) {
    asyncio::ServerOptions sopts{.ssl = server_context()};
    asyncio::Server server = co_await loop().create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [t, p] = co_await loop().create_connection([] { return std::make_shared<Recorder>(); },
                                                    "127.0.0.1", port, std::move(copts));
    EXPECT_EQ(p->events, std::vector<std::string>{"made"});  // after the handshake
    auto cert = std::any_cast<ssl::Certificate>(t->get_extra_info("peercert"));
    EXPECT_EQ(cert.common_name(), "localhost");
    EXPECT_EQ(std::any_cast<ssl::SSLObject>(t->get_extra_info("ssl_object")).version(), "TLSv1.3");
    EXPECT_TRUE(t->get_extra_info("peername").has_value());  // from the socket transport
    EXPECT_FALSE(t->can_write_eof());
    p->want = 5;
    t->write("hello");
    co_await asyncio::wait_for(p->got.wait(), 20.0);
    EXPECT_EQ(p->data, "hello");
    t->close();
    co_await asyncio::wait_for(p->lost.wait(), 20.0);
    EXPECT_FALSE(p->lost_exc);
    server.close();
    co_await server.wait_closed();
}

namespace {

// A BufferedProtocol with a buffer of `size` bytes: keeps what it receives, echoes it when
// asked. Python: asyncio.BufferedProtocol.
struct BufferedRecorder : asyncio::BufferedProtocol {
    explicit BufferedRecorder(std::size_t size, bool echo = false) : buf(size), echo(echo) {}
    std::vector<char> buf;
    bool echo;
    Transport* transport = nullptr;
    std::vector<std::string> events;
    std::string data;
    std::size_t max_chunk = 0;
    std::size_t want = 0;
    asyncio::Event got;
    asyncio::Event lost;
    std::exception_ptr lost_exc;
    void connection_made(Transport& t) override {
        transport = &t;
        events.push_back("made");
    }
    std::span<char> get_buffer(std::size_t) override { return {buf.data(), buf.size()}; }
    void buffer_updated(std::size_t n) override {
        max_chunk = std::max(max_chunk, n);
        data.append(buf.data(), n);
        if (echo) transport->write(std::string_view(buf.data(), n));
        if (want && data.size() >= want) got.set();
    }
    bool eof_received() override {
        events.push_back("eof");
        return false;
    }
    void connection_lost(std::exception_ptr exc) override {
        events.push_back("lost");
        lost_exc = exc;
        transport = nullptr;
        got.set();
        lost.set();
    }
};

}  // namespace

// BufferedProtocols at both ends of a TLS connection, with buffers smaller than a record:
// data both ways, then the client's close reaches the server as eof_received.
// CPython: test_asyncio/test_buffered_proto.py over ssl, test_sslproto.py
// test_start_tls_server_1 with a buffered protocol.
ASYNCIO_TEST_REALTIME(TLSConnections, BufferedProtocolsOverTlsBothWays) {
    std::shared_ptr<BufferedRecorder> server_proto;
    asyncio::ServerOptions sopts{.ssl = server_context()};
    asyncio::Server server = co_await loop().create_server(
        [&] { return server_proto = std::make_shared<BufferedRecorder>(7, true); }, "127.0.0.1", 0,
        std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [t, p] =
        co_await loop().create_connection([] { return std::make_shared<BufferedRecorder>(1000); },
                                          "127.0.0.1", port, std::move(copts));
    auto client = std::static_pointer_cast<BufferedRecorder>(p);
    std::string big;
    for (int i = 0; i < 50 * 1024; ++i) big += static_cast<char>('0' + i % 10);
    client->want = big.size();
    t->write(big);
    co_await asyncio::wait_for(client->got.wait(), 20.0);
    EXPECT_EQ(client->data, big);
    CO_ASSERT_TRUE(server_proto != nullptr);
    EXPECT_EQ(server_proto->data, big);
    EXPECT_EQ(server_proto->max_chunk, 7u);
    EXPECT_LE(client->max_chunk, 1000u);
    t->close();
    co_await asyncio::wait_for(client->lost.wait(), 20.0);
    co_await asyncio::wait_for(server_proto->lost.wait(), 20.0);
    EXPECT_EQ(server_proto->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_EQ(client->events, (std::vector<std::string>{"made", "eof", "lost"}));
    EXPECT_FALSE(client->lost_exc);
    EXPECT_FALSE(server_proto->lost_exc);
    server.close();
    co_await server.wait_closed();
}

// A BufferedProtocol client against `openssl s_server -rev` (each line comes back reversed),
// its buffer (3 bytes) smaller than the line; the server's end of the connection is its EOF.
ASYNCIO_TEST_REALTIME(TLSConnections, BufferedProtocolAgainstOpensslServer) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::STDOUT}, "openssl",
        "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev", "-cert",
        test_certs()("server.pem"), "-key", test_certs()("server.key"));
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "ACCEPT"), 20.0);
    CO_ASSERT_TRUE(port > 0);
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [t, p] = co_await asyncio::wait_for(
        loop().create_connection([] { return std::make_shared<BufferedRecorder>(3); }, "127.0.0.1",
                                 port, std::move(copts)),
        20.0);
    auto client = std::static_pointer_cast<BufferedRecorder>(p);
    client->want = 12;
    t->write("hello world\n");
    co_await asyncio::wait_for(client->got.wait(), 20.0);
    EXPECT_EQ(client->data, "dlrow olleh\n");
    EXPECT_EQ(client->max_chunk, 3u);
    t->close();
    co_await asyncio::wait_for(client->lost.wait(), 20.0);
    EXPECT_FALSE(client->lost_exc);
    EXPECT_EQ(client->events.front(), "made");
    EXPECT_EQ(client->events.back(), "lost");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

TEST(TLSConnections, TlsOptionsWithoutSslAreRefused) {
    asyncio::run([]() -> asyncio::Coro<void> {
        auto& loop = asyncio::get_running_loop();
        auto factory = [] { return std::make_shared<Recorder>(); };
        asyncio::ConnectionOptions a{.server_hostname = "localhost"};
        EXPECT_THROW(co_await loop.create_connection(factory, "127.0.0.1", 1, std::move(a)),
                     std::invalid_argument);
        asyncio::ConnectionOptions b{.ssl_handshake_timeout = 1.0};
        EXPECT_THROW(co_await loop.create_connection(factory, "127.0.0.1", 1, std::move(b)),
                     std::invalid_argument);
        asyncio::ConnectionOptions c{.ssl = client_context(), .ssl_handshake_timeout = 0.0};
        EXPECT_THROW(co_await loop.create_connection(factory, "127.0.0.1", 1, std::move(c)),
                     std::invalid_argument);
        asyncio::ServerOptions d{.ssl_shutdown_timeout = 1.0};
        EXPECT_THROW(co_await loop.create_server(factory, "127.0.0.1", 0, std::move(d)),
                     std::invalid_argument);
        asyncio::ServerOptions e{.ssl = client_context()};  // a client context on a server
        EXPECT_THROW(co_await loop.create_server(factory, "127.0.0.1", 0, std::move(e)),
                     std::invalid_argument);
    }());
}

ASYNCIO_TEST_REALTIME(TLSConnections, AWrongHostnameFailsCreateConnection) {
    asyncio::ServerOptions sopts{.ssl = server_context()};
    asyncio::Server server = co_await loop().create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    int fds = asyncio::testing::open_fd_count();
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "example.com"};
    std::string text;
    try {
        co_await loop().create_connection([] { return std::make_shared<Recorder>(); }, "127.0.0.1",
                                          port, std::move(copts));
    } catch (const ssl::SSLCertVerificationError& e) {
        text = e.what();
    }
    EXPECT_NE(text.find("hostname mismatch"), std::string::npos) << text;
    co_await asyncio::sleep(0.05);
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);  // the client socket is closed
    server.close();
    co_await server.wait_closed();
}

// A server whose peer never answers the handshake (a plain TCP listener that never speaks):
// cancelling create_connection leaves no fd and no TLS object behind (ASan checks the rest).
ASYNCIO_TEST_REALTIME(TLSConnections, CancellingDuringTheHandshakeLeavesNothingBehind) {
    auto [lfd, port] = listen_loopback();
    int fds = asyncio::testing::open_fd_count();
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto task = asyncio::create_task(loop().create_connection(
        [] { return std::make_shared<Recorder>(); }, "127.0.0.1", port, std::move(copts)));
    co_await asyncio::sleep(0.1);
    EXPECT_FALSE(task.done());
    task.cancel();
    EXPECT_THROW(co_await task, asyncio::CancelledError);
    co_await asyncio::sleep(0.05);
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
    ::close(lfd);
}

ASYNCIO_TEST(TLSConnections, TheHandshakeTimeoutOfCreateConnection) {
    auto [lfd, port] = listen_loopback();
    asyncio::ConnectionOptions copts{
        .ssl = client_context(), .server_hostname = "localhost", .ssl_handshake_timeout = 2.0};
    double start = loop().time();
    try {
        co_await loop().create_connection([] { return std::make_shared<Recorder>(); }, "127.0.0.1",
                                          port, std::move(copts));
        ADD_FAILURE() << "expected a TimeoutError";
    } catch (const asyncio::TimeoutError& e) {
        EXPECT_NE(std::string(e.what()).find("SSL handshake is taking longer than 2.0 seconds"),
                  std::string::npos);
    }
    EXPECT_NEAR(loop().time() - start, 2.0, 0.5);
    ::close(lfd);
    co_await asyncio::sleep(0);
}

// 1,000 TLS connections open at once in one process, each echoing one message.
ASYNCIO_TEST_REALTIME(TLSConnections, AThousandConcurrentTlsConnections) {
    constexpr int n = 1000;
    struct rlimit old {};
    ::getrlimit(RLIMIT_NOFILE, &old);
    struct rlimit want = old;
    want.rlim_cur = std::min<rlim_t>(want.rlim_max, 4 * n + 200);
    ::setrlimit(RLIMIT_NOFILE, &want);
    asyncio::ServerOptions sopts{.backlog = 2048, .ssl = server_context()};
    asyncio::Server server = co_await loop().create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    auto cctx = client_context();
    auto one = [&](int i) -> asyncio::Coro<bool> {
        asyncio::ConnectionOptions copts{.ssl = cctx, .server_hostname = "localhost"};
        auto [t, p] = co_await loop().create_connection([] { return std::make_shared<Recorder>(); },
                                                        "127.0.0.1", port, std::move(copts));
        std::string msg = "message " + std::to_string(i);
        p->want = msg.size();
        t->write(msg);
        co_await p->got.wait();
        bool ok = p->data == msg;
        t->close();
        co_await p->lost.wait();
        co_return ok;
    };
    std::vector<asyncio::Task<bool>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(one(i)));
    auto results = co_await asyncio::wait_for(asyncio::gather(tasks), 100.0);
    EXPECT_EQ(std::count(results.begin(), results.end(), true), n);
    server.close();
    co_await server.wait_closed();
    ::setrlimit(RLIMIT_NOFILE, &old);
}

// STARTTLS: a plaintext exchange, then both ends upgrade the same connection with start_tls.
ASYNCIO_TEST_REALTIME(TLSConnections, StartTlsUpgradesAPlaintextConnection) {
    struct StartTlsServer : Protocol {
        Transport* transport = nullptr;
        std::shared_ptr<StartTlsServer>* self = nullptr;
        std::string data;
        std::string secret;
        bool tls = false;
        asyncio::Task<void> upgrade;
        std::shared_ptr<Transport> keep;
        void connection_made(Transport& t) override { transport = &t; }
        void data_received(std::string_view d) override {
            if (tls) {
                // As in CPython, decrypted data may arrive before start_tls() returns the
                // new transport: hold it until then.
                secret += d;
                if (keep) reply();
                return;
            }
            data += d;
            if (data == "STARTTLS\n") {
                transport->write("GO\n");
                tls = true;
                upgrade = asyncio::create_task(do_upgrade());
            }
        }
        void reply() {
            if (secret.empty()) return;
            keep->write("tls:" + std::exchange(secret, {}));
        }
        asyncio::Coro<void> do_upgrade() {
            keep = co_await asyncio::get_running_loop().start_tls(
                *transport, std::static_pointer_cast<Protocol>(*self), server_context(),
                {.server_side = true});
            reply();
        }
    };
    auto server_proto = std::make_shared<StartTlsServer>();
    server_proto->self = &server_proto;
    asyncio::Server server =
        co_await loop().create_server([&] { return server_proto; }, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [t, p] = co_await loop().create_connection([] { return std::make_shared<Recorder>(); },
                                                    "127.0.0.1", port);
    p->want = 3;
    t->write("STARTTLS\n");
    co_await asyncio::wait_for(p->got.wait(), 20.0);
    EXPECT_EQ(p->data, "GO\n");
    p->data.clear();
    p->got.clear();
    asyncio::StartTlsOptions o{.server_hostname = "localhost"};
    auto tls = co_await asyncio::wait_for(loop().start_tls(t, p, client_context(), o), 20.0);
    EXPECT_EQ(std::any_cast<ssl::Certificate>(tls->get_extra_info("peercert")).common_name(),
              "localhost");
    p->want = 9;
    tls->write("secret");
    co_await asyncio::wait_for(p->got.wait(), 20.0);
    EXPECT_EQ(p->data, "tls:secret");
    EXPECT_EQ(p->events, std::vector<std::string>{"made"});  // no second connection_made
    tls->close();
    co_await asyncio::wait_for(p->lost.wait(), 20.0);
    server.close();
    co_await server.wait_closed();
    server_proto->self = nullptr;
}

// ---------------------------------------------------------------------------------------
// Streams over TLS.

namespace {

asyncio::Coro<void> echo_lines(asyncio::StreamReader r, asyncio::StreamWriter w) {
    for (;;) {
        std::string line = co_await r.readline();
        if (line.empty()) break;
        w.write(line);
        co_await w.drain();
    }
    w.close();
    co_await w.wait_closed();
}

}  // namespace

// CPython: test_asyncio/test_streams.py test_open_connection_no_loop_ssl / start_server(ssl=)
ASYNCIO_TEST_REALTIME(TLSStreams, OpenConnectionAndStartServerWithSsl) {
    // Lines longer than the default 64 KiB limit need a larger one on both ends.
    asyncio::StartServerOptions sopts{.limit = 1 << 20, .ssl = server_context()};
    asyncio::Server server =
        co_await asyncio::start_server(echo_lines, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    asyncio::OpenConnectionOptions copts{
        .limit = 1 << 20, .ssl = client_context(), .server_hostname = "localhost"};
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port, std::move(copts));
    EXPECT_EQ(std::any_cast<ssl::Certificate>(w.get_extra_info("peercert")).common_name(),
              "localhost");
    std::string big(200000, 'b');
    w.write("ping\n");
    w.write(big + "\n");
    co_await w.drain();
    EXPECT_EQ(co_await r.readline(), "ping\n");
    EXPECT_EQ(co_await r.readline(), big + "\n");
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
}

// CPython: test_asyncio/test_streams.py test_start_tls (StreamWriter.start_tls)
ASYNCIO_TEST_REALTIME(TLSStreams, StreamWriterStartTlsAfterAPlaintextExchange) {
    auto handler = [](asyncio::StreamReader r, asyncio::StreamWriter w) -> asyncio::Coro<void> {
        std::string line = co_await r.readline();
        if (line != "STARTTLS\n") co_return;
        w.write("GO\n");
        co_await w.drain();
        co_await w.start_tls(server_context());
        std::string secret = co_await r.readline();
        w.write("tls:" + secret);
        co_await w.drain();
        w.close();
        co_await w.wait_closed();
    };
    asyncio::Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
    w.write("STARTTLS\n");
    EXPECT_EQ(co_await r.readline(), "GO\n");
    asyncio::StartTlsOptions o{.server_hostname = "localhost"};
    co_await w.start_tls(client_context(), o);
    EXPECT_TRUE(w.get_extra_info("ssl_object").has_value());
    w.write("x\n");
    EXPECT_EQ(co_await r.readline(), "tls:x\n");
    EXPECT_EQ(co_await r.read(), "");  // the server closed with close_notify
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
}

// ---------------------------------------------------------------------------------------
// TLS through the loop against real peers, over Unix sockets, and at the edges of a
// connection (close with data in flight, a peer without close_notify, a handshake timeout).

namespace {

asyncio::Coro<void> echo_chunks(asyncio::StreamReader r, asyncio::StreamWriter w) {
    for (;;) {
        std::string data = co_await r.read(65536);
        if (data.empty()) break;
        w.write(data);
        co_await w.drain();
    }
    w.close();
    co_await w.wait_closed();
}

// A CPython peer with a blocking ssl socket (suppress_ragged_eofs=False): it accepts one
// connection, reads until the end and prints "CLEAN <bytes>" when the stream ended with
// close_notify, "RAGGED <bytes>" when the TCP connection ended without it.
const char* const close_notify_judge = R"PY(
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)  # report a ragged end
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
ls.settimeout(30)
print("PORT:%d" % ls.getsockname()[1], flush=True)
c, _ = ls.accept()
c.settimeout(30)
s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
n = 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            print("CLEAN", n, flush=True)
            break
        n += len(d)
except ssl.SSLError as e:  # SSLEOFError, or OpenSSL 3's UNEXPECTED_EOF_WHILE_READING
    ragged = isinstance(e, ssl.SSLEOFError) or "EOF" in (e.reason or "")
    print("RAGGED" if ragged else "ERROR", n, e.reason, flush=True)
except OSError as e:
    print("ERROR", n, type(e).__name__, flush=True)
c.close()
)PY";

}  // namespace

// CPython: test_asyncio/test_ssl.py test_create_connection_ssl_1 against `openssl s_server`.
ASYNCIO_TEST_REALTIME(TLSPeers, OpenConnectionAgainstOpensslServer) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::STDOUT}, "openssl",
        "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev", "-cert",
        test_certs()("server.pem"), "-key", test_certs()("server.key"));
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "ACCEPT"), 20.0);
    CO_ASSERT_TRUE(port > 0);
    asyncio::OpenConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [r, w] = co_await asyncio::wait_for(
        asyncio::open_connection("127.0.0.1", port, std::move(copts)), 20.0);
    w.write("hello\n");
    EXPECT_EQ(co_await asyncio::wait_for(r.readline(), 20.0), "olleh\n");
    w.close();
    co_await asyncio::wait_for(w.wait_closed(), 20.0);
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);  // -naccept 1: one connection
}

// Our start_server(ssl=) against `openssl s_client`, which verifies our certificate for
// "localhost" and closes with close_notify at its stdin's end.
ASYNCIO_TEST_REALTIME(TLSPeers, StartServerAgainstOpensslClient) {
    asyncio::Event handler_done;
    std::string seen;
    auto handler = [&](asyncio::StreamReader r, asyncio::StreamWriter w) -> asyncio::Coro<void> {
        for (;;) {
            std::string line = co_await r.readline();
            if (line.empty()) break;
            seen += line;
            w.write(line);
            co_await w.drain();
        }
        w.close();
        co_await w.wait_closed();
        handler_done.set();
    };
    asyncio::StartServerOptions sopts{.ssl = server_context()};
    asyncio::Server server =
        co_await asyncio::start_server(handler, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::DEVNULL}, "openssl",
        "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-servername", "localhost",
        "-verify_hostname", "localhost", "-CAfile", test_certs()("ca.pem"), "-verify_return_error",
        "-quiet", "-no_ign_eof");
    proc.stdin_.write("ping over tls\n");
    co_await proc.stdin_.drain();
    EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 20.0), "ping over tls\n");
    proc.stdin_.close();
    co_await asyncio::wait_for(handler_done.wait(), 20.0);
    EXPECT_EQ(seen, "ping over tls\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
    server.close();
    co_await server.wait_closed();
}

// Our open_connection(ssl=) against a CPython asyncio server with its ssl module.
ASYNCIO_TEST_REALTIME(TLSPeers, OpenConnectionAgainstPythonAsyncioServer) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdout_ = asyncio::PIPE}, python(), "-c", python_tls_upper_server,
        test_certs()("server.pem"), test_certs()("server.key"));
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
    CO_ASSERT_TRUE(port > 0);
    asyncio::OpenConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [r, w] = co_await asyncio::wait_for(
        asyncio::open_connection("127.0.0.1", port, std::move(copts)), 20.0);
    w.write("hello\n");
    EXPECT_EQ(co_await asyncio::wait_for(r.readline(), 20.0), "HELLO\n");
    w.write("rest");
    w.close();
    co_await asyncio::wait_for(w.wait_closed(), 20.0);
    EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 20.0), "SERVER-DONE 4\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
}

// Our start_server(ssl=) against a CPython asyncio client (verifying our certificate).
ASYNCIO_TEST_REALTIME(TLSPeers, StartServerAgainstPythonAsyncioClient) {
    const std::string script = R"PY(
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]), ssl=ctx,
                                         server_hostname="localhost")
    w.write(b"x" * 300000)
    await w.drain()
    echo = await r.readexactly(300000)
    w.close()
    await w.wait_closed()
    print("CLIENT-OK" if echo == b"x" * 300000 else "CLIENT-BAD", flush=True)
asyncio.run(main())
)PY";
    asyncio::StartServerOptions sopts{.ssl = server_context()};
    asyncio::Server server =
        co_await asyncio::start_server(echo_chunks, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    auto proc =
        co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(), "-c", script,
                                                 std::to_string(port), test_certs()("ca.pem"));
    EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 30.0), "CLIENT-OK\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
    server.close();
    co_await server.wait_closed();
}

// create_unix_server / create_unix_connection and start_unix_server / open_unix_connection
// with ssl; a Unix connection has no host to check, so server_hostname is required.
// CPython: test_asyncio/test_ssl.py test_create_unix_server_ssl_1.
ASYNCIO_TEST_REALTIME(TLSPeers, UnixServersAndConnectionsWithSsl) {
    std::string path = "/tmp/asyncio-tls-test-" + std::to_string(::getpid()) + ".sock";
    asyncio::UnixServerOptions uopts{.ssl = server_context()};
    asyncio::Server server = co_await loop().create_unix_server(
        [] { return std::make_shared<EchoProtocol>(); }, path, std::move(uopts));
    asyncio::ConnectionOptions copts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [t, p] = co_await asyncio::wait_for(
        loop().create_unix_connection([] { return std::make_shared<Recorder>(); }, path,
                                      std::move(copts)),
        20.0);
    EXPECT_EQ(std::any_cast<ssl::Certificate>(t->get_extra_info("peercert")).common_name(),
              "localhost");
    p->want = 4;
    t->write("unix");
    co_await asyncio::wait_for(p->got.wait(), 20.0);
    EXPECT_EQ(p->data, "unix");
    t->close();
    co_await asyncio::wait_for(p->lost.wait(), 20.0);
    EXPECT_FALSE(p->lost_exc);
    asyncio::ConnectionOptions no_name{.ssl = client_context()};
    EXPECT_THROW(co_await loop().create_unix_connection([] { return std::make_shared<Recorder>(); },
                                                        path, std::move(no_name)),
                 std::invalid_argument);
    server.close();
    co_await server.wait_closed();

    asyncio::StartUnixServerOptions sopts{.ssl = server_context()};
    asyncio::Server streams =
        co_await asyncio::start_unix_server(echo_chunks, path, std::move(sopts));
    asyncio::OpenConnectionOptions oopts{.ssl = client_context(), .server_hostname = "localhost"};
    auto [r, w] =
        co_await asyncio::wait_for(asyncio::open_unix_connection(path, std::move(oopts)), 20.0);
    w.write("streams over unix");
    EXPECT_EQ(co_await asyncio::wait_for(r.readexactly(17), 20.0), "streams over unix");
    w.close();
    co_await asyncio::wait_for(w.wait_closed(), 20.0);
    streams.close();
    co_await streams.wait_closed();
}

// A CPython asyncio client over a Unix socket against our start_unix_server(ssl=).
ASYNCIO_TEST_REALTIME(TLSPeers, StartUnixServerAgainstPythonAsyncioClient) {
    const std::string script = R"PY(
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    r, w = await asyncio.open_unix_connection(sys.argv[1], ssl=ctx, server_hostname="localhost")
    w.write(b"over unix and tls")
    echo = await r.readexactly(17)
    w.close()
    await w.wait_closed()
    print("CLIENT", echo.decode(), flush=True)
asyncio.run(main())
)PY";
    std::string path = "/tmp/asyncio-tls-test-py-" + std::to_string(::getpid()) + ".sock";
    asyncio::StartUnixServerOptions sopts{.ssl = server_context()};
    asyncio::Server server =
        co_await asyncio::start_unix_server(echo_chunks, path, std::move(sopts));
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(), "-c",
                                                         script, path, test_certs()("ca.pem"));
    EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 30.0),
              "CLIENT over unix and tls\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
    server.close();
    co_await server.wait_closed();
}

// close() with megabytes still queued: everything is sent, then close_notify (the peer sees
// a clean end); abort() ends without close_notify (the peer sees a ragged one).
// CPython: test_asyncio/test_sslproto.py test_close_during_ssl_over_ssl / flush on close.
ASYNCIO_TEST_REALTIME(TLSPeers, CloseFlushesDataInFlightThenSendsCloseNotify) {
    for (bool abort : {false, true}) {
        auto proc = co_await asyncio::create_subprocess_exec(
            {.stdout_ = asyncio::PIPE}, python(), "-c", close_notify_judge,
            test_certs()("server.pem"), test_certs()("server.key"));
        int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
        CO_ASSERT_TRUE(port > 0);
        asyncio::OpenConnectionOptions copts{.ssl = client_context(),
                                             .server_hostname = "localhost"};
        auto [r, w] = co_await asyncio::wait_for(
            asyncio::open_connection("127.0.0.1", port, std::move(copts)), 20.0);
        if (!abort) {
            w.write(std::string(4 << 20, 'd'));  // far more than the socket buffers take
            w.close();
            co_await asyncio::wait_for(w.wait_closed(), 30.0);
            EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 30.0), "CLEAN 4194304\n");
        } else {
            w.write("short");
            co_await w.drain();
            co_await asyncio::sleep(0.1);
            w.transport()->abort();
            std::string line = co_await asyncio::wait_for(proc.stdout_.readline(), 30.0);
            EXPECT_EQ(line.rfind("RAGGED 5 ", 0), 0u) << line;
        }
        EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
    }
}

// A peer that shuts its socket down without close_notify: the data it sent is delivered, then
// a plain end of stream (CPython's sslproto does not raise for it either).
ASYNCIO_TEST_REALTIME(TLSPeers, APeerClosingWithoutCloseNotifyEndsTheStream) {
    const std::string script = R"PY(
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s = ctx.wrap_socket(raw, server_hostname="localhost")
s.sendall(b"hello\n")
s.shutdown(socket.SHUT_WR)  # the TCP FIN alone: no close_notify (s is a plain socket now)
while s.recv(65536):
    pass
print("CLIENT-SAW-CLOSE", flush=True)
)PY";
    asyncio::Event done;
    std::vector<std::string> seen;
    std::exception_ptr error;
    auto handler = [&](asyncio::StreamReader r, asyncio::StreamWriter w) -> asyncio::Coro<void> {
        try {
            seen.push_back(co_await r.readline());
            seen.push_back(co_await r.read());
            w.close();
            co_await w.wait_closed();
        } catch (...) {
            error = std::current_exception();
        }
        done.set();
    };
    asyncio::StartServerOptions sopts{.ssl = server_context()};
    asyncio::Server server =
        co_await asyncio::start_server(handler, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    auto proc =
        co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(), "-c", script,
                                                 std::to_string(port), test_certs()("ca.pem"));
    co_await asyncio::wait_for(done.wait(), 30.0);
    EXPECT_FALSE(error);
    EXPECT_EQ(seen, (std::vector<std::string>{"hello\n", ""}));
    EXPECT_EQ(co_await asyncio::wait_for(proc.stdout_.readline(), 30.0), "CLIENT-SAW-CLOSE\n");
    EXPECT_EQ(co_await asyncio::wait_for(proc.wait(), 20.0), 0);
    server.close();
    co_await server.wait_closed();
}

// A client that connects and never speaks TLS: the server drops it after its
// ssl_handshake_timeout, and the connection never reaches the handler.
// CPython: test_asyncio/test_ssl.py test_handshake_timeout (server side).
ASYNCIO_TEST_REALTIME(TLSPeers, AServerDropsAClientThatNeverCompletesTheHandshake) {
    bool handler_ran = false;
    auto handler = [&](asyncio::StreamReader, asyncio::StreamWriter w) -> asyncio::Coro<void> {
        handler_ran = true;
        w.close();
        co_return;
    };
    asyncio::StartServerOptions sopts{.ssl = server_context(), .ssl_handshake_timeout = 0.3};
    asyncio::Server server =
        co_await asyncio::start_server(handler, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();
    int fd = connect_loopback(port);
    CO_ASSERT_TRUE(fd >= 0);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    double start = loop().time();
    bool closed = false;
    for (int i = 0; i < 1000 && !closed; ++i) {  // at most 10 s
        char c;
        ssize_t n = ::recv(fd, &c, 1, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
        // The server may have sent nothing at all: a ServerHello comes only after a ClientHello.
        if (!closed) co_await asyncio::sleep(0.01);
    }
    double elapsed = loop().time() - start;
    ::close(fd);
    EXPECT_TRUE(closed);
    EXPECT_GE(elapsed, 0.25);
    EXPECT_FALSE(handler_ran);
    server.close();
    co_await server.wait_closed();
}

// Cancelling open_connection(ssl=) in the middle of the handshake leaves no fd behind (and,
// under ASan, no TLS object: the leak check runs at exit).
ASYNCIO_TEST_REALTIME(TLSPeers, CancellingOpenConnectionDuringTheHandshakeLeavesNothingBehind) {
    auto [lfd, port] = listen_loopback();  // accepts in the kernel, never answers
    int fds = asyncio::testing::open_fd_count();
    for (int i = 0; i < 20; ++i) {
        asyncio::OpenConnectionOptions copts{.ssl = client_context(),
                                             .server_hostname = "localhost"};
        auto task =
            asyncio::create_task(asyncio::open_connection("127.0.0.1", port, std::move(copts)));
        co_await asyncio::sleep(i % 2 ? 0.02 : 0);  // before and after the connect
        task.cancel();
        EXPECT_THROW(co_await task, asyncio::CancelledError);
    }
    co_await asyncio::sleep(0.05);
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
    ::close(lfd);
}
