// wait_for(): parity #48–#57 (CPython test_waitfor::AsyncioWaitForTest, WaitForShieldTests).
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"
#include "counted.hpp"

using namespace std::chrono_literals;
using asyncio::testing::Counted;
using asyncio::testing::loop;

namespace {
struct FooException : std::runtime_error {
    FooException() : std::runtime_error("foo") {}
};

asyncio::Coro<int> long_sleep(bool* finally_ran) {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        *finally_ran = true;
        throw;
    }
    co_return 1;
}
template <class F>
bool raises_timeout(F&& f) {
    try {
        f();
    } catch (const asyncio::TimeoutError&) {
        return true;
    }
    return false;
}
}  // namespace

// parity #48: AsyncioWaitForTest::test_wait_for
ASYNCIO_TEST(WaitFor, TimeoutCancelsTheTaskAndRunsItsCleanupFirst) {
    bool finally_ran = false;
    auto t = asyncio::create_task(long_sleep(&finally_ran));
    double t0 = loop().time();
    bool timed_out = false;
    try {
        co_await asyncio::wait_for(t, 0.1);
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(finally_ran);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.1);
}

// parity #49: test_wait_for_waits_for_task_cancellation
namespace {
asyncio::Coro<void> slow_cleanup(bool* done) {
    std::exception_ptr e;
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        e = std::current_exception();
    }
    co_await asyncio::sleep(0.2);  // cleanup takes time
    *done = true;
    if (e) std::rethrow_exception(e);
}
}  // namespace
ASYNCIO_TEST(WaitFor, RaisesOnlyAfterTheInnerTaskFinishedCleaningUp) {
    bool task_done = false;
    auto t = asyncio::create_task(slow_cleanup(&task_done));
    double t0 = loop().time();
    bool timed_out = false;
    try {
        co_await asyncio::wait_for(t, 0.1);
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(task_done);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.3);
}

// parity #50: test_asyncio_wait_for_timeout / test_asyncio_wait_for_cancelled
namespace {
asyncio::Coro<void> ignores_cancel_for_a_while(bool* exited) {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
    }
    // Swallowed: keeps going for 0.2 s, then finishes.
    co_await asyncio::sleep(0.2);
    *exited = true;
}
asyncio::Coro<void> waits_for(asyncio::Task<void> inner, double timeout) {
    co_await asyncio::wait_for(inner, timeout);
}
}  // namespace
ASYNCIO_TEST(WaitFor, DoesNotReturnBeforeTheInnerTaskExits) {
    {
        bool exited = false;
        auto inner = asyncio::create_task(ignores_cancel_for_a_while(&exited));
        // The inner swallows the timeout's cancel and returns: its value (void) comes back.
        co_await asyncio::wait_for(inner, 0.1);
        EXPECT_TRUE(exited);
    }
    {
        bool exited = false;
        auto inner = asyncio::create_task(ignores_cancel_for_a_while(&exited));
        auto outer = asyncio::create_task(waits_for(inner, 100));
        co_await asyncio::sleep(0.1);
        outer.cancel();
        try {
            co_await outer;
        } catch (const asyncio::CancelledError&) {
        }
        EXPECT_TRUE(exited);
    }
}

// parity #51: test_wait_for_timeout_less_then_0_or_0 (+ _future_done, _coroutine_do_not_started)
namespace {
asyncio::Coro<int> never_started(bool* started) {
    *started = true;
    co_return 1;
}
}  // namespace
ASYNCIO_TEST(WaitFor, ZeroOrNegativeTimeout) {
    for (double timeout : {0.0, -1.0}) {
        auto f = loop().create_future<int>();
        f.set_result(7);
        EXPECT_EQ(co_await asyncio::wait_for(f, timeout), 7);

        bool finally_ran = false;
        auto t = asyncio::create_task(long_sleep(&finally_ran));
        co_await asyncio::sleep(0);
        bool timed_out = false;
        try {
            co_await asyncio::wait_for(t, timeout);
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(finally_ran);

        bool started = false;
        timed_out = false;
        try {
            co_await asyncio::wait_for(never_started(&started), timeout);
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(started);
    }
}

// parity #52: test_wait_for_cancel_suppressed / test_wait_for_cancellation_race_condition
namespace {
asyncio::Coro<int> swallows_and_returns(int v) {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
    }
    co_return v;
}
}  // namespace
ASYNCIO_TEST(WaitFor, InnerThatSwallowsTheCancelGivesItsValue) {
    EXPECT_EQ(co_await asyncio::wait_for(swallows_and_returns(42), 0.1), 42);
    auto t = asyncio::create_task(swallows_and_returns(1));
    EXPECT_EQ(co_await asyncio::wait_for(t, 0.1), 1);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

// parity #53: test_wait_for_reraises_exception_during_cancellation
namespace {
asyncio::Coro<void> raises_in_finally() {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        throw FooException();
    }
}
}  // namespace
ASYNCIO_TEST(WaitFor, ExceptionDuringCancellationWinsOverTimeout) {
    bool foo = false;
    try {
        co_await asyncio::wait_for(raises_in_finally(), 0.01);
    } catch (const FooException&) {
        foo = true;
    }
    EXPECT_TRUE(foo);
    foo = false;
    auto t = asyncio::create_task(raises_in_finally());
    try {
        co_await asyncio::wait_for(t, 0.01);
    } catch (const FooException&) {
        foo = true;
    }
    EXPECT_TRUE(foo);
}

// parity #54: test_wait_for_race_condition
ASYNCIO_TEST(WaitFor, ResultSetBySoonCallbackIsReturned) {
    auto fut = loop().create_future<std::string>();
    loop().call_soon([fut] { fut.set_result("ok"); });
    EXPECT_EQ(co_await asyncio::wait_for(fut, 0.2), "ok");
}

// parity #55: test_cancel_wait_for / test_cancel_blocking_wait_for
namespace {
asyncio::Coro<void> waits_long(asyncio::Task<int> inner, std::optional<asyncio::Seconds> timeout) {
    co_await asyncio::wait_for(inner, timeout);
}
}  // namespace
ASYNCIO_TEST(WaitFor, CancellingTheWaiterCancelsTheInner) {
    for (std::optional<asyncio::Seconds> timeout :
         {std::optional<asyncio::Seconds>(60), std::optional<asyncio::Seconds>()}) {
        bool finally_ran = false;
        auto inner = asyncio::create_task(long_sleep(&finally_ran));
        auto outer = asyncio::create_task(waits_long(inner, timeout));
        co_await asyncio::sleep(0.1);
        outer.cancel();
        bool cancelled = false;
        try {
            co_await outer;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(inner.cancelled());
    }
}

// parity #56: test_wait_for_issue86296
namespace {
asyncio::Coro<std::string> one_step() { co_return "done"; }
asyncio::Coro<void> outer_after(asyncio::Task<std::string> inner, bool* after) {
    co_await asyncio::wait_for(inner, 100);
    co_await asyncio::sleep(1);
    *after = true;
}
}  // namespace
ASYNCIO_TEST(WaitFor, OuterCancelledRightAfterStartStaysCancelled) {
    auto inner = asyncio::create_task(one_step());
    bool after = false;
    auto outer = asyncio::create_task(outer_after(inner, &after));
    co_await asyncio::sleep(0);
    outer.cancel();
    bool cancelled = false;
    try {
        co_await outer;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(after);
    EXPECT_EQ(inner.result(), "done");
}

// parity #57: WaitForShieldTests::test_shielded_timeout / test_zero_timeout
namespace {
asyncio::Coro<std::string> done_after(double d) {
    co_await asyncio::sleep(d);
    co_return "done";
}
}  // namespace
ASYNCIO_TEST(WaitFor, ShieldedTaskSurvivesTheTimeout) {
    for (double timeout : {0.01, 0.0}) {
        auto task = asyncio::create_task(done_after(0.1));
        auto shielded = asyncio::shield(task);
        bool timed_out = false;
        try {
            co_await asyncio::wait_for(shielded, timeout);
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_TRUE(shielded.cancelled());
        EXPECT_FALSE(task.cancelled());
        EXPECT_EQ(co_await task, "done");
    }
}

ASYNCIO_TEST(WaitFor, NoTimeoutAndChronoDurations) {
    EXPECT_EQ(co_await asyncio::wait_for(done_after(5), std::nullopt), "done");
    EXPECT_EQ(co_await asyncio::wait_for(done_after(0.1), 200ms), "done");
    EXPECT_TRUE(raises_timeout([] {}) == false);
}

namespace {
asyncio::Coro<Counted> counted() {
    co_await asyncio::sleep(0.01);
    co_return Counted(5);
}
}  // namespace
ASYNCIO_TEST(WaitFor, CopiesNothingFromACoroutine) {
    Counted::reset();
    {
        Counted c = co_await asyncio::wait_for(counted(), 1);
        EXPECT_EQ(c.id, 5);
        EXPECT_EQ(Counted::copied, 0);
    }
    EXPECT_EQ(Counted::alive(), 0);
}
