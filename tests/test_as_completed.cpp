// as_completed(): parity #44–#47 (CPython BaseTaskTests::test_as_completed*).
#include <set>
#include <string>

#include "asyncio_test.hpp"
#include "counted.hpp"

using asyncio::testing::Counted;
using asyncio::testing::loop;

namespace {
asyncio::Coro<std::string> after(double d, std::string v) {
    co_await asyncio::sleep(d);
    co_return v;
}
}  // namespace

// parity #44: BaseTaskTests::test_as_completed
ASYNCIO_TEST(AsCompleted, GivesResultsInCompletionOrder) {
    double t0 = loop().time();
    std::vector<asyncio::Coro<std::string>> cs;
    cs.push_back(after(0.01, "b"));
    cs.push_back(after(0.15, "c"));
    cs.push_back(after(0.01, "a"));
    std::vector<std::string> got;
    for (auto f : asyncio::as_completed(std::move(cs))) got.push_back(co_await f);
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ((std::set<std::string>{got[0], got[1]}), (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(got[2], "c");
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.15);
}

// parity #45: BaseTaskTests::test_as_completed_with_timeout
ASYNCIO_TEST(AsCompleted, TimeoutRaisesAndLeavesTheRestRunning) {
    double t0 = loop().time();
    auto a = asyncio::create_task(after(0.1, "a"));
    auto b = asyncio::create_task(after(0.15, "b"));
    auto ac = asyncio::as_completed(std::vector{a, b}, {.timeout = 0.12});
    EXPECT_EQ(co_await ac[0], "a");
    bool timed_out = false;
    try {
        co_await ac[1];
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.12);
    EXPECT_FALSE(b.done());
    EXPECT_EQ(co_await b, "b");
}

// parity #46: BaseTaskTests::test_as_completed_reverse_wait
ASYNCIO_TEST(AsCompleted, EachAwaitTakesTheNextCompletion) {
    double t0 = loop().time();
    std::vector<asyncio::Coro<std::string>> cs;
    cs.push_back(after(0.05, "a"));
    cs.push_back(after(0.10, "b"));
    auto futs = asyncio::as_completed(std::move(cs));
    EXPECT_EQ(futs.size(), 2u);
    EXPECT_EQ(co_await futs[1], "a");
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.05);
    EXPECT_EQ(co_await futs[0], "b");
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.10);
}

// parity #47: test_as_completed_duplicate_coroutines / test_as_completed_same_tasks_in_as_out
ASYNCIO_TEST(AsCompleted, ATaskPassedTwiceCountsOnce) {
    auto c = asyncio::create_task(after(0, "ham"));
    auto d = asyncio::create_task(after(0, "spam"));
    std::set<std::string> got;
    auto ac = asyncio::as_completed(std::vector{c, c, d});
    EXPECT_EQ(ac.size(), 2u);
    for (auto f : ac) got.insert(co_await f);
    EXPECT_EQ(got, (std::set<std::string>{"ham", "spam"}));
    // The original tasks are untouched and still hold their results.
    EXPECT_EQ(c.result(), "ham");
}

ASYNCIO_TEST(AsCompleted, SlotKShowsTheKthCompletionBeforeBeingAwaited) {
    auto a = asyncio::create_task(after(0.2, "a"));
    auto b = asyncio::create_task(after(0.1, "b"));
    auto ac = asyncio::as_completed(std::vector{a, b});
    co_await asyncio::sleep(0.15);
    EXPECT_TRUE(ac[0].done());
    EXPECT_EQ(ac[0].result(), "b");
    EXPECT_FALSE(ac[1].done());
    co_await a;
    co_await asyncio::sleep(0);
    EXPECT_EQ(ac[1].result(), "a");
}

namespace {
asyncio::Coro<int> fails() {
    co_await asyncio::sleep(0.01);
    throw std::runtime_error("bad");
}
asyncio::Coro<Counted> counted(int id) {
    co_await asyncio::sleep(0.01 * id);
    co_return Counted(id);
}
}  // namespace

ASYNCIO_TEST(AsCompleted, ExceptionsAndCancellationsPassThrough) {
    std::vector<asyncio::Coro<int>> cs;
    cs.push_back(fails());
    auto ac = asyncio::as_completed(std::move(cs));
    bool raised = false;
    try {
        co_await ac[0];
    } catch (const std::runtime_error& e) {
        raised = std::string(e.what()) == "bad";
    }
    EXPECT_TRUE(raised);
    auto f = loop().create_future<int>();
    auto ac2 = asyncio::as_completed(std::vector{f});
    f.cancel();
    bool cancelled = false;
    try {
        co_await ac2[0];
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
}

ASYNCIO_TEST(AsCompleted, LeaksNoValue) {
    Counted::reset();
    {
        std::vector<asyncio::Coro<Counted>> cs;
        for (int i = 0; i < 3; ++i) cs.push_back(counted(i));
        int sum = 0;
        for (auto f : asyncio::as_completed(std::move(cs))) sum += (co_await f).id;
        EXPECT_EQ(sum, 3);
    }
    EXPECT_EQ(Counted::alive(), 0);
}

// Nothing lost, nothing reported twice: a failure nobody has seen is reported once when its
// slot is dropped unawaited; one already seen (here by gather) is not reported again.
ASYNCIO_TEST(AsCompleted, UnawaitedFailureIsReportedOnceAndOnlyIfUnseen) {
    {
        std::vector<asyncio::Coro<int>> cs;
        cs.push_back(fails());
        auto ac = asyncio::as_completed(std::move(cs));
        co_await asyncio::sleep(0.1);
        EXPECT_TRUE(ac[0].done());
    }
    auto reports = asyncio::testing::take_reports();
    EXPECT_EQ(reports.size(), 1u);
    {
        auto t = asyncio::create_task(fails());
        std::vector<asyncio::Task<int>> ts{t};
        auto all = co_await asyncio::gather(asyncio::return_exceptions, ts);
        EXPECT_FALSE(all[0].has_value());
        auto ac = asyncio::as_completed(ts);
        co_await asyncio::sleep(0);
        EXPECT_TRUE(ac[0].done());
    }
    EXPECT_TRUE(asyncio::testing::take_reports().empty());
}

// parity #44 (the async-iterator form, 3.13): `async for t in as_completed(aws)` gives the
// inputs in completion order, done.
ASYNCIO_TEST(AsCompleted, NextGivesTheInputsInCompletionOrder) {
    double t0 = loop().time();
    std::vector<asyncio::Coro<std::string>> cs;
    cs.push_back(after(0.01, "b"));
    cs.push_back(after(0.15, "c"));
    cs.push_back(after(0.02, "a"));
    auto it = asyncio::as_completed(std::move(cs));
    std::vector<std::string> got;
    while (auto t = co_await it.next()) {
        EXPECT_TRUE(t->done());
        got.push_back(co_await *t);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"b", "a", "c"}));
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.15);
    EXPECT_FALSE(co_await it.next());
}

// parity #47: test_as_completed_same_tasks_in_as_out: the async-iterator form hands back the
// original tasks; a task passed twice comes once.
ASYNCIO_TEST(AsCompleted, NextGivesBackTheOriginalTasks) {
    auto a = asyncio::create_task(after(0.2, "a"));
    auto b = asyncio::create_task(after(0.1, "b"));
    auto it = asyncio::as_completed(std::vector{a, b, a});
    std::vector<asyncio::Task<std::string>> out;
    while (auto t = co_await it.next()) out.push_back(*t);
    EXPECT_EQ(out.size(), 2u);
    EXPECT_TRUE(out.size() == 2 && out[0] == b && out[1] == a);
    EXPECT_EQ(a.result(), "a");  // nothing taken out of the caller's tasks
}

// parity #45 (the async-iterator form): after the deadline each input not done raises
// TimeoutError once, then the iteration ends; the inputs keep running.
ASYNCIO_TEST(AsCompleted, NextRaisesTimeoutErrorForEachInputNotDone) {
    auto a = asyncio::create_task(after(0.1, "a"));
    auto b = asyncio::create_task(after(0.3, "b"));
    auto c = asyncio::create_task(after(0.4, "c"));
    auto it = asyncio::as_completed(std::vector{a, b, c}, {.timeout = 0.2});
    auto first = co_await it.next();
    EXPECT_TRUE(first && *first == a);
    int timeouts = 0;
    for (int i = 0; i < 2; ++i) {
        try {
            co_await it.next();
        } catch (const asyncio::TimeoutError&) {
            ++timeouts;
        }
    }
    EXPECT_EQ(timeouts, 2);
    EXPECT_DOUBLE_EQ(loop().time(), 0.2);
    EXPECT_FALSE(co_await it.next());
    EXPECT_EQ(co_await c, "c");
    EXPECT_EQ(co_await b, "b");
}

// One object, one form: awaiting an element after next() (or the reverse) is an error,
// not a hang.
ASYNCIO_TEST(AsCompleted, OneObjectIsIteratedInOneForm) {
    auto a = asyncio::create_task(after(0.1, "a"));
    auto it = asyncio::as_completed(std::vector{a});
    EXPECT_TRUE(co_await it.next());
    EXPECT_THROW(co_await it[0], asyncio::RuntimeError);
    auto b = asyncio::create_task(after(0.1, "b"));
    auto el = asyncio::as_completed(std::vector{b});
    EXPECT_EQ(co_await el[0], "b");
    EXPECT_THROW(co_await el.next(), asyncio::RuntimeError);
}

// A plain Future nobody completes, watched by as_completed() when the loop is closed by hand:
// its callback holds nothing while stored, so dropping the abandoned task's frame frees the
// as_completed state, then the future (with the done callback holding the token), then the
// loop. The ASan pass checks nothing is left.
TEST(AsCompletedLifetime, APlainFuturePendingAtLoopCloseIsFreed) {
    asyncio::testing::expect_freed_at_hand_close([](std::shared_ptr<int> t) -> asyncio::Coro<void> {
        auto f = asyncio::get_event_loop().create_future<int>();
        f.add_done_callback([t] {});
        auto it = asyncio::as_completed(std::vector{f});
        while (auto next = co_await it.next()) {
        }
    });
}

// A plain future completing after its as_completed object was dropped finds nothing freed
// (the ASan pass checks); one completing while it is watched is handed out.
ASYNCIO_TEST(AsCompletedLifetime, APlainFutureOutlivingItsAsCompletedObjectIsUnhooked) {
    auto f = asyncio::get_event_loop().create_future<int>();
    auto g = asyncio::get_event_loop().create_future<int>();
    {
        auto it = asyncio::as_completed(std::vector{f, g});
        g.set_result(2);
        auto first = co_await it.next();
        CO_ASSERT_TRUE(first.has_value());
        EXPECT_EQ(first->result(), 2);
    }
    f.set_result(1);
    co_await asyncio::sleep(0);
    EXPECT_EQ(f.result(), 1);
}
