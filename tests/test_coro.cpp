// Coro<T>: laziness, inline awaiting, exceptions through chains, deep chains, misuse.
#include <memory>
#include <string>

#include "asyncio_test.hpp"
#include "counted.hpp"

using asyncio::testing::loop;

namespace {

asyncio::Coro<int> depth(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth(n - 1);
}

asyncio::Coro<int> thrower() {
    co_await asyncio::sleep(0);
    throw std::out_of_range("deep");
}

asyncio::Coro<int> relay() { co_return co_await thrower(); }

}  // namespace

ASYNCIO_TEST(Coro, IsLazyUntilAwaited) {
    bool ran = false;
    auto body = [](bool* ran) -> asyncio::Coro<int> {
        *ran = true;
        co_return 42;
    };
    auto c = body(&ran);
    EXPECT_FALSE(ran);
    EXPECT_EQ(co_await std::move(c), 42);
    EXPECT_TRUE(ran);
}

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer instruments every frame and defeats the tail calls of symmetric
// transfer: the chain is shorter there; the full million runs in every other build.
constexpr int deep_chain = 1'000;
#else
constexpr int deep_chain = 1'000'000;
#endif

ASYNCIO_TEST(Coro, AMillionDeepAwaitChainDoesNotOverflowTheStack) {
    EXPECT_EQ(co_await depth(deep_chain), deep_chain);
}

ASYNCIO_TEST(Coro, ExceptionsPropagateThroughTheChain) {
    try {
        co_await relay();
        ADD_FAILURE();
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "deep");
    }
}

// A frame's exception passes to its awaiter through the thread's slot: failures caught and
// raised again at every level, in void and valued coroutines and in a task's root, each
// reach the right awaiter, and nothing is left in the slot.
asyncio::Coro<void> void_thrower(int n) {
    if (n == 0) throw std::invalid_argument("bottom");
    try {
        co_await void_thrower(n - 1);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(e.what()) + "+" + std::to_string(n));
    }
}

ASYNCIO_TEST(Coro, EachFailureReachesItsOwnAwaiterAndLeavesNothingBehind) {
    std::string got;
    try {
        co_await void_thrower(3);
    } catch (const std::invalid_argument& e) {
        got = e.what();
    }
    EXPECT_EQ(got, "bottom+1+2+3");
    EXPECT_EQ(asyncio::detail::tls.coro_exc, nullptr);
    // A caught failure followed by a normal return: the next await sees a success.
    auto ok_after_failure = []() -> asyncio::Coro<int> {
        try {
            co_await relay();
        } catch (const std::out_of_range&) {
        }
        co_return 7;
    };
    EXPECT_EQ(co_await ok_after_failure(), 7);
    auto t = asyncio::create_task(void_thrower(1));
    bool task_failed = false;
    try {
        co_await t;
    } catch (const std::invalid_argument& e) {
        task_failed = std::string(e.what()) == "bottom+1";
    }
    EXPECT_TRUE(task_failed);
    EXPECT_EQ(asyncio::detail::tls.coro_exc, nullptr);
}

ASYNCIO_TEST(Coro, AwaitingTwiceIsARuntimeError) {
    auto c = asyncio::sleep(0, 1);
    EXPECT_EQ(co_await c, 1);
    try {
        co_await c;
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "cannot reuse already awaited coroutine");
    }
}

ASYNCIO_TEST(Coro, MoveOnlyResultsAndNoExtraCopies) {
    using asyncio::testing::Counted;
    Counted::reset();
    {
        auto make = []() -> asyncio::Coro<Counted> { co_return Counted(5); };
        Counted c = co_await make();
        EXPECT_EQ(c.id, 5);
        auto up = []() -> asyncio::Coro<std::unique_ptr<int>> {
            co_return std::make_unique<int>(3);
        };
        auto p = co_await up();
        EXPECT_EQ(*p, 3);
    }
    EXPECT_EQ(Counted::copied, 0);
    EXPECT_EQ(Counted::alive(), 0);
}

ASYNCIO_TEST(Coro, AwaitingOutsideATaskIsExplained) {
    // A frame resumed by hand (not through a task) cannot sleep: the error names the cause.
    auto body = []() -> asyncio::Coro<void> { co_await asyncio::sleep(1); };
    auto c = body();
    auto h = c.release();
    auto* saved = asyncio::detail::tls.current_task;
    asyncio::detail::tls.current_task = nullptr;
    h.resume();
    asyncio::detail::tls.current_task = saved;
    EXPECT_TRUE(h.done());
    try {
        h.promise().take();
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("outside of a task"), std::string::npos);
    }
    h.destroy();
    co_return;
}

ASYNCIO_TEST(Coro, ASleepCoroutineCanBeATask) {
    auto t = asyncio::create_task(asyncio::sleep(2));
    co_await t;
    EXPECT_DOUBLE_EQ(loop().time(), 2.0);
}

ASYNCIO_TEST(Coro, AnEmptyCoroIsAClearError) {
    asyncio::Coro<int> c;
    EXPECT_FALSE(c.valid());
    try {
        co_await c;
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("empty Coro"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)asyncio::create_task(asyncio::Coro<int>()), asyncio::RuntimeError);
}
