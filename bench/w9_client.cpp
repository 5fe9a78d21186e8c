// W9 client side: `asyncio_bench W9c <url> <requests> <connections>` sends `requests` GETs of
// `url` over `connections` keep-alive connections (one task per connection, each sending its
// share in sequence and reading every body), and prints the RESULT line (n = requests).
// Run by bench/w9_client.py against nginx, beside aiohttp, httpx and Go's net/http.
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

asyncio::Coro<long long> worker(asyncio::http::ClientSession& session, std::string url,
                                long long count) {
    long long bytes = 0;
    for (long long i = 0; i < count; ++i) {
        auto resp = co_await session.get(url);
        std::string body = co_await resp.read();
        if (resp.status != 200) throw std::runtime_error("status " + std::to_string(resp.status));
        bytes += static_cast<long long>(body.size());
    }
    co_return bytes;
}

asyncio::Coro<void> run(std::string url, long long requests, long long connections) {
    asyncio::http::ClientSession session(
        {.connector = {.limit = static_cast<std::size_t>(connections)}});
    std::vector<asyncio::Coro<long long>> workers;
    for (long long c = 0; c < connections; ++c)
        workers.push_back(
            worker(session, url, requests / connections + (c < requests % connections ? 1 : 0)));
    co_await asyncio::gather(std::move(workers));
    if (session.connector().connections_made() != static_cast<std::size_t>(connections))
        std::fprintf(stderr, "W9c: %zu connections made (expected %lld)\n",
                     session.connector().connections_made(), connections);
    co_await session.close();
}

bench::Outcome w9_client(const bench::Args& a) {
    if (a.empty()) throw std::invalid_argument("W9c <url> [requests] [connections]");
    long long requests = bench::arg_ll(a, 1, 20000);
    long long connections = bench::arg_ll(a, 2, 50);
    double t0 = bench::now_s();
    asyncio::run(run(a[0], requests, connections));
    return {requests, bench::now_s() - t0};
}

}  // namespace

ASYNCIO_BENCH_WORKLOAD("W9c", w9_client);
