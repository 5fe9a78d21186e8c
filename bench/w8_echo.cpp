// W8: asyncio-cpp's TLS echo servers, run by bench/w8_echo.py (see its docstring).
// `asyncio_bench W8proto|W8streams CERT KEY [PORT]` listens on 127.0.0.1:PORT (default 0:
// any free port) with the certificate chain CERT and private key KEY (PEM files), prints
// "PORT <n>" on stdout and serves until the process is killed; it never returns, so it
// prints no RESULT line. Shapes as a Python user writes them, with
// ssl.create_default_context(ssl.Purpose.CLIENT_AUTH) + load_cert_chain as the context:
//   W8proto    loop.create_server(factory, host, port, ssl=ctx) + a Protocol whose
//              data_received writes the data back
//   W8streams  start_server(handler, host, port, ssl=ctx); the handler loops
//              read(65536) / write / drain
#include <asyncio/asyncio.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bench_common.hpp"

namespace {

constexpr int kBacklog = 4096;

void announce(int port) {
    std::printf("PORT %d\n", port);
    std::fflush(stdout);
}

asyncio::ssl::SSLContext server_context(const bench::Args& a) {
    if (a.size() < 2) {
        std::fprintf(stderr, "usage: asyncio_bench W8proto|W8streams CERT KEY [PORT]\n");
        std::exit(2);
    }
    asyncio::ssl::SSLContext ctx =
        asyncio::ssl::create_default_context(asyncio::ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(a[0], a[1]);
    return ctx;
}

int port_arg(const bench::Args& a) { return static_cast<int>(bench::arg_ll(a, 2, 0)); }

// ------------------------------------------------------------------ protocol
struct EchoProtocol : asyncio::Protocol {
    asyncio::Transport* transport = nullptr;
    void connection_made(asyncio::Transport& t) override { transport = &t; }
    void data_received(std::string_view data) override { transport->write(data); }
    bool eof_received() override { return false; }
    void connection_lost(std::exception_ptr) override { transport = nullptr; }
};

asyncio::Coro<void> serve_protocol(asyncio::ssl::SSLContext ctx, int port) {
    auto& loop = asyncio::get_running_loop();
    asyncio::ServerOptions opts{.backlog = kBacklog, .ssl = std::move(ctx)};
    asyncio::Server server = co_await loop.create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", port, std::move(opts));
    announce(server.sockets()[0].getsockname().port());
    co_await server.serve_forever();
}

// ------------------------------------------------------------------ streams
asyncio::Coro<void> echo_chunks(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string data = co_await reader.read(65536);
        if (data.empty()) break;
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
}

asyncio::Coro<void> serve_streams(asyncio::ssl::SSLContext ctx, int port) {
    asyncio::StartServerOptions opts{.backlog = kBacklog, .ssl = std::move(ctx)};
    asyncio::Server server =
        co_await asyncio::start_server(echo_chunks, "127.0.0.1", port, std::move(opts));
    announce(server.sockets()[0].getsockname().port());
    co_await server.serve_forever();
}

bench::Outcome w8proto(const bench::Args& a) {
    asyncio::run(serve_protocol(server_context(a), port_arg(a)));
    return {0, 0};
}
bench::Outcome w8streams(const bench::Args& a) {
    asyncio::run(serve_streams(server_context(a), port_arg(a)));
    return {0, 0};
}

ASYNCIO_BENCH_WORKLOAD("W8proto", w8proto);
ASYNCIO_BENCH_WORKLOAD("W8streams", w8streams);

}  // namespace
