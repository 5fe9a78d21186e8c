// gather(): parity #28–#36 (CPython GatherTestsBase, FutureGatherTests, CoroutineGatherTests,
// BaseTaskTests::test_cancel_gather_*), plus the C++ shapes (tuple, vector, Result, Counted).
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"
#include "counted.hpp"

using namespace std::chrono_literals;
using asyncio::testing::Counted;
using asyncio::testing::loop;

// ASSERT_* cannot return from a coroutine: check, and leave the body on failure.
#define CO_ASSERT(cond)         \
    do {                        \
        EXPECT_TRUE(cond);      \
        if (!(cond)) co_return; \
    } while (0)

namespace {
struct ZeroDivision : std::runtime_error {
    ZeroDivision() : std::runtime_error("division by zero") {}
};

asyncio::Coro<int> value_after(double d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}
asyncio::Coro<int> fail_after(double d) {
    co_await asyncio::sleep(d);
    throw ZeroDivision();
}
}  // namespace

// parity #28: GatherTestsBase::test_success / test_result_exception_success
ASYNCIO_TEST(Gather, ResultsComeInArgumentOrderAndCallbackRunsOnce) {
    for (bool ret : {false, true}) {
        auto a = loop().create_future<int>();
        auto b = loop().create_future<int>();
        auto c = loop().create_future<int>();
        std::vector<asyncio::Future<int>> fs{a, b, c};
        int calls = 0;
        std::vector<int> got;
        if (ret) {
            auto g = asyncio::gather(asyncio::return_exceptions, fs);
            g.add_done_callback([&] { ++calls; });
            b.set_result(1);
            a.set_result(2);
            co_await asyncio::sleep(0);
            co_await asyncio::sleep(0);
            EXPECT_FALSE(g.done());
            c.set_result(3);
            co_await asyncio::sleep(0);
            EXPECT_TRUE(g.done());
            for (auto& r : g.result()) got.push_back(r.value());
        } else {
            auto g = asyncio::gather(fs);
            g.add_done_callback([&] { ++calls; });
            b.set_result(1);
            a.set_result(2);
            co_await asyncio::sleep(0);
            co_await asyncio::sleep(0);
            EXPECT_FALSE(g.done());
            c.set_result(3);
            co_await asyncio::sleep(0);
            EXPECT_TRUE(g.done());
            got = g.result();
        }
        co_await asyncio::sleep(0);
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(got, (std::vector<int>{2, 1, 3}));
    }
}

// parity #29: GatherTestsBase::test_one_exception
ASYNCIO_TEST(Gather, FirstExceptionCompletesItAndLeavesTheOthersRunning) {
    std::vector<asyncio::Future<int>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(loop().create_future<int>());
    auto g = asyncio::gather(fs);
    fs[0].set_result(1);
    auto exc = std::make_exception_ptr(ZeroDivision());
    fs[1].set_exception(exc);
    co_await asyncio::sleep(0);
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.exception(), exc);  // that very object
    fs[2].set_result(3);
    EXPECT_TRUE(fs[3].cancel());
    fs[4].set_exception(std::runtime_error("later"));
    co_await asyncio::sleep(0);
    EXPECT_EQ(g.exception(), exc);
    EXPECT_FALSE(fs[2].cancelled());
}

// parity #30: GatherTestsBase::test_return_exceptions
ASYNCIO_TEST(Gather, ReturnExceptionsWaitsForTheLastChild) {
    std::vector<asyncio::Future<int>> fs;
    for (int i = 0; i < 4; ++i) fs.push_back(loop().create_future<int>());
    auto g = asyncio::gather(asyncio::return_exceptions, fs);
    auto exc = std::make_exception_ptr(ZeroDivision());
    auto exc2 = std::make_exception_ptr(std::runtime_error("exc2"));
    fs[1].set_result(1);
    fs[2].set_exception(exc);
    fs[0].set_result(3);
    co_await asyncio::sleep(0);
    EXPECT_FALSE(g.done());
    fs[3].set_exception(exc2);
    co_await asyncio::sleep(0);
    CO_ASSERT(g.done());
    auto& r = g.result();
    EXPECT_EQ(r[0].value(), 3);
    EXPECT_EQ(r[1].value(), 1);
    EXPECT_EQ(r[2].exception(), exc);
    EXPECT_EQ(r[3].exception(), exc2);
}

// parity #31: FutureGatherTests::test_one_cancellation
ASYNCIO_TEST(Gather, CancelledChildFailsTheGatherWithCancelledError) {
    std::vector<asyncio::Future<int>> fs;
    for (int i = 0; i < 3; ++i) fs.push_back(loop().create_future<int>());
    auto g = asyncio::gather(fs);
    fs[0].set_result(1);
    fs[1].cancel();
    co_await asyncio::sleep(0);
    EXPECT_TRUE(g.done());
    EXPECT_FALSE(g.cancelled());
    EXPECT_TRUE(asyncio::is_cancelled_error(g.exception()));
    fs[2].set_result(3);
    co_await asyncio::sleep(0);
}

// parity #32: FutureGatherTests::test_result_exception_one_cancellation
ASYNCIO_TEST(Gather, ReturnExceptionsPutsCancelledErrorInTheSlot) {
    std::vector<asyncio::Future<int>> fs;
    for (int i = 0; i < 6; ++i) fs.push_back(loop().create_future<int>());
    auto g = asyncio::gather(asyncio::return_exceptions, fs);
    fs[0].set_result(1);
    fs[1].set_exception(ZeroDivision());
    fs[2].cancel();
    fs[3].set_result(3);
    fs[4].cancel();
    fs[5].set_exception(std::runtime_error("rte"));
    auto r = co_await g;
    CO_ASSERT(r.size() == 6u);
    EXPECT_EQ(r[0].value(), 1);
    EXPECT_EQ(asyncio::exception_type_name(r[1].exception()),
              "(anonymous namespace)::ZeroDivision");
    EXPECT_TRUE(asyncio::is_cancelled_error(r[2].exception()));
    EXPECT_EQ(r[3].value(), 3);
    EXPECT_TRUE(asyncio::is_cancelled_error(r[4].exception()));
    EXPECT_EQ(asyncio::exception_message(r[5].exception()), "rte");
}

// parity #33: CoroutineGatherTests::test_cancellation_broadcast
namespace {
asyncio::Coro<int> wait_on(asyncio::Future<int> f, int* proof) {
    int v = co_await f;
    ++*proof;
    co_return v;
}
asyncio::Coro<void> outer_gather(asyncio::Future<int> f, int* proof,
                                 asyncio::GatherFuture<std::tuple<int, int>>* out) {
    auto g = asyncio::gather(wait_on(f, proof), wait_on(f, proof));
    *out = g;
    co_await g;
}
}  // namespace
ASYNCIO_TEST(Gather, CancellingTheAwaitingTaskCancelsEveryChild) {
    auto f = loop().create_future<int>();
    int proof = 0;
    asyncio::GatherFuture<std::tuple<int, int>> g;
    auto parent = asyncio::create_task(outer_gather(f, &proof, &g));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_TRUE(parent.cancel());
    bool cancelled = false;
    try {
        co_await parent;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(parent.cancelled());
    EXPECT_TRUE(f.cancelled());
    EXPECT_FALSE(g.cancel());
    EXPECT_EQ(proof, 0);
}

// parity #34: BaseTaskTests::test_cancel_gather_2
namespace {
asyncio::Coro<void> gather_forever() {
    for (;;) co_await asyncio::gather(asyncio::return_exceptions, asyncio::sleep(0.05));
}
}  // namespace
ASYNCIO_TEST(Gather, ReturnExceptionsNeverSwallowsTheOuterCancel) {
    auto t = asyncio::create_task(gather_forever());
    co_await asyncio::sleep(0.12);
    t.cancel("my msg");
    std::optional<std::string> msg;
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        msg = e.message();
    }
    EXPECT_EQ(msg, std::optional<std::string>("my msg"));
}

// parity #35: BaseTaskTests::test_cancel_gather_1
ASYNCIO_TEST(Gather, CancelInADoneCallbackOfTheLastChildIsTooLate) {
    auto fut = loop().create_future<int>();
    std::vector<asyncio::Future<int>> fs{fut};
    auto g = asyncio::gather(fs);
    bool cancel_result = true;
    fut.add_done_callback([&] { cancel_result = g.cancel(); });
    fut.set_result(42);
    auto r = co_await g;
    EXPECT_FALSE(cancel_result);
    EXPECT_FALSE(g.cancelled());
    EXPECT_EQ(r, std::vector<int>{42});
}

// parity #36: test_duplicate_coroutines, test_constructor_empty_sequence_use_running_loop,
// test_constructor_heterogenous_futures
namespace {
asyncio::Coro<std::string> text(std::string s, int* runs) {
    ++*runs;
    co_await asyncio::sleep(0);
    co_return s;
}
}  // namespace
ASYNCIO_TEST(Gather, SameTaskTwiceRunsOnceAndEmptyGatherIsEmpty) {
    int runs = 0;
    auto c = asyncio::create_task(text("abc", &runs));
    auto d = asyncio::create_task(text("def", &runs));
    auto [r1, r2, r3, r4] = co_await asyncio::gather(c, c, d, c);
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(r1, "abc");
    EXPECT_EQ(r2, "abc");
    EXPECT_EQ(r3, "def");
    EXPECT_EQ(r4, "abc");

    auto empty = asyncio::gather();
    EXPECT_TRUE(empty.done());
    std::tuple<> e = co_await empty;
    (void)e;
    std::vector<asyncio::Task<int>> none;
    auto v = co_await asyncio::gather(none);
    EXPECT_TRUE(v.empty());
}

// CPython's arg_to_fut: a future passed twice is watched once, whoever else watches it (a
// second gather, a user callback); a done future passed twice gives its outcome twice.
ASYNCIO_TEST(Gather, RepeatedFutureIsWatchedOnceAlongsideOtherWatchers) {
    auto f = loop().create_future<int>();
    int user_calls = 0;
    auto g1 = asyncio::gather(f);
    f.add_done_callback([&] { ++user_calls; });
    auto g2 = asyncio::gather(f, f);
    auto g3 = asyncio::gather(f, g1, f);
    f.set_result(7);
    auto [a, b] = co_await g2;
    EXPECT_EQ(a + b, 14);
    auto [x, y, z] = co_await g3;
    EXPECT_EQ(x + std::get<0>(y) + z, 21);
    EXPECT_EQ(user_calls, 1);

    auto bad = loop().create_future<int>();
    bad.set_exception(std::make_exception_ptr(ZeroDivision()));
    auto r = co_await asyncio::gather(asyncio::return_exceptions, bad, bad);
    EXPECT_FALSE(std::get<0>(r).has_value());
    EXPECT_FALSE(std::get<1>(r).has_value());
    bool raised = false;
    try {
        co_await asyncio::gather(bad, f, bad);
    } catch (const ZeroDivision&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
}

namespace {
asyncio::Coro<std::string> soon_then_return(std::string tag, std::vector<std::string>* order) {
    co_await asyncio::sleep(0);
    asyncio::get_running_loop().call_soon([order, tag] { order->push_back(tag + ":soon"); });
    co_return tag;
}
asyncio::Coro<void> await_and_record(asyncio::Task<std::string> t,
                                     std::vector<std::string>* order) {
    std::string got = co_await t;
    order->push_back("w:got " + got);
}
}  // namespace
// Tasks that end in one iteration, each with one done callback (a gather's or an awaiting
// task's): the callbacks run in the next iteration in completion order, between the
// call_soon callbacks made around them (python3.13 gives this exact order).
ASYNCIO_TEST(Gather, DoneCallbacksOfTasksEndingTogetherKeepCallSoonOrder) {
    std::vector<std::string> order;
    auto a = asyncio::create_task(soon_then_return("a", &order));
    auto b = asyncio::create_task(soon_then_return("b", &order));
    auto c = asyncio::create_task(soon_then_return("c", &order));
    auto w = asyncio::create_task(await_and_record(b, &order));
    auto g = asyncio::gather(c, a, c);
    g.add_done_callback([&] { order.push_back("gather done"); });
    auto [r1, r2, r3] = co_await g;
    co_await w;
    EXPECT_EQ(r1 + r2 + r3, "cac");
    EXPECT_EQ(order,
              (std::vector<std::string>{"a:soon", "b:soon", "w:got b", "c:soon", "gather done"}));
}

TEST(Gather, ChildrenFromTwoLoopsAreRejected) {
    int fds = asyncio::testing::open_fd_count();
    auto l1 = asyncio::testing::make_test_loop();
    auto l2 = asyncio::new_event_loop();
    auto f1 = l1->create_future<int>();
    auto f2 = l2->create_future<int>();
    EXPECT_THROW(asyncio::gather(f1, f2), std::invalid_argument);
    l2->close();
    l2.reset();
    asyncio::testing::close_and_check(l1, fds);
}

// The variadic form: mixed types, void → monostate, coroutines wrapped at once.
ASYNCIO_TEST(Gather, VariadicGivesATupleWithMonostateForVoid) {
    double t0 = loop().time();
    auto [a, b, c] = co_await asyncio::gather(value_after(0.2, 1), asyncio::sleep(0.1),
                                              asyncio::sleep(0.3, std::string("x")));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, std::monostate{});
    EXPECT_EQ(c, "x");
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.3);  // concurrent, not sequential
}

// A gather keeps one word a child, in 256-byte groups headed by the gather's address
// (detail/gather.hpp, GatherLinks): an unsized range grows the links while they are filled,
// and every child's callback, in any group, must find its gather.
ASYNCIO_TEST(Gather, AnUnsizedRangeOfSeventyChildrenAcrossLinkGroupsCollectsEveryResult) {
    std::vector<asyncio::Future<int>> fs;
    for (int i = 0; i < 70; ++i) fs.push_back(loop().create_future<int>());
    auto unsized = fs | std::views::filter([](const asyncio::Future<int>&) { return true; });
    static_assert(!std::ranges::sized_range<decltype(unsized)>);
    auto g = asyncio::gather(unsized);
    for (int i = 69; i >= 0; --i) {  // the last group (of 31 links) first
        fs[static_cast<std::size_t>(i)].set_result(i * 10);
        co_await asyncio::sleep(0);
        EXPECT_EQ(g.done(), i == 0);
    }
    std::vector<int> got = co_await g;
    CO_ASSERT(got.size() == 70u);
    for (int i = 0; i < 70; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i * 10);

    // A failure in a later group ends the gather; the call graph names the gather as the
    // awaiter of a child in any group.
    std::vector<asyncio::Task<int>> ts;
    for (int i = 0; i < 70; ++i) ts.push_back(asyncio::create_task(value_after(10, i)));
    auto failing = asyncio::gather(ts);
    co_await asyncio::sleep(0);
    for (std::size_t i : {0u, 30u, 31u, 61u, 62u, 69u}) {  // each end of each group
        auto graph = asyncio::capture_call_graph(ts[i]);
        EXPECT_EQ(graph.awaited_by.size(), 1u) << "child " << i;
    }
    ts[64].cancel();
    bool cancelled = false;
    try {
        co_await failing;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    for (auto& t : ts) t.cancel();
    co_await asyncio::gather(asyncio::return_exceptions, ts);
}

ASYNCIO_TEST(Gather, ChildrenStartWithoutBeingAwaited) {
    int runs = 0;
    auto g = asyncio::gather(text("a", &runs), text("b", &runs));
    co_await asyncio::sleep(0);
    EXPECT_EQ(runs, 2);
    co_await g;
}

ASYNCIO_TEST(Gather, FirstExceptionPropagatesAtOnceOthersKeepRunning) {
    double t0 = loop().time();
    auto slow = asyncio::create_task(value_after(1.0, 7));
    bool raised = false;
    try {
        co_await asyncio::gather(fail_after(0.1), slow);
    } catch (const ZeroDivision&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.1);
    EXPECT_FALSE(slow.done());
    EXPECT_EQ(co_await slow, 7);
}

ASYNCIO_TEST(Gather, CancellingTheGatherFutureCancelsRunningChildren) {
    auto a = asyncio::create_task(value_after(1, 1));
    auto b = asyncio::create_task(value_after(0.1, 2));
    auto g = asyncio::gather(a, b);
    co_await asyncio::sleep(0.5);
    EXPECT_TRUE(g.cancel("stop"));
    bool cancelled = false;
    try {
        co_await g;
    } catch (const asyncio::CancelledError& e) {
        cancelled = true;
        EXPECT_EQ(e.message(), std::optional<std::string>("stop"));
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(a.cancelled());
    EXPECT_EQ(b.result(), 2);
}

ASYNCIO_TEST(Gather, EnsureFutureAcceptsTheGatherFuture) {
    auto g = asyncio::gather(value_after(0.1, 1));
    asyncio::Future<std::tuple<int>> f = asyncio::ensure_future(g);
    auto [v] = co_await f;
    EXPECT_EQ(v, 1);
}

namespace {
asyncio::Coro<Counted> make_counted(int id) {
    co_await asyncio::sleep(0.01 * id);
    co_return Counted(id);
}
}  // namespace

// Counted: gather moves values out of the tasks it made and out of its own future.
ASYNCIO_TEST(Gather, CopiesNothingAndLeaksNothing) {
    Counted::reset();
    {
        std::vector<asyncio::Coro<Counted>> cs;
        for (int i = 0; i < 3; ++i) cs.push_back(make_counted(i));
        auto v = co_await asyncio::gather(std::move(cs));
        EXPECT_EQ(v.size(), 3u);
        EXPECT_EQ(v[2].id, 2);
        auto [a, b] = co_await asyncio::gather(make_counted(4), make_counted(5));
        EXPECT_EQ(a.id + b.id, 9);
        auto r = co_await asyncio::gather(asyncio::return_exceptions, make_counted(1));
        EXPECT_EQ(std::get<0>(r).value().id, 1);
        EXPECT_EQ(Counted::copied, 0);
    }
    EXPECT_EQ(Counted::alive(), 0);
    // Tasks passed in keep their result: copied once each, nothing leaked.
    Counted::reset();
    {
        auto t = asyncio::create_task(make_counted(3));
        auto [x] = co_await asyncio::gather(t);
        EXPECT_EQ(x.id, 3);
        EXPECT_EQ(t.result().id, 3);
        EXPECT_EQ(Counted::copied, 1);
    }
    EXPECT_EQ(Counted::alive(), 0);
}

// A gather whose exception nobody retrieves is reported, like any future.
ASYNCIO_TEST(Gather, UnretrievedFailureIsReported) {
    {
        auto g = asyncio::gather(fail_after(0));
        co_await asyncio::sleep(0.1);
        EXPECT_TRUE(g.done());
    }
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT(reports.size() == 1u);
    EXPECT_EQ(reports[0].message, "_GatheringFuture exception was never retrieved");
}

// API.md, "The seed scenario, as a user writes it": compiles as written, and runs (the
// as_completed loop meets worker 4's exception, as the Python would).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-variable"  // the scenario's `double v = ...` lines
namespace api_seed {
using namespace std::chrono_literals;

asyncio::Coro<double> worker(int i, double t) {
    co_await asyncio::sleep(t);
    if (t > 0.4) throw std::runtime_error("hehe " + std::to_string(i));
    co_return t;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::create_task(worker(i, 0.1 * (i + 1))));

    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_EXCEPTION});
    for (auto& t : done)
        if (auto e = t.exception()) { /* failed */
        } else {
            double v = t.result();
            (void)v;
        }

    std::vector<asyncio::Result<double>> all =
        co_await asyncio::gather(asyncio::return_exceptions, tasks);
    auto [a, b] =
        co_await asyncio::gather(worker(1, 0.1), worker(2, 0.2));  // std::tuple, input order
    for (auto next : asyncio::as_completed(tasks, {.timeout = 5s})) double v = co_await next;
    double v = co_await asyncio::wait_for(worker(3, 0.3), 1s);  // TimeoutError, inner cancelled
    double s = co_await asyncio::shield(tasks[0]);
    co_await asyncio::sleep(0);  // yield once to the loop
    (void)all, (void)a, (void)b, (void)v, (void)s;
}
}  // namespace api_seed
#pragma GCC diagnostic pop

ASYNCIO_TEST(Gather, ApiSeedScenarioCompilesAndRuns) {
    std::string error;
    try {
        co_await api_seed::amain();
    } catch (const std::runtime_error& e) {
        error = e.what();
    }
    EXPECT_EQ(error, "hehe 4");  // the 5th completion is the first failure
}

// A loop closed (without run()) while a task awaits a gather nested in a gather abandons the
// tasks; the gathers can never complete. Each lets go of its children's callbacks and of its
// own, so no gather, child or the closed loop stays alive in a cycle (outer gather -> inner
// gather -> its callback's link -> outer gather). The token held by a done callback on the inner
// gather is released only then; the ASan pass checks that nothing at all is left.
TEST(GatherLifetime, NestedGathersPendingAtLoopCloseLeaveNoCycleBehind) {
    asyncio::testing::expect_freed_at_hand_close([](std::shared_ptr<int> t) -> asyncio::Coro<void> {
        auto inner = asyncio::gather(asyncio::create_task(asyncio::sleep(100)),
                                     asyncio::create_task(asyncio::sleep(100)));
        inner.add_done_callback([t] {});
        co_await asyncio::gather(inner, asyncio::create_task(asyncio::sleep(100)));
    });
}

// A plain Future nobody completes, awaited through gather() when the loop is closed by hand:
// the gather owns the future, and the future's callback on the gather owns nothing while it
// is stored, so dropping the abandoned task's frame frees the gather, then the future (with the
// done callback holding the token), then the loop. The ASan pass checks nothing is left.
TEST(GatherLifetime, APlainFuturePendingInAGatherAtLoopCloseIsFreed) {
    asyncio::testing::expect_freed_at_hand_close([](std::shared_ptr<int> t) -> asyncio::Coro<void> {
        auto f = asyncio::get_event_loop().create_future<int>();
        f.add_done_callback([t] {});
        auto g = asyncio::gather(f, f);  // a repeat: one callback, two links
        co_await g;
    });
}

namespace {
std::vector<std::string> run_collecting_reports(asyncio::Coro<void> (*body)()) {
    std::vector<std::string> reports;
    {
        auto loop = asyncio::new_event_loop();
        loop->set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
            reports.push_back(c.message);
        });
        loop->run_until_complete(body());
        loop->close();
    }
    return reports;
}
}  // namespace

// CPython's gather callback calls exception() on a child that ends after the gather failed
// (test_one_exception's late children): a second failure is not reported, even though the
// gather itself was dropped as soon as its awaiter caught the first.
TEST(GatherLifetime, ALateChildFailureAfterTheGatherFailedCountsAsRetrieved) {
    auto reports = run_collecting_reports([]() -> asyncio::Coro<void> {
        auto late = asyncio::create_task([]() -> asyncio::Coro<void> {
            co_await asyncio::sleep(0.01);
            throw std::runtime_error("late");
        }());
        std::string caught;
        try {
            co_await asyncio::gather(
                []() -> asyncio::Coro<void> {
                    throw std::runtime_error("early");
                    co_return;
                }(),
                late);
        } catch (const std::runtime_error& e) {
            caught = e.what();
        }
        EXPECT_EQ(caught, "early");
        EXPECT_FALSE(late.done());
        co_await asyncio::sleep(0.05);
        EXPECT_TRUE(late.done());
    });
    EXPECT_TRUE(reports.empty()) << reports.front();
}

// A gather dropped while still pending lives on through its task child's callback, as
// CPython's does through the closure: the child's failure becomes the gather's, reported once
// with CPython's wording.
TEST(GatherLifetime, ADroppedPendingGatherOfATaskStillReportsItsFailure) {
    auto reports = run_collecting_reports([]() -> asyncio::Coro<void> {
        {
            auto g = asyncio::gather(asyncio::create_task([]() -> asyncio::Coro<void> {
                co_await asyncio::sleep(0.01);
                throw std::runtime_error("late");
            }()));
        }
        co_await asyncio::sleep(0.05);
    });
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0], "_GatheringFuture exception was never retrieved");
}

// A plain Future's callback does not keep the gather alive: dropped while pending, the gather
// withdraws from the future, which reports its own failure (CPython reports it through the
// gather: one report either way).
TEST(GatherLifetime, ADroppedPendingGatherOfAPlainFutureLetsTheFutureReport) {
    auto reports = run_collecting_reports([]() -> asyncio::Coro<void> {
        auto f = asyncio::get_event_loop().create_future<int>();
        { auto g = asyncio::gather(f); }
        f.set_exception(std::make_exception_ptr(std::runtime_error("late")));
        co_await asyncio::sleep(0);
    });
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0], "Future exception was never retrieved");
}

// A plain Future child of a failed gather that was then dropped: its later failure counts as
// retrieved, as CPython's gather callback retrieves it.
TEST(GatherLifetime, APlainFutureFailingAfterItsFailedGatherWasDroppedIsNotReported) {
    auto reports = run_collecting_reports([]() -> asyncio::Coro<void> {
        auto& loop = asyncio::get_event_loop();
        auto a = loop.create_future<int>();
        auto b = loop.create_future<int>();
        {
            auto g = asyncio::gather(a, b);
            a.set_exception(std::make_exception_ptr(std::runtime_error("early")));
            co_await asyncio::sleep(0);
            co_await asyncio::sleep(0);
            EXPECT_TRUE(g.done());
            EXPECT_TRUE(g.exception() != nullptr);
        }
        b.set_exception(std::make_exception_ptr(std::runtime_error("late")));
        co_await asyncio::sleep(0);
    });
    EXPECT_TRUE(reports.empty()) << reports.front();
}
