// W7: asyncio-cpp's echo servers, run by bench/w7_echo.py (see its docstring).
// Each workload listens on 127.0.0.1:PORT (argument, default 0: any free port), prints
// "PORT <n>" on stdout and serves until the process is killed; it never returns, so it
// prints no RESULT line. Shapes as a Python user writes them:
//   W7proto    loop.create_server + a Protocol whose data_received writes the data back
//   W7streams  start_server; the handler loops read(65536) / write / drain
//   W7lines    start_server; the handler loops readline / write / drain (the idle
//              connections of the memory measurement wait in readline)
// W7sock (the loop's sock_* methods) is in w7_sock.cpp.
#include <asyncio/asyncio.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "bench_common.hpp"

namespace {

constexpr int kBacklog = 4096;

void announce(int port) {
    std::printf("PORT %d\n", port);
    std::fflush(stdout);
}

// ------------------------------------------------------------------ protocol
struct EchoProtocol : asyncio::Protocol {
    asyncio::Transport* transport = nullptr;
    void connection_made(asyncio::Transport& t) override { transport = &t; }
    void data_received(std::string_view data) override { transport->write(data); }
    bool eof_received() override { return false; }
    void connection_lost(std::exception_ptr) override { transport = nullptr; }
};

asyncio::Coro<void> serve_protocol(int port) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Server server = co_await loop.create_server(
        [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", port, {.backlog = kBacklog});
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

asyncio::Coro<void> echo_lines(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
}

template <class Handler>
asyncio::Coro<void> serve_streams(Handler handler, int port) {
    asyncio::Server server =
        co_await asyncio::start_server(handler, "127.0.0.1", port, {.backlog = kBacklog});
    announce(server.sockets()[0].getsockname().port());
    co_await server.serve_forever();
}

int port_arg(const bench::Args& a) { return static_cast<int>(bench::arg_ll(a, 0, 0)); }

bench::Outcome w7proto(const bench::Args& a) {
    asyncio::run(serve_protocol(port_arg(a)));
    return {0, 0};
}
bench::Outcome w7streams(const bench::Args& a) {
    asyncio::run(serve_streams(echo_chunks, port_arg(a)));
    return {0, 0};
}
bench::Outcome w7lines(const bench::Args& a) {
    asyncio::run(serve_streams(echo_lines, port_arg(a)));
    return {0, 0};
}

ASYNCIO_BENCH_WORKLOAD("W7proto", w7proto);
ASYNCIO_BENCH_WORKLOAD("W7streams", w7streams);
ASYNCIO_BENCH_WORKLOAD("W7lines", w7lines);

}  // namespace
