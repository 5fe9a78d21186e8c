// shield(): parity #58–#60 (CPython BaseTaskTests::test_shield_*).
#include <memory>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"
#include "counted.hpp"

using asyncio::testing::Counted;
using asyncio::testing::loop;

#define CO_ASSERT(cond)         \
    do {                        \
        EXPECT_TRUE(cond);      \
        if (!(cond)) co_return; \
    } while (0)

// parity #58: test_shield_result / _shortcut / _exception / _cancel_inner
ASYNCIO_TEST(Shield, PassesResultExceptionAndInnerCancellationThrough) {
    auto inner = loop().create_future<int>();
    auto outer = asyncio::shield(inner);
    inner.set_result(42);
    EXPECT_EQ(co_await outer, 42);

    auto done = loop().create_future<int>();
    done.set_result(7);
    auto same = asyncio::shield(done);
    EXPECT_TRUE(same == done);  // a done future is returned as is
    EXPECT_EQ(same.result(), 7);

    auto inner2 = loop().create_future<int>();
    auto outer2 = asyncio::shield(inner2);
    auto exc = std::make_exception_ptr(std::runtime_error("x"));
    inner2.set_exception(exc);
    co_await asyncio::sleep(0);
    EXPECT_EQ(outer2.exception(), exc);

    auto inner3 = loop().create_future<int>();
    auto outer3 = asyncio::shield(inner3);
    inner3.cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(outer3.cancelled());
}

// parity #59: test_shield_cancel_outer(_result/_exception) / test_shield_duplicate_log_once
ASYNCIO_TEST(Shield, CancelledOuterLeavesInnerAndReportsItsFailureOnce) {
    {
        auto inner = loop().create_future<int>();
        auto outer = asyncio::shield(inner);
        EXPECT_TRUE(outer.cancel());
        EXPECT_TRUE(outer.cancelled());
        EXPECT_FALSE(inner.done());
        inner.set_result(1);
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    }
    EXPECT_TRUE(asyncio::testing::take_reports().empty());
    {
        auto inner = loop().create_future<int>();
        auto outer1 = asyncio::shield(inner);
        auto outer2 = asyncio::shield(inner);
        outer1.cancel();
        outer2.cancel();
        co_await asyncio::sleep(0);
        inner.set_exception(std::runtime_error("late"));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    }
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT(reports.size() == 1u);
    EXPECT_EQ(reports[0].message, "Future exception was never retrieved");
}

// parity #60: test_shield_effect / test_shield_gather / test_gather_shield
namespace {
asyncio::Coro<int> inner_work(int* proof, int v) {
    co_await asyncio::sleep(0.1);
    ++*proof;
    co_return v;
}
asyncio::Coro<void> awaits_shielded(int* proof) { co_await asyncio::shield(inner_work(proof, 1)); }
}  // namespace
ASYNCIO_TEST(Shield, OuterCancellationDoesNotReachTheInner) {
    int proof = 0;
    auto t = asyncio::create_task(awaits_shielded(&proof));
    co_await asyncio::sleep(0.01);
    t.cancel();
    bool cancelled = false;
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    co_await asyncio::sleep(0.2);
    EXPECT_EQ(proof, 1);

    // shield(gather(...)) cancelled: the gather still completes.
    int p2 = 0;
    auto g = asyncio::gather(inner_work(&p2, 1), inner_work(&p2, 2));
    auto s = asyncio::shield(g);
    s.cancel();
    auto [a, b] = co_await g;
    EXPECT_EQ(a + b, 3);

    // gather(shield(c1), shield(c2)) cancelled: the shields are cancelled, not the children.
    int p3 = 0;
    auto c1 = asyncio::create_task(inner_work(&p3, 1));
    auto c2 = asyncio::create_task(inner_work(&p3, 2));
    auto s1 = asyncio::shield(c1);
    auto s2 = asyncio::shield(c2);
    auto g2 = asyncio::gather(s1, s2);
    EXPECT_TRUE(g2.cancel());
    try {
        co_await g2;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_TRUE(s1.cancelled() && s2.cancelled());
    EXPECT_EQ(co_await c1, 1);
    EXPECT_EQ(co_await c2, 2);
    EXPECT_EQ(p3, 2);
}

ASYNCIO_TEST(Shield, MovesTheValueOfACoroutineItWrapped) {
    Counted::reset();
    {
        auto make = []() -> asyncio::Coro<Counted> {
            co_await asyncio::sleep(0.01);
            co_return Counted(3);
        };
        auto s = asyncio::shield(make());
        co_await asyncio::sleep(0.02);
        EXPECT_EQ(s.result().id, 3);
        EXPECT_EQ(Counted::copied, 0);
    }
    EXPECT_EQ(Counted::alive(), 0);
}

// A loop closed (without run()) while a task awaits shield(task) abandons both tasks. The shield
// future can then never complete: it lets go of its callbacks, so nothing it and its link hold
// (the inner task, and through it the closed loop) is kept alive by a cycle. The token held by
// a done callback on the shield future is released only if that happens; the ASan pass checks
// with LeakSanitizer that nothing at all is left.
TEST(ShieldLifetime, APendingShieldAtLoopCloseLeavesNoCycleBehind) {
    asyncio::testing::expect_freed_at_hand_close([](std::shared_ptr<int> t) -> asyncio::Coro<void> {
        auto in = asyncio::create_task(asyncio::sleep(100));
        auto s = asyncio::shield(in);
        s.add_done_callback([t] {});
        co_await s;
    });
}

// A plain Future nobody completes, awaited through shield() when the loop is closed by hand:
// the shield's link owns neither future, so dropping the abandoned task's frame frees the
// outer, which unhooks from the inner; the inner (with the done callback holding the token)
// and the loop go with their last handles. The ASan pass checks nothing is left.
TEST(ShieldLifetime, APlainFuturePendingInAShieldAtLoopCloseIsFreed) {
    asyncio::testing::expect_freed_at_hand_close([](std::shared_ptr<int> t) -> asyncio::Coro<void> {
        auto f = asyncio::get_event_loop().create_future<int>();
        f.add_done_callback([t] {});
        co_await asyncio::shield(f);
    });
}

// The outer of a shield dropped while the inner runs: the inner completes later, its value has
// nowhere to go, and nothing is touched that was freed (the ASan pass checks).
ASYNCIO_TEST(ShieldLifetime, AnOuterDroppedBeforeTheInnerCompletesIsUnhooked) {
    auto inner = asyncio::create_task([]() -> asyncio::Coro<int> {
        co_await asyncio::sleep(0.01);
        co_return 7;
    }());
    { auto outer = asyncio::shield(inner); }
    EXPECT_EQ(co_await inner, 7);
}
