// W4: two tasks pass a counter back and forth through two Queue(1) for N round trips.
// Args: N (default 1,000,000). n = round trips.
#include <asyncio/asyncio.hpp>
#include <stdexcept>

#include "bench_common.hpp"

namespace {

asyncio::Coro<void> ponger(asyncio::Queue<long long>& ping, asyncio::Queue<long long>& pong,
                           long long n) {
    for (long long i = 0; i < n; ++i) {
        long long v = co_await ping.get();
        co_await pong.put(v + 1);
    }
}

asyncio::Coro<long long> w4_main(long long n) {
    asyncio::Queue<long long> ping(1), pong(1);
    auto other = asyncio::create_task(ponger(ping, pong, n));
    long long v = 0;
    for (long long i = 0; i < n; ++i) {
        co_await ping.put(v);
        v = co_await pong.get();
    }
    co_await other;
    co_return v;
}

bench::Outcome w4(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    double t0 = bench::now_s();
    long long v = asyncio::run(w4_main(n));
    double wall = bench::now_s() - t0;
    if (v != n) throw std::runtime_error("W4: wrong counter");
    return {n, wall};
}

ASYNCIO_BENCH_WORKLOAD("W4", w4);

}  // namespace
