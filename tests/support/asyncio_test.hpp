// Test support: run a coroutine test body on a fresh loop, on virtual time by default, and
// check that the loop closes clean (no pending task, no leftover report, no fd left open).
//
//   ASYNCIO_TEST(Suite, Name) { co_await asyncio::sleep(10); EXPECT_EQ(loop().time(), 10); }
//
// Inside the body, `loop()` is the loop; reports that went to the exception handler are in
// `asyncio::testing::take_reports()`: a test that expects reports takes them, and any report
// left untaken at the end fails the test.
#pragma once

#include <gtest/gtest.h>

#include <asyncio/asyncio.hpp>
#include <memory>
#include <string>
#include <vector>

namespace asyncio::testing {

struct Report {
    std::string message;
    std::string exception;  // describe_exception(), "" when none
    std::string task;       // task name, "" when none
};

/// The reports collected so far in this test (and forgets them).
std::vector<Report> take_reports();
/// The loop the current test runs on.
EventLoop& loop();
/// Number of open file descriptors of this process.
int open_fd_count();

/// Runs `body()` as the main task of a fresh loop (virtual time unless `real_time`), then
/// cancels and drains what is left, closes the loop and checks it closed clean.
void run_test(Coro<void> (*body)(), bool real_time = false);

/// Makes a loop for tests that drive it by hand, with the report-collecting handler.
EventLoopPtr make_test_loop(bool real_time = false);
/// Checks a hand-driven loop closes clean (call at the end of such a test).
void close_and_check(EventLoopPtr& loop, int fds_before);

/// For leak tests of a loop closed by hand: starts `body(token)` as a task on a fresh loop,
/// runs one iteration so it suspends, checks something it made holds the token, then closes
/// the loop (abandoning the task, reports silenced) and checks the token is free again:
/// everything the task held was freed (the ASan pass checks nothing else is left).
void expect_freed_at_hand_close(Coro<void> (*body)(std::shared_ptr<int> token));

}  // namespace asyncio::testing

#define ASYNCIO_TEST_IMPL(Suite, Name, RealTime)                                          \
    static ::asyncio::Coro<void> Suite##_##Name##_body();                                 \
    TEST(Suite, Name) { ::asyncio::testing::run_test(&Suite##_##Name##_body, RealTime); } \
    static ::asyncio::Coro<void> Suite##_##Name##_body()

// gtest's ASSERT_* macros `return`, which a coroutine cannot: inside a coroutine body use
// these (they record the failure, then co_return).
#define CO_ASSERT_TRUE(c)                        \
    do {                                         \
        bool asyncio_ok_ = static_cast<bool>(c); \
        EXPECT_TRUE(asyncio_ok_) << #c;          \
        if (!asyncio_ok_) co_return;             \
    } while (0)
#define CO_ASSERT_EQ(a, b)                                 \
    do {                                                   \
        const auto& asyncio_a_ = (a);                      \
        const auto& asyncio_b_ = (b);                      \
        EXPECT_EQ(asyncio_a_, asyncio_b_) << #a " == " #b; \
        if (!(asyncio_a_ == asyncio_b_)) co_return;        \
    } while (0)
#define CO_ASSERT_GE(a, b)                                 \
    do {                                                   \
        const auto& asyncio_a_ = (a);                      \
        const auto& asyncio_b_ = (b);                      \
        EXPECT_GE(asyncio_a_, asyncio_b_) << #a " >= " #b; \
        if (!(asyncio_a_ >= asyncio_b_)) co_return;        \
    } while (0)

/// A coroutine test on a virtual clock: sleeps take no real time and times are exact.
#define ASYNCIO_TEST(Suite, Name) ASYNCIO_TEST_IMPL(Suite, Name, false)
/// A coroutine test on the real clock (use wide margins).
#define ASYNCIO_TEST_REALTIME(Suite, Name) ASYNCIO_TEST_IMPL(Suite, Name, true)
