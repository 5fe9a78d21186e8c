// asyncio::http::ClientSession through an HTTP proxy: tests/support/http_proxy.py (a small
// forwarding proxy in Python's asyncio that logs every request head it sees) in front of
// CPython's http.server (tests/support/http_peer.py) and of our own TLS server. Every peer is
// started on a free loopback port and stopped by its test.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <asyncio/http/client.hpp>
#include <asyncio/http/web.hpp>

#include "asyncio_test.hpp"
#include "peer_process.hpp"
#include "test_certs.hpp"

using namespace asyncio::http;
namespace web_ns = asyncio::http::web;
using asyncio::testing::python;
using asyncio::testing::read_port;
using asyncio::testing::test_certs;

namespace {

/// A peer process on 127.0.0.1:port.
struct Peer {
    asyncio::Process proc;
    int port = -1;
    std::string log;  // the proxy's log file (removed at stop)
    std::string url(const std::string& path = "") const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }
};

asyncio::Coro<Peer> start_origin() {
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(),
                                                         ASYNCIO_TEST_SUPPORT_DIR "/http_peer.py");
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
    co_return Peer{proc, port, {}};
}

/// The proxy; with `auth` ("user:password") it answers 407 to requests without it.
asyncio::Coro<Peer> start_proxy(std::string auth = "") {
    static int serial = 0;
    std::string log = std::filesystem::temp_directory_path().string() + "/asyncio-proxy-" +
                      std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".log";
    std::filesystem::remove(log);
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(),
                                                         ASYNCIO_TEST_SUPPORT_DIR "/http_proxy.py",
                                                         log, "--auth", auth);
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
    co_return Peer{proc, port, log};
}

asyncio::Coro<void> stop(Peer& p) {
    p.proc.terminate();
    co_await asyncio::wait_for(p.proc.wait(), 30.0);
    if (!p.log.empty()) std::filesystem::remove(p.log);
}

/// The proxy's log: one JSON object per request head it received.
std::vector<nlohmann::json> proxy_log(const Peer& proxy) {
    std::vector<nlohmann::json> out;
    std::ifstream in(proxy.log);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
}

/// Entry `i` of a proxy log (null when the log is shorter: the size is checked apart).
nlohmann::json at(const std::vector<nlohmann::json>& log, std::size_t i) {
    return i < log.size() ? log[i] : nlohmann::json();
}

/// Sets environment variables for one test and restores them after.
class EnvGuard {
  public:
    EnvGuard(std::initializer_list<std::pair<const char*, std::string>> vars) {
        for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                 "no_proxy", "NO_PROXY", "REQUEST_METHOD"}) {
            const char* v = std::getenv(name);
            saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
            ::unsetenv(name);
        }
        for (auto& [name, value] : vars) ::setenv(name, value.c_str(), 1);
    }
    ~EnvGuard() {
        for (auto& [name, value] : saved_) {
            if (value)
                ::setenv(name.c_str(), value->c_str(), 1);
            else
                ::unsetenv(name.c_str());
        }
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

asyncio::Coro<web_ns::Response> tls_hello(web_ns::Request&) {
    co_return web_ns::Response{.text = "hello through the tunnel"};
}

/// Our own HTTPS server on 127.0.0.1 (certificate for "localhost").
struct TlsOrigin {
    web_ns::Application app;
    std::unique_ptr<web_ns::AppRunner> runner;
    std::unique_ptr<web_ns::TCPSite> site;
    std::string url(const std::string& path) const {
        return "https://localhost:" + std::to_string(site->port()) + path;
    }
};

asyncio::Coro<void> start_tls_origin(TlsOrigin& o) {
    o.app.router().add_get("/hello", tls_hello);
    auto ctx = asyncio::ssl::create_default_context(asyncio::ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(test_certs()("server.pem"), test_certs()("server.key"));
    o.runner = std::make_unique<web_ns::AppRunner>(
        o.app, web_ns::AppRunnerOptions{.access_log = [](std::string_view) {}});
    co_await o.runner->setup();
    web_ns::SiteOptions site_options{.ssl = ctx};
    o.site = std::make_unique<web_ns::TCPSite>(*o.runner, "127.0.0.1", 0, std::move(site_options));
    co_await o.site->start();
}

ClientSessionOptions trusting_test_ca() {
    auto ctx = asyncio::ssl::create_default_context();
    ctx.load_verify_locations(test_certs()("ca.pem"));
    return ClientSessionOptions{.ssl = ctx};
}

}  // namespace

ASYNCIO_TEST_REALTIME(HttpClientProxy, PlainHttpGoesToTheProxyInAbsoluteForm) {
    Peer origin = co_await start_origin();
    Peer proxy = co_await start_proxy();
    ClientSession session;
    for (int i = 0; i < 3; ++i) {
        RequestOptions o{.proxy = proxy.url()};
        auto resp = co_await session.get(origin.url("/hello"), std::move(o));
        EXPECT_EQ(resp.status, 200);
        EXPECT_EQ(co_await resp.text(), std::string("hello world"));
    }
    // The echo shows what reached the server: no Proxy-* header, the Host of the origin.
    RequestOptions o{.json = nlohmann::json{{"k", 1}}, .proxy = proxy.url()};
    auto echo = co_await session.post(origin.url("/echo"), std::move(o));
    auto seen = co_await echo.json();
    EXPECT_EQ(seen["method"], "POST");
    EXPECT_EQ(seen["path"], "/echo");
    EXPECT_EQ(session.connector().connections_made(), 1u);  // one keep-alive connection

    auto log = proxy_log(proxy);
    EXPECT_EQ(log.size(), 4u);
    EXPECT_EQ(at(log, 0)["method"], "GET");
    EXPECT_EQ(at(log, 0)["target"], origin.url("/hello"));
    EXPECT_TRUE(at(log, 0)["proxy_authorization"].is_null());
    EXPECT_EQ(at(log, 3)["target"], origin.url("/echo"));
    EXPECT_EQ(at(log, 3)["connection"], at(log, 0)["connection"]);

    // Without the proxy the same origin gets a connection of its own (the pool's key).
    auto direct = co_await session.get(origin.url("/hello"));
    co_await direct.read();
    EXPECT_EQ(session.connector().connections_made(), 2u);
    EXPECT_EQ(proxy_log(proxy).size(), 4u);
    co_await session.close();
    co_await stop(proxy);
    co_await stop(origin);
}

ASYNCIO_TEST_REALTIME(HttpClientProxy, ProxyAuthorizationComesFromProxyAuthOrTheUrl) {
    Peer origin = co_await start_origin();
    Peer proxy = co_await start_proxy("user:s3cret");
    const std::string port = std::to_string(proxy.port);
    ClientSession session;

    RequestOptions from_url{.proxy = "http://user:s3cret@127.0.0.1:" + port};
    auto a = co_await session.get(origin.url("/hello"), std::move(from_url));
    EXPECT_EQ(a.status, 200);
    co_await a.read();

    RequestOptions from_auth{.proxy = proxy.url(), .proxy_auth = BasicAuth{"user", "s3cret"}};
    auto b = co_await session.get(origin.url("/hello"), std::move(from_auth));
    EXPECT_EQ(b.status, 200);
    co_await b.read();

    // A plain http request gets the proxy's 407 as its response (as aiohttp).
    RequestOptions none{.proxy = proxy.url()};
    auto c = co_await session.get(origin.url("/hello"), std::move(none));
    EXPECT_EQ(c.status, 407);
    EXPECT_EQ(c.headers.get("Proxy-Authenticate").value_or(""),
              std::string("Basic realm=\"test\""));
    EXPECT_EQ(co_await c.text(), std::string("proxy auth required"));

    auto log = proxy_log(proxy);
    EXPECT_EQ(log.size(), 3u);
    EXPECT_EQ(at(log, 0)["proxy_authorization"], "Basic dXNlcjpzM2NyZXQ=");
    EXPECT_EQ(at(log, 1)["proxy_authorization"], "Basic dXNlcjpzM2NyZXQ=");
    EXPECT_TRUE(at(log, 2)["proxy_authorization"].is_null());
    EXPECT_EQ((BasicAuth{"Aladdin", "open sesame"}.encode()),
              std::string("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    co_await session.close();
    co_await stop(proxy);
    co_await stop(origin);
}

ASYNCIO_TEST_REALTIME(HttpClientProxy, HttpsGoesThroughAConnectTunnel) {
    TlsOrigin origin;
    co_await start_tls_origin(origin);
    Peer proxy = co_await start_proxy("user:pw");
    ClientSessionOptions so = trusting_test_ca();
    so.proxy = "http://user:pw@127.0.0.1:" + std::to_string(proxy.port);
    ClientSession session(std::move(so));
    for (int i = 0; i < 3; ++i) {
        auto resp = co_await session.get(origin.url("/hello"));
        EXPECT_EQ(resp.status, 200);
        EXPECT_EQ(co_await resp.text(), std::string("hello through the tunnel"));
    }
    EXPECT_EQ(session.connector().connections_made(), 1u);  // one tunnel, kept alive
    auto log = proxy_log(proxy);
    EXPECT_EQ(log.size(), 1u);  // the proxy sees the CONNECT only; the rest is TLS
    EXPECT_EQ(at(log, 0)["method"], "CONNECT");
    EXPECT_EQ(at(log, 0)["target"], "localhost:" + std::to_string(origin.site->port()));
    EXPECT_EQ(at(log, 0)["proxy_authorization"], "Basic dXNlcjpwdw==");
    co_await session.close();
    co_await stop(proxy);
    co_await origin.runner->cleanup();
}

ASYNCIO_TEST_REALTIME(HttpClientProxy, ARefusedTunnelRaisesClientHttpProxyError) {
    TlsOrigin origin;
    co_await start_tls_origin(origin);
    Peer proxy = co_await start_proxy("user:pw");
    ClientSession session(trusting_test_ca());
    int status = 0;
    try {
        RequestOptions o{.proxy = proxy.url()};  // no credentials
        co_await session.get(origin.url("/hello"), std::move(o));
    } catch (const ClientHttpProxyError& e) {
        status = e.status();
        EXPECT_EQ(e.message(), std::string("Proxy Authentication Required"));
    }
    EXPECT_EQ(status, 407);
    // A tunnel to a port nobody listens on: the proxy's 502.
    status = 0;
    Peer closed_port = co_await start_origin();
    co_await stop(closed_port);
    try {
        RequestOptions o{.proxy = proxy.url(), .proxy_auth = BasicAuth{"user", "pw"}};
        co_await session.get("https://127.0.0.1:" + std::to_string(closed_port.port) + "/",
                             std::move(o));
    } catch (const ClientHttpProxyError& e) {
        status = e.status();
    }
    EXPECT_EQ(status, 502);
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    // The proxy itself down: ClientProxyConnectionError, a ClientConnectorError.
    co_await stop(proxy);
    bool refused = false;
    try {
        RequestOptions o{.proxy = proxy.url()};
        co_await session.get(origin.url("/hello"), std::move(o));
    } catch (const ClientProxyConnectionError& e) {
        refused = true;
        EXPECT_NE(std::string(e.what()).find(std::to_string(proxy.port)), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(refused);
    RequestOptions https_proxy{.proxy = "https://127.0.0.1:1"};
    EXPECT_THROW(co_await session.get(origin.url("/hello"), std::move(https_proxy)), InvalidURL);
    co_await session.close();
    co_await origin.runner->cleanup();
}

ASYNCIO_TEST_REALTIME(HttpClientProxy, TrustEnvReadsTheProxyVariablesAndNoProxy) {
    Peer origin = co_await start_origin();
    Peer proxy = co_await start_proxy();
    Peer decoy = co_await start_proxy();  // named by the upper-case variable, never used
    auto get = [&](ClientSession& s) -> asyncio::Coro<int> {
        auto r = co_await s.get(origin.url("/hello"));
        co_await r.read();
        co_return r.status;
    };
    {
        EnvGuard env{{"http_proxy", "127.0.0.1:" + std::to_string(proxy.port)},
                     {"HTTP_PROXY", decoy.url()}};
        ClientSession trusting({.trust_env = true});
        EXPECT_EQ(co_await get(trusting), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 1u);  // lower case wins; "host:port" is http://
        ClientSession plain;                     // trust_env off: the variables are ignored
        EXPECT_EQ(co_await get(plain), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 1u);
        co_await trusting.close();
        co_await plain.close();
    }
    const std::vector<std::string> bypassing{"*", "127.0.0.1", "example.com, .0.0.1",
                                             "127.0.0.1:" + std::to_string(origin.port)};
    for (const std::string& no_proxy : bypassing) {
        EnvGuard env{{"HTTP_PROXY", proxy.url()}, {"NO_PROXY", no_proxy}};
        ClientSession session({.trust_env = true});
        EXPECT_EQ(co_await get(session), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 1u) << "NO_PROXY=" << no_proxy;
        co_await session.close();
    }
    {
        EnvGuard env{{"HTTP_PROXY", proxy.url()}, {"NO_PROXY", "localhost,10.0.0.1"}};
        ClientSession session({.trust_env = true});
        EXPECT_EQ(co_await get(session), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 2u);
        co_await session.close();
    }
    {
        // Under CGI, HTTP_PROXY may come from the client's "Proxy:" header: not trusted.
        EnvGuard env{{"HTTP_PROXY", proxy.url()}, {"REQUEST_METHOD", "GET"}};
        ClientSession session({.trust_env = true});
        EXPECT_EQ(co_await get(session), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 2u);
        co_await session.close();
    }
    {
        // An explicit proxy= wins over the environment; https_proxy is not http's.
        EnvGuard env{{"https_proxy", decoy.url()}};
        ClientSession session({.trust_env = true});
        RequestOptions o{.proxy = proxy.url()};
        auto r = co_await session.get(origin.url("/hello"), std::move(o));
        co_await r.read();
        EXPECT_EQ(proxy_log(proxy).size(), 3u);
        EXPECT_EQ(co_await get(session), 200);
        EXPECT_EQ(proxy_log(proxy).size(), 3u);
        co_await session.close();
    }
    EXPECT_TRUE(proxy_log(decoy).empty());
    co_await stop(decoy);
    co_await stop(proxy);
    co_await stop(origin);
}
