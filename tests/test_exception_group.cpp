// ExceptionGroup: what() lists the members; split<E>() and except_star<E>() are Python's
// eg.split(E) and `except* E`, nested groups kept nested.
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"

namespace {
struct ZeroDivision : std::runtime_error {
    ZeroDivision() : std::runtime_error("division by zero") {}
};
struct ValueErr : std::invalid_argument {
    ValueErr() : std::invalid_argument("bad value") {}
};
template <class E>
std::exception_ptr ptr(E e) {
    return std::make_exception_ptr(std::move(e));
}
asyncio::ExceptionGroup nested() {
    // [ZeroDivision, ValueErr, [ZeroDivision, ValueErr]]
    asyncio::ExceptionGroup inner("inner", {ptr(ZeroDivision()), ptr(ValueErr())});
    return asyncio::ExceptionGroup("outer", {ptr(ZeroDivision()), ptr(ValueErr()), ptr(inner)});
}
}  // namespace

TEST(ExceptionGroup, WhatListsEveryMember) {
    asyncio::ExceptionGroup eg("errors", {ptr(ZeroDivision()), ptr(ValueErr())});
    std::string w = eg.what();
    EXPECT_NE(w.find("errors (2 sub-exceptions)"), std::string::npos);
    EXPECT_NE(w.find("division by zero"), std::string::npos);
    EXPECT_NE(w.find("bad value"), std::string::npos);
    EXPECT_EQ(eg.exceptions().size(), 2u);
}

TEST(ExceptionGroup, SplitByTypeKeepsNesting) {
    auto eg = nested();
    auto [match, rest] = eg.split<ZeroDivision>();
    ASSERT_TRUE(match && rest);
    EXPECT_EQ(match->message(), "outer");
    ASSERT_EQ(match->exceptions().size(), 2u);  // ZeroDivision, [ZeroDivision]
    try {
        std::rethrow_exception(match->exceptions()[1]);
    } catch (const asyncio::ExceptionGroup& in) {
        EXPECT_EQ(in.message(), "inner");
        EXPECT_EQ(in.exceptions().size(), 1u);
    }
    ASSERT_EQ(rest->exceptions().size(), 2u);  // ValueErr, [ValueErr]
    // A base class matches its derived members (std::logic_error ⊃ invalid_argument).
    auto [m2, r2] = eg.split<std::logic_error>();
    EXPECT_EQ(m2->exceptions().size(), 2u);
    // Everything matches: the group itself, no rest.
    auto [m3, r3] = eg.split<std::exception>();
    EXPECT_TRUE(m3 && !r3);
    EXPECT_EQ(m3->exceptions().size(), 3u);
    // Nothing matches.
    auto [m4, r4] = eg.split<asyncio::TimeoutError>();
    EXPECT_TRUE(!m4 && r4);
}

TEST(ExceptionGroup, ExceptStarHandlesTheMatchAndReturnsTheRest) {
    int handled = 0;
    std::exception_ptr rest =
        asyncio::except_star<ZeroDivision>(ptr(nested()), [&](const asyncio::ExceptionGroup& g) {
            handled = static_cast<int>(g.exceptions().size());
        });
    EXPECT_EQ(handled, 2);
    ASSERT_TRUE(rest);
    rest = asyncio::except_star<ValueErr>(rest, [&](const asyncio::ExceptionGroup&) { ++handled; });
    EXPECT_EQ(handled, 3);
    EXPECT_FALSE(rest);
    // A bare exception counts as a group of one; an unrelated one comes back unchanged.
    auto bare = ptr(ZeroDivision());
    EXPECT_FALSE(asyncio::except_star<ZeroDivision>(bare, [](const asyncio::ExceptionGroup&) {}));
    auto other = ptr(ValueErr());
    EXPECT_EQ(asyncio::except_star<ZeroDivision>(other, [](const asyncio::ExceptionGroup&) {}),
              other);
}

// The shape users write around a TaskGroup (Python: except* ZeroDivisionError).
ASYNCIO_TEST(ExceptionGroup, ExceptStarAroundATaskGroup) {
    std::exception_ptr error;
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task([]() -> asyncio::Coro<void> {
                co_await asyncio::sleep(0);
                throw ZeroDivision();
            }());
            co_return;
        });
    } catch (...) {
        error = std::current_exception();
    }
    bool zde = false;
    auto rest = asyncio::except_star<ZeroDivision>(
        error, [&](const asyncio::ExceptionGroup&) { zde = true; });
    EXPECT_TRUE(zde);
    EXPECT_FALSE(rest);
}
