// AsyncGenerator: co_await and co_yield in one coroutine, consumed with next()/for_each,
// aclose(), early exit, exceptions, cancellation, and the runner's shutdown_asyncgens.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using namespace asyncio;

namespace {

AsyncGenerator<int> count_to(int n, double delay) {
    for (int i = 0; i < n; ++i) {
        co_await asyncio::sleep(delay);
        co_yield i;
    }
}

struct Flag {
    bool* f;
    ~Flag() { *f = true; }
};

}  // namespace

// The seed's `async for i in generate()` (004_23).
ASYNCIO_TEST(AsyncGenerator, YieldsValuesAndAwaitsBetweenThem) {
    std::vector<int> got;
    auto gen = count_to(4, 0.1);
    while (auto v = co_await gen.next()) got.push_back(*v);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_NEAR(asyncio::testing::loop().time(), 0.4, 1e-9);
    EXPECT_TRUE(gen.done());
    auto again = co_await gen.next();
    EXPECT_FALSE(again.has_value()) << "an ended generator keeps giving nullopt";
}

ASYNCIO_TEST(AsyncGenerator, ForEachTakesPlainAndCoroutineBodies) {
    std::vector<int> got;
    co_await for_each(count_to(3, 0), [&](int v) { got.push_back(v); });
    auto gen = count_to(3, 0);
    co_await for_each(gen, [&](int v) -> Coro<void> {
        co_await asyncio::sleep(0.5);
        got.push_back(10 + v);
    });
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 10, 11, 12}));
    EXPECT_NEAR(asyncio::testing::loop().time(), 1.5, 1e-9);
}

namespace {
AsyncGenerator<int> fails_after_two() {
    co_yield 1;
    co_await asyncio::sleep(0);
    co_yield 2;
    throw std::invalid_argument("generator failed");
}
}  // namespace

ASYNCIO_TEST(AsyncGenerator, ExceptionsPassThroughNext) {
    auto gen = fails_after_two();
    std::vector<int> got;
    bool threw = false;
    try {
        while (auto v = co_await gen.next()) got.push_back(*v);
    } catch (const std::invalid_argument& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "generator failed");
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
    EXPECT_TRUE(gen.done());
    auto v = co_await gen.next();
    EXPECT_FALSE(v.has_value());
}

namespace {
AsyncGenerator<int> with_async_cleanup(bool* cleaned, bool* saw_exit) {
    std::exception_ptr err;
    try {
        for (int i = 0;; ++i) co_yield i;
    } catch (const GeneratorExit&) {
        *saw_exit = true;
        err = std::current_exception();
    }
    co_await asyncio::sleep(1);  // cleanup that awaits (Python: `finally: await ...`)
    *cleaned = true;
    if (err) std::rethrow_exception(err);
}
}  // namespace

ASYNCIO_TEST(AsyncGenerator, AcloseThrowsGeneratorExitAndRunsAsyncCleanup) {
    bool cleaned = false, saw_exit = false;
    auto gen = with_async_cleanup(&cleaned, &saw_exit);
    auto a = co_await gen.next();
    auto b = co_await gen.next();
    EXPECT_EQ(*a, 0);
    EXPECT_EQ(*b, 1);
    co_await gen.aclose();
    EXPECT_TRUE(saw_exit);
    EXPECT_TRUE(cleaned);
    EXPECT_TRUE(gen.done());
    EXPECT_NEAR(asyncio::testing::loop().time(), 1.0, 1e-9);
    co_await gen.aclose();  // closing twice is fine
    auto c = co_await gen.next();
    EXPECT_FALSE(c.has_value());
}

namespace {
AsyncGenerator<int> never_runs(bool* ran) {
    *ran = true;
    co_yield 1;
}
AsyncGenerator<int> ignores_exit() {
    for (;;) {
        try {
            co_yield 1;
        } catch (const GeneratorExit&) {
        }
    }
}
}  // namespace

ASYNCIO_TEST(AsyncGenerator, AcloseOfAnUnstartedGeneratorRunsNothing) {
    bool ran = false;
    auto gen = never_runs(&ran);
    co_await gen.aclose();
    EXPECT_FALSE(ran);
    EXPECT_TRUE(gen.done());
    auto v = co_await gen.next();
    EXPECT_FALSE(v.has_value());
}

ASYNCIO_TEST(AsyncGenerator, YieldingAfterGeneratorExitIsARuntimeError) {
    auto gen = ignores_exit();
    (void)co_await gen.next();
    bool threw = false;
    try {
        co_await gen.aclose();
    } catch (const RuntimeError& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "async generator ignored GeneratorExit");
    }
    EXPECT_TRUE(threw);
}

namespace {
AsyncGenerator<std::unique_ptr<int>> owning(bool* destroyed) {
    Flag f{destroyed};
    for (int i = 0;; ++i) {
        co_await asyncio::sleep(0);
        co_yield std::make_unique<int>(i);
    }
}
}  // namespace

ASYNCIO_TEST(AsyncGenerator, EarlyExitDestroysTheFrameAndItsLocals) {
    bool destroyed = false;
    {
        auto gen = owning(&destroyed);
        while (auto v = co_await gen.next()) {
            if (**v == 2) break;  // move-only values come out by move
        }
        EXPECT_FALSE(destroyed);
    }
    EXPECT_TRUE(destroyed) << "leaving the loop and dropping the generator frees its frame";
}

ASYNCIO_TEST(AsyncGenerator, CancellingTheConsumerRaisesInsideTheGenerator) {
    bool destroyed = false;
    auto gen = owning(&destroyed);
    auto consumer = create_task([](AsyncGenerator<std::unique_ptr<int>>* g) -> Coro<void> {
        while (auto v = co_await g->next()) {
        }
    }(&gen));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    consumer.cancel();
    bool cancelled = false;
    try {
        co_await consumer;
    } catch (const CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(gen.done()) << "the CancelledError ended the generator";
}

ASYNCIO_TEST(AsyncGenerator, ConcurrentNextIsAnError) {
    auto gen = count_to(3, 1.0);
    auto first = create_task([](AsyncGenerator<int>* g) -> Coro<std::optional<int>> {
        co_return co_await g->next();
    }(&gen));
    co_await asyncio::sleep(0.5);  // `first` is inside next(), awaiting the generator's sleep
    bool threw = false;
    try {
        (void)co_await gen.next();
    } catch (const RuntimeError& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "anext(): asynchronous generator is already running");
    }
    EXPECT_TRUE(threw);
    auto v = co_await first;
    EXPECT_EQ(v, std::optional<int>(0));
}

namespace {
std::optional<AsyncGenerator<int>> g_open;
bool g_cleaned = false;

AsyncGenerator<int> cleanup_on_close() {
    std::exception_ptr err;
    try {
        for (int i = 0;; ++i) co_yield i;
    } catch (const GeneratorExit&) {
        err = std::current_exception();
    }
    co_await asyncio::sleep(0);
    g_cleaned = true;
    if (err) std::rethrow_exception(err);
}

Coro<int> start_and_leave_open() {
    g_open.emplace(cleanup_on_close());
    auto v = co_await g_open->next();
    co_return *v;
}
}  // namespace

// Python: loop.shutdown_asyncgens(), called by asyncio.run().
TEST(AsyncGenerator, RunShutdownClosesGeneratorsLeftOpen) {
    g_cleaned = false;
    int first = asyncio::run(start_and_leave_open());
    EXPECT_EQ(first, 0);
    EXPECT_TRUE(g_cleaned) << "run() must aclose() the generator it left open";
    EXPECT_TRUE(g_open->done());
    g_open.reset();
}

namespace {
struct ValueError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct KeyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Python: yield 1; yield 2; except ValueError: yield 10; finally: cleanup.
AsyncGenerator<int> catching(std::vector<std::string>& log) {
    struct Cleanup {
        std::vector<std::string>& log;
        ~Cleanup() { log.push_back("cleanup"); }
    } cleanup{log};
    try {
        co_yield 1;
        co_yield 2;
    } catch (const ValueError& e) {
        log.push_back(std::string("caught ") + e.what());
    }
    co_yield 10;
}
}  // namespace

// CPython: agen.athrow() (test_asyncgen::AsyncGenAsyncioTest::test_async_gen_asyncio_athrow_*):
// the exception is raised at the paused yield; a generator that handles it and yields again
// gives that value; one that does not handle it ends and the exception comes out of athrow.
ASYNCIO_TEST(AsyncGenerator, AthrowRaisesAtThePausedYield) {
    std::vector<std::string> log;
    auto gen = catching(log);
    EXPECT_EQ(co_await gen.next(), 1);
    EXPECT_EQ(co_await gen.athrow(ValueError("x")), 10);
    EXPECT_EQ(log, (std::vector<std::string>{"caught x"}));
    bool key = false;
    try {
        co_await gen.athrow(KeyError("k"));
    } catch (const KeyError&) {
        key = true;
    }
    EXPECT_TRUE(key);
    EXPECT_EQ(log.back(), "cleanup");
    EXPECT_TRUE(gen.done());
    EXPECT_FALSE(co_await gen.next());
    EXPECT_FALSE(co_await gen.athrow(ValueError("after the end")));  // ended: nothing to throw into
}

// A generator that catches the exception and returns ends: athrow gives nullopt (Python:
// StopAsyncIteration). One never started ends at once, raising the exception, none of its
// code run.
ASYNCIO_TEST(AsyncGenerator, AthrowIntoAReturningOrUnstartedGenerator) {
    auto returning = []() -> AsyncGenerator<int> {
        try {
            co_yield 1;
        } catch (const ValueError&) {
            co_return;
        }
        co_yield 2;
    }();
    EXPECT_EQ(co_await returning.next(), 1);
    EXPECT_FALSE(co_await returning.athrow(ValueError("v")));
    EXPECT_TRUE(returning.done());

    std::vector<std::string> log;
    auto unstarted = catching(log);
    bool raised = false;
    try {
        co_await unstarted.athrow(ValueError("unstarted"));
    } catch (const ValueError& e) {
        raised = std::string(e.what()) == "unstarted";
    }
    EXPECT_TRUE(raised);
    EXPECT_TRUE(unstarted.done());
    EXPECT_FALSE(co_await unstarted.next());
    EXPECT_TRUE(log.empty());
}
