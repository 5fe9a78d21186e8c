// asyncio::http::web: the aiohttp.web-like server. Routing, requests and responses,
// keep-alive and pipelining, every kind of bad input (answered with its status, the server
// serving on), graceful shutdown, TLS, and real clients: curl, CPython's http.client,
// aiohttp and httpx.
#include "asyncio_test.hpp"
#include "peer_process.hpp"
#include "test_certs.hpp"

#include <asyncio/http/client.hpp>
#include <asyncio/http/detail/decompress.hpp>
#include <asyncio/http/web.hpp>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

using namespace asyncio;
namespace web = asyncio::http::web;
using asyncio::testing::loop;

using asyncio::testing::python;

namespace {

// One running server on 127.0.0.1, port 0, with its access log collected.
struct TestServer {
    web::Application app;
    std::vector<std::string> log;
    std::unique_ptr<web::AppRunner> runner;
    std::unique_ptr<web::TCPSite> site;
    int port = 0;

    explicit TestServer(web::ApplicationOptions options = {}) : app(options) {}

    Coro<void> start(web::SiteOptions site_options = {}, double shutdown_timeout = 10.0) {
        runner = std::make_unique<web::AppRunner>(
            app, web::AppRunnerOptions{
                     .access_log = [this](std::string_view line) { log.emplace_back(line); },
                     .shutdown_timeout = shutdown_timeout});
        co_await runner->setup();
        site = std::make_unique<web::TCPSite>(*runner, "127.0.0.1", 0, std::move(site_options));
        co_await site->start();
        port = site->port();
    }
    Coro<void> stop() { co_await runner->cleanup(); }
};

// Sends `request` on a new connection (then half-closes when asked) and reads until the
// server closes, bounded by 10 s.
Coro<std::string> exchange(int port, std::string request, bool half_close = false) {
    auto conn = co_await open_connection("127.0.0.1", port);
    StreamReader& r = conn.first;
    StreamWriter& w = conn.second;
    w.write(request);
    if (half_close) w.write_eof();
    co_await w.drain();
    std::string out = co_await wait_for(r.read(), 10.0);
    w.close();
    co_await w.wait_closed();
    co_return out;
}

int status_of(const std::string& response) {
    if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return -1;
    return std::stoi(response.substr(9, 3));
}

std::string body_of(const std::string& response) {
    auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? "" : response.substr(p + 4);
}

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// WORKAROUND(gcc-12): a braced list of strings inside a coroutine fails to compile ("array
// used as initializer"); the list is built in this ordinary function instead.
template <class... A>
std::vector<std::string> argv_of(const A&... a) {
    return {std::string(a)...};
}

// Runs a program with arguments, returns (exit code, stdout + stderr), bounded by 30 s.
Coro<std::pair<int, std::string>> run_peer(std::vector<std::string> argv) {
    SubprocessOptions opts{.stdout_ = PIPE, .stderr_ = STDOUT};
    auto proc = co_await create_subprocess_exec(opts, argv);
    auto outputs = co_await wait_for(proc.communicate(), 30.0);
    int rc = co_await proc.wait();
    co_return std::pair{rc, outputs.first + outputs.second};
}

Coro<web::Response> hello(web::Request&) { co_return web::Response{.text = "Hello, world!"}; }

Coro<web::Response> user(web::Request& req) {
    co_return web::json_response({{"id", req.match_info().at("id")},
                                  {"q", std::string(req.query().get("q", ""))},
                                  {"path", req.path()}});
}

Coro<web::Response> echo_json(web::Request& req) {
    nlohmann::json body = co_await req.json();
    body["seen"] = true;
    co_return web::json_response(body, 201);
}

Coro<web::Response> echo_text(web::Request& req) {
    std::string text = co_await req.text();
    co_return web::Response{.text = req.method() + ":" + text};
}

Coro<web::Response> stream(web::Request& req) {
    web::StreamResponse resp;
    resp.content_type = "text/plain";
    co_await resp.prepare(req);
    for (int i = 0; i < 3; ++i) co_await resp.write("part " + std::to_string(i) + "\n");
    co_await resp.write_eof();
    co_return resp;
}

void add_routes(web::Application& app) {
    app.router().add_get("/hello", hello);
    app.router().add_get("/users/{id}", user);
    app.router().add_post("/json", echo_json);
    app.router().add_route("*", "/echo", echo_text);
    app.router().add_get("/stream", stream);
}

}  // namespace

// --- routing, requests, responses ----------------------------------------------------------

ASYNCIO_TEST_REALTIME(HttpWeb, AGetRouteAnswersWithItsBodyAndStandardHeaders) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp =
        co_await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_TRUE(has(resp, "Content-Length: 13\r\n")) << resp;
    EXPECT_TRUE(has(resp, "Content-Type: text/plain; charset=utf-8\r\n")) << resp;
    EXPECT_TRUE(has(resp, "Date: ")) << resp;
    EXPECT_TRUE(has(resp, "Connection: close\r\n")) << resp;
    EXPECT_EQ(body_of(resp), "Hello, world!");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, PathParametersAndQueryReachTheHandlerDecoded) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(
        s.port, "GET /users/a%20b?q=x+y%26z&other=1 HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 200) << resp;
    auto j = nlohmann::json::parse(body_of(resp));
    EXPECT_EQ(j["id"], "a b");
    EXPECT_EQ(j["q"], "x y&z");
    EXPECT_EQ(j["path"], "/users/a b");
    EXPECT_TRUE(has(resp, "Content-Type: application/json")) << resp;
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string nf = co_await exchange(s.port, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(nf), 404) << nf;
    EXPECT_EQ(body_of(nf), "404: Not Found");
    std::string na =
        co_await exchange(s.port, "DELETE /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(na), 405) << na;
    EXPECT_TRUE(has(na, "Allow: GET\r\n")) << na;
    co_await s.stop();
}

namespace {
using Params = std::map<std::string, std::string, std::less<>>;

// A handler answering with its tag, to tell routes apart.
web::Handler tagged(std::string tag) {
    return [tag](web::Request&) -> Coro<web::Response> { co_return web::Response{.text = tag}; };
}

// The tag of the route a GET of `path` finds ("none" when none does) and its parameters.
Coro<std::pair<std::string, Params>> route_of(const web::UrlDispatcher& router,
                                              std::string_view path) {
    Params params;
    auto m = router.resolve("GET", path, params);
    if (m.handler == nullptr)
        co_return std::pair<std::string, Params>(std::string("none"), Params());
    web::Request unused;
    web::Response r = co_await (*m.handler)(unused);
    co_return std::pair<std::string, Params>(r.text, params);
}

// "a=1 b=2". (WORKAROUND(gcc-12): a braced map inside a coroutine fails to compile, "array
// used as initializer"; the tests compare this text instead.)
std::string show(const Params& params) {
    std::string out;
    for (const auto& [k, v] : params) out += (out.empty() ? "" : " ") + k + "=" + v;
    return out;
}

std::string invalid_route_message(std::string_view path) {
    web::UrlDispatcher router;
    try {
        router.add_get(path, tagged("x"));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "accepted";
}
}  // namespace

// aiohttp: test_urldispatch.py test_add_route_with_re, test_route_dynamic_with_regex,
// test_add_route_with_re_including_slashes, test_add_route_with_re_and_slashes.
ASYNCIO_TEST(HttpWebRouter, RegexParametersMatchWhatTheirRegexMatches) {
    web::UrlDispatcher r;
    r.add_get("/users/{id:\\d+}", tagged("by-id"));
    r.add_get("/users/{name}", tagged("by-name"));
    r.add_get("/static/{path:.*}", tagged("static"));
    r.add_get("/files/{stem}.txt", tagged("txt"));
    r.add_get("/code/{c:\\d{3}}", tagged("code"));
    r.add_get("/v/{major:(\\d+)}.{minor:\\d+}", tagged("version"));

    auto a = co_await route_of(r, "/users/42");
    EXPECT_EQ(a.first, "by-id");
    EXPECT_EQ(show(a.second), "id=42");
    auto b = co_await route_of(r, "/users/bob");
    EXPECT_EQ(b.first, "by-name");
    EXPECT_EQ(show(b.second), "name=bob");
    auto c = co_await route_of(r, "/static/css/site/main.css");
    EXPECT_EQ(c.first, "static");
    EXPECT_EQ(show(c.second), "path=css/site/main.css");
    EXPECT_EQ(show((co_await route_of(r, "/static/")).second), "path=");
    auto d = co_await route_of(r, "/files/report.txt");
    EXPECT_EQ(d.first, "txt");
    EXPECT_EQ(show(d.second), "stem=report");
    EXPECT_EQ((co_await route_of(r, "/files/a/b.txt")).first, "none");  // {stem}: no '/'
    EXPECT_EQ(show((co_await route_of(r, "/code/404")).second), "c=404");
    EXPECT_EQ((co_await route_of(r, "/code/40")).first, "none");
    EXPECT_EQ((co_await route_of(r, "/code/4040")).first, "none");  // the whole path matches
    // A parameter's own capture group does not shift the next parameter's value.
    auto v = co_await route_of(r, "/v/3.12");
    EXPECT_EQ(v.first, "version");
    EXPECT_EQ(show(v.second), "major=3 minor=12");
    // A long path against ".*" (the request target limit is 8190 bytes by default).
    std::string long_path = "/static/" + std::string(8000, 'a');
    EXPECT_EQ((co_await route_of(r, long_path)).second.at("path").size(), 8000u);
}

TEST(HttpWebRouter, ABadRouteThrowsInvalidArgumentNamingTheRoute) {
    std::string bad_regex = invalid_route_message("/items/{id:[0-9}");
    EXPECT_TRUE(has(bad_regex, "'/items/{id:[0-9}'")) << bad_regex;
    EXPECT_TRUE(has(bad_regex, "not a valid regex")) << bad_regex;
    std::string paren = invalid_route_message("/a/{x:(ab}");
    EXPECT_TRUE(has(paren, "'/a/{x:(ab}'") && has(paren, "regex '(ab'")) << paren;
    EXPECT_TRUE(has(invalid_route_message("/a/{id"), "unclosed '{'"));
    EXPECT_TRUE(has(invalid_route_message("/a/id}"), "'}' without its '{'"));
    EXPECT_TRUE(has(invalid_route_message("/a/{1st}"), "not an identifier"));
    EXPECT_TRUE(has(invalid_route_message("/a/{}"), "not an identifier"));
    EXPECT_TRUE(has(invalid_route_message("/a/{x}/{x:\\d+}"), "'x' twice"));
    EXPECT_TRUE(has(invalid_route_message("/a/{x:}"), "empty regex"));
    EXPECT_TRUE(has(invalid_route_message("a/b"), "must start with '/'"));
    EXPECT_EQ(invalid_route_message("/a/{x:[a-z]{2,4}}/{y}"), "accepted");
}

ASYNCIO_TEST_REALTIME(HttpWeb, ARegexRouteServesAndOthersAnswer404Or405) {
    TestServer s;
    s.app.router().add_get("/users/{id:\\d+}", user);
    s.app.router().add_post("/static/{path:.*}", echo_text);
    co_await s.start();
    std::string ok =
        co_await exchange(s.port, "GET /users/17?q=z HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(ok), 200) << ok;
    EXPECT_EQ(nlohmann::json::parse(body_of(ok))["id"], "17");
    std::string nf =
        co_await exchange(s.port, "GET /users/abc HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(nf), 404) << nf;
    std::string na =
        co_await exchange(s.port, "GET /static/a/b HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(na), 405) << na;
    EXPECT_TRUE(has(na, "Allow: POST\r\n")) << na;
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, HeadOfAGetRouteSendsTheHeadersWithoutTheBody) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp =
        co_await exchange(s.port, "HEAD /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_TRUE(has(resp, "Content-Length: 13\r\n")) << resp;
    EXPECT_EQ(body_of(resp), "");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, AChunkedRequestBodyIsReadWhole) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(
        s.port,
        "PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    EXPECT_EQ(body_of(resp), "PUT:abcdefg") << resp;
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, AStreamedResponseIsChunked) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp =
        co_await exchange(s.port, "GET /stream HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_TRUE(has(resp, "Transfer-Encoding: chunked\r\n")) << resp;
    EXPECT_EQ(body_of(resp), "7\r\npart 0\n\r\n7\r\npart 1\n\r\n7\r\npart 2\n\r\n0\r\n\r\n");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(s.port,
                                         "GET /users/1 HTTP/1.1\r\n\r\n"
                                         "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                                         "GET /users/3 HTTP/1.1\r\nConnection: close\r\n\r\n");
    auto first = resp.find("\"id\":\"1\"");
    auto second = resp.find("POST:hello");
    auto third = resp.find("\"id\":\"3\"");
    EXPECT_NE(first, std::string::npos) << resp;
    EXPECT_NE(second, std::string::npos) << resp;
    EXPECT_NE(third, std::string::npos) << resp;
    EXPECT_TRUE(first < second && second < third) << resp;
    EXPECT_EQ(s.log.size(), 3u);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, Http10ClosesUnlessKeepAliveIsAsked) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string a = co_await exchange(s.port, "GET /hello HTTP/1.0\r\n\r\n");
    EXPECT_EQ(body_of(a), "Hello, world!");
    // Keep-alive asked: the answer says so and a second request on the connection works.
    std::string b = co_await exchange(
        s.port, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(has(b, "Connection: keep-alive\r\n")) << b;
    EXPECT_EQ(s.log.size(), 3u);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, HandlerExceptionsBecome500AndHttpExceptionsTheirStatus) {
    TestServer s;
    s.app.router().add_get("/boom", [](web::Request&) -> Coro<web::Response> {
        throw std::runtime_error("handler failed");
        co_return web::Response{};
    });
    s.app.router().add_get("/teapot", [](web::Request&) -> Coro<web::Response> {
        throw web::HTTPException(418, "short and stout");
        co_return web::Response{};
    });
    co_await s.start();
    std::string a = co_await exchange(s.port, "GET /boom HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(a), 500) << a;
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Error handling request");
    EXPECT_TRUE(has(reports[0].exception, "handler failed")) << reports[0].exception;
    std::string b = co_await exchange(s.port, "GET /teapot HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(b), 418) << b;
    EXPECT_EQ(body_of(b), "short and stout");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, EachRequestWritesOneAccessLogLine) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    co_await exchange(s.port,
                      "GET /hello?x=1 HTTP/1.1\r\nUser-Agent: tester/1\r\nReferer: http://r/\r\n"
                      "Connection: close\r\n\r\n");
    CO_ASSERT_EQ(s.log.size(), 1u);
    const std::string& line = s.log[0];
    EXPECT_TRUE(line.starts_with("127.0.0.1 [")) << line;
    EXPECT_TRUE(has(line, "] \"GET /hello?x=1 HTTP/1.1\" 200 13 \"http://r/\" \"tester/1\""))
        << line;
    co_await s.stop();
}

// --- bad input: a clean status or a closed connection, and the server serves on ----------

namespace {
// After a bad request, a fresh connection still gets a normal answer.
Coro<void> expect_still_serving(int port) {
    std::string ok = co_await exchange(port, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(body_of(ok), "Hello, world!") << ok;
}
}  // namespace

ASYNCIO_TEST_REALTIME(HttpWebBadInput, AMalformedStartLineIs400AndTheConnectionCloses) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp =
        co_await exchange(s.port, "GET /hello HTTP/1.1 extra\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(resp), 400) << resp;
    EXPECT_TRUE(has(resp, "Connection: close\r\n")) << resp;
    EXPECT_TRUE(has(body_of(resp), "Bad HTTP request")) << resp;
    EXPECT_FALSE(has(resp, "Hello")) << resp;  // nothing after the bad request is served
    std::string junk = co_await exchange(s.port, std::string("\x16\x03\x01\x02\x00\x01", 6));
    EXPECT_EQ(status_of(junk), 400) << junk;  // a TLS hello on the plain port
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, OversizedHeadersAre431AndALongTargetIs414) {
    TestServer s({.max_line_size = 1024, .max_field_size = 1024, .max_head_size = 4096});
    add_routes(s.app);
    co_await s.start();
    std::string big = co_await exchange(
        s.port, "GET /hello HTTP/1.1\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n");
    EXPECT_EQ(status_of(big), 431) << big.substr(0, 200);
    std::string many = "GET /hello HTTP/1.1\r\n";
    for (int i = 0; i < 100; ++i)
        many += "X-H" + std::to_string(i) + ": " + std::string(50, 'v') + "\r\n";
    std::string total = co_await exchange(s.port, many + "\r\n");
    EXPECT_EQ(status_of(total), 431) << total.substr(0, 200);
    std::string target =
        co_await exchange(s.port, "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(target), 414) << target.substr(0, 200);
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, ABodyOverTheLimitIs413ByLengthOrByChunks) {
    TestServer s({.client_max_size = 1000});
    add_routes(s.app);
    co_await s.start();
    std::string declared = co_await exchange(
        s.port, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(100, 'x'));
    EXPECT_EQ(status_of(declared), 413) << declared;
    std::string chunked = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) chunked += "190\r\n" + std::string(400, 'y') + "\r\n";
    std::string over = co_await exchange(s.port, chunked + "0\r\n\r\n");
    EXPECT_EQ(status_of(over), 413) << over.substr(0, 300);
    EXPECT_TRUE(has(over, "body over the limit of 1000 bytes")) << over.substr(0, 300);
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, ContentLengthWithTransferEncodingIsRejected) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(
        s.port,
        "POST /echo HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(resp), 400) << resp;
    EXPECT_TRUE(has(resp, "Content-Length together with Transfer-Encoding")) << resp;
    EXPECT_FALSE(has(resp, "Hello")) << resp;  // the smuggled request is not served
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, AnInvalidChunkSizeIs400) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(
        s.port, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nxyz\r\n");
    EXPECT_EQ(status_of(resp), 400) << resp;
    EXPECT_TRUE(has(resp, "invalid chunk size")) << resp;
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, AClientStallingMidHeadersGets408) {
    TestServer s({.read_head_timeout = 0.3});
    add_routes(s.app);
    co_await s.start();
    // The head never ends: the server answers 408 and closes (read() returns at EOF).
    std::string resp = co_await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    EXPECT_EQ(status_of(resp), 408) << resp;
    co_await expect_still_serving(s.port);
    co_await s.stop();
}

namespace {
// A handler that reads the whole body, recording how the read ended.
web::Handler recording_upload(std::shared_ptr<std::string> seen, std::shared_ptr<Event> entered) {
    return [seen, entered](web::Request& req) -> Coro<web::Response> {
        entered->set();
        try {
            std::string body = co_await req.read();
            *seen = "complete " + std::to_string(body.size());
        } catch (const http::HttpProcessingError& e) {
            *seen = std::to_string(e.status()) + " " + e.what();
            throw;
        }
        co_return web::Response{.text = *seen};
    };
}
}  // namespace

ASYNCIO_TEST_REALTIME(HttpWebBadInput, AClientStallingMidBodyGets408AndTheServerServesOthers) {
    TestServer s({.read_body_timeout = 0.3});
    auto seen = std::make_shared<std::string>();
    auto entered = std::make_shared<Event>();
    s.app.router().add_post("/upload", recording_upload(seen, entered));
    add_routes(s.app);
    co_await s.start();
    auto conn = co_await open_connection("127.0.0.1", s.port);
    StreamReader& r = conn.first;
    StreamWriter& w = conn.second;
    const auto began = std::chrono::steady_clock::now();
    w.write("POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'z'));
    co_await w.drain();
    co_await wait_for(entered->wait(), 10.0);
    co_await expect_still_serving(s.port);                 // while this one stalls
    std::string resp = co_await wait_for(r.read(), 10.0);  // 408, then the server closes
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    EXPECT_EQ(status_of(resp), 408) << resp;
    EXPECT_TRUE(has(resp, "Connection: close\r\n")) << resp;
    EXPECT_TRUE(has(body_of(resp), "no byte of the request body for 0.3 s")) << resp;
    EXPECT_TRUE(has(*seen, "408 Request Timeout")) << *seen;
    EXPECT_GE(waited, 0.25);
    w.close();
    co_await w.wait_closed();
    co_await expect_still_serving(s.port);
    EXPECT_EQ(s.runner->connections(), 0u);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, TheBodyTimeoutBoundsEachWaitNotTheWholeBody) {
    // 8 pieces 0.1 s apart: 0.8 s in all, each wait well under the 0.5 s timeout.
    TestServer s({.read_body_timeout = 0.5});
    auto seen = std::make_shared<std::string>();
    auto entered = std::make_shared<Event>();
    s.app.router().add_post("/upload", recording_upload(seen, entered));
    co_await s.start();
    auto conn = co_await open_connection("127.0.0.1", s.port);
    StreamReader& r = conn.first;
    StreamWriter& w = conn.second;
    w.write("POST /upload HTTP/1.1\r\nContent-Length: 800\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 8; ++i) {
        co_await asyncio::sleep(0.1);
        w.write(std::string(100, 'p'));
        co_await w.drain();
    }
    std::string resp = co_await wait_for(r.read(), 10.0);
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_EQ(body_of(resp), "complete 800");
    w.close();
    co_await w.wait_closed();
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput,
                      AClientDisconnectingMidBodyFailsTheReadAndTheServerServesOn) {
    TestServer s;
    auto seen = std::make_shared<std::string>();
    auto entered = std::make_shared<Event>();
    s.app.router().add_post("/upload", [seen, entered](web::Request& req) -> Coro<web::Response> {
        entered->set();
        try {
            co_await req.read();
            *seen = "complete";
        } catch (const http::HttpProcessingError& e) {
            *seen = e.what();
            throw;
        }
        co_return web::Response{};
    });
    add_routes(s.app);
    co_await s.start();
    {
        auto conn = co_await open_connection("127.0.0.1", s.port);
        StreamWriter& w = conn.second;
        w.write("POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'z'));
        co_await w.drain();
        co_await wait_for(entered->wait(), 10.0);
        w.transport()->abort();
    }
    for (int i = 0; i < 200 && seen->empty(); ++i) co_await asyncio::sleep(0.01);
    EXPECT_TRUE(has(*seen, "closed the connection before the body was complete") ||
                has(*seen, "connection closed before the message was complete"))
        << *seen;
    co_await expect_still_serving(s.port);
    EXPECT_EQ(s.runner->connections(), 0u);
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebBadInput, HeaderInjectionInAResponseBecomes500) {
    TestServer s;
    s.app.router().add_get("/inject", [](web::Request&) -> Coro<web::Response> {
        co_return web::Response{.text = "x", .headers = {{"X-Evil", "a\r\nSet-Cookie: b"}}};
    });
    co_await s.start();
    std::string resp = co_await exchange(s.port, "GET /inject HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(resp), 500) << resp;
    EXPECT_FALSE(has(resp, "Set-Cookie")) << resp;
    auto reports = asyncio::testing::take_reports();
    EXPECT_EQ(reports.size(), 1u);
    co_await s.stop();
}

// --- shutdown -------------------------------------------------------------------------------

ASYNCIO_TEST_REALTIME(HttpWebShutdown, CleanupFinishesRequestsInProgressAndClosesIdleOnes) {
    TestServer s;
    auto entered = std::make_shared<Event>();
    s.app.router().add_get("/slow", [entered](web::Request&) -> Coro<web::Response> {
        entered->set();
        co_await asyncio::sleep(0.3);
        co_return web::Response{.text = "finished"};
    });
    add_routes(s.app);
    co_await s.start();
    // An idle keep-alive connection, and one with a request in progress.
    auto idle = co_await open_connection("127.0.0.1", s.port);
    StreamReader& ir = idle.first;
    StreamWriter& iw = idle.second;
    iw.write("GET /hello HTTP/1.1\r\n\r\n");
    std::string first = co_await wait_for(ir.readuntil("Hello, world!"), 10.0);
    auto slow = create_task(exchange(s.port, "GET /slow HTTP/1.1\r\n\r\n"));
    co_await wait_for(entered->wait(), 10.0);
    co_await s.stop();
    std::string resp = co_await wait_for(slow, 10.0);
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_EQ(body_of(resp), "finished");
    EXPECT_TRUE(has(resp, "Connection: close\r\n")) << resp;
    EXPECT_EQ(co_await wait_for(ir.read(), 10.0), "");  // the idle one was closed
    iw.close();
    co_await iw.wait_closed();
    // No longer accepting.
    bool refused = false;
    try {
        co_await open_connection("127.0.0.1", s.port);
    } catch (const std::system_error& e) {
        refused = e.code().value() == ECONNREFUSED;
    }
    EXPECT_TRUE(refused);
}

ASYNCIO_TEST_REALTIME(HttpWebShutdown, RunAppEndsOnSigtermAfterTheRequestInProgress) {
    web::Application app;
    auto entered = std::make_shared<Event>();
    app.router().add_get("/slow", [entered](web::Request&) -> Coro<web::Response> {
        entered->set();
        co_await asyncio::sleep(0.2);
        co_return web::Response{.text = "done"};
    });
    auto port = std::make_shared<int>(0);
    auto started = std::make_shared<Event>();
    auto server = create_task(web::detail::run_app(
        app, {.host = "127.0.0.1",
              .port = 0,
              .access_log = nullptr,
              .print = [port, started](std::string_view line) {
                  auto p = line.rfind(':');
                  if (line.starts_with("======== Running on") && p != std::string_view::npos) {
                      *port = std::stoi(std::string(line.substr(p + 1)));
                      started->set();
                  }
              }}));
    co_await wait_for(started->wait(), 10.0);
    auto slow = create_task(exchange(*port, "GET /slow HTTP/1.1\r\n\r\n"));
    co_await wait_for(entered->wait(), 10.0);
    ::kill(::getpid(), SIGTERM);
    co_await wait_for(server, 10.0);
    std::string resp = co_await wait_for(slow, 10.0);
    EXPECT_EQ(body_of(resp), "done") << resp;
}

// --- TLS and real clients -------------------------------------------------------------------

ASYNCIO_TEST_REALTIME(HttpWebPeers, CurlGetsPostsJsonAndReadsAStream) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string base = "http://127.0.0.1:" + std::to_string(s.port);
    auto peer = co_await run_peer(argv_of("curl", "-sS", "--max-time", "20", base + "/hello",
                                          base + "/stream", "--next", "-sS", "--max-time", "20",
                                          "-X", "POST", "-H", "Content-Type: application/json",
                                          "--data", "{\"n\": 5}", base + "/json"));
    const int rc = peer.first;
    const std::string& out = peer.second;
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(has(out, "Hello, world!")) << out;
    EXPECT_TRUE(has(out, "part 0\npart 1\npart 2\n")) << out;
    EXPECT_TRUE(has(out, "\"seen\":true")) << out;
    // Over 1 KiB curl asks for 100-continue (and would wait a second without it).
    auto big =
        co_await run_peer(argv_of("curl", "-sS", "--max-time", "20", "--expect100-timeout", "15",
                                  "--data-binary", std::string(4096, 'b'), base + "/echo"));
    EXPECT_EQ(big.first, 0) << big.second;
    EXPECT_EQ(big.second, "POST:" + std::string(4096, 'b'));
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, ExpectContinueGets100WhenTheHandlerReadsTheBody) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    auto conn = co_await open_connection("127.0.0.1", s.port);
    StreamReader& r = conn.first;
    StreamWriter& w = conn.second;
    w.write(
        "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
        "Connection: close\r\n\r\n");
    std::string interim = co_await wait_for(r.readuntil("\r\n\r\n"), 10.0);
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    w.write("body");
    std::string resp = co_await wait_for(r.read(), 10.0);
    EXPECT_EQ(status_of(resp), 200) << resp;
    EXPECT_EQ(body_of(resp), "POST:body");
    w.close();
    co_await w.wait_closed();
    co_await s.stop();
}

namespace {
// Repetitive text, 20 KiB: compresses well, and is over the size sent apart from the head.
const std::string& lorem() {
    static const std::string text = [] {
        std::string t;
        for (int i = 0; t.size() < 20000; ++i)
            t += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
        return t;
    }();
    return text;
}

void add_compressed_routes(web::Application& app) {
    app.router().add_get("/z", [](web::Request&) -> Coro<web::Response> {
        web::Response r{.text = lorem()};
        r.enable_compression();
        co_return r;
    });
    app.router().add_get("/z-forced", [](web::Request&) -> Coro<web::Response> {
        co_return web::Response{
            .text = lorem(), .compression = true, .compression_force = web::ContentCoding::gzip};
    });
    app.router().add_get("/z-stream", [](web::Request& req) -> Coro<web::Response> {
        web::StreamResponse resp;
        resp.content_type = "text/plain";
        resp.content_length = lorem().size();  // dropped: the compressed length is unknown
        resp.enable_compression();
        co_await resp.prepare(req);
        for (std::size_t at = 0; at < lorem().size(); at += 5000)
            co_await resp.write(std::string_view(lorem()).substr(at, 5000));
        co_await resp.write_eof();
        co_return resp;
    });
}

// The value of header `name` in a raw response ("" when absent).
std::string header_of(const std::string& response, const std::string& name) {
    auto p = response.find("\r\n" + name + ": ");
    if (p == std::string::npos || p > response.find("\r\n\r\n")) return "";
    p += name.size() + 4;
    return response.substr(p, response.find("\r\n", p) - p);
}

std::string decode(const std::string& body, http::detail::Encoding e) {
    http::detail::Decompressor d(e);
    std::string out = d.feed(body);
    d.finish();
    return out;
}

// The body of a chunked response, unchunked.
std::string unchunk(std::string body) {
    std::string out;
    for (;;) {
        auto eol = body.find("\r\n");
        std::size_t n = std::stoul(body.substr(0, eol), nullptr, 16);
        if (n == 0) return out;
        out += body.substr(eol + 2, n);
        body = body.substr(eol + 2 + n + 2);
    }
}
}  // namespace

ASYNCIO_TEST_REALTIME(HttpWeb, EnableCompressionFollowsAcceptEncodingAndSetsVary) {
    TestServer s;
    add_compressed_routes(s.app);
    co_await s.start();
    auto get = [&](std::string accept) -> Coro<std::string> {
        co_return co_await exchange(s.port,
                                    "GET /z HTTP/1.1\r\nConnection: close\r\n" + accept + "\r\n");
    };
    std::string gz = co_await get("Accept-Encoding: gzip, deflate, br\r\n");
    EXPECT_EQ(header_of(gz, "Content-Encoding"), "gzip") << gz.substr(0, 300);
    EXPECT_EQ(header_of(gz, "Vary"), "Accept-Encoding");
    EXPECT_EQ(header_of(gz, "Content-Length"), std::to_string(body_of(gz).size()));
    EXPECT_LT(body_of(gz).size(), lorem().size() / 4);
    EXPECT_EQ(decode(body_of(gz), http::detail::Encoding::gzip), lorem());
    std::string df = co_await get("Accept-Encoding: gzip;q=0, deflate\r\n");
    EXPECT_EQ(header_of(df, "Content-Encoding"), "deflate") << df.substr(0, 300);
    EXPECT_EQ(decode(body_of(df), http::detail::Encoding::deflate), lorem());
    std::string star = co_await get("Accept-Encoding: identity;q=0.5, *;q=0.8\r\n");
    EXPECT_EQ(header_of(star, "Content-Encoding"), "gzip") << star.substr(0, 300);
    std::string none = co_await get("");
    EXPECT_EQ(header_of(none, "Content-Encoding"), "") << none.substr(0, 300);
    EXPECT_EQ(header_of(none, "Vary"), "Accept-Encoding");
    EXPECT_EQ(body_of(none), lorem());
    std::string forced =
        co_await exchange(s.port, "GET /z-forced HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(header_of(forced, "Content-Encoding"), "gzip") << forced.substr(0, 300);
    EXPECT_EQ(header_of(forced, "Vary"), "");  // not negotiated
    EXPECT_EQ(decode(body_of(forced), http::detail::Encoding::gzip), lorem());
    std::string head = co_await exchange(
        s.port, "HEAD /z HTTP/1.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(header_of(head, "Content-Length"), header_of(gz, "Content-Length"));
    EXPECT_EQ(body_of(head), "");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWeb, ACompressedStreamIsChunkedWithoutContentLength) {
    TestServer s;
    add_compressed_routes(s.app);
    co_await s.start();
    std::string resp = co_await exchange(
        s.port, "GET /z-stream HTTP/1.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 200) << resp.substr(0, 300);
    EXPECT_EQ(header_of(resp, "Content-Encoding"), "gzip");
    EXPECT_EQ(header_of(resp, "Transfer-Encoding"), "chunked");
    EXPECT_EQ(header_of(resp, "Content-Length"), "");
    EXPECT_EQ(decode(unchunk(body_of(resp)), http::detail::Encoding::gzip), lorem());
    // HTTP/1.0: no chunks, the body ends when the connection does.
    std::string old =
        co_await exchange(s.port, "GET /z-stream HTTP/1.0\r\nAccept-Encoding: deflate\r\n\r\n");
    EXPECT_EQ(header_of(old, "Content-Encoding"), "deflate") << old.substr(0, 300);
    EXPECT_EQ(decode(body_of(old), http::detail::Encoding::deflate), lorem());
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebPeers, CompressedResponsesDecodeInOurClientCurlAndCPython) {
    TestServer s;
    add_compressed_routes(s.app);
    co_await s.start();
    std::string base = "http://127.0.0.1:" + std::to_string(s.port);
    {
        http::ClientSession session;
        for (const std::string& path : argv_of("/z", "/z-stream")) {
            auto resp = co_await session.get(base + path);
            EXPECT_EQ(resp.headers.get("Content-Encoding").value_or(""), "gzip") << path;
            EXPECT_EQ(co_await resp.text(), lorem()) << path;
        }
        co_await session.close();
    }
    auto curl = co_await run_peer(argv_of("curl", "-sS", "--max-time", "20", "--compressed",
                                          base + "/z", base + "/z-stream"));
    EXPECT_EQ(curl.first, 0) << curl.second.substr(0, 300);
    EXPECT_TRUE(curl.second == lorem() + lorem()) << curl.second.substr(0, 300);
    std::string script = R"PY(
import gzip, http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
for path in ("/z", "/z-stream"):
    c.request("GET", path, headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    raw = r.read()
    text = gzip.decompress(raw).decode()
    print(path, r.getheader("Content-Encoding"), r.getheader("Vary"), len(raw) < len(text), len(text))
)PY";
    auto py = co_await run_peer(argv_of(python(), "-c", script, std::to_string(s.port)));
    EXPECT_EQ(py.first, 0) << py.second;
    const std::string n = std::to_string(lorem().size());
    EXPECT_EQ(py.second, "/z gzip Accept-Encoding True " + n +
                             "\n/z-stream gzip Accept-Encoding True " + n + "\n");
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebPeers, CPythonHttpClientKeepsTheConnectionAlive) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string script = R"PY(
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
c.request("GET", "/hello"); r = c.getresponse(); print(r.status, r.read().decode())
sock = c.sock
c.request("POST", "/json", body=json.dumps({"a": [1, 2]}), headers={"Content-Type": "application/json"})
r = c.getresponse(); print(r.status, json.loads(r.read())["a"], "same-connection" if c.sock is sock else "new-connection")
c.request("GET", "/stream"); r = c.getresponse(); print(r.status, repr(r.read().decode()))
)PY";
    auto peer = co_await run_peer(argv_of(python(), "-c", script, std::to_string(s.port)));
    const int rc = peer.first;
    const std::string& out = peer.second;
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(has(
        out, "200 Hello, world!\n201 [1, 2] same-connection\n200 'part 0\\npart 1\\npart 2\\n'"))
        << out;
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebPeers, AiohttpAndHttpxClientsGetTheirAnswers) {
    TestServer s;
    add_routes(s.app);
    co_await s.start();
    std::string script = R"PY(
import asyncio, sys, aiohttp, httpx
base = "http://127.0.0.1:" + sys.argv[1]
async def main():
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/users/7", params={"q": "a b"}) as r:
            print("aiohttp", r.status, (await r.json())["q"])
        rs = await asyncio.gather(*[s.get(base + "/hello") for _ in range(5)])
        print("aiohttp", [r.status for r in rs])
        async with s.post(base + "/json", json={"k": "v"}) as r:
            print("aiohttp", r.status, await r.json())
    async with httpx.AsyncClient() as c:
        r = await c.get(base + "/stream")
        print("httpx", r.status_code, r.text.count("part"))
        r = await c.get(base + "/missing")
        print("httpx", r.status_code)
asyncio.run(main())
)PY";
    auto peer = co_await run_peer(argv_of(python(), "-c", script, std::to_string(s.port)));
    const int rc = peer.first;
    const std::string& out = peer.second;
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(has(out, "aiohttp 200 a b\n")) << out;
    EXPECT_TRUE(has(out, "aiohttp [200, 200, 200, 200, 200]\n")) << out;
    EXPECT_TRUE(has(out, "aiohttp 201 {'k': 'v', 'seen': True}\n")) << out;
    EXPECT_TRUE(has(out, "httpx 200 3\nhttpx 404\n")) << out;
    co_await s.stop();
}

ASYNCIO_TEST_REALTIME(HttpWebPeers, HttpsSiteServesCPythonWithVerification) {
    const auto& certs = asyncio::testing::test_certs();
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(certs("server.pem"), certs("server.key"));
    TestServer s;
    add_routes(s.app);
    web::SiteOptions tls{.ssl = ctx};
    co_await s.start(std::move(tls));
    EXPECT_TRUE(s.site->name().starts_with("https://127.0.0.1:")) << s.site->name();
    std::string script = R"PY(
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx, timeout=20)
c.request("GET", "/hello"); r = c.getresponse(); print(r.status, r.read().decode())
c.request("GET", "/users/tls"); r = c.getresponse(); print(r.status, r.read().decode())
)PY";
    auto peer =
        co_await run_peer(argv_of(python(), "-c", script, std::to_string(s.port), certs("ca.pem")));
    const int rc = peer.first;
    const std::string& out = peer.second;
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(has(out, "200 Hello, world!\n")) << out;
    EXPECT_TRUE(has(out, "\"id\":\"tls\"")) << out;
    co_await s.stop();
}
