// asyncio::http::ClientSession against real peers: CPython's http.server
// (tests/support/http_peer.py) and nginx, both started and stopped by each test on a free
// loopback port; HTTPS against nginx with certificates made at test time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <asyncio/http/client.hpp>
#include <asyncio/http/web.hpp>

#include "asyncio_test.hpp"
#include "peer_process.hpp"
#include "test_certs.hpp"

using namespace asyncio::http;
namespace web_ns = asyncio::http::web;
using asyncio::testing::loop;
using asyncio::testing::test_certs;

using asyncio::testing::python;
using asyncio::testing::read_port;

namespace {

/// A peer process serving HTTP on 127.0.0.1:port.
struct Peer {
    asyncio::Process proc;
    int port = -1;
    std::string dir;  // nginx: its prefix (removed at stop)
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }
};

asyncio::Coro<Peer> start_python_peer() {
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, python(),
                                                         ASYNCIO_TEST_SUPPORT_DIR "/http_peer.py");
    int port = co_await asyncio::wait_for(read_port(proc.stdout_, "PORT"), 30.0);
    co_return Peer{proc, port, {}};
}

asyncio::Coro<void> stop(Peer& p) {
    p.proc.terminate();
    co_await asyncio::wait_for(p.proc.wait(), 30.0);
    if (!p.dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(p.dir, ec);
    }
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string big_text() {
    std::string s;
    for (int i = 0; i < 2000; ++i) s += "nginx line " + std::to_string(i) + "\n";
    return s;
}

/// nginx on a free port: one worker, in the foreground, a prefix of its own; keep-alive,
/// gzip (so chunked) for text/plain, a header with its connection serial number.
asyncio::Coro<Peer> start_nginx(bool tls) {
    char templ[] = "/tmp/asyncio-nginx-XXXXXX";
    if (!::mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
    std::string dir = templ;
    ::chmod(dir.c_str(), 0755);
    std::filesystem::create_directories(dir + "/www");
    std::filesystem::create_directories(dir + "/logs");
    std::ofstream(dir + "/www/big.txt") << big_text();
    std::ofstream(dir + "/www/small.txt") << "small file\n";
    int port = free_port();
    std::string listen = "127.0.0.1:" + std::to_string(port) + (tls ? " ssl" : "");
    std::string ssl_conf = tls ? "ssl_certificate " + test_certs()("server.pem") +
                                     ";\n    ssl_certificate_key " + test_certs()("server.key") +
                                     ";\n"
                               : "";
    std::ofstream(dir + "/nginx.conf")
        << "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
           "pid "
        << dir << "/nginx.pid;\nerror_log " << dir
        << "/logs/error.log;\nevents { worker_connections 512; }\n"
           "http {\n  access_log off;\n  default_type text/plain;\n"
           "  keepalive_requests 100000;\n  keepalive_timeout 60s;\n"
           "  gzip on;\n  gzip_min_length 1;\n  gzip_types text/plain;\n"
           "  client_body_temp_path "
        << dir << "/tmp_body;\n  proxy_temp_path " << dir << "/tmp_proxy;\n  fastcgi_temp_path "
        << dir << "/tmp_fcgi;\n  uwsgi_temp_path " << dir << "/tmp_uwsgi;\n  scgi_temp_path " << dir
        << "/tmp_scgi;\n  server {\n    listen " << listen << ";\n    " << ssl_conf << "    root "
        << dir << "/www;\n    add_header X-Connection $connection;\n  }\n}\n";
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdout_ = asyncio::DEVNULL, .stderr_ = asyncio::DEVNULL}, "nginx", "-p", dir, "-c",
        dir + "/nginx.conf", "-e", dir + "/logs/error.log");
    // Ready when it accepts a connection.
    for (int i = 0; i < 200; ++i) {
        try {
            auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
            w.close();
            co_await w.wait_closed();
            break;
        } catch (const std::system_error&) {
        }
        co_await asyncio::sleep(0.02);
    }
    co_return Peer{proc, port, dir};
}

ClientSessionOptions trusting_test_ca() {
    auto ctx = asyncio::ssl::create_default_context();
    ctx.load_verify_locations(test_certs()("ca.pem"));
    return ClientSessionOptions{.ssl = ctx};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Against CPython's http.server

ASYNCIO_TEST_REALTIME(HttpClient, GetGivesStatusReasonHeadersAndText) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/hello"));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.status_code, 200);
    EXPECT_EQ(resp.reason, std::string("OK"));
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp.headers.get("content-type").value_or(""),
              std::string("text/plain; charset=utf-8"));
    EXPECT_EQ(resp.content_type(), std::string("text/plain"));
    EXPECT_EQ(resp.charset(), std::string("utf-8"));
    EXPECT_EQ(resp.content_length(), 11u);
    EXPECT_EQ(resp.url.str(), peer.url("/hello"));
    EXPECT_EQ(resp.method, std::string("GET"));
    EXPECT_EQ(co_await resp.text(), std::string("hello world"));
    EXPECT_EQ(co_await resp.read(), std::string("hello world"));  // read() again: the same bytes
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, KeepAliveServesSequentialRequestsOnOneConnection) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    for (int i = 0; i < 10; ++i) {
        auto resp = co_await session.get(peer.url("/hello"));
        EXPECT_EQ(co_await resp.text(), std::string("hello world"));
    }
    EXPECT_EQ(session.connector().connections_made(), 1u);
    EXPECT_EQ(session.connector().idle_count(), 1u);
    auto count = co_await session.get(peer.url("/connections"));
    EXPECT_EQ(co_await count.text(), std::string("1"));  // the server saw one connection too
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, BodiesAsJsonFormAndBytesWithParamsAndHeaders) {
    Peer peer = co_await start_python_peer();
    ClientSession session({.headers = {{"X-Session", "s"}}});
    // (Braced lists are built outside co_await expressions: WORKAROUND(gcc-12) "array used as
    // initializer" for an initializer_list inside a co_await full-expression.)
    nlohmann::json doc = {{"a", 1}, {"b", "two"}};
    RequestOptions o1{.json = doc};
    auto r1 = co_await session.post(peer.url("/echo"), std::move(o1));
    auto j1 = co_await r1.json();
    EXPECT_EQ(j1["method"], std::string("POST"));
    EXPECT_EQ(nlohmann::json::parse(j1["body"].get<std::string>()), doc);
    EXPECT_EQ(j1["headers"]["Content-Type"], std::string("application/json"));
    EXPECT_EQ(j1["headers"]["X-Session"], std::string("s"));
    EXPECT_EQ(j1["headers"]["Host"], std::string("127.0.0.1:") + std::to_string(peer.port));

    RequestOptions o2{.headers = {{"X-Session", "overridden"}, {"X-Extra", "1"}},
                      .params = {{"q", "a b"}, {"r", "&"}},
                      .form = Params{{"name", "J. Doe"}, {"x", "1+1"}}};
    auto r2 = co_await session.put(peer.url("/echo?k=v"), std::move(o2));
    auto j2 = co_await r2.json();
    EXPECT_EQ(j2["method"], std::string("PUT"));
    EXPECT_EQ(j2["path"], std::string("/echo?k=v&q=a+b&r=%26"));
    EXPECT_EQ(j2["body"], std::string("name=J.+Doe&x=1%2B1"));
    EXPECT_EQ(j2["headers"]["Content-Type"], std::string("application/x-www-form-urlencoded"));
    EXPECT_EQ(j2["headers"]["X-Session"], std::string("overridden"));
    EXPECT_EQ(j2["headers"]["X-Extra"], std::string("1"));

    RequestOptions o3{.data = std::string("raw\0bytes", 9)};
    auto r3 = co_await session.patch(peer.url("/echo"), std::move(o3));
    auto j3 = co_await r3.json();
    EXPECT_EQ(j3["method"], std::string("PATCH"));
    EXPECT_EQ(j3["body"], std::string("raw\0bytes", 9));
    EXPECT_EQ(j3["headers"]["Content-Type"], std::string("application/octet-stream"));

    auto r4 = co_await session.delete_(peer.url("/echo"));
    EXPECT_EQ((co_await r4.json())["method"], std::string("DELETE"));
    auto r5 = co_await session.options(peer.url("/echo"));
    EXPECT_EQ((co_await r5.json())["method"], std::string("OPTIONS"));
    EXPECT_EQ(session.connector().connections_made(), 1u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, HeadGivesTheHeadersWithoutABody) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.head(peer.url("/hello"));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.content_length(), 11u);
    EXPECT_EQ(co_await resp.read(), std::string(""));
    auto again = co_await session.get(peer.url("/hello"));  // the connection is still in step
    EXPECT_EQ(co_await again.text(), std::string("hello world"));
    EXPECT_EQ(session.connector().connections_made(), 1u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ChunkedBodiesReadByLineAndByChunk) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/chunked"));
    EXPECT_FALSE(resp.content_length());
    std::vector<std::string> lines;
    for (int i = 0; i < 10; ++i) {
        std::string line = co_await resp.readline();
        if (line.empty()) break;
        lines.push_back(line);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"chunk 0\n", "chunk 1\n", "chunk 2\n", "chunk 3\n",
                                               "chunk 4\n"}));
    EXPECT_TRUE(resp.at_eof());

    auto big = co_await session.get(peer.url("/lines"));
    std::string all;
    int pieces = 0;
    auto gen = big.iter_chunked(1000);
    while (auto piece = co_await gen.next()) {
        EXPECT_LE(piece->size(), 1000u);
        all += *piece;
        ++pieces;
    }
    EXPECT_EQ(all.substr(0, 14), std::string("line 0\nline 1\n"));
    EXPECT_EQ(all.size(), *big.content_length());
    EXPECT_GE(pieces, 8);
    EXPECT_EQ(session.connector().connections_made(), 1u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, GzipAndDeflateBodiesAreDecoded) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    std::string expected;
    for (int i = 0; i < 1000; ++i) expected += "compressed ";
    for (const char* path : {"/gzip", "/deflate"}) {
        auto resp = co_await session.get(peer.url(path));
        EXPECT_EQ(co_await resp.text(), expected) << path;
    }
    auto echo = co_await session.get(peer.url("/echo"));
    EXPECT_EQ((co_await echo.json())["headers"]["Accept-Encoding"],
              std::string("gzip, deflate, br"));
    // Without auto_decompress the bytes are handed out as received.
    ClientSession raw({.auto_decompress = false});
    auto packed = co_await raw.get(peer.url("/gzip"));
    std::string bytes = co_await packed.read();
    EXPECT_EQ(bytes.substr(0, 2), std::string("\x1f\x8b"));
    co_await raw.close();
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ACorruptGzipBodyRaisesContentEncodingError) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/corrupt-gzip"));
    std::string message;
    try {
        co_await resp.read();
    } catch (const ContentEncodingError& e) {
        message = e.what();
    }
    EXPECT_EQ(message, "GET " + peer.url("/corrupt-gzip") +
                           ": cannot decode the gzip body: unknown compression method")
        << message;
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    EXPECT_EQ(session.connector().idle_count(), 0u);  // that connection was closed
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, TextUsesTheCharsetOfContentType) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/latin1"));
    EXPECT_EQ(resp.charset(), std::string("iso-8859-1"));
    EXPECT_EQ(co_await resp.text(), std::string("caf\xc3\xa9"));
    // The same bytes as UTF-8 are invalid: a clear error, or U+FFFD with errors="replace".
    bool refused = false;
    try {
        co_await resp.text("utf-8");
    } catch (const std::invalid_argument& e) {
        refused =
            std::string(e.what()) == "text(): 'utf-8' codec can't decode byte 0xe9 in position 3";
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(co_await resp.text("utf-8", "replace"), std::string("caf\xef\xbf\xbd"));
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, TextDetectsTheCharsetOfABodyThatIsNotUtf8) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    // No charset in Content-Type, bytes that are not UTF-8: uchardet names the charset.
    auto latin1 = co_await session.get(peer.url("/nocharset-latin1"));
    EXPECT_FALSE(latin1.charset().has_value());
    std::string french = co_await latin1.text();
    EXPECT_TRUE(french.starts_with("D\xc3\xa9j\xc3\xa0 l'\xc3\xa9t\xc3\xa9 s'ach\xc3\xa8ve"))
        << french;
    EXPECT_NE(french.find("\xc3\x87"
                          "a arrive"),
              std::string::npos)
        << french;  // "Ça arrive"
    auto sjis = co_await session.get(peer.url("/nocharset-sjis"));
    std::string japanese = co_await sjis.text();
    // "<p>吾輩は猫である。"
    EXPECT_TRUE(
        japanese.starts_with("<p>\xe5\x90\xbe\xe8\xbc\xa9\xe3\x81\xaf\xe7\x8c\xab"
                             "\xe3\x81\xa7\xe3\x81\x82\xe3\x82\x8b\xe3\x80\x82"))
        << japanese;
    // An encoding named by the caller is still obeyed.
    EXPECT_THROW(co_await sjis.text("utf-8"), std::invalid_argument);
    // Valid UTF-8 without a charset stays UTF-8 (no detection).
    auto plain = co_await session.get(peer.url("/lines"));
    EXPECT_TRUE((co_await plain.text()).starts_with("line 0\n"));
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, JsonChecksTheContentType) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/hello"));
    int status = 0;
    try {
        co_await resp.json();
    } catch (const ContentTypeError& e) {
        status = e.status();
        EXPECT_NE(std::string(e.what()).find("unexpected mimetype: text/plain"), std::string::npos);
    }
    EXPECT_EQ(status, 200);
    auto again = co_await session.get(peer.url("/hello"));
    EXPECT_THROW(co_await again.json(std::nullopt),
                 nlohmann::json::parse_error);  // no check: parse fails
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, RedirectsAreFollowedAndKeptInHistory) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/chain/3"));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.url.str(), peer.url("/hello"));
    CO_ASSERT_EQ(resp.history.size(), 3u);
    EXPECT_EQ(resp.history[0].status, 302);
    EXPECT_EQ(resp.history[0].url.str(), peer.url("/chain/3"));
    EXPECT_EQ(resp.history[2].url.str(), peer.url("/chain/1"));
    EXPECT_EQ(co_await resp.text(), std::string("hello world"));
    EXPECT_EQ(session.connector().connections_made(), 1u);  // redirect bodies were read

    auto limited = co_await session.get(peer.url("/chain/3"), {.allow_redirects = false});
    EXPECT_EQ(limited.status, 302);
    EXPECT_EQ(limited.headers.get("Location").value_or(""), std::string("/chain/2"));

    int status = 0;
    try {
        co_await session.get(peer.url("/chain/5"), {.max_redirects = 2});
    } catch (const TooManyRedirects& e) {
        status = e.status();
    }
    EXPECT_EQ(status, 302);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, RedirectMethodRules) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    for (int code : {301, 302, 303, 307, 308}) {
        nlohmann::json sent_doc = {{"k", code}};
        RequestOptions o{.json = sent_doc};
        auto resp = co_await session.post(
            peer.url("/redirect/" + std::to_string(code) + "?to=/echo"), std::move(o));
        auto j = co_await resp.json();
        bool keeps = code == 307 || code == 308;
        EXPECT_EQ(j["method"], std::string(keeps ? "POST" : "GET")) << code;
        std::string sent = keeps ? sent_doc.dump() : "";
        EXPECT_EQ(j["body"], sent) << code;
        EXPECT_EQ(j["headers"].contains("Content-Type"), keeps) << code;
    }
    // 303 turns a PUT into a GET too; 301 keeps a PUT.
    RequestOptions x1{.data = "x"}, x2{.data = "x"};
    auto put303 = co_await session.put(peer.url("/redirect/303?to=/echo"), std::move(x1));
    EXPECT_EQ((co_await put303.json())["method"], std::string("GET"));
    auto put301 = co_await session.put(peer.url("/redirect/301?to=/echo"), std::move(x2));
    EXPECT_EQ((co_await put301.json())["method"], std::string("PUT"));
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ARedirectToAnotherHostDropsAuthorization) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    RequestOptions auth{.headers = {{"Authorization", "Bearer secret"}}};
    auto same = co_await session.get(peer.url("/redirect/302?to=/echo"), auth);
    EXPECT_EQ((co_await same.json())["headers"]["Authorization"], std::string("Bearer secret"));
    // localhost is another origin than 127.0.0.1 (the same server).
    std::string other = "http://localhost:" + std::to_string(peer.port) + "/echo";
    auto cross = co_await session.get(peer.url("/redirect/302?to=" + other), auth);
    auto j = co_await cross.json();
    EXPECT_FALSE(j["headers"].contains("Authorization"));
    EXPECT_EQ(j["headers"]["Host"], std::string("localhost:") + std::to_string(peer.port));
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, RaiseForStatusRaisesClientResponseError) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/status/404"));
    EXPECT_EQ(resp.status, 404);
    EXPECT_FALSE(resp.ok());
    std::string message;
    try {
        resp.raise_for_status();
    } catch (const ClientResponseError& e) {
        message = e.what();
        EXPECT_EQ(e.status(), 404);
    }
    EXPECT_EQ(message,
              std::string("404, message='Not Found', url='") + peer.url("/status/404") + "'");
    int status = 0;
    try {
        co_await session.get(peer.url("/status/503"), {.raise_for_status = true});
    } catch (const ClientResponseError& e) {
        status = e.status();
    }
    EXPECT_EQ(status, 503);
    ClientSession strict({.raise_for_status = true});
    EXPECT_THROW(co_await strict.get(peer.url("/status/500")), ClientResponseError);
    co_await strict.close();
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, AServerThatStallsRaisesTimeoutError) {
    Peer peer = co_await start_python_peer();
    ClientSession session({.timeout = {.sock_read = 0.3}});
    std::string message;
    try {
        co_await session.get(peer.url("/stall-head"));
    } catch (const asyncio::TimeoutError& e) {
        message = e.what();
    }
    EXPECT_EQ(message, std::string("GET ") + peer.url("/stall-head") +
                           ": timed out after 0.3 s (ClientTimeout sock_read)");
    try {
        co_await session.get(peer.url("/stall-head"), {.timeout = ClientTimeout{.total = 0.2}});
    } catch (const asyncio::TimeoutError& e) {
        message = e.what();
    }
    EXPECT_EQ(message, std::string("GET ") + peer.url("/stall-head") +
                           ": timed out after 0.2 s (ClientTimeout total)");
    // The body's reads are timed too.
    auto resp = co_await session.get(peer.url("/stall-body"));
    EXPECT_EQ((co_await resp.read_chunk()).size(), 1000u);
    EXPECT_THROW(co_await resp.read(), asyncio::TimeoutError);
    resp.close();
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    EXPECT_EQ(session.connector().idle_count(), 0u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, CancellingMidBodyClosesTheConnection) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    {
        auto resp = co_await session.get(peer.url("/stall-body"));
        EXPECT_EQ((co_await resp.read_chunk()).size(), 1000u);
        auto reading = asyncio::create_task(resp.read());
        co_await asyncio::sleep(0.1);
        reading.cancel();
        bool cancelled = false;
        try {
            co_await reading;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(session.connector().acquired_count(), 1u);  // the response still holds it
    }  // dropping the unread response closes its connection
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    EXPECT_EQ(session.connector().idle_count(), 0u);
    // A request cancelled while waiting for the head closes its connection too.
    auto pending = asyncio::create_task(session.get(peer.url("/stall-head")));
    co_await asyncio::sleep(0.1);
    pending.cancel();
    try {
        co_await pending;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    EXPECT_EQ(session.connector().idle_count(), 0u);
    auto next = co_await session.get(peer.url("/hello"));
    EXPECT_EQ(co_await next.text(), std::string("hello world"));
    EXPECT_EQ(session.connector().connections_made(), 3u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ATruncatedBodyRaisesClientPayloadError) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto resp = co_await session.get(peer.url("/short-body"));
    std::string message;
    try {
        co_await resp.read();
    } catch (const ClientPayloadError& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("GET " + peer.url("/short-body") + ": "), std::string::npos) << message;
    EXPECT_EQ(session.connector().idle_count(), 0u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, AGarbageStatusLineRaisesRemoteProtocolError) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    std::string message;
    try {
        co_await session.get(peer.url("/garbage"));
    } catch (const RemoteProtocolError& e) {
        message = e.what();
    }
    EXPECT_EQ(message.rfind(
                  "GET " + peer.url("/garbage") + ": Bad HTTP response: invalid status code", 0),
              0u)
        << message;
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, AnIdempotentRequestIsRetriedOnceWhenAPooledConnectionWasClosed) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto first = co_await session.get(peer.url("/once"));
    EXPECT_EQ(co_await first.text(), std::string("once"));
    // The server closes the pooled connection on the next request without answering: the
    // GET goes again on a new connection.
    auto second = co_await session.get(peer.url("/once"));
    EXPECT_EQ(co_await second.text(), std::string("once"));
    EXPECT_EQ(session.connector().connections_made(), 2u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, APostIsNotRetriedOnAClosedPooledConnection) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    auto first = co_await session.get(peer.url("/once"));
    EXPECT_EQ(co_await first.text(), std::string("once"));
    bool disconnected = false;
    try {
        RequestOptions o{.data = "x"};
        co_await session.post(peer.url("/once"), std::move(o));
    } catch (const ServerDisconnectedError&) {
        disconnected = true;
    }
    EXPECT_TRUE(disconnected);
    EXPECT_EQ(session.connector().connections_made(), 1u);
    co_await session.close();
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, PoolLimitsBoundTheConnectionsOpenAtOnce) {
    Peer peer = co_await start_python_peer();
    for (auto [limit, per_host] : {std::pair<std::size_t, std::size_t>{0, 2}, {1, 0}}) {
        ClientSession session({.connector = {.limit = limit, .limit_per_host = per_host}});
        std::vector<asyncio::Coro<std::string>> fetches;
        for (int i = 0; i < 8; ++i)
            fetches.push_back([](ClientSession& s, std::string url) -> asyncio::Coro<std::string> {
                auto r = co_await s.get(url);
                co_return co_await r.text();
            }(session, peer.url("/hello")));
        auto bodies = co_await asyncio::gather(std::move(fetches));
        EXPECT_EQ(bodies.size(), 8u);
        for (auto& b : bodies) EXPECT_EQ(b, std::string("hello world"));
        EXPECT_EQ(session.connector().connections_made(), limit ? limit : per_host);
        co_await session.close();
    }
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ARefusedConnectionRaisesClientConnectorError) {
    ClientSession session;
    int port = free_port();
    std::string message;
    try {
        co_await session.get("http://127.0.0.1:" + std::to_string(port) + "/");
    } catch (const ClientConnectorError& e) {
        message = e.what();
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
    }
    EXPECT_EQ(message, std::string("Cannot connect to host 127.0.0.1:") + std::to_string(port) +
                           " [Connection refused]");
    EXPECT_EQ(session.connector().acquired_count(), 0u);
    co_await session.close();
}

ASYNCIO_TEST(HttpClient, BadUrlsMethodsAndHeadersAreRefusedBeforeConnecting) {
    ClientSession session;
    EXPECT_THROW(co_await session.get("no-scheme"), InvalidURL);
    EXPECT_THROW(co_await session.get("ftp://127.0.0.1/"), InvalidURL);
    EXPECT_THROW(co_await session.request("GE T", "http://127.0.0.1/"), std::invalid_argument);
    RequestOptions injected{.headers = {{"X-Bad", "a\r\nInjected: 1"}}};
    EXPECT_THROW(co_await session.get("http://127.0.0.1:1/", std::move(injected)),
                 std::invalid_argument);
    RequestOptions two_bodies{.data = "a", .json = 1};
    EXPECT_THROW(co_await session.post("http://127.0.0.1:1/", std::move(two_bodies)),
                 std::invalid_argument);
    EXPECT_EQ(session.connector().connections_made(), 0u);
    co_await session.close();
    EXPECT_THROW(co_await session.get("http://127.0.0.1:1/"), asyncio::RuntimeError);
}

ASYNCIO_TEST_REALTIME(HttpClient, TheSessionWorksThroughAsyncWith) {
    Peer peer = co_await start_python_peer();
    ClientSession session;
    std::string body =
        co_await asyncio::async_with(session, [&](ClientSession& s) -> asyncio::Coro<std::string> {
            auto r = co_await s.get(peer.url("/hello"));
            co_return co_await r.text();
        });
    EXPECT_EQ(body, std::string("hello world"));
    EXPECT_TRUE(session.closed());
    co_await stop(peer);
}

ASYNCIO_TEST_REALTIME(HttpClient, ABaseUrlResolvesRelativeRequests) {
    Peer peer = co_await start_python_peer();
    ClientSession session({.base_url = peer.url("/")});
    auto r = co_await session.get("hello");
    EXPECT_EQ(co_await r.text(), std::string("hello world"));
    co_await session.close();
    co_await stop(peer);
}

// ---------------------------------------------------------------------------------------
// Against nginx

ASYNCIO_TEST_REALTIME(HttpClientNginx, KeepAliveChunkedGzipBodiesOnOneConnection) {
    Peer nginx = co_await start_nginx(false);
    ClientSession session;
    std::string expected = big_text();
    std::string first_conn;
    for (int i = 0; i < 20; ++i) {
        auto resp = co_await session.get(nginx.url("/big.txt"));
        CO_ASSERT_EQ(resp.status, 200);
        EXPECT_EQ(resp.headers.get("Content-Encoding").value_or(""), std::string("gzip"));
        EXPECT_EQ(resp.headers.get("Transfer-Encoding").value_or(""), std::string("chunked"));
        std::string conn(resp.headers.get("X-Connection").value_or("?"));
        if (i == 0) first_conn = conn;
        EXPECT_EQ(conn, first_conn);  // nginx saw one connection
        EXPECT_EQ(co_await resp.text(), expected);
    }
    // Content-Length bodies (no gzip asked for) on the same kind of pool.
    ClientSession plain({.auto_decompress = false});
    auto small = co_await plain.get(nginx.url("/small.txt"));
    EXPECT_EQ(small.content_length(), 11u);
    EXPECT_EQ(co_await small.text(), std::string("small file\n"));
    auto missing = co_await plain.get(nginx.url("/missing"));
    EXPECT_EQ(missing.status, 404);
    co_await missing.read();
    EXPECT_EQ(plain.connector().connections_made(), 1u);
    EXPECT_EQ(session.connector().connections_made(), 1u);
    co_await plain.close();
    co_await session.close();
    co_await stop(nginx);
}

ASYNCIO_TEST_REALTIME(HttpClientNginx, HttpsVerifiesTheServerByDefault) {
    Peer nginx = co_await start_nginx(true);
    std::string url = "https://127.0.0.1:" + std::to_string(nginx.port) + "/small.txt";
    ClientSession session(trusting_test_ca());
    for (int i = 0; i < 3; ++i) {
        auto resp = co_await session.get(url);
        EXPECT_EQ(resp.status, 200);
        EXPECT_EQ(co_await resp.text(), std::string("small file\n"));
    }
    EXPECT_EQ(session.connector().connections_made(), 1u);
    auto named =
        co_await session.get("https://localhost:" + std::to_string(nginx.port) + "/small.txt");
    EXPECT_EQ(named.status, 200);
    co_await named.read();
    // The system's CAs do not know the test CA.
    ClientSession defaults;
    bool refused = false;
    try {
        co_await defaults.get(url);
    } catch (const asyncio::ssl::SSLCertVerificationError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    // A name the certificate does not cover.
    bool mismatch = false;
    try {
        RequestOptions o{.server_hostname = "other.test"};
        co_await session.get(url, std::move(o));
    } catch (const asyncio::ssl::SSLCertVerificationError& e) {
        mismatch = std::string(e.what()).find("hostname mismatch") != std::string::npos;
    }
    EXPECT_TRUE(mismatch);
    co_await defaults.close();
    co_await session.close();
    co_await stop(nginx);
}

// ---------------------------------------------------------------------------------------
// Against our own server (asyncio::http::web), over TLS

namespace {

asyncio::Coro<web_ns::Response> own_hello(web_ns::Request&) {
    co_return web_ns::Response{.text = "hello from web"};
}

asyncio::Coro<web_ns::Response> own_echo(web_ns::Request& req) {
    nlohmann::json doc = co_await req.json();
    doc["seen"] = true;
    co_return web_ns::json_response(doc);
}

asyncio::Coro<web_ns::Response> own_chunked(web_ns::Request&) {
    // A handler building its body bigger than one read, to cross several reads.
    co_return web_ns::Response{.text = std::string(200000, 'z')};
}

}  // namespace

ASYNCIO_TEST_REALTIME(HttpClientOwnServer, HttpsKeepAliveJsonAndLargeBodies) {
    web_ns::Application app;
    app.router().add_get("/hello", own_hello);
    app.router().add_post("/echo", own_echo);
    app.router().add_get("/big", own_chunked);
    auto server_ctx = asyncio::ssl::create_default_context(asyncio::ssl::Purpose::CLIENT_AUTH);
    server_ctx.load_cert_chain(test_certs()("server.pem"), test_certs()("server.key"));
    web_ns::AppRunner runner(app, web_ns::AppRunnerOptions{.access_log = [](std::string_view) {}});
    co_await runner.setup();
    web_ns::SiteOptions site_options{.ssl = server_ctx};
    web_ns::TCPSite site(runner, "127.0.0.1", 0, std::move(site_options));
    co_await site.start();
    std::string base = "https://localhost:" + std::to_string(site.port());

    ClientSession session(trusting_test_ca());
    for (int i = 0; i < 5; ++i) {
        auto resp = co_await session.get(base + "/hello");
        EXPECT_EQ(resp.status, 200);
        EXPECT_EQ(co_await resp.text(), std::string("hello from web"));
    }
    nlohmann::json doc = {{"n", 42}};
    RequestOptions o{.json = doc};
    auto posted = co_await session.post(base + "/echo", std::move(o));
    auto j = co_await posted.json();
    EXPECT_EQ(j["n"], 42);
    EXPECT_EQ(j["seen"], true);
    auto big = co_await session.get(base + "/big");
    EXPECT_EQ((co_await big.read()).size(), 200000u);
    auto missing = co_await session.get(base + "/nope");
    EXPECT_EQ(missing.status, 404);
    co_await missing.read();
    EXPECT_EQ(session.connector().connections_made(), 1u);  // all on one TLS connection
    co_await session.close();
    co_await runner.cleanup();
}
