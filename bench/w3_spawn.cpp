// W3: spawn N trivial tasks in batches of 1,000 and await each batch. Args: N.
#include <asyncio/asyncio.hpp>
#include <stdexcept>
#include <vector>

#include "bench_common.hpp"

namespace {

asyncio::Coro<long long> trivial(long long i) { co_return i; }

asyncio::Coro<long long> w3_main(long long n) {
    constexpr long long batch = 1000;
    long long sum = 0;
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(batch);
    for (long long base = 0; base < n; base += batch) {
        long long end = base + batch < n ? base + batch : n;
        for (long long i = base; i < end; ++i) tasks.push_back(asyncio::create_task(trivial(i)));
        for (auto& t : tasks) sum += co_await t;
        tasks.clear();
    }
    co_return sum;
}

bench::Outcome w3(const bench::Args& a) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    double t0 = bench::now_s();
    long long sum = asyncio::run(w3_main(n));
    double wall = bench::now_s() - t0;
    if (sum != n * (n - 1) / 2) throw std::runtime_error("W3: wrong sum");
    return {n, wall};
}

ASYNCIO_BENCH_WORKLOAD("W3", w3);

}  // namespace
