// W9's asyncio-cpp server: GET /13 answers "Hello, world!" (13 bytes), GET /64k 64 KiB,
// keep-alive, no access log. Prints "PORT <n>" once listening; ends on SIGINT / SIGTERM.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/web.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace web = asyncio::http::web;

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 0;
    static const std::string big(64 * 1024, 'x');
    web::Application app;
    app.router().add_get("/13", [](web::Request&) -> asyncio::Coro<web::Response> {
        co_return web::Response{.text = "Hello, world!"};
    });
    app.router().add_get("/64k", [](web::Request&) -> asyncio::Coro<web::Response> {
        co_return web::Response{.text = big};
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
