// run() and Runner: results, errors, shutdown of leftover tasks, closed runners, SIGINT.
// Ports docs/parity.md section M (#101–#102), CPython's test_runners.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

asyncio::Coro<int> answer() {
    co_await asyncio::sleep(0);
    co_return 42;
}

asyncio::Coro<int> spam() {
    co_await asyncio::sleep(0);
    throw std::invalid_argument("spam");
}

}  // namespace

// parity #101 — test_runners::RunTests::test_asyncio_run_return / _raises
TEST(Run, ReturnsTheResultOrRethrowsTheException) {
    EXPECT_EQ(asyncio::run(answer()), 42);
    try {
        asyncio::run(spam());
        ADD_FAILURE();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "spam");
    }
}

// parity #101 — test_asyncio_run_from_running_loop
TEST(Run, FromARunningLoopIsARuntimeError) {
    auto nested = []() -> asyncio::Coro<std::string> {
        try {
            asyncio::run(answer());
        } catch (const asyncio::RuntimeError& e) {
            co_return e.what();
        }
        co_return "no error";
    };
    EXPECT_EQ(asyncio::run(nested()), "asyncio.run() cannot be called from a running event loop");
}

// parity #101 — test_asyncio_run_cancels_hanging_tasks
TEST(Run, LeftoverTasksAreCancelledAndDoneWhenRunReturns) {
    asyncio::Task<void> leftover;
    bool saw_cancel = false;
    auto hang = [](bool* saw) -> asyncio::Coro<void> {
        try {
            co_await asyncio::sleep(3600);
        } catch (const asyncio::CancelledError&) {
            *saw = true;
            throw;
        }
    };
    auto main = [hang](asyncio::Task<void>* out, bool* saw) -> asyncio::Coro<void> {
        *out = asyncio::create_task(hang(saw));
        co_await asyncio::sleep(0);
    };
    asyncio::run(main(&leftover, &saw_cancel));
    EXPECT_TRUE(saw_cancel);
    EXPECT_TRUE(leftover.done());
    EXPECT_TRUE(leftover.cancelled());
}

// parity #101 — test_asyncio_run_reports_hanging_tasks_errors
TEST(Run, ErrorsRaisedWhileLeftoverTasksAreCancelledAreReported) {
    static std::vector<std::string> messages;
    static std::vector<std::string> excs;
    messages.clear();
    excs.clear();
    auto leftover = []() -> asyncio::Coro<void> {
        bool cancelled = false;
        try {
            co_await asyncio::sleep(3600);
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        if (cancelled) throw std::runtime_error("boom during cancel");
    };
    auto main = [leftover]() -> asyncio::Coro<void> {
        asyncio::get_running_loop().set_exception_handler(
            [](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
                messages.push_back(c.message);
                excs.push_back(asyncio::describe_exception(c.exception));
            });
        (void)asyncio::create_task(leftover());
        co_await asyncio::sleep(0);
    };
    asyncio::run(main());
    ASSERT_GE(messages.size(), 1u);
    EXPECT_EQ(messages[0], "unhandled exception during asyncio.run() shutdown");
    EXPECT_EQ(excs[0], "std::runtime_error: boom during cancel");
}

TEST(Run, VirtualTimeAndDebugOptions) {
    auto body = []() -> asyncio::Coro<double> {
        EXPECT_TRUE(asyncio::get_running_loop().get_debug());
        double t0 = asyncio::get_running_loop().time();
        co_await asyncio::sleep(3600);
        co_return asyncio::get_running_loop().time() - t0;
    };
    EXPECT_DOUBLE_EQ(asyncio::run(body(), {.debug = true, .virtual_time = true}), 3600.0);
}

// parity #102 — RunnerTests::test_explicit_close / _double_close / _second_with_block_raises
TEST(Runner, RunsSeveralCoroutinesOnOneLoopThenRefusesOnceClosed) {
    asyncio::Runner runner;
    EXPECT_EQ(runner.run(answer()), 42);
    asyncio::EventLoop* first = &runner.get_loop();
    EXPECT_EQ(runner.run(answer()), 42);
    EXPECT_EQ(&runner.get_loop(), first);
    runner.close();
    runner.close();  // idempotent
    try {
        runner.run(answer());
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Runner is closed");
    }
    EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
}

// parity #102 — RunnerTests::test_interrupt_wait
TEST(Runner, SigintCancelsTheMainTaskAndRunRaisesKeyboardInterrupt) {
    static bool future_cancelled = false;
    static bool main_saw_cancel = false;
    future_cancelled = main_saw_cancel = false;
    auto main = []() -> asyncio::Coro<void> {
        auto& loop = asyncio::get_running_loop();
        auto fut = loop.create_future<void>();
        loop.call_later(0.01, [] { ::kill(::getpid(), SIGINT); });
        try {
            co_await fut;
        } catch (const asyncio::CancelledError&) {
            main_saw_cancel = true;
            future_cancelled = fut.cancelled();
            throw;
        }
    };
    asyncio::Runner runner;
    EXPECT_THROW(runner.run(main()), asyncio::KeyboardInterrupt);
    EXPECT_TRUE(main_saw_cancel);
    EXPECT_TRUE(future_cancelled);
    runner.close();
    // The runner restored the default disposition of SIGINT.
    struct sigaction sa {};
    ::sigaction(SIGINT, nullptr, &sa);
    EXPECT_EQ(sa.sa_handler, SIG_DFL);
}

namespace {
asyncio::ContextVar<std::string> runner_var("runner_var", "default");
asyncio::Coro<void> set_one() {
    runner_var.set("one");
    co_return;
}
asyncio::Coro<std::string> child_reads() { co_return runner_var.get(); }
asyncio::Coro<std::string> reads_with_child() {
    std::string mine = runner_var.get();
    std::string child = co_await asyncio::create_task(child_reads());
    co_return mine + "," + child;
}
}  // namespace

// CPython's Runner copies the context once (_lazy_init) and runs every run() in it: a value
// set by the first run is seen by the second and its child tasks; run(coro, context=c) runs
// in c instead. (python3.13: ('one', 'one'), then ('default', 'default'), then ('one', 'one').)
TEST(Runner, KeepsOneContextForAllItsRuns) {
    asyncio::Runner runner;
    runner.run(set_one());
    EXPECT_EQ(runner.run(reads_with_child()), "one,one");
    EXPECT_EQ(runner.run(reads_with_child(), asyncio::Context()), "default,default");
    EXPECT_EQ(runner.run(reads_with_child()), "one,one");
    EXPECT_EQ(runner_var.get(), "default");  // the caller's context is untouched
}

// CPython: Runner.get_loop() after close() raises RuntimeError("Runner is closed"); a loop
// reference taken before stays valid (closed) while the Runner exists.
TEST(Runner, GetLoopAfterCloseIsAClearErrorAndAnEarlierReferenceStaysValid) {
    asyncio::Runner runner;
    asyncio::EventLoop& loop = runner.get_loop();
    runner.close();
    EXPECT_THROW(runner.get_loop(), asyncio::RuntimeError);
    EXPECT_TRUE(loop.is_closed());
    EXPECT_THROW(loop.call_soon([] {}), asyncio::RuntimeError);
}
