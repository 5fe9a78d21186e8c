// W1: N tasks each sleep(D); await them all. Args: N D.
//   W1:  the loop form, `for (auto& t : tasks) co_await t;`.
//   W1g: the gather form, `co_await asyncio::gather(tasks);` (what Python users write);
//        its peak RSS minus W1's is gather's own cost per child.
#include <asyncio/asyncio.hpp>
#include <stdexcept>
#include <vector>

#include "bench_common.hpp"

namespace {

asyncio::Coro<void> sleeper(double d) { co_await asyncio::sleep(d); }

asyncio::Coro<void> w1_main(long long n, double d) {
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleeper(d)));
    for (auto& t : tasks) co_await t;
}

asyncio::Coro<void> w1g_main(long long n, double d) {
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleeper(d)));
    auto results = co_await asyncio::gather(tasks);
    if (static_cast<long long>(results.size()) != n)
        throw std::runtime_error("W1g: wrong result count");
}

bench::Outcome w1(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    double d = bench::arg_d(a, 1, 1.0);
    double t0 = bench::now_s();
    asyncio::run(w1_main(n, d));
    return {n, bench::now_s() - t0};
}

bench::Outcome w1g(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    double d = bench::arg_d(a, 1, 1.0);
    double t0 = bench::now_s();
    asyncio::run(w1g_main(n, d));
    return {n, bench::now_s() - t0};
}

ASYNCIO_BENCH_WORKLOAD("W1", w1);
ASYNCIO_BENCH_WORKLOAD("W1g", w1g);

}  // namespace
