// Crossing threads: call_soon_threadsafe, ConcurrentFuture, run_coroutine_threadsafe,
// wrap_future. Tests that involve other threads run on the real clock with wide margins.
#include <asyncio/threads.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

namespace {

/// A loop running run_forever() in its own thread (seed 001's pattern), stopped and closed
/// by stop_and_close().
struct LoopThread {
    asyncio::EventLoopPtr loop = asyncio::new_event_loop();
    std::thread thread;
    LoopThread() {
        thread = std::thread([l = loop.get()] {
            asyncio::set_event_loop(l);
            l->run_forever();
        });
    }
    void stop_and_close() {
        loop->call_soon_threadsafe([l = loop.get()] { l->stop(); });
        thread.join();
        loop->close();
    }
};

asyncio::Coro<int> add_later(int a, int b, double delay) {
    co_await asyncio::sleep(delay);
    co_return a + b;
}

asyncio::Coro<int> fail_later() {
    co_await asyncio::sleep(0.001);
    throw std::invalid_argument("bad value");
}

}  // namespace

// parity #2 — test_events::EventLoopTestsMixin::test_call_soon_threadsafe: one FIFO queue
// shared by call_soon and call_soon_threadsafe.
TEST(CallSoonThreadsafe, QueuesInTheSameFifoAsCallSoon) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop(true);
    std::vector<std::string> order;
    std::thread t([&] { l->call_soon_threadsafe([&] { order.push_back("hello"); }); });
    t.join();
    l->call_soon([&] { order.push_back("world"); });
    l->call_soon([&] { l->stop(); });
    l->run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"hello", "world"}));
    asyncio::testing::close_and_check(l, fds);
}

// parity #2 (flood): 8 threads post concurrently; every callback runs exactly once, and the
// callbacks of one thread run in the order that thread posted them.
TEST(CallSoonThreadsafe, FloodFromEightThreadsLosesAndDuplicatesNothing) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop(true);
    constexpr int threads = 8, per_thread = 20000;
    std::vector<std::vector<int>> seen(threads);
    long total = 0;
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
        posters.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                l->call_soon_threadsafe([&, t, i] {
                    seen[t].push_back(i);
                    if (++total == long{threads} * per_thread) l->stop();
                });
        });
    l->run_forever();
    for (auto& p : posters) p.join();
    EXPECT_EQ(total, long{threads} * per_thread);
    for (int t = 0; t < threads; ++t) {
        ASSERT_EQ(seen[t].size(), static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i) ASSERT_EQ(seen[t][i], i) << "thread " << t;
    }
    asyncio::testing::close_and_check(l, fds);
}

// parity #8 — test_events::EventLoopTestsMixin::test_close: a closed loop refuses.
TEST(CallSoonThreadsafe, OnAClosedLoopRaisesRuntimeError) {
    auto l = asyncio::new_event_loop();
    l->close();
    std::thread t([&] { EXPECT_THROW(l->call_soon_threadsafe([] {}), asyncio::RuntimeError); });
    t.join();
}

TEST(CallSoonThreadsafe, WakesALoopBlockedInItsPoller) {
    auto l = asyncio::new_event_loop();
    std::atomic<bool> ran{false};
    std::thread t([&] {
        std::this_thread::sleep_for(50ms);
        l->call_soon_threadsafe([&] {
            ran = true;
            l->stop();
        });
    });
    auto t0 = std::chrono::steady_clock::now();
    l->run_forever();  // nothing scheduled: blocks in epoll until the post
    t.join();
    EXPECT_TRUE(ran);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    l->close();
}

TEST(ConcurrentFuture, ResultAndDoneCallbacksInOrder) {
    asyncio::ConcurrentFuture<int> f;
    std::vector<int> calls;
    f.add_done_callback([&](asyncio::ConcurrentFuture<int>& g) { calls.push_back(g.result()); });
    f.add_done_callback([&] { calls.push_back(-1); });
    EXPECT_FALSE(f.done());
    EXPECT_THROW(f.result(0.0), asyncio::TimeoutError);
    EXPECT_TRUE(f.set_running_or_notify_cancel());
    EXPECT_TRUE(f.running());
    EXPECT_FALSE(f.cancel());  // running: too late
    f.set_result(5);
    EXPECT_EQ(calls, (std::vector<int>{5, -1}));
    EXPECT_EQ(f.result(), 5);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW(f.set_result(6), asyncio::InvalidStateError);
    f.add_done_callback([&] { calls.push_back(7); });  // done: runs at once
    EXPECT_EQ(calls.back(), 7);
}

TEST(ConcurrentFuture, CancelWhilePendingCancelsAndWakesWaiters) {
    asyncio::ConcurrentFuture<std::string> f;
    std::thread waiter([&] {
        try {
            f.result();
            ADD_FAILURE() << "result() returned";
        } catch (const asyncio::CancelledError&) {
        }
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancel());  // idempotent
    waiter.join();
    EXPECT_TRUE(f.cancelled());
    EXPECT_FALSE(f.set_running_or_notify_cancel());
    EXPECT_THROW(f.exception(), asyncio::CancelledError);
}

TEST(ConcurrentFuture, ExceptionIsRethrownByResult) {
    asyncio::ConcurrentFuture<void> f;
    f.set_exception(std::make_exception_ptr(std::invalid_argument("nope")));
    EXPECT_THROW(f.result(), std::invalid_argument);
    EXPECT_NE(f.exception(), nullptr);
}

TEST(RunCoroutineThreadsafe, GivesTheResultOfACoroutineRunOnAnotherThreadsLoop) {
    LoopThread lt;
    auto f = asyncio::run_coroutine_threadsafe(add_later(20, 22, 0.01), *lt.loop);
    EXPECT_EQ(f.result(10s), 42);
    auto g = asyncio::run_coroutine_threadsafe(fail_later(), *lt.loop);
    EXPECT_THROW(g.result(10s), std::invalid_argument);
    lt.stop_and_close();
}

// CPython test_tasks::RunCoroutineThreadsafeTests::test_run_coroutine_threadsafe_with_timeout
// and test_run_coroutine_threadsafe_task_cancelled.
TEST(RunCoroutineThreadsafe, TimeoutRaisesAndCancelCancelsTheTaskOnItsLoop) {
    LoopThread lt;
    std::atomic<bool> saw_cancel{false};
    auto body = [](std::atomic<bool>* flag) -> asyncio::Coro<int> {
        try {
            co_await asyncio::sleep(60);
        } catch (const asyncio::CancelledError&) {
            *flag = true;
            throw;
        }
        co_return 1;
    };
    auto f = asyncio::run_coroutine_threadsafe(body(&saw_cancel), *lt.loop);
    EXPECT_THROW(f.result(0.05), asyncio::TimeoutError);
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW(f.result(), asyncio::CancelledError);
    for (int i = 0; i < 500 && !saw_cancel; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(saw_cancel) << "the task on the loop was not cancelled";
    lt.stop_and_close();
}

TEST(RunCoroutineThreadsafe, TaskCancelledOnItsLoopCancelsTheFuture) {
    LoopThread lt;
    auto body = []() -> asyncio::Coro<int> {
        asyncio::current_task().cancel();
        co_await asyncio::sleep(0);
        co_return 1;
    };
    auto f = asyncio::run_coroutine_threadsafe(body(), *lt.loop);
    EXPECT_THROW(f.result(10s), asyncio::CancelledError);
    EXPECT_TRUE(f.cancelled());
    lt.stop_and_close();
}

TEST(RunCoroutineThreadsafe, FromManyThreadsEveryResultArrives) {
    LoopThread lt;
    constexpr int threads = 8, per_thread = 300;
    std::atomic<long> sum{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            std::vector<asyncio::ConcurrentFuture<int>> fs;
            for (int i = 0; i < per_thread; ++i)
                fs.push_back(asyncio::run_coroutine_threadsafe(add_later(t, i, 0), *lt.loop));
            for (int i = 0; i < per_thread; ++i) {
                int v = fs[i].result(30s);
                EXPECT_EQ(v, t + i);
                sum += v;
            }
        });
    for (auto& t : ts) t.join();
    long expect = 0;
    for (int t = 0; t < threads; ++t)
        for (int i = 0; i < per_thread; ++i) expect += t + i;
    EXPECT_EQ(sum.load(), expect);
    lt.stop_and_close();
}

TEST(RunCoroutineThreadsafe, ALoopClosedBeforeTheCoroutineRanLeavesTheFutureCancelled) {
    auto l = asyncio::new_event_loop();
    auto f = asyncio::run_coroutine_threadsafe(add_later(1, 2, 0), *l);
    l->close();
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(asyncio::run_coroutine_threadsafe(add_later(1, 2, 0), *l), asyncio::RuntimeError);
}

TEST(RunCoroutineThreadsafe, ALoopClosedWhileTheTaskWaitsLeavesTheFutureCancelled) {
    auto l = asyncio::new_event_loop();
    l->set_exception_handler([](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
    auto f = asyncio::run_coroutine_threadsafe(add_later(1, 2, 60), *l);
    l->call_soon([&] { l->stop(); });
    l->run_forever();
    l->call_soon([&] { l->stop(); });
    l->run_forever();  // the task has started and sleeps
    EXPECT_FALSE(f.done());
    l->close();  // destroys the pending task ("Task was destroyed but it is pending!")
    EXPECT_TRUE(f.cancelled());
}

ASYNCIO_TEST_REALTIME(WrapFuture, AwaitsAConcurrentFutureCompletedByAnotherThread) {
    asyncio::ConcurrentFuture<int> cf;
    std::thread t([cf] {
        std::this_thread::sleep_for(10ms);
        cf.set_result(7);
    });
    int v = co_await asyncio::wrap_future(cf);
    t.join();
    EXPECT_EQ(v, 7);

    asyncio::ConcurrentFuture<void> bad;
    std::thread t2([bad] { bad.set_exception(std::make_exception_ptr(std::runtime_error("x"))); });
    bool threw = false;
    try {
        co_await asyncio::wrap_future(bad);
    } catch (const std::runtime_error&) {
        threw = true;
    }
    t2.join();
    EXPECT_TRUE(threw);
}

// CPython test_futures::BaseFutureTests::test_wrap_future_cancel.
ASYNCIO_TEST_REALTIME(WrapFuture, CancellingTheWrapperCancelsTheConcurrentFuture) {
    asyncio::ConcurrentFuture<int> cf;
    asyncio::Future<int> f = asyncio::wrap_future(cf);
    f.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(cf.cancelled());
    EXPECT_TRUE(f.cancelled());
    co_await asyncio::sleep(0.01);  // the cancelled source's news arrives and is ignored
}

ASYNCIO_TEST_REALTIME(WrapFuture, CancelledConcurrentFutureCancelsTheWrapper) {
    asyncio::ConcurrentFuture<int> cf;
    asyncio::Future<int> f = asyncio::wrap_future(cf);
    std::thread t([cf] { cf.cancel(); });
    t.join();
    bool cancelled = false;
    try {
        co_await f;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
}
