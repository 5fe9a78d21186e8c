// asyncio::testing::TestLoop: the virtual-clock loop for users' tests (asyncio/testing.hpp).
#include <asyncio/testing.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using asyncio::testing::TestLoop;
using asyncio::testing::TestLoopOptions;

namespace {

// A user's coroutine under test: calls `attempt` until it succeeds, sleeping 1 s, 2 s, 4 s ...
// (capped at `max_delay`) between failures, and gives up after `deadline` seconds.
struct RetryLog {
    std::vector<long long> attempts;  // loop.time() of each attempt, in milliseconds
};

long long now_ms() { return std::llround(asyncio::get_running_loop().time() * 1000); }

asyncio::Coro<int> fetch_with_retry(RetryLog* log, int fail_times, double max_delay,
                                    double deadline) {
    auto& loop = asyncio::get_running_loop();
    double start = loop.time();
    double delay = 1.0;
    for (int n = 0;; ++n) {
        log->attempts.push_back(now_ms());
        if (n >= fail_times) co_return n;
        if (loop.time() + delay - start > deadline)
            throw asyncio::TimeoutError("gave up after " + std::to_string(n + 1) + " attempts");
        co_await asyncio::sleep(delay);
        delay = std::min(delay * 2, max_delay);
    }
}

}  // namespace

TEST(TestLoop, TheClockStartsAtZeroAndMovesOnlyWhenAdvanced) {
    TestLoop t;
    EXPECT_EQ(t.time(), 0.0);
    t.run_until_idle();
    EXPECT_EQ(t.time(), 0.0);
    t.advance(2.5);
    EXPECT_DOUBLE_EQ(t.time(), 2.5);
}

TEST(TestLoop, RunUntilIdleRunsWhatIsReadyAndWhatThatSchedulesWithoutMovingTheClock) {
    TestLoop t;
    std::vector<std::string> log;
    t->call_soon([&] {
        log.push_back("a");
        t->call_soon([&] { log.push_back("c"); });
    });
    t->call_soon([&] { log.push_back("b"); });
    t->call_later(0, [&] { log.push_back("due now"); });
    t->call_later(1, [&] { log.push_back("later"); });
    t.run_until_idle();
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "due now", "c"}));
    EXPECT_EQ(t.time(), 0.0);
}

TEST(TestLoop, AdvanceRunsEachTimerOnTheWayAtItsOwnTime) {
    TestLoop t;
    std::vector<double> fired;
    for (double d : {3.0, 1.0, 2.0, 10.0})
        t->call_later(d, [&] {
            fired.push_back(t.time());
            if (fired.size() == 1) t->call_later(0.5, [&] { fired.push_back(t.time()); });
        });
    t.advance(5);
    EXPECT_EQ(fired, (std::vector<double>{1.0, 1.5, 2.0, 3.0}));
    EXPECT_DOUBLE_EQ(t.time(), 5.0);
    EXPECT_TRUE(t.advance_to_next_timer());
    EXPECT_DOUBLE_EQ(t.time(), 10.0);
    EXPECT_EQ(fired.size(), 5u);
    EXPECT_FALSE(t.advance_to_next_timer());
}

TEST(TestLoop, TasksSleepOnTheVirtualClock) {
    TestLoop t;
    std::vector<long long> woke;
    auto sleeper = [](std::vector<long long>* w, double d) -> asyncio::Coro<void> {
        co_await asyncio::sleep(d);
        w->push_back(now_ms());
    };
    auto a = t->create_task(sleeper(&woke, 60));
    auto b = t->create_task(sleeper(&woke, 30));
    t.advance(29.999);
    EXPECT_TRUE(woke.empty());
    t.advance(0.001);
    EXPECT_EQ(woke, std::vector<long long>{30'000});
    t.advance(30);
    EXPECT_EQ(woke, (std::vector<long long>{30'000, 60'000}));
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(b.done());
}

TEST(TestLoop, RunUntilCompleteJumpsTheClockWhenNothingIsReady) {
    TestLoop t;
    auto wait_an_hour = []() -> asyncio::Coro<double> {
        co_await asyncio::sleep(3600);
        co_return asyncio::get_running_loop().time();
    };
    auto real0 = std::chrono::steady_clock::now();
    EXPECT_EQ(t.run_until_complete(wait_an_hour()), 3600.0);
    // Not a speed assertion: an hour on the real clock would have timed the test out long
    // before; this only documents that the hour was virtual.
    EXPECT_LT(std::chrono::steady_clock::now() - real0, std::chrono::minutes(1));
}

// The documented example: a ten-minute retry schedule, checked to the millisecond, in
// milliseconds of real time.
TEST(TestLoop, DrivesATenMinuteRetryWithBackoffScheduleExactly) {
    TestLoop t;
    RetryLog log;
    auto task = t->create_task(fetch_with_retry(&log, 14, 60, 600));
    t.run_until_idle();
    EXPECT_EQ(log.attempts, std::vector<long long>{0});  // the first attempt, at once
    t.advance(0.999);
    EXPECT_EQ(log.attempts.size(), 1u);
    t.advance(0.001);
    EXPECT_EQ(log.attempts.size(), 2u);  // retried after 1 s
    t.advance(2);
    EXPECT_EQ(log.attempts.size(), 3u);  // then after 2 s more
    EXPECT_EQ(t.run_until_complete(task), 14);
    // Waits of 1, 2, 4, ..., 32 s, then capped at 60 s: the attempts (ms).
    std::vector<long long> expected{0,       1'000,   3'000,   7'000,   15'000,
                                    31'000,  63'000,  123'000, 183'000, 243'000,
                                    303'000, 363'000, 423'000, 483'000, 543'000};
    EXPECT_EQ(log.attempts, expected);
}

TEST(TestLoop, ARetryThatNeverSucceedsGivesUpAtItsDeadline) {
    TestLoop t;
    RetryLog log;
    auto task = t->create_task(fetch_with_retry(&log, 1000, 60, 600));
    try {
        t.run_until_complete(task);
        ADD_FAILURE() << "no TimeoutError";
    } catch (const asyncio::TimeoutError& e) {
        EXPECT_STREQ(e.what(), "gave up after 15 attempts");
    }
    EXPECT_EQ(log.attempts.size(), 15u);
    EXPECT_EQ(log.attempts.back(), 543'000);  // one more wait of 60 s would pass 600 s
    EXPECT_EQ(std::llround(t.time()), 543);
}

TEST(TestLoop, WaitForTimesOutOnTheVirtualClock) {
    TestLoop t;
    auto body = []() -> asyncio::Coro<double> {
        try {
            co_await asyncio::wait_for(asyncio::sleep(100), 5);
        } catch (const asyncio::TimeoutError&) {
        }
        co_return asyncio::get_running_loop().time();
    };
    EXPECT_EQ(t.run_until_complete(body()), 5.0);
}

namespace {
std::vector<int> order_for(std::optional<std::uint64_t> seed) {
    TestLoop t(TestLoopOptions{.shuffle_seed = seed});
    std::vector<int> order;
    for (int i = 0; i < 16; ++i) t->call_soon([&order, i] { order.push_back(i); });
    t.run_until_idle();
    return order;
}
}  // namespace

TEST(TestLoop, ShuffleRunsEachCallbackOnceInAnOrderFixedByTheSeed) {
    std::vector<int> fifo(16);
    std::iota(fifo.begin(), fifo.end(), 0);
    EXPECT_EQ(order_for(std::nullopt), fifo);
    std::vector<int> a = order_for(42);
    EXPECT_EQ(order_for(42), a);  // the same seed, the same order: a failure reproduces
    EXPECT_NE(a, fifo);
    EXPECT_NE(order_for(7), a);
    std::sort(a.begin(), a.end());
    EXPECT_EQ(a, fifo);
}

TEST(TestLoop, ShuffleFlushesOutAnOrderingAssumption) {
    // Two tasks started together; the code under test assumes the first starts first.
    auto run = [](std::optional<std::uint64_t> seed) {
        TestLoop t(TestLoopOptions{.shuffle_seed = seed});
        std::string first;
        auto starter = [](std::string* f, std::string name) -> asyncio::Coro<void> {
            if (f->empty()) *f = name;
            co_return;
        };
        t->create_task(starter(&first, "a"));
        t->create_task(starter(&first, "b"));
        t.run_until_idle();
        return first;
    };
    EXPECT_EQ(run(std::nullopt), "a");
    bool b_first = false;
    for (std::uint64_t seed = 1; seed <= 20 && !b_first; ++seed) b_first = run(seed) == "b";
    EXPECT_TRUE(b_first);
}

TEST(TestLoop, RunUntilIdleRefusesALoopThatIsNeverIdle) {
    TestLoop t;
    t.max_iterations = 50;
    auto spinner = []() -> asyncio::Coro<void> {
        for (;;) co_await asyncio::sleep(0);
    };
    auto task = t->create_task(spinner());
    try {
        t.run_until_idle();
        ADD_FAILURE() << "no error";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("still busy after 50 iterations"), std::string::npos)
            << e.what();
    }
    task.cancel();
    t.max_iterations = 100'000;
    t.run_until_idle();
    EXPECT_TRUE(task.cancelled());
}

TEST(TestLoop, AdvanceRejectsANegativeOrNaNDuration) {
    TestLoop t;
    EXPECT_THROW(t.advance(-1), std::invalid_argument);
    EXPECT_THROW(t.advance(std::nan("")), std::invalid_argument);
    EXPECT_EQ(t.time(), 0.0);
}

TEST(TestLoop, DebugModeIsAnOption) {
    TestLoop plain;
    EXPECT_FALSE(plain->get_debug() && std::getenv("ASYNCIO_DEBUG") == nullptr);
    TestLoop debug(TestLoopOptions{.debug = true});
    EXPECT_TRUE(debug->get_debug());
}
