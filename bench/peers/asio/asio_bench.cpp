// Boost.Asio peer for the asyncio-cpp benchmarks: C++20 coroutines
// (asio::awaitable, co_spawn, steady_timer) on one single-threaded io_context.
//
// Build: g++ -O2 -std=c++20 asio_bench.cpp -o asio_bench   (Boost 1.81, header-only)
// Usage: asio_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS
// Prints exactly one line on stdout:
//   RESULT impl=asio workload=<W> n=<N> wall_s=<f> rss_kb=<i> ns_per_op=<f>
// For W5, n = TASKS*ITERS (one op = one locked increment); for W4 one op is
// one round trip. A failed self-check prints on stderr and exits with status 1.
//
// How each "gather" is done:
//   W1  hand-rolled counter: N co_spawn'ed sleepers, each completion handler
//       decrements a counter; the last one wakes the parent (a timer that is
//       cancelled). A ranged parallel_group also scales to 1M (measured here:
//       same wall, but ~1.57 GB peak RSS against ~1.17 GB, for its
//       per-operation state), so the counter is the leaner baseline.
//   W2g experimental::make_parallel_group(range of co_spawn(..., deferred))
//       .async_wait(wait_for_all(), ...): every op's exception_ptr and value,
//       the natural gather(return_exceptions=True).
//   W2w hand-rolled: wait_for_one_error would cancel the remaining operations,
//       which the workload forbids (first error is observed, then all others
//       are waited for, uncancelled). A counter records the first error and
//       wakes the parent, which then waits until the counter reaches zero.
//   W3  hand-rolled counter per batch of 1,000 trivial co_spawn'ed coroutines.
//       A ranged parallel_group per batch measured ~1.9 us/task here against
//       ~1.0 us/task for the counter, so the counter is the fairer baseline.
//   W4  two experimental::channel<void(error_code, std::uint64_t)> of
//       capacity 1.
//   W5  Asio has no async mutex; a capacity-1 experimental::channel<void(
//       error_code)> serves as one (acquire = async_send, which suspends
//       while the slot is taken, waiters queued FIFO; release = try_receive).
//       The yield inside the critical section is co_await asio::post(...).

#include <boost/asio.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using clk = std::chrono::steady_clock;

[[noreturn]] static void die(const std::string& msg) {
    std::fprintf(stderr, "self-check failed: %s\n", msg.c_str());
    std::exit(1);
}

// Per-index pseudo-random delay in milliseconds, in [0, 1000).
static std::uint64_t lcg_delay_ms(std::uint64_t i) {
    std::uint64_t x = (i * 2654435761ULL + 12345ULL) & 0xFFFFFFFFULL;
    return x % 1000;
}

static std::uint64_t expected_w2(std::uint64_t n) {
    std::uint64_t f = 0;
    for (std::uint64_t i = 0; i < n; ++i) f += lcg_delay_ms(i) > 400;
    return f;
}

// A one-shot event a coroutine can wait on: a timer that never expires by
// itself and is cancelled to wake the waiter.
struct event {
    explicit event(asio::any_io_executor ex) : t(ex, clk::time_point::max()) {}
    awaitable<void> wait() {
        if (set) co_return;
        error_code ec;
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    void fire() {
        set = true;
        t.cancel();
    }
    asio::steady_timer t;
    bool set = false;
};

// ---------------------------------------------------------------- W1
static awaitable<void> sleeper(clk::duration d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_awaitable);
}

static awaitable<void> w1(std::uint64_t n, double d, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    auto dur = std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(d));
    auto t0 = clk::now();
    event all_done(ex);
    std::uint64_t remaining = n;
    for (std::uint64_t i = 0; i < n; ++i) {
        asio::co_spawn(ex, sleeper(dur), [&](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            if (--remaining == 0) all_done.fire();
        });
    }
    if (n) co_await all_done.wait();
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
}

// ---------------------------------------------------------------- W2
static awaitable<std::uint64_t> w2_worker(std::uint64_t i) {
    auto ms = lcg_delay_ms(i);
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(use_awaitable);
    if (ms > 400) throw std::runtime_error("worker failed");
    co_return i;
}

static awaitable<void> w2g(std::uint64_t n, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    auto t0 = clk::now();
    using op_t = decltype(asio::co_spawn(ex, w2_worker(0), asio::deferred));
    std::vector<op_t> ops;
    ops.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i)
        ops.push_back(asio::co_spawn(ex, w2_worker(i), asio::deferred));
    auto [order, excs, vals] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                   .async_wait(asio::experimental::wait_for_all(), use_awaitable);
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
    std::uint64_t fails = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        if (excs[i])
            ++fails;
        else if (vals[i] != i)
            die("W2g value mismatch");
    }
    if (fails != expected_w2(n)) die("W2g fails=" + std::to_string(fails));
}

static awaitable<void> w2w(std::uint64_t n, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    auto t0 = clk::now();
    event first_error(ex), all_done(ex);
    std::uint64_t remaining = n, fails = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        asio::co_spawn(ex, w2_worker(i), [&](std::exception_ptr e, std::uint64_t) {
            if (e) {
                ++fails;
                if (!first_error.set) first_error.fire();
            }
            if (--remaining == 0) all_done.fire();
        });
    }
    co_await first_error.wait();  // wait(FIRST_EXCEPTION)
    co_await all_done.wait();     // then, uncancelled, the rest
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
    if (fails != expected_w2(n)) die("W2w fails=" + std::to_string(fails));
}

// ---------------------------------------------------------------- W3
static awaitable<std::uint64_t> trivial(std::uint64_t i) { co_return i; }

static awaitable<void> w3(std::uint64_t n, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    constexpr std::uint64_t batch = 1000;
    std::uint64_t total = 0;
    auto t0 = clk::now();
    for (std::uint64_t b = 0; b < n; b += batch) {
        std::uint64_t end = b + batch < n ? b + batch : n;
        std::uint64_t remaining = end - b;
        event done(ex);
        for (std::uint64_t i = b; i < end; ++i)
            asio::co_spawn(ex, trivial(i), [&](std::exception_ptr e, std::uint64_t v) {
                if (e) std::rethrow_exception(e);
                total += v;
                if (--remaining == 0) done.fire();
            });
        co_await done.wait();
    }
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
    if (total != n * (n - 1) / 2) die("W3 sum=" + std::to_string(total));
}

// ---------------------------------------------------------------- W4
using int_channel = asio::experimental::channel<void(error_code, std::uint64_t)>;

static awaitable<void> pong(int_channel& q1, int_channel& q2, std::uint64_t n) {
    for (std::uint64_t k = 0; k < n; ++k) {
        auto v = co_await q1.async_receive(use_awaitable);
        co_await q2.async_send(error_code{}, v + 1, use_awaitable);
    }
}

static awaitable<void> w4(std::uint64_t n, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    int_channel q1(ex, 1), q2(ex, 1);
    event pong_done(ex);
    auto t0 = clk::now();
    asio::co_spawn(ex, pong(q1, q2, n), [&](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        pong_done.fire();
    });
    for (std::uint64_t i = 0; i < n; ++i) {
        co_await q1.async_send(error_code{}, i, use_awaitable);
        auto v = co_await q2.async_receive(use_awaitable);
        if (v != i + 1) die("W4 mismatch");
    }
    co_await pong_done.wait();
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
}

// ---------------------------------------------------------------- W5
using lock_channel = asio::experimental::channel<void(error_code)>;

static awaitable<void> locker(lock_channel& lock, std::uint64_t& counter, std::uint64_t iters) {
    auto ex = co_await asio::this_coro::executor;
    for (std::uint64_t k = 0; k < iters; ++k) {
        co_await lock.async_send(error_code{}, use_awaitable);  // acquire
        std::uint64_t v = counter;
        co_await asio::post(ex, use_awaitable);  // yield inside the critical section
        counter = v + 1;
        lock.try_receive([](error_code) {});  // release
    }
}

static awaitable<void> w5(std::uint64_t tasks, std::uint64_t iters, double* wall) {
    auto ex = co_await asio::this_coro::executor;
    lock_channel lock(ex, 1);
    std::uint64_t counter = 0, remaining = tasks;
    event all_done(ex);
    auto t0 = clk::now();
    for (std::uint64_t t = 0; t < tasks; ++t) {
        asio::co_spawn(ex, locker(lock, counter, iters), [&](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            if (--remaining == 0) all_done.fire();
        });
    }
    if (tasks) co_await all_done.wait();
    *wall = std::chrono::duration<double>(clk::now() - t0).count();
    if (counter != tasks * iters) die("W5 counter=" + std::to_string(counter));
}

// ---------------------------------------------------------------- main
[[noreturn]] static void usage() {
    std::fprintf(stderr,
                 "usage: asio_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS\n");
    std::exit(2);
}

static std::uint64_t arg_u64(int argc, char** argv, int k, long long def) {
    if (k < argc) return std::strtoull(argv[k], nullptr, 10);
    if (def < 0) usage();
    return static_cast<std::uint64_t>(def);
}

int main(int argc, char** argv) {
    if (argc < 2) usage();
    std::string w = argv[1];
    // Concurrency hint 1: one thread runs this io_context, as in the other peers.
    asio::io_context ioc(1);
    double wall = 0;
    std::uint64_t n = 0;
    auto run = [&](awaitable<void> a) {
        asio::co_spawn(ioc, std::move(a), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
        ioc.run();
    };
    if (w == "W1") {
        n = arg_u64(argc, argv, 2, -1);
        double d = argc > 3 ? std::strtod(argv[3], nullptr) : 1.0;
        run(w1(n, d, &wall));
    } else if (w == "W2g") {
        n = arg_u64(argc, argv, 2, 100000);
        run(w2g(n, &wall));
    } else if (w == "W2w") {
        n = arg_u64(argc, argv, 2, 100000);
        run(w2w(n, &wall));
    } else if (w == "W3") {
        n = arg_u64(argc, argv, 2, -1);
        run(w3(n, &wall));
    } else if (w == "W4") {
        n = arg_u64(argc, argv, 2, -1);
        run(w4(n, &wall));
    } else if (w == "W5") {
        std::uint64_t tasks = arg_u64(argc, argv, 2, 1000), iters = arg_u64(argc, argv, 3, 100);
        n = tasks * iters;
        run(w5(tasks, iters, &wall));
    } else {
        usage();
    }
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("RESULT impl=asio workload=%s n=%llu wall_s=%.6f rss_kb=%ld ns_per_op=%.1f\n",
                w.c_str(), static_cast<unsigned long long>(n), wall, ru.ru_maxrss,
                n ? wall * 1e9 / double(n) : 0.0);
    return 0;
}
