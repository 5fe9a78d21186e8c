// Executors: ThreadPoolExecutor, loop.run_in_executor, to_thread, the default executor.
// Real threads, so the loop-side tests run on the real clock with wide margins.
#include <dirent.h>
#include <asyncio/executors.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

namespace {

/// A one-shot gate that worker threads block on.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [this] { return open; });
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(m);
            open = true;
        }
        cv.notify_all();
    }
};

int thread_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}

int add(int a, int b) { return a + b; }

}  // namespace

TEST(ThreadPoolExecutor, SubmitGivesTheResultOrTheException) {
    asyncio::ThreadPoolExecutor pool(2);
    auto f = pool.submit(add, 2, 3);
    EXPECT_EQ(f.result(10s), 5);
    auto g = pool.submit([]() -> int { throw std::invalid_argument("bad"); });
    EXPECT_THROW(g.result(10s), std::invalid_argument);
    auto h = pool.submit([] {});
    h.result(10s);
    EXPECT_TRUE(h.done());
    pool.shutdown();
}

TEST(ThreadPoolExecutor, MapGivesResultsInInputOrder) {
    asyncio::ThreadPoolExecutor pool(4);
    std::vector<int> in{5, 1, 4, 2, 3};
    auto out = pool.map(
        [](int x) {
            std::this_thread::sleep_for(std::chrono::milliseconds(x));
            return x * 10;
        },
        in);
    EXPECT_EQ(out, (std::vector<int>{50, 10, 40, 20, 30}));
    EXPECT_THROW(pool.map([](int x) -> int { throw std::runtime_error(std::to_string(x)); }, in),
                 std::runtime_error);
    pool.shutdown();
}

TEST(ThreadPoolExecutor, MapTimeoutRaisesTimeoutError) {
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate;
    std::vector<int> in{1, 2};
    EXPECT_THROW(pool.map(
                     [&](int) {
                         gate.wait();
                         return 0;
                     },
                     in, 0.05),
                 asyncio::TimeoutError);
    gate.release();
    pool.shutdown();
}

// CPython test_concurrent_futures: test_cancel_futures.
TEST(ThreadPoolExecutor, ShutdownWithCancelFuturesCancelsQueuedWorkOnly) {
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate;
    std::atomic<int> ran{0};
    auto first = pool.submit([&] {
        gate.wait();
        ++ran;
    });
    while (!first.running()) std::this_thread::sleep_for(1ms);
    std::vector<asyncio::ConcurrentFuture<void>> queued;
    for (int i = 0; i < 5; ++i) queued.push_back(pool.submit([&] { ++ran; }));
    pool.shutdown(false, true);
    for (auto& q : queued) EXPECT_TRUE(q.cancelled());
    EXPECT_FALSE(first.cancelled());
    gate.release();
    pool.shutdown(true);
    EXPECT_TRUE(first.done());
    EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPoolExecutor, ShutdownWaitsForQueuedWork) {
    asyncio::ThreadPoolExecutor pool(2);
    std::atomic<int> ran{0};
    for (int i = 0; i < 20; ++i)
        pool.submit([&] {
            std::this_thread::sleep_for(1ms);
            ++ran;
        });
    pool.shutdown();
    EXPECT_EQ(ran.load(), 20);
}

TEST(ThreadPoolExecutor, SubmitAfterShutdownRaisesRuntimeError) {
    asyncio::ThreadPoolExecutor pool(1);
    pool.shutdown();
    EXPECT_THROW(pool.submit([] {}), asyncio::RuntimeError);
}

TEST(ThreadPoolExecutor, MaxWorkersMustBePositive) {
    EXPECT_THROW(asyncio::ThreadPoolExecutor(0), std::invalid_argument);
    EXPECT_THROW(asyncio::ThreadPoolExecutor(-1), std::invalid_argument);
    asyncio::ThreadPoolExecutor dflt;
    EXPECT_GE(dflt.max_workers(), 5u);
    EXPECT_LE(dflt.max_workers(), 32u);
}

TEST(ThreadPoolExecutor, StartsAThreadOnlyWhenNoWorkerIsIdle) {
    asyncio::ThreadPoolExecutor pool(8);
    for (int i = 0; i < 20; ++i) pool.submit(add, i, 1).result(10s);
    EXPECT_EQ(pool.thread_count(), 1u);
    pool.shutdown();
}

// Items handed over one at a time, some within the worker's post-item spin and some after
// it (the pause outlasts the spin): each runs exactly once, on the one worker.
TEST(ThreadPoolExecutor, ItemsJustBeforeAndJustAfterTheWorkersSpinAllRun) {
    asyncio::ThreadPoolExecutor pool(4);
    long sum = 0;
    for (int i = 0; i < 400; ++i) {
        sum += pool.submit(add, i, 1).result(10s);
        if (i % 40 == 0) std::this_thread::sleep_for(2ms);  // past the spin: the worker sleeps
    }
    EXPECT_EQ(sum, 400L * 401 / 2);
    EXPECT_EQ(pool.thread_count(), 1u);
    pool.shutdown();
}

TEST(ThreadPoolExecutor, FloodFromEightThreadsRunsEveryItemOnce) {
    asyncio::ThreadPoolExecutor pool(4);
    static constexpr int threads = 8, per_thread = 2000;
    std::atomic<long> sum{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            std::vector<asyncio::ConcurrentFuture<int>> fs;
            for (int i = 0; i < per_thread; ++i)
                fs.push_back(pool.submit([&sum, t, i] {
                    sum += 1;
                    return t * per_thread + i;
                }));
            for (int i = 0; i < per_thread; ++i) EXPECT_EQ(fs[i].result(30s), t * per_thread + i);
        });
    for (auto& t : ts) t.join();
    pool.shutdown();
    EXPECT_EQ(sum.load(), long{threads} * per_thread);
    EXPECT_LE(pool.thread_count(), 4u);
}

TEST(ThreadPoolExecutor, DestructionDoesNotWait) {
    auto gate = std::make_shared<Gate>();
    auto t0 = std::chrono::steady_clock::now();
    asyncio::ConcurrentFuture<int> f;
    {
        asyncio::ThreadPoolExecutor pool(1);
        f = pool.submit([gate] {
            gate->wait();
            return 3;
        });
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    gate->release();
    EXPECT_EQ(f.result(10s), 3);  // the detached worker still finishes the work
}

ASYNCIO_TEST_REALTIME(RunInExecutor, DefaultExecutorGivesTheResult) {
    int v = co_await loop().run_in_executor(nullptr, add, 40, 2);
    EXPECT_EQ(v, 42);
    bool threw = false;
    try {
        co_await loop().run_in_executor(nullptr, [] { throw std::invalid_argument("in thread"); });
    } catch (const std::invalid_argument& e) {
        threw = std::string(e.what()) == "in thread";
    }
    EXPECT_TRUE(threw);
}

// The loop spins a moment for an executor's answer before it sleeps in the poller: short
// jobs come back during the spin, long ones after it, and both must wake the loop.
ASYNCIO_TEST_REALTIME(RunInExecutor, ShortAndLongJobsBothWakeTheLoop) {
    long sum = 0;
    for (int i = 0; i < 2000; ++i) sum += co_await asyncio::to_thread(add, i, 1);
    EXPECT_EQ(sum, 2000L * 2001 / 2);
    for (int i = 0; i < 5; ++i) {
        int v = co_await asyncio::to_thread([i] {
            std::this_thread::sleep_for(3ms);  // longer than the loop's spin
            return i;
        });
        EXPECT_EQ(v, i);
    }
    // A timer due during the wait still fires on time while a job is out.
    auto job = asyncio::create_task([]() -> asyncio::Coro<int> {
        co_return co_await asyncio::to_thread([] {
            std::this_thread::sleep_for(50ms);
            return 7;
        });
    }());
    auto t0 = std::chrono::steady_clock::now();
    co_await asyncio::sleep(0.005);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 45ms);
    EXPECT_EQ(co_await job, 7);
}

ASYNCIO_TEST_REALTIME(RunInExecutor, ExplicitPoolRunsCallsInParallel) {
    asyncio::ThreadPoolExecutor pool(4);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<asyncio::Future<int>> fs;
    for (int i = 1; i <= 4; ++i)
        fs.push_back(loop().run_in_executor(pool, [i] {
            std::this_thread::sleep_for(100ms);
            return i;
        }));
    int sum = 0;
    for (auto& f : fs) sum += co_await f;
    EXPECT_EQ(sum, 10);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 390ms);  // not 4 × 100 ms
    pool.shutdown();
}

ASYNCIO_TEST_REALTIME(RunInExecutor, CancellingTheAwaitCancelsQueuedWork) {
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate;
    std::atomic<bool> second_ran{false};
    auto busy = loop().run_in_executor(pool, [&] { gate.wait(); });
    auto queued = loop().run_in_executor(pool, [&] { second_ran = true; });
    queued.cancel();
    co_await asyncio::sleep(0.01);
    gate.release();
    co_await busy;
    pool.shutdown();
    EXPECT_FALSE(second_ran.load());
    EXPECT_TRUE(queued.cancelled());
}

ASYNCIO_TEST_REALTIME(RunInExecutor, AfterShutdownDefaultExecutorRaisesRuntimeError) {
    co_await loop().run_in_executor(nullptr, [] {});
    co_await loop().shutdown_default_executor();
    bool threw = false;
    try {
        (void)loop().run_in_executor(nullptr, [] {});
    } catch (const asyncio::RuntimeError&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

ASYNCIO_TEST_REALTIME(RunInExecutor, SetDefaultExecutorIsUsedByToThread) {
    auto pool = std::make_shared<asyncio::ThreadPoolExecutor>(1, "mypool");
    loop().set_default_executor(pool);
    std::string name = co_await asyncio::to_thread([] {
        char buf[32] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        return std::string(buf);
    });
    EXPECT_EQ(name, "mypool_0");
    EXPECT_EQ(pool->thread_count(), 1u);
}

ASYNCIO_TEST_REALTIME(ToThread, PassesArgumentsAndGivesTheResult) {
    int v = co_await asyncio::to_thread(add, 1, 2);
    EXPECT_EQ(v, 3);
    std::string s = co_await asyncio::to_thread(
        [](std::string a, int n) { return a + std::to_string(n); }, std::string("x"), 5);
    EXPECT_EQ(s, "x5");
}

asyncio::ContextVar<int> request_id("request_id", 0);

// CPython test_threads::ToThreadTests::test_to_thread_contextvars.
ASYNCIO_TEST_REALTIME(ToThread, CopiesTheCallersContextVariables) {
    request_id.set(17);
    int seen = co_await asyncio::to_thread([] {
        int v = request_id.get();
        request_id.set(99);  // changes the copy only
        return v;
    });
    EXPECT_EQ(seen, 17);
    EXPECT_EQ(request_id.get(), 17);
}

// run() shuts the default executor down and joins its threads before it returns.
TEST(ToThread, RunShutsTheDefaultExecutorDownAndJoinsItsThreads) {
    // A sanitizer runtime starts a helper thread of its own at the first thread creation:
    // let that happen before counting.
    std::thread([] {}).join();
    int before = thread_count();
    int v = asyncio::run([]() -> asyncio::Coro<int> {
        int a = co_await asyncio::to_thread(add, 1, 1);
        int b = co_await asyncio::to_thread(add, 2, 2);
        co_return a + b;
    }());
    EXPECT_EQ(v, 6);
    EXPECT_EQ(thread_count(), before);
}

// loop.close() shuts the default executor down without waiting.
TEST(ToThread, CloseShutsTheDefaultExecutorDownWithoutWaiting) {
    auto l = asyncio::new_event_loop();
    auto gate = std::make_shared<Gate>();
    auto f = l->run_in_executor(nullptr, [gate] { gate->wait(); });
    auto t0 = std::chrono::steady_clock::now();
    l->close();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    gate->release();
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(f.done());  // the result had nowhere to go: the closed loop refused it
    EXPECT_THROW(l->run_in_executor(nullptr, [] {}), asyncio::RuntimeError);
}

// CPython 3.13: `await asyncio.to_thread(f)` where f raises CancelledError('x') raises
// CancelledError('x') in the awaiter at once (it once never returned: completing the future
// with it threw inside the loop's callback).
ASYNCIO_TEST_REALTIME(ToThread, AFunctionThatThrowsCancelledErrorGivesCancelledErrorToTheAwaiter) {
    bool caught = false;
    try {
        co_await asyncio::to_thread([] { throw asyncio::CancelledError(std::string("x")); });
    } catch (const asyncio::CancelledError& e) {
        caught = true;
        EXPECT_STREQ(e.what(), "x");
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

// A job that outlives its closed loop once kept the loop alive for good (1.7 KB per loop):
// the closed loop lets go of the job's Future at close(), and is freed with its last handle.
TEST(ToThread, AClosedLoopIsFreedEvenWhileItsLastJobStillRuns) {
    std::size_t before = asyncio::detail::live_loop_count();
    auto gate = std::make_shared<Gate>();
    auto finished = std::make_shared<std::atomic<bool>>(false);
    {
        auto l = asyncio::new_event_loop();
        EXPECT_EQ(asyncio::detail::live_loop_count(), before + 1);
        auto f = l->run_in_executor(nullptr, [gate, finished] {
            gate->wait();
            finished->store(true);
            return 42;
        });
        l->close();
    }
    EXPECT_EQ(asyncio::detail::live_loop_count(), before);
    gate->release();  // the job returns to a loop that is gone: nothing to deliver
    for (int i = 0; i < 500 && !finished->load(); ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(finished->load());
    EXPECT_EQ(asyncio::detail::live_loop_count(), before);
}
