// wait(): parity #37–#43 (CPython BaseTaskTests::test_wait*).
#include <set>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

#define CO_ASSERT(cond)         \
    do {                        \
        EXPECT_TRUE(cond);      \
        if (!(cond)) co_return; \
    } while (0)

namespace {
asyncio::Coro<std::string> after(double d, std::string v) {
    co_await asyncio::sleep(d);
    co_return v;
}
asyncio::Coro<int> yields_then(int n, int v) {
    for (int i = 0; i < n; ++i) co_await asyncio::sleep(0);
    co_return v;
}
asyncio::Coro<int> fail_after(double d) {
    co_await asyncio::sleep(d);
    throw std::runtime_error("boom");
}
// GCC 12 rejects a braced list inside co_await ("array used as initializer"): build the
// vector in a function.
template <class... H>
auto vec(H... h) {
    return std::vector{h...};
}
template <class H>
bool contains(const std::vector<H>& v, const H& h) {
    for (auto& x : v)
        if (x == h) return true;
    return false;
}
}  // namespace

// parity #37: BaseTaskTests::test_wait
ASYNCIO_TEST(Wait, AllCompletedWaitsForEveryTask) {
    auto a = asyncio::create_task(after(0.1, "a"));
    auto b = asyncio::create_task(after(0.15, "b"));
    double t0 = loop().time();
    std::vector<asyncio::Task<std::string>> in{b, a};
    auto [done, pending] = co_await asyncio::wait(in);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(contains(done, a) && contains(done, b));
    EXPECT_TRUE(pending.empty());
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.15);
    // Again on finished tasks: returns at once, time does not move.
    auto r2 = co_await asyncio::wait(in);
    EXPECT_EQ(r2.done.size(), 2u);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.15);
}

// parity #38: BaseTaskTests::test_wait_first_completed
ASYNCIO_TEST(Wait, FirstCompletedReturnsAtTheFirstCompletion) {
    auto a = asyncio::create_task(after(10, "a"));
    auto b = asyncio::create_task(after(0.1, "b"));
    double t0 = loop().time();
    auto [done, pending] =
        co_await asyncio::wait(vec(a, b), {.return_when = asyncio::FIRST_COMPLETED});
    EXPECT_EQ(done, std::vector{b});
    EXPECT_EQ(pending, std::vector{a});
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.1);
    EXPECT_FALSE(a.done());
    EXPECT_FALSE(a.cancelled());
    a.cancel();
    co_await asyncio::sleep(0);
}

// parity #39: BaseTaskTests::test_wait_really_done
ASYNCIO_TEST(Wait, EverythingFinishedByReturnIsInDone) {
    auto a = asyncio::create_task(yields_then(1, 1));
    auto b = asyncio::create_task(yields_then(2, 2));
    auto [done, pending] =
        co_await asyncio::wait(vec(a, b), {.return_when = asyncio::FIRST_COMPLETED});
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
}

// parity #40: BaseTaskTests::test_wait_first_exception / _in_wait / test_wait_with_exception
ASYNCIO_TEST(Wait, FirstExceptionReturnsWhenOneFails) {
    {  // already failed: returns at t=0
        auto a = asyncio::create_task(after(10, "a"));
        auto b = asyncio::create_task(fail_after(0));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        double t0 = loop().time();
        std::vector<asyncio::AnyTask> in{a, b};
        auto [done, pending] =
            co_await asyncio::wait(in, {.return_when = asyncio::FIRST_EXCEPTION});
        EXPECT_EQ(done, std::vector<asyncio::AnyTask>{b});
        EXPECT_EQ(pending, std::vector<asyncio::AnyTask>{a});
        EXPECT_DOUBLE_EQ(loop().time(), t0);
        EXPECT_TRUE(b.exception());
        a.cancel();
        co_await asyncio::sleep(0);
    }
    {  // fails while waiting: returns at 0.01
        auto a = asyncio::create_task(after(10, "a"));
        auto b = asyncio::create_task(fail_after(0.01));
        double t0 = loop().time();
        std::vector<asyncio::AnyTask> in{a, b};
        auto [done, pending] =
            co_await asyncio::wait(in, {.return_when = asyncio::FIRST_EXCEPTION});
        EXPECT_EQ(done, std::vector<asyncio::AnyTask>{b});
        EXPECT_DOUBLE_EQ(loop().time() - t0, 0.01);
        a.cancel();
        co_await asyncio::sleep(0);
    }
    {  // nothing fails first: like ALL_COMPLETED
        auto a = asyncio::create_task(after(0.1, "a"));
        auto b = asyncio::create_task(fail_after(0.2));
        double t0 = loop().time();
        std::vector<asyncio::AnyTask> in{a, b};
        auto [done, pending] =
            co_await asyncio::wait(in, {.return_when = asyncio::FIRST_EXCEPTION});
        EXPECT_EQ(done.size(), 2u);
        EXPECT_DOUBLE_EQ(loop().time() - t0, 0.2);
        int failed = 0;
        for (auto& t : done) failed += t.exception() ? 1 : 0;
        EXPECT_EQ(failed, 1);
    }
    {  // a cancelled task is not an exception
        auto a = asyncio::create_task(after(0.1, "a"));
        auto b = asyncio::create_task(after(10, "b"));
        b.cancel();
        auto [done, pending] =
            co_await asyncio::wait(vec(a, b), {.return_when = asyncio::FIRST_EXCEPTION});
        EXPECT_EQ(done.size(), 2u);
    }
}

// parity #41: BaseTaskTests::test_wait_with_timeout
ASYNCIO_TEST(Wait, TimeoutReturnsWithoutCancellingOrRaising) {
    auto a = asyncio::create_task(after(0.1, "a"));
    auto b = asyncio::create_task(after(0.15, "b"));
    double t0 = loop().time();
    auto [done, pending] = co_await asyncio::wait(vec(a, b), {.timeout = 0.11});
    EXPECT_EQ(done, std::vector{a});
    EXPECT_EQ(pending, std::vector{b});
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.11);
    EXPECT_FALSE(b.cancelled());
    EXPECT_EQ(co_await b, "b");
    // A chrono duration works as well, and pending goes back in.
    auto c = asyncio::create_task(after(0.3, "c"));
    auto r = co_await asyncio::wait(vec(c), {.timeout = 100ms});
    CO_ASSERT(r.pending.size() == 1u);
    auto r2 = co_await asyncio::wait(r.pending);
    EXPECT_EQ(r2.done, std::vector{c});
}

// parity #42: test_wait_errors / test_wait_invalid_args / test_wait_duplicate_coroutines
ASYNCIO_TEST(Wait, BadArgumentsAreClearErrorsAndDuplicatesCountOnce) {
    std::vector<asyncio::Task<int>> none;
    EXPECT_THROW((void)asyncio::wait(none), std::invalid_argument);
    auto t = asyncio::create_task(yields_then(0, 1));
    std::vector<asyncio::Task<int>> one{t};
    EXPECT_THROW((void)asyncio::wait(one, {.return_when = static_cast<asyncio::ReturnWhen>(-1)}),
                 std::invalid_argument);
    // A single future or a bare coroutine is rejected at compile time (static_assert).
    auto c = asyncio::create_task(after(0, "test"));
    auto d = asyncio::create_task(after(0, "spam"));
    auto [done, pending] = co_await asyncio::wait(vec(c, c, d));
    EXPECT_EQ(done.size(), 2u);
    std::set<std::string> got;
    for (auto& x : done) got.insert(x.result());
    EXPECT_EQ(got, (std::set<std::string>{"test", "spam"}));
    co_await t;
}

// parity #43: BaseTaskTests::test_yield_wait_does_not_shield_cancel
namespace {
asyncio::Coro<void> waits_on(asyncio::Task<std::string> inner) {
    co_await asyncio::wait(vec(inner));
}
}  // namespace
ASYNCIO_TEST(Wait, CancellingTheWaiterDoesNotCancelWhatItWaitsOn) {
    auto inner = asyncio::create_task(after(0.1, "x"));
    auto outer = asyncio::create_task(waits_on(inner));
    co_await asyncio::sleep(0.01);
    outer.cancel();
    bool cancelled = false;
    try {
        co_await outer;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(co_await inner, "x");
}

// Mixed result types through AnyTask, and the seed's shape (Task<double> vector).
ASYNCIO_TEST(Wait, MixedResultTypesThroughAnyTask) {
    auto a = asyncio::create_task(after(0.1, "a"));
    auto b = asyncio::create_task(yields_then(1, 2));
    std::vector<asyncio::AnyTask> in{a, b};
    auto [done, pending] = co_await asyncio::wait(in);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_EQ(a.result(), "a");
    EXPECT_EQ(b.result(), 2);
}

// Repeated FIRST_COMPLETED waits do not pile callbacks on the pending tasks.
ASYNCIO_TEST(Wait, WhilePendingLoopFinishesEveryTask) {
    std::vector<asyncio::Task<std::string>> pending;
    for (int i = 0; i < 5; ++i) pending.push_back(asyncio::create_task(after(0.1 * (5 - i), "x")));
    int rounds = 0;
    while (!pending.empty()) {
        auto r = co_await asyncio::wait(pending, {.return_when = asyncio::FIRST_COMPLETED});
        pending = std::move(r.pending);
        ++rounds;
    }
    EXPECT_EQ(rounds, 5);
}
