// W3: spawn N trivial tasks in batches of 1,000 and await each batch. Args: N.
// W3e: the same with eager tasks (create_task(..., {.eager_start = true})): each trivial task
// ends inside create_task() and never goes through the ready queue.
#include <asyncio/asyncio.hpp>
#include <stdexcept>
#include <vector>

#include "bench_common.hpp"

namespace {

asyncio::Coro<long long> trivial(long long i) { co_return i; }

asyncio::Coro<long long> w3_main(long long n, bool eager) {
    constexpr long long batch = 1000;
    long long sum = 0;
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(batch);
    for (long long base = 0; base < n; base += batch) {
        long long end = base + batch < n ? base + batch : n;
        for (long long i = base; i < end; ++i)
            tasks.push_back(asyncio::create_task(trivial(i), {.eager_start = eager}));
        for (auto& t : tasks) sum += co_await t;
        tasks.clear();
    }
    co_return sum;
}

bench::Outcome w3_run(const bench::Args& a, bool eager) {
    long long n = bench::arg_ll(a, 0, 1'000'000);
    double t0 = bench::now_s();
    long long sum = asyncio::run(w3_main(n, eager));
    double wall = bench::now_s() - t0;
    if (sum != n * (n - 1) / 2) throw std::runtime_error("W3: wrong sum");
    return {n, wall};
}

bench::Outcome w3(const bench::Args& a) { return w3_run(a, false); }
bench::Outcome w3e(const bench::Args& a) { return w3_run(a, true); }

ASYNCIO_BENCH_WORKLOAD("W3", w3);
ASYNCIO_BENCH_WORKLOAD("W3e", w3e);

}  // namespace
