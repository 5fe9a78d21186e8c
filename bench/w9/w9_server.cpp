// W9's asyncio-cpp server: GET /13 answers "Hello, world!" (13 bytes), GET /64k 64 KiB,
// keep-alive, no access log. Prints "PORT <n>" once listening; ends on SIGINT / SIGTERM.
// The 64 KiB body is one shared string (Response::shared_body), as the Go peer writes one
// shared byte slice and aiohttp's body=bytes would share its bytes; GET /64k-copy answers
// the same with a copy per request (Response::text), for comparison.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/web.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace web = asyncio::http::web;

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 0;
    static const auto big = std::make_shared<const std::string>(64 * 1024, 'x');
    web::Application app;
    app.router().add_get("/13", [](web::Request&) -> asyncio::Coro<web::Response> {
        co_return web::Response{.text = "Hello, world!"};
    });
    app.router().add_get("/64k", [](web::Request&) -> asyncio::Coro<web::Response> {
        co_return web::Response{.content_type = "text/plain; charset=utf-8", .shared_body = big};
    });
    app.router().add_get("/64k-copy", [](web::Request&) -> asyncio::Coro<web::Response> {
        co_return web::Response{.text = *big};
    });
    web::run_app(app, {.host = "127.0.0.1",
                       .port = port,
                       .access_log = nullptr,
                       .print = [](std::string_view line) {
                           auto p = line.rfind(':');
                           if (line.starts_with("======== Running on")) {
                               std::printf("PORT %d\n",
                                           std::atoi(std::string(line.substr(p + 1)).c_str()));
                               std::fflush(stdout);
                           }
                       }});
    return 0;
}
