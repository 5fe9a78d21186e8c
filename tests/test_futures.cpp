// Future<T>: states, results, exceptions, done callbacks, unretrieved-exception reports.
// Ports docs/parity.md section B (#10–#14), CPython's test_futures.
#include <memory>
#include <string>
#include <vector>

#include "asyncio_test.hpp"
#include "counted.hpp"

using asyncio::testing::loop;
using asyncio::testing::take_reports;

namespace {
std::vector<int>* g_calls = nullptr;
void append42(asyncio::Future<int>&) { g_calls->push_back(42); }
void append17(asyncio::Future<int>&) { g_calls->push_back(17); }
}  // namespace

// parity #10 — test_futures::BaseFutureTests::test_result
ASYNCIO_TEST(Future, ResultRules) {
    auto f = loop().create_future<int>();
    EXPECT_FALSE(f.done());
    EXPECT_THROW(f.result(), asyncio::InvalidStateError);
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW(f.set_result(1), asyncio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::runtime_error("x")), asyncio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    co_return;
}

// parity #11 — BaseFutureTests::test_exception
ASYNCIO_TEST(Future, ExceptionRules) {
    auto f = loop().create_future<int>();
    EXPECT_THROW(f.exception(), asyncio::InvalidStateError);
    auto e = std::make_exception_ptr(std::runtime_error("boom"));
    f.set_exception(e);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.exception(), e);  // the same object
    try {
        f.result();
        ADD_FAILURE();
    } catch (const std::runtime_error& x) {
        EXPECT_STREQ(x.what(), "boom");
    }
    co_return;
}

// CPython 3.13 Future.set_exception accepts a CancelledError (python3.13: done() is True,
// cancelled() False, result() raises CancelledError('x')).
ASYNCIO_TEST(Future, ACancelledErrorCanBeSetAndFinishesTheFutureWithoutCancellingIt) {
    auto f = loop().create_future<int>();
    EXPECT_THROW(f.set_exception(std::exception_ptr()), std::invalid_argument);
    EXPECT_FALSE(f.done());
    f.set_exception(asyncio::CancelledError("x"));
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    try {
        f.result();
        ADD_FAILURE();
    } catch (const asyncio::CancelledError& e) {
        EXPECT_EQ(e.message(), "x");
    }
    co_return;
}

// CPython's Future.__del__ passes the future itself in the handler's context ('future' key).
ASYNCIO_TEST(Future, TheUnretrievedReportCarriesTheFutureAndTheHandlerMayKeepIt) {
    asyncio::AnyFuture kept;
    loop().set_exception_handler(
        [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { kept = c.future; });
    {
        auto f = loop().create_future<int>();
        f.set_exception(std::runtime_error("lost"));
    }
    CO_ASSERT_TRUE(static_cast<bool>(kept));
    EXPECT_TRUE(kept.done());
    EXPECT_NE(kept.exception(), nullptr);
    kept = {};  // the last handle: retrieved now, so no second report
    loop().set_exception_handler(nullptr);
}

// parity #12 — BaseFutureTests::test_cancel
ASYNCIO_TEST(Future, CancelRules) {
    auto f = loop().create_future<int>();
    EXPECT_TRUE(f.cancel("why"));
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    try {
        f.result();
        ADD_FAILURE();
    } catch (const asyncio::CancelledError& c) {
        EXPECT_EQ(c.message(), std::optional<std::string>("why"));
    }
    EXPECT_THROW(f.exception(), asyncio::CancelledError);
    EXPECT_THROW(f.set_result(1), asyncio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::runtime_error("x")), asyncio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    co_return;
}

// parity #13 — BaseFutureDoneCallbackTests::test_callbacks_invoked_on_set_result
ASYNCIO_TEST(Future, DoneCallbacksAreScheduledInRegistrationOrderNeverInline) {
    std::vector<int> calls;
    g_calls = &calls;
    auto f = loop().create_future<int>();
    f.add_done_callback(append42);
    f.add_done_callback(append17);
    f.set_result(5);
    EXPECT_TRUE(calls.empty());  // not run inside set_result
    co_await asyncio::sleep(0);
    EXPECT_EQ(calls, (std::vector<int>{42, 17}));
    // added to a done future: scheduled, not run inline
    f.add_done_callback(append42);
    EXPECT_EQ(calls.size(), 2u);
    co_await asyncio::sleep(0);
    EXPECT_EQ(calls, (std::vector<int>{42, 17, 42}));
    g_calls = nullptr;
}

// parity #13 — test_remove_done_callback, test_callbacks_remove_third_callback
ASYNCIO_TEST(Future, RemoveDoneCallbackRemovesEveryCopyAndCountsThem) {
    std::vector<int> calls;
    g_calls = &calls;
    auto f = loop().create_future<int>();
    EXPECT_EQ(f.remove_done_callback(append42), 0u);
    f.add_done_callback(append17);
    EXPECT_EQ(f.remove_done_callback(append17), 1u);
    for (int i = 0; i < 6; ++i) f.add_done_callback(append42);
    f.add_done_callback(append17);
    EXPECT_EQ(f.remove_done_callback(append42), 6u);
    f.set_result(1);
    co_await asyncio::sleep(0);
    EXPECT_EQ(calls, (std::vector<int>{17}));
    EXPECT_EQ(f.remove_done_callback(append17), 0u);  // already scheduled and run
    g_calls = nullptr;
}

ASYNCIO_TEST(Future, ACallbackMayTakeTheFutureOrNothing) {
    auto f = loop().create_future<std::string>();
    std::string seen;
    int plain = 0;
    f.add_done_callback([&](asyncio::Future<std::string>& g) { seen = g.result(); });
    f.add_done_callback([&] { ++plain; });
    f.add_done_callback([&](auto& g) { seen += "/" + g.result(); });
    f.set_result("ok");
    co_await asyncio::sleep(0);
    EXPECT_EQ(seen, "ok/ok");
    EXPECT_EQ(plain, 1);
}

ASYNCIO_TEST(Future, AwaitingGivesTheResultOrTheException) {
    auto f = loop().create_future<int>();
    loop().call_later(0.5, [f] { f.set_result(7); });
    EXPECT_EQ(co_await f, 7);
    EXPECT_DOUBLE_EQ(loop().time(), 0.5);
    EXPECT_EQ(co_await f, 7);  // a done future gives its result again, without suspending

    auto g = loop().create_future<void>();
    loop().call_soon([g] { g.set_exception(std::out_of_range("nope")); });
    EXPECT_THROW(co_await g, std::out_of_range);
}

ASYNCIO_TEST(Future, MoveOnlyValuesAreMovedToTheAwaiter) {
    auto f = loop().create_future<std::unique_ptr<int>>();
    loop().call_soon([f] { f.set_result(std::make_unique<int>(9)); });
    std::unique_ptr<int> p = co_await f;
    CO_ASSERT_TRUE(p != nullptr);
    EXPECT_EQ(*p, 9);
}

ASYNCIO_TEST(Future, ValuesAreNeitherCopiedNorLeaked) {
    using asyncio::testing::Counted;
    Counted::reset();
    {
        auto f = loop().create_future<Counted>();
        f.set_result(Counted(3));
        const Counted& r = f.result();
        EXPECT_EQ(r.id, 3);
        EXPECT_EQ(Counted::copied, 0);
    }
    EXPECT_EQ(Counted::alive(), 0);
    co_return;
}

// parity #14 — BaseFutureTests::test_tb_logger_exception_unretrieved
ASYNCIO_TEST(Future, AnUnretrievedExceptionIsReportedOnceWhenTheFutureDies) {
    {
        auto f = loop().create_future<int>();
        f.set_exception(std::runtime_error("lost"));
        auto copy = f;  // copies share the state: one report
    }
    auto reports = take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Future exception was never retrieved");
    EXPECT_EQ(reports[0].exception, "std::runtime_error: lost");
    co_return;
}

// parity #14 — _retrieved / _result_unretrieved / _not_called_after_cancel
ASYNCIO_TEST(Future, NoReportWhenRetrievedOrAResultOrCancelledAfterFailing) {
    {
        auto f = loop().create_future<int>();
        f.set_exception(std::runtime_error("seen"));
        (void)f.exception();
    }
    {
        auto f = loop().create_future<int>();
        f.set_exception(std::runtime_error("seen"));
        EXPECT_THROW(f.result(), std::runtime_error);
    }
    {
        auto f = loop().create_future<int>();
        f.set_result(1);
    }
    {
        auto f = loop().create_future<int>();
        f.set_exception(std::runtime_error("cancel marks it seen"));
        EXPECT_FALSE(f.cancel());
    }
    EXPECT_TRUE(take_reports().empty());
    co_return;
}

ASYNCIO_TEST(Future, AnEmptyHandleIsAClearErrorNotACrash) {
    asyncio::Future<int> f;
    asyncio::Task<int> t;
    EXPECT_FALSE(f);
    EXPECT_THROW(f.result(), asyncio::RuntimeError);
    EXPECT_THROW(f.done(), asyncio::RuntimeError);
    EXPECT_THROW(t.cancel(), asyncio::RuntimeError);
    EXPECT_THROW(t.get_name(), asyncio::RuntimeError);
    try {
        co_await f;
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos);
    }
}

// The done-callback list is one word while it holds a single callback of a registered
// function; a second callback, or an unregistered function, moves it to a vector. Either
// way the order is the order of registration, and removal keeps the rest in order.
namespace {
std::vector<std::string>* cb_log = nullptr;
void cb_tagged(void* self, bool run) {
    if (run) cb_log->push_back("t" + std::to_string(*static_cast<int*>(self)));
}
void cb_plain(void* self, bool run) {
    if (run) cb_log->push_back("p" + std::to_string(*static_cast<int*>(self)));
}
}  // namespace

TEST(CallbackList, OneWordOrVectorKeepsRegistrationOrderThroughRemovals) {
    using asyncio::detail::CallbackList;
    using asyncio::detail::ReadyEntry;
    ASSERT_TRUE(asyncio::detail::register_callback_fn(&cb_tagged));
    EXPECT_NE(asyncio::detail::callback_tag(&cb_tagged), 0);
    EXPECT_EQ(asyncio::detail::callback_tag(&cb_plain), 0);
    alignas(8) int a = 1, b = 2, c = 3;
    std::vector<std::string> log;
    cb_log = &log;
    auto run_all = [&](CallbackList& l) { l.drain([](ReadyEntry e) { e.fn(e.self, true); }); };

    CallbackList one;
    one.push({&cb_tagged, &a});
    run_all(one);
    EXPECT_TRUE(one.empty());
    EXPECT_EQ(log, (std::vector<std::string>{"t1"}));

    log.clear();
    CallbackList many;
    many.push({&cb_tagged, &a});
    many.push({&cb_plain, &b});
    many.push({&cb_tagged, &c});
    EXPECT_EQ(many.remove_if([&](const ReadyEntry& e) { return e.self == &b; }), 1u);
    run_all(many);
    EXPECT_EQ(log, (std::vector<std::string>{"t1", "t3"}));

    log.clear();
    CallbackList plain;
    plain.push({&cb_plain, &b});
    EXPECT_EQ(plain.remove_if([](const ReadyEntry&) { return false; }), 0u);
    run_all(plain);
    EXPECT_EQ(log, (std::vector<std::string>{"p2"}));
    CallbackList removed;
    removed.push({&cb_tagged, &a});
    EXPECT_EQ(removed.remove_if([](const ReadyEntry&) { return true; }), 1u);
    EXPECT_TRUE(removed.empty());
    cb_log = nullptr;
}

// Python: Future.add_done_callback(fn, *, context=None) copies the current context when the
// callback is added and runs it inside that copy (futures.py, events.Handle._run).
ASYNCIO_TEST(Future, DoneCallbackRunsInTheContextCurrentWhenItWasAdded) {
    static asyncio::ContextVar<std::string> var("var", "default");
    auto& loop = asyncio::get_running_loop();
    std::vector<std::string> seen;
    auto fut = loop.create_future<void>();
    var.set("at add");
    fut.add_done_callback([&] {
        seen.push_back(var.get());
        var.set("set by the first callback");
    });
    fut.add_done_callback([&] { seen.push_back(var.get()); });
    var.set("later");
    fut.set_result();
    co_await asyncio::sleep(0);
    EXPECT_EQ(seen, (std::vector<std::string>{"at add", "at add"}));
    EXPECT_EQ(var.get(), "later");
}
