// W2: N workers shaped like seed 000's: each sleeps a pseudo-random delay in [0, 1) s (the
// same LCG in every peer) and fails when the delay is over 0.4 s.
//   W2g: gather(return_exceptions) over all of them.
//   W2w: wait(FIRST_EXCEPTION), then (cancelling nothing) wait for the rest.
// Args: N (default 100,000).
#include <asyncio/asyncio.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

struct WorkerError : std::runtime_error {
    explicit WorkerError(long long i) : std::runtime_error("worker " + std::to_string(i)) {}
};

double lcg_delay(long long i) {
    std::uint32_t x =
        static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) * 2654435761ull + 12345ull);
    return static_cast<double>(x % 1000) / 1000.0;
}

long long expected_fails(long long n) {
    long long fails = 0;
    for (long long i = 0; i < n; ++i) fails += lcg_delay(i) > 0.4 ? 1 : 0;
    return fails;
}

asyncio::Coro<long long> w2_worker(long long i) {
    double delay = lcg_delay(i);
    co_await asyncio::sleep(delay);
    if (delay > 0.4) throw WorkerError(i);
    co_return i;
}

asyncio::Coro<double> w2g_main(long long n) {
    double t0 = bench::now_s();
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(w2_worker(i)));
    auto results = co_await asyncio::gather(asyncio::return_exceptions, tasks);
    double wall = bench::now_s() - t0;
    long long fails = 0, oks = 0;
    for (auto& r : results) (r.has_value() ? oks : fails) += 1;
    if (fails != expected_fails(n) || fails + oks != n)
        throw std::runtime_error("W2g: fails=" + std::to_string(fails) +
                                 " oks=" + std::to_string(oks));
    co_return wall;
}

asyncio::Coro<double> w2w_main(long long n) {
    double t0 = bench::now_s();
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(w2_worker(i)));
    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_EXCEPTION});
    bool failed = false;
    for (auto& t : done) failed = failed || t.exception() != nullptr;
    if (!failed) throw std::runtime_error("W2w: no exception observed at FIRST_EXCEPTION");
    // Comparable with the peers: do not cancel, wait for the rest to finish.
    if (!pending.empty()) co_await asyncio::wait(pending);
    double wall = bench::now_s() - t0;
    long long fails = 0;
    for (auto& t : tasks) fails += t.exception() ? 1 : 0;
    if (fails != expected_fails(n)) throw std::runtime_error("W2w: fails=" + std::to_string(fails));
    co_return wall;
}

bench::Outcome w2g(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 100'000);
    return {n, asyncio::run(w2g_main(n))};
}

bench::Outcome w2w(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 100'000);
    return {n, asyncio::run(w2w_main(n))};
}

ASYNCIO_BENCH_WORKLOAD("W2g", w2g);
ASYNCIO_BENCH_WORKLOAD("W2w", w2w);

}  // namespace
