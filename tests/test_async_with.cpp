// async_with(): Python's `async with` for user context managers, and the same machinery under
// timeout() and task_group() (Timeout and TaskGroup are async context managers).
// CPython: the `async with` statement (PEP 492: __aenter__ / __aexit__), test_timeouts,
// test_taskgroups.
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using asyncio::testing::loop;

namespace {

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

/// A manager whose aenter/aexit suspend, recording each step; aexit's verdict is `swallow`.
struct Recorder {
    std::vector<std::string>* log;
    bool swallow = false;
    asyncio::Coro<std::string> aenter() {
        co_await asyncio::sleep(0);
        log->push_back("enter");
        co_return "value";
    }
    asyncio::Coro<bool> aexit(std::exception_ptr e) {
        co_await asyncio::sleep(0);
        log->push_back(e ? "exit with error" : "exit");
        co_return swallow;
    }
};

/// A manager with plain (non-suspending) aenter/aexit and no value.
struct Plain {
    int entered = 0, exited = 0;
    void aenter() { ++entered; }
    void aexit(std::exception_ptr) { ++exited; }
};

/// A manager whose aexit replaces the body's exception, as an __aexit__ that raises does.
struct Replacing {
    std::string aenter() { return "v"; }
    asyncio::Coro<void> aexit(std::exception_ptr e) {
        if (e) throw std::invalid_argument("replaced");
        co_return;
    }
};

}  // namespace

ASYNCIO_TEST(AsyncWith, BodyGetsTheEnteredValueAndExitRunsAfterIt) {
    std::vector<std::string> log;
    Recorder r{&log};
    int n = co_await asyncio::async_with(r, [&](std::string& v) -> asyncio::Coro<int> {
        log.push_back("body " + v);
        co_await asyncio::sleep(0);
        co_return 7;
    });
    EXPECT_EQ(n, 7);
    EXPECT_EQ(log, (std::vector<std::string>{"enter", "body value", "exit"}));
}

ASYNCIO_TEST(AsyncWith, ErrorReachesExitThenPropagates) {
    std::vector<std::string> log;
    Recorder r{&log};
    bool caught = false;
    try {
        co_await asyncio::async_with(r, [&]() -> asyncio::Coro<void> {
            co_await asyncio::sleep(0);
            throw Boom();
        });
    } catch (const Boom&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(log, (std::vector<std::string>{"enter", "exit with error"}));
}

// __aexit__ returning true suppresses the exception.
ASYNCIO_TEST(AsyncWith, ExitReturningTrueSwallowsTheError) {
    std::vector<std::string> log;
    Recorder r{&log, true};
    co_await asyncio::async_with(r, []() -> asyncio::Coro<void> {
        throw Boom();
        co_return;
    });
    EXPECT_EQ(log.back(), "exit with error");
}

// An exception raised by __aexit__ replaces the body's.
ASYNCIO_TEST(AsyncWith, ExceptionFromExitReplacesTheBodys) {
    Replacing m;
    std::string what;
    try {
        co_await asyncio::async_with(m, [](std::string&) -> asyncio::Coro<void> {
            throw Boom();
            co_return;
        });
    } catch (const std::invalid_argument& e) {
        what = e.what();
    }
    EXPECT_EQ(what, "replaced");
}

ASYNCIO_TEST(AsyncWith, PlainEnterAndExitAndACoroutineAsTheBody) {
    Plain p;
    co_await asyncio::async_with(p, asyncio::sleep(0.5));
    EXPECT_EQ(p.entered, 1);
    EXPECT_EQ(p.exited, 1);
    EXPECT_DOUBLE_EQ(loop().time(), 0.5);
}

// A cancelled body still exits the manager, and the CancelledError propagates.
ASYNCIO_TEST(AsyncWith, CancelledBodyStillExits) {
    std::vector<std::string> log;
    Recorder r{&log};
    auto t = asyncio::create_task(asyncio::async_with(r, asyncio::sleep(10)));
    co_await asyncio::sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"enter", "exit with error"}));
}

// Timeout is a context manager: async_with(cm, body) is `async with cm:` (test_timeouts).
ASYNCIO_TEST(AsyncWith, TimeoutEntersAndExitsAsAManager) {
    asyncio::Timeout cm(loop().time() + 0.25);
    bool timed_out = false;
    try {
        co_await asyncio::async_with(cm, [](asyncio::Timeout& self) -> asyncio::Coro<void> {
            EXPECT_EQ(self.state(), asyncio::Timeout::State::ENTERED);
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(cm.expired());
    EXPECT_DOUBLE_EQ(loop().time(), 0.25);
}

// TaskGroup is a context manager; entering it twice is an error
// (test_taskgroups::test_taskgroup_already_entered).
ASYNCIO_TEST(AsyncWith, TaskGroupEntersOnceAndWaitsForItsTasks) {
    asyncio::TaskGroup tg;
    int done = 0;
    co_await asyncio::async_with(tg, [&](asyncio::TaskGroup& g) -> asyncio::Coro<void> {
        g.create_task([](int& d) -> asyncio::Coro<void> {
            co_await asyncio::sleep(1);
            ++d;
        }(done));
        co_return;
    });
    EXPECT_EQ(done, 1);
    std::string what;
    try {
        tg.aenter();
    } catch (const asyncio::RuntimeError& e) {
        what = e.what();
    }
    EXPECT_EQ(what, "TaskGroup has already been entered");
}
