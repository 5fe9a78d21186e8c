// Task<T>: scheduling, names, cancellation (CPython's exact rules), lifetime, reports.
// Ports docs/parity.md section C (#15–#27), CPython's test_tasks (BaseTaskTests).
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using asyncio::testing::loop;
using asyncio::testing::take_reports;

namespace {

asyncio::Coro<void> yield_twice() {
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
}

asyncio::Coro<int> wait_on(asyncio::Future<int> f) { co_return co_await f; }

struct HandLoop : ::testing::Test {
    int fds = asyncio::testing::open_fd_count();
    asyncio::EventLoopPtr l = asyncio::testing::make_test_loop();
    void TearDown() override {
        if (l) asyncio::testing::close_and_check(l, fds);
    }
    void run_once() {
        l->stop();
        l->run_forever();
    }
};

}  // namespace

ASYNCIO_TEST(Task, RunsConcurrentlyAndGivesItsResult) {
    auto add = [](int a, int b) -> asyncio::Coro<int> {
        co_await asyncio::sleep(1);
        co_return a + b;
    };
    auto t1 = asyncio::create_task(add(1, 2));
    auto t2 = asyncio::create_task(add(3, 4));
    EXPECT_FALSE(t1.done());
    EXPECT_EQ(co_await t1 + co_await t2, 10);
    EXPECT_DOUBLE_EQ(loop().time(), 1.0);  // concurrent, not 2 s
    EXPECT_TRUE(t1.done());
    EXPECT_EQ(t1.result(), 3);
}

// CPython's Task.set_result / set_exception: "Task does not support set_result() operation"
ASYNCIO_TEST(Task, RefusesSetResultAndSetException) {
    auto t = asyncio::create_task(asyncio::sleep(1));
    EXPECT_THROW(t.set_result(), asyncio::RuntimeError);
    EXPECT_THROW(t.set_exception(std::runtime_error("x")), asyncio::RuntimeError);
    EXPECT_FALSE(t.done());
    co_await t;
    EXPECT_TRUE(t.done());
}

ASYNCIO_TEST(Task, NamesDefaultToTaskNAndCanBeSet) {
    auto t = asyncio::create_task(asyncio::sleep(0));
    EXPECT_EQ(t.get_name().rfind("Task-", 0), 0u);
    t.set_name("worker");
    EXPECT_EQ(t.get_name(), "worker");
    auto u = asyncio::create_task(asyncio::sleep(0), {.name = "named"});
    EXPECT_EQ(u.get_name(), "named");
    co_await t;
    co_await u;
}

ASYNCIO_TEST(Task, CurrentTaskAndAllTasks) {
    auto me = asyncio::current_task();
    CO_ASSERT_TRUE(me);
    me->set_name("main");
    bool in_callback_none = false;
    loop().call_soon([&] { in_callback_none = !asyncio::current_task(); });
    auto probe = [](std::string* out) -> asyncio::Coro<void> {
        *out = asyncio::current_task()->get_name();
        co_await asyncio::sleep(1);
    };
    std::string inner;
    auto t = asyncio::create_task(probe(&inner), {.name = "probe"});
    auto all = asyncio::all_tasks();
    EXPECT_EQ(all.size(), 2u);
    co_await asyncio::sleep(0);
    EXPECT_EQ(inner, "probe");
    EXPECT_TRUE(in_callback_none);
    co_await t;
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);
    EXPECT_EQ(asyncio::all_tasks()[0].get_name(), "main");
}

TEST(TaskOutsideLoop, CreateTaskNeedsARunningLoopEnsureFutureUsesTheSetOne) {
    try {
        (void)asyncio::create_task(asyncio::sleep(0));
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "no running event loop");
    }
    auto l = asyncio::new_event_loop();
    asyncio::set_event_loop(l);
    auto t = asyncio::ensure_future(asyncio::sleep(0, 15));
    EXPECT_EQ(l->run_until_complete(t), 15);
    asyncio::set_event_loop(nullptr);
    l->close();
}

// parity #15 — test_tasks::BaseTaskTests::test_cancel_yield
TEST_F(HandLoop, CancelAfterTheFirstStep) {
    auto t = l->create_task(yield_twice());
    run_once();  // first step: up to the first sleep(0)
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(l->run_until_complete(t), asyncio::CancelledError);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
}

// parity #16 — BaseTaskTests::test_cancel_inner_future
ASYNCIO_TEST(Task, CancellingTheAwaitedFutureCancelsTheTask) {
    auto f = loop().create_future<int>();
    auto t = asyncio::create_task(wait_on(f));
    co_await asyncio::sleep(0);
    f.cancel();
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(f.cancelled());
}

// parity #17 — BaseTaskTests::test_cancel_task_catching
ASYNCIO_TEST(Task, CancelCancelsTheAwaitedFutureSynchronously) {
    auto fut1 = loop().create_future<int>();
    auto fut2 = loop().create_future<int>();
    auto body = [](asyncio::Future<int> f1, asyncio::Future<int> f2) -> asyncio::Coro<int> {
        co_await f1;
        try {
            co_await f2;
        } catch (const asyncio::CancelledError&) {
            co_return 42;
        }
        co_return 0;
    };
    auto t = asyncio::create_task(body(fut1, fut2));
    co_await asyncio::sleep(0);
    fut1.set_result(1);
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(fut2.cancelled());  // at once
    EXPECT_EQ(co_await t, 42);
    EXPECT_FALSE(t.cancelled());
}

// parity #18 — BaseTaskTests::test_cancel_task_ignoring
ASYNCIO_TEST(Task, ACancelRequestIsConsumedOnce) {
    auto fut2 = loop().create_future<int>();
    auto fut3 = loop().create_future<int>();
    auto body = [](asyncio::Future<int> f2, asyncio::Future<int> f3) -> asyncio::Coro<int> {
        try {
            co_await f2;
        } catch (const asyncio::CancelledError&) {
        }
        co_return co_await f3;
    };
    auto t = asyncio::create_task(body(fut2, fut3));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    fut3.set_result(42);
    EXPECT_EQ(co_await t, 42);
    EXPECT_FALSE(fut3.cancelled());
    EXPECT_FALSE(t.cancelled());
}

// parity #19 — BaseTaskTests::test_cancel_current_task / test_cancel_at_end
ASYNCIO_TEST(Task, APendingCancelBeatsANormalReturn) {
    auto sleeps = []() -> asyncio::Coro<int> {
        asyncio::current_task().cancel();
        co_await asyncio::sleep(100);
        co_return 12;
    };
    auto returns = []() -> asyncio::Coro<int> {
        asyncio::current_task().cancel();
        co_return 12;
    };
    auto t1 = asyncio::create_task(sleeps());
    auto t2 = asyncio::create_task(returns());
    EXPECT_THROW(co_await t1, asyncio::CancelledError);
    EXPECT_THROW(co_await t2, asyncio::CancelledError);
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.cancelled());
    EXPECT_DOUBLE_EQ(loop().time(), 0.0);  // the sleep never ran its course
}

// parity #20 — BaseTaskTests::test_cancel_awaited_task
ASYNCIO_TEST(Task, CancellingATaskAwaitingAChildCancelsTheChildAndItsFuture) {
    auto fut = loop().create_future<int>();
    asyncio::Task<int> child;
    auto outer = [](asyncio::Future<int> f, asyncio::Task<int>* child) -> asyncio::Coro<int> {
        *child = asyncio::create_task(wait_on(f));
        co_await asyncio::sleep(0);  // the child runs and blocks on f
        asyncio::current_task().cancel();
        co_return co_await *child;
    };
    auto t = asyncio::create_task(outer(fut, &child));
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(child.cancelled());
    EXPECT_TRUE(fut.cancelled());
}

// parity #21 — BaseTaskTests::test_cancelling / test_uncancel_basic
ASYNCIO_TEST(Task, CancellingCountsRequestsAndUncancelWithdrawsThem) {
    auto fut = loop().create_future<int>();
    auto body = [](asyncio::Future<int> f, int* phase) -> asyncio::Coro<int> {
        try {
            co_await f;
        } catch (const asyncio::CancelledError&) {
            *phase = 1;
        }
        asyncio::current_task().uncancel();
        *phase = 2;
        co_await asyncio::sleep(1);  // can await again
        co_return 5;
    };
    int phase = 0;
    auto t = asyncio::create_task(body(fut, &phase));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2u);
    EXPECT_FALSE(t.cancelled());  // only once done
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    EXPECT_EQ(phase, 2);
    EXPECT_EQ(t.cancelling(), 1u);
    EXPECT_EQ(t.uncancel(), 0u);
    EXPECT_EQ(co_await t, 5);
    EXPECT_EQ(t.uncancel(), 0u);  // after done: nothing changes
    EXPECT_EQ(t.cancelling(), 0u);
}

// parity #22 — BaseTaskTests::test_uncancel_resets_must_cancel
ASYNCIO_TEST(Task, AWithdrawnCancelIsNeverDelivered) {
    auto fut = loop().create_future<int>();
    auto t = asyncio::create_task(wait_on(fut));
    co_await asyncio::sleep(0);
    fut.set_result(42);  // the task is now ready to run
    t.cancel();
    t.uncancel();
    EXPECT_EQ(co_await t, 42);
    EXPECT_FALSE(t.cancelled());
}

// parity #23 — BaseTaskTests::test_cancel_with_message_then_future_result
ASYNCIO_TEST(Task, TheCancelMessageReachesTheAwaiter) {
    std::vector<std::optional<std::string>> msgs = {std::nullopt, std::string("my message"),
                                                    std::string("")};
    for (const auto& msg : msgs) {
        auto fut = loop().create_future<int>();
        auto t = asyncio::create_task(wait_on(fut));
        co_await asyncio::sleep(0);
        t.cancel(msg);
        try {
            co_await t;
            ADD_FAILURE();
        } catch (const asyncio::CancelledError& e) {
            EXPECT_EQ(e.message(), msg);
        }
    }
}

ASYNCIO_TEST(Task, TheCancelMessageReachesTheCoroutineAsWell) {
    auto body = [](std::optional<std::string>* seen) -> asyncio::Coro<void> {
        try {
            co_await asyncio::sleep(10);
        } catch (const asyncio::CancelledError& e) {
            *seen = e.message();
            throw;
        }
    };
    std::optional<std::string> seen;
    auto t = asyncio::create_task(body(&seen));
    co_await asyncio::sleep(1);
    t.cancel("stop now");
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_EQ(seen, std::optional<std::string>("stop now"));
    EXPECT_DOUBLE_EQ(loop().time(), 1.0);  // the timer was removed: no wait until 10
}

// parity #24 — BaseTaskTests::test_baseexception_during_cancel
TEST_F(HandLoop, SystemExitDuringCancelEscapesTheLoopAndIsStored) {
    auto fut = l->create_future<int>();
    auto body = [](asyncio::Future<int> f) -> asyncio::Coro<void> {
        bool cancelled = false;
        try {
            co_await f;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        if (cancelled) throw asyncio::SystemExit(3);
    };
    auto t = l->create_task(body(fut));
    run_once();
    t.cancel();
    EXPECT_THROW(run_once(), asyncio::SystemExit);  // first the cancel reaches the future
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    try {
        std::rethrow_exception(t.exception());
    } catch (const asyncio::SystemExit& e) {
        EXPECT_EQ(e.code(), 3);
    }
}

// parity #25 — BaseTaskTests::test_task_awaits_on_itself
ASYNCIO_TEST(Task, AwaitingItselfIsARuntimeError) {
    auto self_await = [](asyncio::Task<void>* me) -> asyncio::Coro<void> {
        co_await asyncio::sleep(0);
        co_await *me;
    };
    asyncio::Task<void> t;
    t = asyncio::create_task(self_await(&t));
    try {
        co_await t;
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("Task cannot await on itself", 0), 0u) << e.what();
    }
}

// parity #26 — BaseTaskTests::test_yield_future_passes_cancel
ASYNCIO_TEST(Task, CancellationPassesThroughNestedCoroutines) {
    int proof = 0;
    auto waiter = loop().create_future<int>();
    auto inner = [](asyncio::Future<int> w, int* proof) -> asyncio::Coro<void> {
        try {
            co_await w;
        } catch (const asyncio::CancelledError&) {
            *proof += 1;
            throw;
        }
        ADD_FAILURE() << "inner went on";
    };
    auto outer = [inner](asyncio::Future<int> w, int* proof) -> asyncio::Coro<void> {
        try {
            co_await inner(w, proof);
        } catch (const asyncio::CancelledError&) {
            *proof += 100;
        }
    };
    auto t = asyncio::create_task(outer(waiter, &proof));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    co_await t;
    EXPECT_EQ(proof, 101);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_FALSE(t.cancelled());
}

// parity #27 — BaseTaskTests::test_log_destroyed_pending_task. A task is never destroyed
// while pending because its handles went (the loop keeps it); a task still pending when its
// loop closes is destroyed then, and reported.
TEST(TaskLifetime, APendingTaskDestroyedWithItsLoopIsReported) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop();
    bool unwound = false;
    {
        auto fut = l->create_future<int>();
        auto body = [](asyncio::Future<int> f, bool* unwound) -> asyncio::Coro<void> {
            struct Flag {
                bool* p;
                ~Flag() { *p = true; }
            } flag{unwound};
            co_await f;
        };
        auto t = l->create_task(body(fut, &unwound), {.name = "blocked"});
        l->stop();
        l->run_forever();
    }  // every handle gone: the task lives on
    EXPECT_EQ(l->all_tasks().size(), 1u);
    EXPECT_FALSE(unwound);
    l->close();
    EXPECT_TRUE(unwound);  // its frame was destroyed
    auto reports = take_reports();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task was destroyed but it is pending!");
    EXPECT_EQ(reports[0].task, "blocked");
    l.reset();
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
}

// A sleeping task is off the loop's list of tasks (its timer node takes the list links) and
// is found among the timers: all_tasks() lists it in every phase, a cancelled sleeper is
// listed again until it ends, and a closing loop destroys and reports sleepers in the FIFO
// run and in the heap alike.
TEST(TaskLifetime, SleepingTasksAreListedAndDestroyedWithTheirLoop) {
    auto l = asyncio::testing::make_test_loop();
    int unwound = 0;
    {
        auto sleeper = [](double d, int* unwound) -> asyncio::Coro<void> {
            struct Flag {
                int* p;
                ~Flag() { ++*p; }
            } flag{unwound};
            co_await asyncio::sleep(d);
        };
        auto fut = l->create_future<int>();
        auto waiter = [](asyncio::Future<int> f) -> asyncio::Coro<void> { co_await f; };
        std::vector<asyncio::Task<void>> ts;
        // deadlines 10, 20, 30 (the run), then 5 and 15 (the heap)
        for (double d : {10.0, 20.0, 30.0, 5.0, 15.0})
            ts.push_back(l->create_task(sleeper(d, &unwound)));
        auto w = l->create_task(waiter(fut), {.name = "waiter"});
        l->stop();
        l->run_forever();  // every task asleep or waiting
        EXPECT_EQ(l->all_tasks().size(), 6u);
        ts[1].cancel();  // 20: back on the list, cancelled at its next step
        EXPECT_EQ(l->all_tasks().size(), 6u);
        l->stop();
        l->run_forever();
        EXPECT_TRUE(ts[1].cancelled());
        EXPECT_EQ(unwound, 1);
        EXPECT_EQ(l->all_tasks().size(), 5u);
        for (const auto& t : l->all_tasks()) EXPECT_FALSE(t.done());
    }
    l->close();
    EXPECT_EQ(unwound, 5);  // the four sleepers' frames and the cancelled one's
    auto reports = take_reports();
    EXPECT_EQ(reports.size(), 5u);  // four sleepers and the waiter
    for (const auto& r : reports) EXPECT_EQ(r.message, "Task was destroyed but it is pending!");
}

// gh-117379: CPython's weak-reference pitfall is not repeated.
ASYNCIO_TEST(TaskLifetime, DroppingTheLastHandleNeverStopsATask) {
    int steps = 0;
    auto body = [](int* steps) -> asyncio::Coro<void> {
        for (int i = 0; i < 3; ++i) {
            co_await asyncio::sleep(1);
            ++*steps;
        }
    };
    (void)asyncio::create_task(body(&steps));  // handle dropped at once
    co_await asyncio::sleep(5);
    EXPECT_EQ(steps, 3);
}

ASYNCIO_TEST(Task, AnUnretrievedTaskExceptionIsReportedWhenTheTaskDies) {
    auto fails = []() -> asyncio::Coro<void> {
        co_await asyncio::sleep(0);
        throw std::runtime_error("lost");
    };
    {
        auto t = asyncio::create_task(fails(), {.name = "failing"});
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.done());
    }
    auto reports = take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task exception was never retrieved");
    EXPECT_EQ(reports[0].exception, "std::runtime_error: lost");
    EXPECT_EQ(reports[0].task, "failing");  // the context carries the task itself
}

ASYNCIO_TEST(Task, ACancelledBeforeItsFirstStepNeverRunsItsBody) {
    bool ran = false;
    auto body = [](bool* ran) -> asyncio::Coro<void> {
        *ran = true;
        co_return;
    };
    auto t = asyncio::create_task(body(&ran));
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(co_await t, asyncio::CancelledError);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.cancelled());
}

ASYNCIO_TEST(Task, DoneCallbacksReceiveTheTask) {
    auto t = asyncio::create_task(asyncio::sleep(1, 15));
    int seen = 0;
    bool same = false;
    t.add_done_callback([&, t](asyncio::Task<int>& f) {
        seen = f.result();
        same = f == t;
    });
    co_await t;
    co_await asyncio::sleep(0);
    EXPECT_EQ(seen, 15);
    EXPECT_TRUE(same);
}

ASYNCIO_TEST(Task, AnyTaskErasesTheResultType) {
    std::vector<asyncio::AnyTask> ts;
    ts.push_back(asyncio::create_task(asyncio::sleep(1, 1)));
    ts.push_back(asyncio::create_task(asyncio::sleep(2, std::string("two"))));
    ts.push_back(asyncio::create_task(asyncio::sleep(3)));
    co_await asyncio::sleep(5);
    for (auto& t : ts) {
        EXPECT_TRUE(t.done());
        EXPECT_EQ(t.exception(), nullptr);
    }
}

// --- cancel messages: the first delivered CancelledError wins ---
//
// CPython 3.13, Task.cancel(): `if self._fut_waiter is not None: if
// self._fut_waiter.cancel(msg): return True`, else `_must_cancel = True`; Task.__step():
// `if self._must_cancel: if not isinstance(exc, CancelledError): exc =
// self._make_cancelled_error()`; Task.uncancel(): down to zero clears `_must_cancel` only.
// Checked against python3.13: each wait kind below prints ('a',) and ('first',).

namespace {

enum class WaitKind { sleep, lock, queue, future };

struct WaitSubject {
    asyncio::Lock lock;
    asyncio::Queue<int> queue;
    asyncio::Future<int> fut = loop().create_future<int>();
};

// Waits once in the given way; gives the message of the CancelledError it saw.
asyncio::Coro<std::string> wait_until_cancelled(WaitKind kind, WaitSubject& s) {
    std::string seen = "<no CancelledError>";
    try {
        switch (kind) {
            case WaitKind::sleep: co_await asyncio::sleep(10); break;
            case WaitKind::lock: co_await s.lock.acquire(); break;
            case WaitKind::queue: co_await s.queue.get(); break;
            case WaitKind::future: co_await s.fut; break;
        }
    } catch (const asyncio::CancelledError& e) {
        seen = e.message().value_or("<none>");
    }
    co_return seen;
}

const WaitKind all_wait_kinds[] = {WaitKind::sleep, WaitKind::lock, WaitKind::queue,
                                   WaitKind::future};

}  // namespace

ASYNCIO_TEST(TaskCancel, CancelTwiceThenUncancelTwiceStillDeliversTheFirstMessage) {
    for (WaitKind kind : all_wait_kinds) {
        WaitSubject s;
        co_await s.lock.acquire();
        auto t = asyncio::create_task(wait_until_cancelled(kind, s));
        co_await asyncio::sleep(0);
        t.cancel("a");
        t.cancel("b");
        EXPECT_EQ(t.uncancel(), 1u);
        EXPECT_EQ(t.uncancel(), 0u);
        // The waiter was already cancelled with "a": withdrawing the requests cannot take
        // that back (no crash, and the task sees "a").
        EXPECT_EQ(co_await t, "a") << static_cast<int>(kind);
        EXPECT_EQ(t.cancelling(), 0u);
    }
}

ASYNCIO_TEST(TaskCancel, TheFirstCancelMessageWinsOverALaterOne) {
    for (WaitKind kind : all_wait_kinds) {
        WaitSubject s;
        co_await s.lock.acquire();
        auto t = asyncio::create_task(wait_until_cancelled(kind, s));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("first"));
        EXPECT_TRUE(t.cancel("second"));
        EXPECT_EQ(t.cancelling(), 2u);
        EXPECT_EQ(co_await t, "first") << static_cast<int>(kind);
    }
}

ASYNCIO_TEST(TaskCancel, WithoutAWaiterTheLastRequestsMessageIsThrown) {
    // CPython: with no _fut_waiter, each cancel() sets _cancel_message anew.
    auto t = asyncio::create_task([]() -> asyncio::Coro<std::string> {
        try {
            co_await asyncio::sleep(0);
        } catch (const asyncio::CancelledError& e) {
            co_return e.message().value_or("<none>");
        }
        co_return "<no CancelledError>";
    }());
    co_await asyncio::sleep(0);  // t's sleep(0) is done: its step is queued, no waiter
    t.cancel("first");
    t.cancel("second");
    EXPECT_EQ(co_await t, "second");
}

ASYNCIO_TEST(TaskCancel, ARequestWithdrawnBeforeTheStepIsNeverDelivered) {
    auto t = asyncio::create_task([]() -> asyncio::Coro<int> {
        co_await asyncio::sleep(0);
        co_return 42;
    }());
    co_await asyncio::sleep(0);
    t.cancel("x");
    t.cancel("y");
    t.uncancel();
    EXPECT_EQ(t.uncancel(), 0u);
    EXPECT_EQ(co_await t, 42);
}

namespace {
// The body of a timeout race: what the task saw, and what came out of the timeout block.
asyncio::Coro<std::string> sleep_under_timeout(asyncio::Timeout*& out) {
    std::string seen;
    try {
        co_await asyncio::timeout(std::nullopt, [&](asyncio::Timeout& cm) -> asyncio::Coro<void> {
            out = &cm;
            co_await asyncio::sleep(10);
        });
        seen = "no error";
    } catch (const asyncio::CancelledError& e) {
        seen = "CancelledError(" + e.message().value_or("<none>") +
               ") cancelling=" + std::to_string(asyncio::current_task()->cancelling());
    } catch (const asyncio::TimeoutError&) {
        seen = "TimeoutError";
    }
    co_return seen;
}
}  // namespace

ASYNCIO_TEST(TaskCancel, AnExternalCancelAndAnExpiringTimeoutInOneIterationFirstComeWins) {
    // python3.13: with cm.reschedule(when) and loop.call_at(when, t.cancel, "ext") in either
    // order, the earlier one decides: ('ext',) or (), and Timeout does not turn it into a
    // TimeoutError (uncancel() leaves the external request counted: cancelling() == 1).
    for (bool ext_first : {true, false}) {
        asyncio::Timeout* cm = nullptr;
        auto t = asyncio::create_task(sleep_under_timeout(cm));
        co_await asyncio::sleep(0);
        double when = loop().time() + 0.01;
        auto cancel_ext = [t] { t.cancel("ext"); };
        if (ext_first) {
            loop().call_at(when, cancel_ext);
            cm->reschedule(when);
        } else {
            cm->reschedule(when);
            loop().call_at(when, cancel_ext);
        }
        std::string seen = co_await t;
        EXPECT_EQ(seen, ext_first ? "CancelledError(ext) cancelling=1"
                                  : "CancelledError(<none>) cancelling=1");
    }
}

ASYNCIO_TEST(TaskCancel, TheFirstMessageWinsThroughShield) {
    // python3.13: a task awaiting shield(inner), cancelled "first" then "second", sees
    // ('first',): the shield's outer future took the first cancel.
    auto inner = loop().create_future<int>();
    auto t = asyncio::create_task([](asyncio::Future<int> f) -> asyncio::Coro<std::string> {
        try {
            co_await asyncio::shield(f);
        } catch (const asyncio::CancelledError& e) {
            co_return e.message().value_or("<none>");
        }
        co_return "<no CancelledError>";
    }(inner));
    co_await asyncio::sleep(0);
    t.cancel("first");
    t.cancel("second");
    EXPECT_EQ(co_await t, "first");
    EXPECT_FALSE(inner.done());
    inner.cancel();
}

ASYNCIO_TEST(TaskCancel, AChildCancelledTwiceGivesGatherTheFirstMessage) {
    // python3.13: gather(c) where c is cancelled "first" then "second": the awaiter of the
    // gather sees ('first',).
    auto c = asyncio::create_task(asyncio::sleep(10));
    auto t = asyncio::create_task([](asyncio::Task<void> child) -> asyncio::Coro<std::string> {
        try {
            co_await asyncio::gather(child);
        } catch (const asyncio::CancelledError& e) {
            co_return e.message().value_or("<none>");
        }
        co_return "<no CancelledError>";
    }(c));
    co_await asyncio::sleep(0);
    c.cancel("first");
    c.cancel("second");
    EXPECT_EQ(co_await t, "first");
}

// CPython 3.13: one process-wide counter numbers the tasks created without a name, and a
// named task takes no number (python3.13 prints "Task-3 custom Task-4").
ASYNCIO_TEST(Task, DefaultNamesCountOnlyUnnamedTasks) {
    auto a = asyncio::create_task(asyncio::sleep(0));
    auto b = asyncio::create_task(asyncio::sleep(0), {.name = "custom"});
    auto c = asyncio::create_task(asyncio::sleep(0));
    std::string an = a.get_name();
    CO_ASSERT_EQ(an.rfind("Task-", 0), 0u);
    EXPECT_EQ(b.get_name(), "custom");
    EXPECT_EQ(c.get_name(), "Task-" + std::to_string(std::stoul(an.substr(5)) + 1));
    co_await a;
    co_await b;
    co_await c;
}

ASYNCIO_TEST(Task, TheReprShowsThePhase) {
    auto t = asyncio::create_task(asyncio::sleep(5), {.name = "s"});
    EXPECT_EQ(t.core()->repr(), "<Task pending name='s' phase=created>");
    co_await asyncio::sleep(0);
    EXPECT_EQ(t.core()->repr(), "<Task pending name='s' phase=sleeping>");
    t.cancel();
    EXPECT_EQ(t.core()->repr(), "<Task pending name='s' phase=scheduled cancel=delivered>");
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_EQ(t.core()->repr(), "<Task cancelled name='s'>");
}

// CPython lets two tasks await each other (both hang, and cancelling one ends in
// RecursionError); here the second await of the cycle is refused at once.
ASYNCIO_TEST(Task, AwaitingATaskThatAwaitsYouIsARuntimeError) {
    auto first = std::make_shared<asyncio::Task<void>>();
    auto second =
        asyncio::create_task([](std::shared_ptr<asyncio::Task<void>> f) -> asyncio::Coro<void> {
            co_await asyncio::sleep(0);
            co_await *f;  // f awaits this task already
        }(first));
    *first = asyncio::create_task(
        [](asyncio::Task<void> s) -> asyncio::Coro<void> { co_await s; }(second));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    CO_ASSERT_TRUE(second.done());
    try {
        co_await second;
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("awaiting this one"), std::string::npos) << e.what();
    }
    try {
        co_await *first;  // the error passes to the task that awaited it
    } catch (const asyncio::RuntimeError&) {
    }
}

// A cycle through a future that is not a task (a gather) cannot be refused: cancelling it
// must still end (CPython recurses until RecursionError).
ASYNCIO_TEST(Task, CancellingACycleThroughAGatherTerminates) {
    auto first = std::make_shared<asyncio::Task<void>>();
    auto second =
        asyncio::create_task([](std::shared_ptr<asyncio::Task<void>> f) -> asyncio::Coro<void> {
            co_await asyncio::sleep(0);
            co_await *f;
        }(first));
    *first = asyncio::create_task(
        [](asyncio::Task<void> s) -> asyncio::Coro<void> { co_await asyncio::gather(s); }(second));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    CO_ASSERT_TRUE(!second.done());
    EXPECT_TRUE(first->cancel("stop"));
    for (int i = 0; i < 10 && !(first->done() && second.done()); ++i) co_await asyncio::sleep(0);
    EXPECT_TRUE(first->cancelled());
    EXPECT_TRUE(second.cancelled());
    *first = {};
    co_await asyncio::sleep(0);  // the gather's last callback lets go of it
    // The gather, left behind by the task that broke the cycle, ends with its child's
    // CancelledError that nobody retrieves (as in CPython).
    auto reports = take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "_GatheringFuture exception was never retrieved");
}

// --- Eager tasks and task factories, after CPython's test_eager_task_factory.py ---

namespace eager {

asyncio::Coro<std::string> hello() { co_return "hello"; }
asyncio::Coro<std::string> blocks() {
    co_await asyncio::sleep(0.1);
    co_return "finished after blocking";
}
asyncio::Coro<void> set_result(asyncio::Future<std::string> fut, std::string v) {
    fut.set_result(std::move(v));
    co_return;
}
asyncio::Coro<int> chain(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await chain(depth - 1);
}
asyncio::Coro<void> recursive_gather(int width, int depth) {
    if (depth == 0) co_return;
    std::vector<asyncio::Coro<void>> v;
    for (int i = 0; i < width; ++i) v.push_back(recursive_gather(width, depth - 1));
    co_await asyncio::gather(std::move(v));
}
asyncio::Coro<void> recursive_taskgroups(int width, int depth) {
    if (depth == 0) co_return;
    asyncio::TaskGroup tg;
    for (int i = 0; i < width; ++i) tg.create_task(recursive_taskgroups(width, depth - 1));
    co_await tg.join();
}

/// A factory counting the tasks made without eager_start (CPython's AsyncTaskCounter).
asyncio::TaskFactory counting_factory(int& count, bool eager) {
    asyncio::TaskFactory counting = [&count](asyncio::EventLoop&, asyncio::PendingCoro& coro,
                                             asyncio::TaskOptions o) {
        if (!o.eager_start) ++count;
        return coro.make_task(std::move(o));
    };
    return eager ? asyncio::create_eager_task_factory(counting) : counting;
}

}  // namespace eager

// test_eager_task_factory_set
ASYNCIO_TEST(TaskFactory, SetAndGetFactory) {
    EXPECT_FALSE(loop().get_task_factory());
    loop().set_task_factory(asyncio::eager_task_factory);
    EXPECT_TRUE(loop().get_task_factory());
    auto t = asyncio::create_task(eager::hello());
    EXPECT_TRUE(t.done());
    EXPECT_EQ(co_await t, "hello");
    loop().set_task_factory(nullptr);
    EXPECT_FALSE(loop().get_task_factory());
    auto u = asyncio::create_task(eager::hello());
    EXPECT_FALSE(u.done());
    co_await u;
}

ASYNCIO_TEST(TaskFactory, FactoryChoosesTheOptions) {
    loop().set_task_factory(
        [](asyncio::EventLoop&, asyncio::PendingCoro& coro, asyncio::TaskOptions o) {
            if (!o.name) o.name = "made-by-factory";
            return coro.make_task(std::move(o));
        });
    auto t = asyncio::create_task(eager::hello());
    auto u = asyncio::create_task(eager::hello(), {.name = "mine"});
    EXPECT_EQ(t.get_name(), "made-by-factory");
    EXPECT_EQ(u.get_name(), "mine");
    co_await t;
    co_await u;
    loop().set_task_factory(nullptr);
}

ASYNCIO_TEST(TaskFactory, FactoryThatReturnsAnotherTaskIsRefused) {
    auto other = std::make_shared<asyncio::AnyTask>();
    *other = asyncio::create_task(eager::hello());
    loop().set_task_factory(
        [other](asyncio::EventLoop&, asyncio::PendingCoro&, asyncio::TaskOptions) {
            return *other;  // never makes the task of the coroutine
        });
    try {
        auto t = asyncio::create_task(eager::hello());
        ADD_FAILURE();
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("coro.make_task"), std::string::npos) << e.what();
    }
    loop().set_task_factory(nullptr);
    co_await asyncio::sleep(0);
}

// test_eager_completion
ASYNCIO_TEST(EagerTask, CompletesInsideCreateTask) {
    auto t = asyncio::create_task(eager::hello(), {.eager_start = true});
    CO_ASSERT_TRUE(t.done());
    EXPECT_EQ(t.result(), "hello");
    EXPECT_FALSE(t.get_coro());  // CPython gh-122332: get_coro() is None once done
    EXPECT_EQ(co_await t, "hello");
}

// test_await_future_during_eager_step
ASYNCIO_TEST(EagerTask, SetsAFutureDuringTheEagerStep) {
    auto fut = loop().create_future<std::string>();
    auto t = asyncio::create_task(eager::set_result(fut, "my message"), {.eager_start = true});
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(co_await fut, "my message");
}

// test_block_after_eager_step
ASYNCIO_TEST(EagerTask, BlocksAfterTheEagerStep) {
    auto t = asyncio::create_task(eager::blocks(), {.eager_start = true});
    EXPECT_FALSE(t.done());
    EXPECT_EQ(co_await t, "finished after blocking");
    EXPECT_EQ(loop().time(), 0.1);
}

// test_cancellation_after_eager_completion
ASYNCIO_TEST(EagerTask, CancelAfterEagerCompletionIsRefused) {
    auto t = asyncio::create_task(eager::hello(), {.eager_start = true});
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(co_await t, "hello");
    EXPECT_FALSE(t.cancelled());
}

// test_cancellation_after_eager_step_blocks
ASYNCIO_TEST(EagerTask, CancelAfterTheEagerStepBlocksCancels) {
    auto t = asyncio::create_task(eager::blocks(), {.eager_start = true});
    EXPECT_TRUE(t.cancel("cancellation message"));
    EXPECT_GT(t.cancelling(), 0u);
    try {
        co_await t;
        ADD_FAILURE();
    } catch (const asyncio::CancelledError& e) {
        EXPECT_EQ(e.message(), std::optional<std::string>("cancellation message"));
    }
}

// test_current_task
ASYNCIO_TEST(EagerTask, CurrentTaskIsTheEagerTaskAndIsRestored) {
    asyncio::AnyTask me = asyncio::current_task();
    auto captured = std::make_shared<std::vector<asyncio::AnyTask>>();
    auto t = asyncio::create_task(
        [](std::shared_ptr<std::vector<asyncio::AnyTask>> c) -> asyncio::Coro<void> {
            c->push_back(asyncio::current_task());
            co_await asyncio::sleep(0.1);
            c->push_back(asyncio::current_task());
        }(captured),
        {.eager_start = true});
    CO_ASSERT_EQ(captured->size(), 1u);
    EXPECT_EQ((*captured)[0].core(), t.core());
    EXPECT_EQ(asyncio::current_task().core(), me.core());
    co_await t;
    CO_ASSERT_EQ(captured->size(), 2u);
    EXPECT_EQ((*captured)[1].core(), t.core());
}

// test_all_tasks_with_eager_completion, test_all_tasks_with_blocking
ASYNCIO_TEST(EagerTask, AllTasksListsItWhilePendingOnly) {
    auto seen = std::make_shared<std::vector<asyncio::AnyTask>>();
    auto t = asyncio::create_task(
        [](std::shared_ptr<std::vector<asyncio::AnyTask>> s) -> asyncio::Coro<void> {
            *s = asyncio::all_tasks();
            co_return;
        }(seen),
        {.eager_start = true});
    auto has = [](const std::vector<asyncio::AnyTask>& v, const asyncio::AnyTask& x) {
        for (auto& e : v)
            if (e.core() == x.core()) return true;
        return false;
    };
    EXPECT_TRUE(has(*seen, t));
    EXPECT_FALSE(has(asyncio::all_tasks(), t));
    auto fut1 = loop().create_future<void>();
    auto u = asyncio::create_task(
        [](asyncio::Future<void> f) -> asyncio::Coro<void> { co_await f; }(fut1),
        {.eager_start = true});
    EXPECT_TRUE(has(asyncio::all_tasks(), u));
    fut1.set_result();
    co_await u;
    EXPECT_FALSE(has(asyncio::all_tasks(), u));
}

// test_context_vars
ASYNCIO_TEST(EagerTask, RunsInItsOwnCopyOfTheContext) {
    static asyncio::ContextVar<int> cv("cv", 0);
    static bool first = false, second = false;
    first = second = false;
    cv.set(1);
    auto t = asyncio::create_task(
        []() -> asyncio::Coro<void> {
            EXPECT_EQ(cv.get(), 1);
            cv.set(2);
            first = true;
            co_await asyncio::sleep(0.1);
            EXPECT_EQ(cv.get(), 2);
            cv.set(3);
            second = true;
        }(),
        {.eager_start = true});
    EXPECT_TRUE(first);
    EXPECT_FALSE(second);
    EXPECT_EQ(cv.get(), 1);
    co_await t;
    EXPECT_TRUE(second);
    EXPECT_EQ(cv.get(), 1);
}

ASYNCIO_TEST(EagerTask, RaisingInTheEagerStepFailsTheTask) {
    auto t = asyncio::create_task(
        []() -> asyncio::Coro<int> {
            throw std::invalid_argument("boom");
            co_return 1;
        }(),
        {.eager_start = true});
    CO_ASSERT_TRUE(t.done());
    CO_ASSERT_TRUE(t.exception() != nullptr);
    try {
        std::rethrow_exception(t.exception());
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
}

ASYNCIO_TEST(EagerTask, DoneCallbacksAreScheduledNotRunInline) {
    std::vector<std::string> log;
    loop().call_soon([&] { log.push_back("before"); });
    auto t = asyncio::create_task(eager::hello(), {.eager_start = true});
    t.add_done_callback([&] { log.push_back("done callback"); });
    loop().call_soon([&] { log.push_back("after"); });
    EXPECT_TRUE(log.empty());
    co_await asyncio::sleep(0);
    EXPECT_EQ(log, (std::vector<std::string>{"before", "done callback", "after"}));
}

TEST(EagerTask, IsAPlainTaskWhenTheLoopIsNotRunning) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop();
    l->set_task_factory(asyncio::eager_task_factory);
    auto t = l->create_task(eager::hello());
    EXPECT_FALSE(t.done());  // CPython: eager only while the loop runs
    EXPECT_EQ(l->run_until_complete(t), "hello");
    asyncio::testing::close_and_check(l, fds);
}

// BaseTaskCountingTests: test_awaitables_chain, test_recursive_taskgroups, test_recursive_gather
TEST(TaskFactory, CountsTasksMadeWithoutEagerStart) {
    for (bool eager : {false, true}) {
        for (int which = 0; which < 3; ++which) {
            int fds = asyncio::testing::open_fd_count();
            auto l = asyncio::testing::make_test_loop();
            int count = 0;
            l->set_task_factory(eager::counting_factory(count, eager));
            if (which == 0) {
                EXPECT_EQ(l->run_until_complete(eager::chain(100)), 100);
                EXPECT_EQ(count, eager ? 0 : 1);
            } else {
                if (which == 1)
                    l->run_until_complete(eager::recursive_taskgroups(5, 4));
                else
                    l->run_until_complete(eager::recursive_gather(5, 4));
                EXPECT_EQ(count, eager ? 0 : 781) << "which=" << which;  // 1 + 5 + ... + 5^4
            }
            l->set_task_factory(nullptr);
            asyncio::testing::close_and_check(l, fds);
        }
    }
}

// --- Introspection: get_coro(), get_stack(), print_stack() ---

namespace stackdemo {
asyncio::Coro<void> level3(asyncio::Future<void> f) { co_await f; }
asyncio::Coro<void> level2(asyncio::Future<void> f) { co_await level3(f); }
asyncio::Coro<void> level1(asyncio::Future<void> f) { co_await level2(f); }
}  // namespace stackdemo

namespace {
std::vector<std::string> functions(const std::vector<asyncio::FrameInfo>& frames) {
    std::vector<std::string> v;
    for (auto& f : frames) v.push_back(f.function);
    return v;
}
std::string printed_stack(const asyncio::AnyTask& t, std::optional<std::size_t> limit) {
    std::FILE* f = std::tmpfile();
    t.print_stack(limit, f);
    std::rewind(f);
    std::string s;
    char buf[256];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
    std::fclose(f);
    return s;
}
}  // namespace

ASYNCIO_TEST(TaskStack, GivesTheChainOfSuspendedFramesOldestFirst) {
    auto fut = loop().create_future<void>();
    auto t = asyncio::create_task(stackdemo::level1(fut), {.name = "deep"});
    const std::string l1 = "stackdemo::level1";
    const std::string l2 = "stackdemo::level2";
    const std::string l3 = "stackdemo::level3";
    EXPECT_EQ(functions(t.get_stack()),
              std::vector<std::string>{l1});  // not started: its coroutine
    EXPECT_TRUE(t.get_coro());
    co_await asyncio::sleep(0);
    EXPECT_EQ(functions(t.get_stack()), (std::vector<std::string>{l1, l2, l3}));
    EXPECT_EQ(functions(t.get_stack(2)), (std::vector<std::string>{l2, l3}));  // the newest
    EXPECT_EQ(t.get_stack(0).size(), 0u);
    EXPECT_EQ(t.get_stack()[0].frame, t.get_coro().address());
    EXPECT_EQ(
        printed_stack(t, std::nullopt),
        "Stack for <Task pending name='deep' phase=awaiting_future> (most recent call last):\n"
        "  in " +
            l1 + "\n  in " + l2 + "\n  in " + l3 + "\n");
    fut.set_result();
    co_await t;
    EXPECT_TRUE(t.get_stack().empty());
    EXPECT_FALSE(t.get_coro());
    EXPECT_EQ(printed_stack(t, std::nullopt), "No stack for <Task finished name='deep'>\n");
}

ASYNCIO_TEST(TaskStack, TheRunningTaskGivesItsOwnCoroutine) {
    auto frames = asyncio::current_task().get_stack();
    CO_ASSERT_EQ(frames.size(), 1u);
    EXPECT_NE(frames[0].function.find("TaskStack_TheRunningTaskGivesItsOwnCoroutine_body"),
              std::string::npos)
        << frames[0].function;
}
