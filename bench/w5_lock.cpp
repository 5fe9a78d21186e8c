// W5: `tasks` tasks each increment a shared counter `iterations` times under one Lock, with
// a sleep(0) inside the critical section (acquire; read; sleep(0); write; release).
// Args: tasks (default 1,000), iterations (default 100). n = tasks * iterations.
#include <asyncio/asyncio.hpp>
#include <stdexcept>
#include <vector>

#include "bench_common.hpp"

namespace {

asyncio::Coro<void> incrementer(asyncio::Lock& lock, long long& counter, long long iterations) {
    for (long long i = 0; i < iterations; ++i) {
        co_await lock.acquire();
        long long v = counter;
        co_await asyncio::sleep(0);
        counter = v + 1;
        lock.release();
    }
}

asyncio::Coro<long long> w5_main(long long tasks, long long iterations) {
    asyncio::Lock lock;
    long long counter = 0;
    std::vector<asyncio::Task<void>> ts;
    ts.reserve(static_cast<std::size_t>(tasks));
    for (long long t = 0; t < tasks; ++t)
        ts.push_back(asyncio::create_task(incrementer(lock, counter, iterations)));
    for (auto& t : ts) co_await t;
    co_return counter;
}

bench::Outcome w5(const bench::Args& a) {
    long long tasks = bench::arg_ll(a, 0, 1000);
    long long iterations = bench::arg_ll(a, 1, 100);
    double t0 = bench::now_s();
    long long counter = asyncio::run(w5_main(tasks, iterations));
    double wall = bench::now_s() - t0;
    if (counter != tasks * iterations) throw std::runtime_error("W5: wrong counter");
    return {tasks * iterations, wall};
}

ASYNCIO_BENCH_WORKLOAD("W5", w5);

}  // namespace
