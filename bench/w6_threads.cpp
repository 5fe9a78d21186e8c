// W6: crossing threads.
//   W6t  N sequential to_thread() round trips of a trivial function (the loop's default
//        executor): submit, run in a worker, result back on the loop. Args: N. ns per trip.
//   W6s  call_soon_threadsafe throughput: another thread posts N callbacks that each add one
//        to a counter on the loop; the last one stops it. Args: N. ns per callback.
#include <asyncio/asyncio.hpp>
#include <atomic>
#include <stdexcept>
#include <thread>

#include "bench_common.hpp"

namespace {

long long inc(long long i) { return i + 1; }

asyncio::Coro<long long> w6t_main(long long n) {
    long long sum = 0;
    co_await asyncio::to_thread(inc, 0);  // start the pool's worker before timing
    double t0 = bench::now_s();
    for (long long i = 0; i < n; ++i) sum += co_await asyncio::to_thread(inc, i);
    double wall = bench::now_s() - t0;
    if (sum != n * (n + 1) / 2) throw std::runtime_error("W6t: wrong sum");
    co_return static_cast<long long>(wall * 1e9);
}

bench::Outcome w6t(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 100'000);
    long long ns = asyncio::run(w6t_main(n));
    return {n, static_cast<double>(ns) * 1e-9};
}

bench::Outcome w6s(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    auto loop = asyncio::new_event_loop();
    long long counter = 0;
    asyncio::EventLoop* l = loop.get();
    double t0 = bench::now_s();
    std::thread poster([l, n, &counter] {
        for (long long i = 0; i < n; ++i)
            l->call_soon_threadsafe([l, n, &counter] {
                if (++counter == n) l->stop();
            });
    });
    loop->run_forever();
    double wall = bench::now_s() - t0;
    poster.join();
    loop->close();
    if (counter != n) throw std::runtime_error("W6s: lost callbacks");
    return {n, wall};
}

ASYNCIO_BENCH_WORKLOAD("W6t", w6t);
ASYNCIO_BENCH_WORKLOAD("W6s", w6s);

}  // namespace
