// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier: parity #79–#93 (docs/parity.md K)
// and the cancellation sweep of each primitive.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "asyncio_test.hpp"
#include "cancel_harness.hpp"

using namespace asyncio;

namespace {

/// Steps the loop once (the running task yields one iteration).
Coro<void> tick(int n = 1) {
    for (int i = 0; i < n; ++i) co_await asyncio::sleep(0);
}

/// Awaits `t` and reports whether it ended with CancelledError.
template <class T>
Coro<bool> ends_cancelled(Task<T> t) {
    try {
        co_await t;
    } catch (const CancelledError&) {
        co_return true;
    }
    co_return false;
}

/// Runs `c` as a task; cancels it after `seconds` (a stand-in for wait_for in these tests).
/// Gives true if it finished in time.
template <class T>
Coro<bool> finishes_within(Coro<T> c, double seconds) {
    auto t = create_task(std::move(c));
    auto h = get_running_loop().call_later(seconds, [t] { t.cancel(); });
    bool ok = !co_await ends_cancelled(t);
    h.cancel();
    co_return ok;
}

Coro<bool> lock_and_record(Lock* lock, std::vector<int>* out, int n) {
    bool r = co_await lock->acquire();
    out->push_back(n);
    co_return r;
}

}  // namespace

// parity #79: LockTests::test_acquire
ASYNCIO_TEST(Lock, WaitersAcquireInStrictFifoOrder) {
    Lock lock;
    std::vector<int> result;
    EXPECT_TRUE(co_await lock.acquire());
    auto t1 = create_task(lock_and_record(&lock, &result, 1));
    auto t2 = create_task(lock_and_record(&lock, &result, 2));
    co_await tick();
    EXPECT_TRUE(result.empty());
    lock.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    auto t3 = create_task(lock_and_record(&lock, &result, 3));
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    lock.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    lock.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(t1.result());
    EXPECT_TRUE(t2.result());
    EXPECT_TRUE(t3.result());
    lock.release();
    EXPECT_FALSE(lock.locked());
}

// parity #80: LockTests::test_acquire_cancel
ASYNCIO_TEST(Lock, CancelledAcquireLeavesTheQueue) {
    Lock lock;
    co_await lock.acquire();
    auto t = create_task(lock.acquire());
    co_await tick();
    t.cancel();
    EXPECT_TRUE(co_await ends_cancelled(t));
    lock.release();
    EXPECT_FALSE(lock.locked()) << "the cancelled waiter must not have been given the lock";
}

// A cancel requested while the task runs reaches the wait it starts next: acquire() raises
// at once and leaves no waiter behind (as a waiter future cancelled when awaited).
ASYNCIO_TEST(Lock, CancelRequestedBeforeTheWaitRaisesAtTheWait) {
    Lock lock;
    co_await lock.acquire();
    auto t = create_task([](Lock* l) -> Coro<bool> {
        current_task()->cancel("early");
        co_return co_await l->acquire();
    }(&lock));
    EXPECT_TRUE(co_await ends_cancelled(t));
    lock.release();
    EXPECT_FALSE(lock.locked()) << "no waiter may be left to take the lock";
}

// A task parked on a lock when its loop closes is destroyed and reported, whether the lock
// dies before or after it (ASan checks that neither side touches the other once gone).
TEST(LockLifetime, ATaskParkedWhenTheLoopClosesIsDestroyedAndReported) {
    for (bool lock_dies_first : {true, false}) {
        auto loop = new_event_loop();
        int reports = 0;
        loop->set_exception_handler([&](EventLoop&, const ExceptionContext& c) {
            if (c.message.find("destroyed but it is pending") != std::string::npos) ++reports;
        });
        auto lock = std::make_unique<Lock>();
        Task<bool> parked;
        loop->run_until_complete([](Lock* l, Task<bool>* out) -> Coro<void> {
            co_await l->acquire();
            *out = create_task(l->acquire());
            co_await asyncio::sleep(0);
        }(lock.get(), &parked));
        EXPECT_FALSE(parked.done());
        if (lock_dies_first) lock.reset();
        loop->close();
        lock.reset();
        EXPECT_EQ(reports, 1);
    }
}

// parity #80: LockTests::test_release_not_acquired
ASYNCIO_TEST(Lock, ReleasingAnUnlockedLockRaisesRuntimeError) {
    Lock lock;
    EXPECT_THROW(lock.release(), RuntimeError);
    try {
        lock.release();
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Lock is not acquired.");
    }
    co_return;
}

// parity #80: LockTests::test_context_manager
ASYNCIO_TEST(Lock, ScopedGuardLocksOnEntryAndUnlocksOnExit) {
    Lock lock;
    {
        auto guard = co_await lock.acquire_scoped();
        EXPECT_TRUE(lock.locked());
        EXPECT_TRUE(guard.owns_lock());
    }
    EXPECT_FALSE(lock.locked());
    int r = co_await async_with(lock, [&]() -> Coro<int> {
        EXPECT_TRUE(lock.locked());
        co_return 7;
    });
    EXPECT_EQ(r, 7);
    EXPECT_FALSE(lock.locked());
    // The body's exception propagates and the lock is released.
    bool threw = false;
    try {
        co_await async_with(lock, [&]() -> Coro<void> {
            co_await asyncio::sleep(0);
            throw std::invalid_argument("boom");
        });
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_FALSE(lock.locked());
}

namespace {
Coro<void> lockit_blocked(Lock* lock, Future<void> blocker) {
    co_await lock->acquire();
    std::exception_ptr err;
    try {
        if (blocker) co_await blocker;
    } catch (...) {
        err = std::current_exception();
    }
    lock->release();
    if (err) std::rethrow_exception(err);
}
}  // namespace

// parity #81: LockTests::test_cancel_race
ASYNCIO_TEST(Lock, WaiterCancelledAsItIsWokenPassesTheLockOn) {
    Lock lock;
    auto fa = asyncio::testing::loop().create_future<void>();
    auto ta = create_task(lockit_blocked(&lock, fa));
    co_await tick();
    EXPECT_TRUE(lock.locked());
    auto tb = create_task(lockit_blocked(&lock, {}));
    co_await tick();
    auto tc = create_task(lockit_blocked(&lock, {}));
    co_await tick();
    // A releases (when it runs), and B is cancelled in the same iteration.
    fa.set_result();
    tb.cancel();
    co_await tick();
    EXPECT_TRUE(ta.done());
    EXPECT_TRUE(co_await ends_cancelled(tb));
    co_await tc;  // C got the lock: the wake-up was not lost
    EXPECT_FALSE(lock.locked());
}

namespace {
Coro<void> count_lock(Lock* lock, int* calls, int* locks) {
    ++*calls;
    co_await lock->acquire();
    ++*locks;
}
Coro<void> lock_and_trigger(Lock* lock, Task<void>* t1) {
    co_await lock->acquire();
    get_running_loop().call_soon([lock, t1] {
        t1->cancel();
        lock->release();
    });
}
}  // namespace

// parity #81: LockTests::test_cancel_release_race
ASYNCIO_TEST(Lock, CancelThenReleaseInOneCallbackHandsTheLockToExactlyOneTask) {
    Lock lock;
    int calls = 0, locks = 0;
    Task<void> t1;
    auto t0 = create_task(lock_and_trigger(&lock, &t1));
    t1 = create_task(count_lock(&lock, &calls, &locks));
    auto t2 = create_task(count_lock(&lock, &calls, &locks));
    auto t3 = create_task(count_lock(&lock, &calls, &locks));
    co_await tick(3);
    EXPECT_TRUE(t0.done());
    EXPECT_EQ(locks, 1);
    EXPECT_EQ(calls, 3);
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.done());
    t3.cancel();
    EXPECT_TRUE(co_await ends_cancelled(t3));
}

// parity #81: LockTests::test_finished_waiter_cancelled
ASYNCIO_TEST(Lock, WokenWaiterCancelledBeforeItRunsDoesNotStrandTheNext) {
    Lock lock;
    auto ta = create_task(lock.acquire());
    co_await tick();
    EXPECT_TRUE(lock.locked());
    auto tb = create_task(lock.acquire());
    co_await tick();
    auto tc = create_task(lock.acquire());
    tb.cancel();
    lock.release();
    co_await tick();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(ta.done());
    EXPECT_TRUE(tb.cancelled());
    EXPECT_TRUE(co_await tc);
    lock.release();
}

namespace {
Coro<void> event_record(Event* ev, std::vector<int>* out, int n) {
    bool woke = co_await ev->wait();  // WORKAROUND(gcc-12): no co_await in an if condition
    if (woke) out->push_back(n);
}
}  // namespace

// parity #82: EventTests::test_wait
ASYNCIO_TEST(Event, SetWakesWaitersAfterTasksAlreadyScheduled) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    std::vector<int> result;
    auto t1 = create_task(event_record(&ev, &result, 1));
    auto t2 = create_task(event_record(&ev, &result, 2));
    co_await tick();
    EXPECT_TRUE(result.empty());
    auto t3 = create_task(event_record(&ev, &result, 3));
    ev.set();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{3, 1, 2}));
    EXPECT_TRUE(t1.done());
    EXPECT_TRUE(t2.done());
    EXPECT_TRUE(t3.done());
}

// parity #83: EventTests::test_clear_with_waiters
ASYNCIO_TEST(Event, WaiterWokenBySetStillWakesAfterClear) {
    Event ev;
    auto t = create_task(ev.wait());
    co_await tick();
    ev.set();
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    ev.set();
    ev.set();  // a second set() adds nothing
    EXPECT_TRUE(ev.is_set());
    co_await tick();
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.result());
    EXPECT_EQ(ev.waiters(), 0u);
}

// parity #83: EventTests::test_wait_cancel
ASYNCIO_TEST(Event, CancelledWaitLeavesNoWaiter) {
    Event ev;
    auto t = create_task(ev.wait());
    co_await tick();
    EXPECT_EQ(ev.waiters(), 1u);
    asyncio::testing::loop().call_soon([t] { t.cancel(); });
    EXPECT_TRUE(co_await ends_cancelled(t));
    EXPECT_EQ(ev.waiters(), 0u);
}

namespace {
Coro<bool> cond_record(Condition* cond, std::vector<int>* out, int n) {
    co_await cond->acquire();
    bool woke = co_await cond->wait();  // WORKAROUND(gcc-12): no co_await in an if condition
    if (woke) out->push_back(n);
    co_return true;
}
}  // namespace

// parity #84: ConditionTests::test_wait
ASYNCIO_TEST(Condition, NotifiedWaitersReacquireOneAtATimeInFifoOrder) {
    Condition cond;
    std::vector<int> result;
    auto t1 = create_task(cond_record(&cond, &result, 1));
    auto t2 = create_task(cond_record(&cond, &result, 2));
    auto t3 = create_task(cond_record(&cond, &result, 3));
    co_await tick();
    EXPECT_TRUE(result.empty());
    EXPECT_FALSE(cond.locked());

    EXPECT_TRUE(co_await cond.acquire());
    cond.notify();
    co_await tick();
    EXPECT_TRUE(result.empty()) << "notify() wakes no one until the lock is released";
    EXPECT_TRUE(cond.locked());

    cond.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    EXPECT_TRUE(cond.locked());

    cond.notify(2);
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    EXPECT_TRUE(cond.locked());

    cond.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    EXPECT_TRUE(cond.locked());

    cond.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(cond.locked());
    EXPECT_TRUE(t1.result() && t2.result() && t3.result());
    cond.release();
}

namespace {
Coro<void> cond_scoped_record(Condition* cond, std::vector<int>* out, int n) {
    auto g = co_await cond->acquire_scoped();
    bool woke = co_await cond->wait();  // WORKAROUND(gcc-12): no co_await in an if condition
    if (woke) out->push_back(n);
}
}  // namespace

// parity #85: ConditionTests::test_notify
ASYNCIO_TEST(Condition, NotifyWakesAtMostNWaiters) {
    Condition cond;
    std::vector<int> result;
    std::vector<Task<void>> ts;
    for (int i = 1; i <= 3; ++i) ts.push_back(create_task(cond_scoped_record(&cond, &result, i)));
    co_await tick();
    EXPECT_TRUE(result.empty());
    {
        auto g = co_await cond.acquire_scoped();
        cond.notify(1);
    }
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    {
        auto g = co_await cond.acquire_scoped();
        cond.notify(1);
        cond.notify(2048);
    }
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    for (auto& t : ts) co_await t;
}

// parity #85: ConditionTests::test_notify_all
ASYNCIO_TEST(Condition, NotifyAllWakesEveryWaiter) {
    Condition cond;
    std::vector<int> result;
    auto t1 = create_task(cond_scoped_record(&cond, &result, 1));
    auto t2 = create_task(cond_scoped_record(&cond, &result, 2));
    co_await tick();
    EXPECT_TRUE(result.empty());
    co_await async_with(cond, [&]() -> Coro<void> {
        cond.notify_all();
        co_return;
    });
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    co_await t1;
    co_await t2;
}

namespace {
Coro<bool> cond_wait_for_flag(Condition* cond, bool* flag, std::vector<int>* out) {
    co_await cond->acquire();
    bool ok = co_await cond->wait_for([flag] { return *flag; });
    if (ok) {
        out->push_back(1);
        cond->release();
    }
    co_return true;
}
}  // namespace

// parity #86: ConditionTests::test_wait_for
ASYNCIO_TEST(Condition, WaitForRechecksThePredicateAfterEveryWakeup) {
    Condition cond;
    bool presult = false;
    std::vector<int> result;
    auto t = create_task(cond_wait_for_flag(&cond, &presult, &result));
    co_await tick();
    EXPECT_TRUE(result.empty());
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await tick();
    EXPECT_TRUE(result.empty());
    presult = true;
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1}));
    EXPECT_TRUE(t.done() && t.result());
}

// parity #86: ConditionTests::test_wait_for_unacquired / test_wait_unacquired /
// test_notify_unacquired
ASYNCIO_TEST(Condition, WithoutTheLockOnlyAnAlreadyTruePredicateIsAllowed) {
    Condition cond;
    auto v = co_await cond.wait_for([] { return std::vector<int>{1, 2, 3}; });
    EXPECT_EQ(v, (std::vector<int>{1, 2, 3}));
    bool threw = false;
    try {
        co_await cond.wait_for([] { return false; });
    } catch (const RuntimeError&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    threw = false;
    try {
        co_await cond.wait();
    } catch (const RuntimeError& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "cannot wait on un-acquired lock");
    }
    EXPECT_TRUE(threw);
    EXPECT_THROW(cond.notify(), RuntimeError);
    EXPECT_THROW(cond.notify_all(), RuntimeError);
}

// Condition(lock) shares the lock (ConditionTests::test_explicit_lock).
ASYNCIO_TEST(Condition, SharesAnExplicitLock) {
    Lock lock;
    Condition a(lock), b(lock);
    co_await a.acquire();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(b.locked());
    b.release();
    EXPECT_FALSE(a.locked());
}

// parity #87: ConditionTests::test_wait_cancel
ASYNCIO_TEST(Condition, CancelledWaitReacquiresTheLockBeforeRaising) {
    Condition cond;
    co_await cond.acquire();
    auto w = create_task(cond.wait());
    asyncio::testing::loop().call_soon([w] { w.cancel(); });
    EXPECT_TRUE(co_await ends_cancelled(w));
    EXPECT_TRUE(cond.locked());
    cond.release();
}

namespace {
Coro<void> wait_for_wake(Condition* cond, bool* wake, std::exception_ptr* raised) {
    auto g = co_await cond->acquire_scoped();
    try {
        co_await cond->wait_for([wake] { return *wake; });
    } catch (const CancelledError&) {
        *raised = std::current_exception();
    }
    if (*raised) std::rethrow_exception(*raised);
}

Coro<std::exception_ptr> catch_cancel(Task<void> t) {
    try {
        co_await t;
    } catch (const CancelledError&) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

std::optional<std::string> cancel_message(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message();
    }
}
}  // namespace

// parity #87: ConditionTests::test_cancelled_error_wakeup
ASYNCIO_TEST(Condition, CancelWhileWaitingRaisesTheSameErrorWithItsMessage) {
    Condition cond;
    bool wake = false;
    std::exception_ptr raised;
    auto t = create_task(wait_for_wake(&cond, &wake, &raised));
    co_await tick();
    t.cancel("foo");
    std::exception_ptr got = co_await catch_cancel(t);
    EXPECT_TRUE(got);
    if (!got) co_return;
    EXPECT_EQ(cancel_message(got), std::optional<std::string>("foo"));
    EXPECT_TRUE(got == raised) << "the same CancelledError instance reaches the caller";
}

// parity #87: ConditionTests::test_cancelled_error_re_aquire
ASYNCIO_TEST(Condition, CancelWhileReacquiringRaisesTheSameErrorWithItsMessage) {
    Condition cond;
    bool wake = false;
    std::exception_ptr raised;
    auto t = create_task(wait_for_wake(&cond, &wake, &raised));
    co_await tick();
    co_await cond.acquire();
    wake = true;
    cond.notify();
    co_await tick();  // t now waits to re-acquire the lock
    t.cancel("foo");
    cond.release();
    std::exception_ptr got = co_await catch_cancel(t);
    EXPECT_TRUE(got);
    if (!got) co_return;
    EXPECT_EQ(cancel_message(got), std::optional<std::string>("foo"));
    EXPECT_TRUE(got == raised);
    EXPECT_FALSE(cond.locked());
}

namespace {
Coro<void> consumer(Condition* cond, int* state) {
    auto g = co_await cond->acquire_scoped();
    for (;;) {
        co_await cond->wait_for([state] { return *state != 0; });
        if (*state < 0) co_return;
        *state -= 1;
    }
}

Coro<void> cancelled_wakeup(bool relock) {
    Condition cond;
    int state = 0;
    std::vector<Task<void>> c;
    for (int i = 0; i < 2; ++i) c.push_back(create_task(consumer(&cond, &state)));
    co_await tick();
    {
        auto g = co_await cond.acquire_scoped();
        state += 1;
        cond.notify(1);
        if (relock) co_await tick();  // c[0] now waits for the lock
        c[0].cancel();
        // The item must be consumed: the notification passes to c[1].
        co_await finishes_within(cond.wait_for([&state] { return state == 0; }), 0.1);
        EXPECT_EQ(state, 0);
        state = -1;
        cond.notify_all();
    }
    co_await c[1];
    EXPECT_TRUE(co_await ends_cancelled(c[0]));
}
}  // namespace

// parity #87: ConditionTests::test_cancelled_wakeup
ASYNCIO_TEST(Condition, NotifyRacingWithCancelOfTheWokenWaiterIsNotLost) {
    co_await cancelled_wakeup(false);
}

// parity #87: ConditionTests::test_cancelled_wakeup_relock
ASYNCIO_TEST(Condition, CancelWhileRelockingAfterNotifyIsNotLost) {
    co_await cancelled_wakeup(true);
}

// parity #88: SemaphoreTests::test_acquire_cancel_before_awoken
ASYNCIO_TEST(Semaphore, CancelledWaitersDoNotConsumeTheReleasedPermit) {
    Semaphore sem(0);
    std::vector<Task<bool>> t;
    for (int i = 0; i < 4; ++i) t.push_back(create_task(sem.acquire()));
    co_await tick();
    t[0].cancel();
    t[1].cancel();
    sem.release();
    co_await tick(2);
    EXPECT_TRUE(t[2].done());
    EXPECT_FALSE(t[3].done());
    t[3].cancel();
    for (auto& x : t) (void)co_await ends_cancelled(x);
    EXPECT_TRUE(sem.locked());
}

// parity #88: SemaphoreTests::test_acquire_hang
ASYNCIO_TEST(Semaphore, CancelledFirstWaiterPassesThePermitToTheSecond) {
    Semaphore sem(0);
    auto t1 = create_task(sem.acquire());
    auto t2 = create_task(sem.acquire());
    co_await tick();
    t1.cancel();
    sem.release();
    co_await tick(2);
    EXPECT_TRUE(sem.locked());
    EXPECT_TRUE(t2.done());
    EXPECT_TRUE(co_await ends_cancelled(t1));
}

namespace {
Coro<bool> sem_record(Semaphore* sem, std::vector<int>* out, int n) {
    co_await sem->acquire();
    out->push_back(n);
    co_return true;
}
}  // namespace

// parity #88: SemaphoreTests::test_acquire_fifo_order_3
ASYNCIO_TEST(Semaphore, TwoReleasesAfterACancelWakeTheNextTwoInOrder) {
    Semaphore sem(0);
    std::vector<int> result;
    auto t1 = create_task(sem_record(&sem, &result, 1));
    auto t2 = create_task(sem_record(&sem, &result, 2));
    auto t3 = create_task(sem_record(&sem, &result, 3));
    co_await tick();
    t1.cancel();
    co_await tick();
    sem.release();
    sem.release();
    EXPECT_TRUE(co_await ends_cancelled(t1));
    co_await t2;
    co_await t3;
    EXPECT_EQ(result, (std::vector<int>{2, 3}));
    EXPECT_EQ(sem.value(), 0);
}

namespace {
Coro<void> twice(Semaphore* sem, std::vector<std::string>* out, std::string tag) {
    co_await sem->acquire();
    out->push_back(tag + "_1");
    co_await asyncio::sleep(0.01);
    sem->release();
    co_await sem->acquire();
    out->push_back(tag + "_2");
    co_await asyncio::sleep(0.01);
    sem->release();
}
}  // namespace

// parity #89: SemaphoreTests::test_acquire_fifo_order
ASYNCIO_TEST(Semaphore, ReleaseThenReacquireJoinsTheBackOfTheQueue) {
    Semaphore sem(1);
    std::vector<std::string> result;
    auto a = create_task(twice(&sem, &result, "c1"));
    auto b = create_task(twice(&sem, &result, "c2"));
    auto c = create_task(twice(&sem, &result, "c3"));
    co_await a;
    co_await b;
    co_await c;
    EXPECT_EQ(result, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
    EXPECT_EQ(sem.value(), 1);
}

// parity #90: SemaphoreTests::test_semaphore_value / test_release_not_acquired /
// test_initial_value_zero
ASYNCIO_TEST(Semaphore, RejectsNegativeValuesAndOverRelease) {
    EXPECT_THROW(Semaphore(-1), std::invalid_argument);
    EXPECT_THROW(BoundedSemaphore(-1), std::invalid_argument);
    EXPECT_TRUE(Semaphore(0).locked());
    BoundedSemaphore bsem(2);
    co_await bsem.acquire();
    bsem.release();
    try {
        bsem.release();
        ADD_FAILURE() << "over-release did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "BoundedSemaphore released too many times");
    }
    Semaphore sem(2);
    EXPECT_FALSE(sem.locked());
    co_await sem.acquire();
    co_await sem.acquire();
    EXPECT_TRUE(sem.locked());
    sem.release();
    sem.release();
    sem.release();  // an unbounded semaphore may grow
    EXPECT_EQ(sem.value(), 3);
    {
        auto g = co_await bsem.acquire_scoped();
        EXPECT_EQ(bsem.value(), 1);
    }
    EXPECT_EQ(bsem.value(), 2);
}

namespace {
Coro<void> barrier_twice(Barrier* b, std::vector<std::size_t>* r1, std::vector<std::size_t>* r2) {
    r1->push_back(co_await b->wait());
    r2->push_back(co_await b->wait());
}
}  // namespace

// parity #91: BarrierTests::test_filling_tasks_check_return_value / test_barrier_parties
ASYNCIO_TEST(Barrier, ArrivalIndicesArePermutationsAndTheBarrierRefills) {
    Barrier barrier(5);
    EXPECT_EQ(barrier.parties(), 5u);
    std::vector<std::size_t> r1, r2;
    std::vector<Task<void>> ts;
    for (int i = 0; i < 5; ++i) ts.push_back(create_task(barrier_twice(&barrier, &r1, &r2)));
    for (auto& t : ts) co_await t;
    std::vector<std::size_t> expect{0, 1, 2, 3, 4};
    std::sort(r1.begin(), r1.end());
    std::sort(r2.begin(), r2.end());
    EXPECT_EQ(r1, expect);
    EXPECT_EQ(r2, expect);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
    EXPECT_THROW(Barrier(0), std::invalid_argument);
    EXPECT_THROW(Barrier(-4), std::invalid_argument);
}

namespace {
Coro<void> barrier_once(Barrier* b, int* done) {
    co_await b->wait();
    ++*done;
}
}  // namespace

// parity #92: BarrierTests::test_filling_tasks_cancel_one
ASYNCIO_TEST(Barrier, CancelledWaiterLeavesAndTheRestStillTrip) {
    Barrier barrier(3);
    int done = 0;
    auto t1 = create_task(barrier_once(&barrier, &done));
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    auto t2 = create_task(barrier_once(&barrier, &done));
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2u);
    t1.cancel();
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    EXPECT_TRUE(co_await ends_cancelled(t1));
    auto t3 = create_task(barrier_once(&barrier, &done));
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2u);
    auto t4 = create_task(barrier_once(&barrier, &done));
    co_await t2;
    co_await t3;
    co_await t4;
    EXPECT_EQ(done, 3);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
}

namespace {
Coro<void> barrier_expect_broken(Barrier* b, int* broken) {
    try {
        co_await b->wait();
    } catch (const BrokenBarrierError&) {
        ++*broken;
    }
}
}  // namespace

// parity #93: BarrierTests::test_reset_barrier_while_tasks_waiting
ASYNCIO_TEST(Barrier, ResetBreaksCurrentWaitersAndLeavesTheBarrierUsable) {
    Barrier barrier(5);
    int broken = 0;
    std::vector<Task<void>> ts;
    for (int i = 0; i < 4; ++i) ts.push_back(create_task(barrier_expect_broken(&barrier, &broken)));
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 4u);
    auto r = create_task(barrier.reset());
    for (auto& t : ts) co_await t;
    co_await r;
    EXPECT_EQ(broken, 4);
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    // Not resetting any more: a full round passes.
    int done = 0;
    std::vector<Task<void>> round;
    for (int i = 0; i < 5; ++i) round.push_back(create_task(barrier_once(&barrier, &done)));
    for (auto& t : round) co_await t;
    EXPECT_EQ(done, 5);
}

namespace {
Coro<void> abort_on_middle(Barrier* b, int n, int* passed, int* broken) {
    bool failed = false;
    try {
        std::size_t i = co_await b->wait();
        if (static_cast<int>(i) == n / 2) throw std::runtime_error("middle");
        co_await b->wait();
        ++*passed;
    } catch (const BrokenBarrierError&) {
        ++*broken;
    } catch (const std::runtime_error&) {
        failed = true;
    }
    if (failed) co_await b->abort();
}
}  // namespace

// parity #93: BarrierTests::test_abort_barrier_when_exception
ASYNCIO_TEST(Barrier, AbortBreaksCurrentAndLaterWaiters) {
    constexpr int n = 5;
    Barrier barrier(n);
    int passed = 0, broken = 0;
    std::vector<Task<void>> ts;
    for (int i = 0; i < n; ++i)
        ts.push_back(create_task(abort_on_middle(&barrier, n, &passed, &broken)));
    for (auto& t : ts) co_await t;
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(passed, 0);
    EXPECT_EQ(broken, n - 1);
    bool threw = false;
    try {
        co_await barrier.wait();
    } catch (const BrokenBarrierError&) {
        threw = true;
    }
    EXPECT_TRUE(threw) << "a later waiter also gets BrokenBarrierError";
}

// --- cancellation sweeps (tests/support/cancel_harness.hpp) ---

namespace {

struct LockSweep {
    Lock lock;
    int counter = 0, victim_done = 0, others_done = 0;
    static constexpr int rounds = 3;
    Coro<void> incr(int* done) {
        for (int r = 0; r < rounds; ++r) {
            auto g = co_await lock.acquire_scoped();
            int c = counter;
            co_await asyncio::sleep(0);
            counter = c + 1;
            ++*done;
        }
    }
    Coro<void> victim() { return incr(&victim_done); }
    Coro<void> others() {
        auto a = create_task(incr(&others_done));
        auto b = create_task(incr(&others_done));
        co_await a;
        co_await b;
    }
    void check(bool) {
        EXPECT_FALSE(lock.locked());
        EXPECT_EQ(counter, victim_done + others_done) << "an increment was lost";
        EXPECT_EQ(others_done, 2 * rounds);
    }
};

template <class Sem>
struct SemaphoreSweep {
    Sem sem{2};
    int inside = 0, most = 0, others_done = 0;
    Coro<void> work(int rounds, int* done) {
        for (int r = 0; r < rounds; ++r) {
            auto g = co_await sem.acquire_scoped();
            most = std::max(most, ++inside);
            struct Leave {
                int* n;
                ~Leave() { --*n; }
            } leave{&inside};
            co_await asyncio::sleep(0);
            if (done) ++*done;
        }
    }
    Coro<void> victim() { return work(3, nullptr); }
    Coro<void> others() {
        auto a = create_task(work(3, &others_done));
        auto b = create_task(work(3, &others_done));
        auto c = create_task(work(3, &others_done));
        co_await a;
        co_await b;
        co_await c;
    }
    void check(bool) {
        EXPECT_EQ(sem.value(), 2) << "a permit was lost or duplicated";
        EXPECT_LE(most, 2);
        EXPECT_EQ(inside, 0);
        EXPECT_EQ(others_done, 9);
    }
};

struct EventSweep {
    Event ev;
    bool other_woke = false;
    Coro<void> victim() {
        co_await asyncio::sleep(0);
        co_await ev.wait();
    }
    Coro<void> others() {
        auto w = create_task([](EventSweep* s) -> Coro<void> {
            co_await s->ev.wait();
            s->other_woke = true;
        }(this));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        ev.set();
        co_await w;
    }
    void check(bool) {
        EXPECT_EQ(ev.waiters(), 0u);
        EXPECT_TRUE(other_woke);
    }
};

struct ConditionSweep {
    Condition cond;
    int items = 0, produced = 0, consumed_v = 0, consumed_o = 0;
    bool done = false;
    Coro<void> consume(int* mine) {
        auto g = co_await cond.acquire_scoped();
        for (;;) {
            co_await cond.wait_for([this] { return items > 0 || done; });
            if (items == 0) co_return;
            --items;
            ++*mine;
            co_await asyncio::sleep(0);  // work while holding the lock
        }
    }
    Coro<void> victim() { return consume(&consumed_v); }
    Coro<void> others() {
        auto c = create_task(consume(&consumed_o));
        for (int i = 0; i < 4; ++i) {
            co_await asyncio::sleep(0);
            auto g = co_await cond.acquire_scoped();
            ++items;
            ++produced;
            cond.notify(1);
        }
        {
            auto g = co_await cond.acquire_scoped();
            done = true;
            cond.notify_all();
        }
        co_await c;
    }
    void check(bool) {
        EXPECT_FALSE(cond.locked());
        EXPECT_EQ(items, 0);
        EXPECT_EQ(consumed_v + consumed_o, produced);
    }
};

struct BarrierSweep {
    Barrier barrier{3};
    int others_passed = 0;
    bool others_done = false;
    Coro<void> party(int* passed) {
        co_await barrier.wait();
        if (passed) ++*passed;
    }
    Coro<void> victim() { return party(nullptr); }
    Coro<void> others() {
        auto a = create_task(party(&others_passed));
        auto b = create_task(party(&others_passed));
        co_await a;
        co_await b;
        others_done = true;
    }
    Coro<void> after_victim(bool) {
        // The victim left before the barrier tripped: stand in for it.
        for (int i = 0; i < 10 && !others_done; ++i) {
            if (barrier.n_waiting() == 2) {
                co_await barrier.wait();
                break;
            }
            co_await asyncio::sleep(0);
        }
    }
    void check(bool) {
        EXPECT_EQ(others_passed, 2);
        EXPECT_EQ(barrier.n_waiting(), 0u);
        EXPECT_FALSE(barrier.broken());
    }
};

}  // namespace

TEST(CancelSweep, LockIsNeverLeftHeldAndNoIncrementIsLost) {
    EXPECT_GT(asyncio::testing::cancel_sweep<LockSweep>(), 5);
}
TEST(CancelSweep, SemaphoreNeverLosesOrDuplicatesAPermit) {
    EXPECT_GT(asyncio::testing::cancel_sweep<SemaphoreSweep<Semaphore>>(), 5);
}
TEST(CancelSweep, BoundedSemaphoreNeverLosesOrDuplicatesAPermit) {
    EXPECT_GT(asyncio::testing::cancel_sweep<SemaphoreSweep<BoundedSemaphore>>(), 5);
}
TEST(CancelSweep, EventLeavesNoWaiterBehind) {
    EXPECT_GT(asyncio::testing::cancel_sweep<EventSweep>(), 2);
}
TEST(CancelSweep, ConditionNeverLosesANotification) {
    EXPECT_GT(asyncio::testing::cancel_sweep<ConditionSweep>(), 5);
}
TEST(CancelSweep, BarrierStillTripsWhenAPartyIsCancelled) {
    EXPECT_GT(asyncio::testing::cancel_sweep<BarrierSweep>(), 2);
}

namespace {
struct Recorder {
    std::vector<std::string> log;
    bool swallow = false;
    Coro<void> aenter() {
        co_await asyncio::sleep(0);
        log.push_back("enter");
    }
    Coro<bool> aexit(std::exception_ptr e) {
        co_await asyncio::sleep(0);
        log.push_back(e ? "exit-error" : "exit");
        co_return swallow;
    }
};
struct VoidExit {
    int exits = 0;
    Coro<int> aenter() { co_return 41; }
    Coro<void> aexit(std::exception_ptr) {
        ++exits;
        co_return;
    }
};
}  // namespace

// Python: `async with cm: ...` runs __aexit__ on every exit; a true result swallows the error.
ASYNCIO_TEST(AsyncWith, ContextManagerExitRunsOnErrorAndMaySwallowIt) {
    Recorder r;
    co_await async_with(r, []() -> Coro<void> { co_return; });
    bool threw = false;
    try {
        co_await async_with(r, []() -> Coro<void> {
            throw std::invalid_argument("x");
            co_return;
        });
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    r.swallow = true;
    co_await async_with(r, []() -> Coro<void> {
        throw std::invalid_argument("swallowed");
        co_return;
    });
    EXPECT_EQ(r.log, (std::vector<std::string>{"enter", "exit", "enter", "exit-error", "enter",
                                               "exit-error"}));
    VoidExit v;
    int got = co_await async_with(v, [](int x) -> Coro<int> { co_return x + 1; });
    EXPECT_EQ(got, 42);
    EXPECT_EQ(v.exits, 1);
}

// CPython 3.13 Lock.release(): `self._locked = False; self._wake_up_first()`: the lock is free
// until the woken waiter runs and takes it, yet a new acquire() still queues behind it
// (python3.13: locked() False after release(), True once the waiter ran).
ASYNCIO_TEST(Lock, IsFreeRightAfterReleaseWithWaitersButNobodyBargesIn) {
    Lock lock;
    co_await lock.acquire();
    std::vector<int> order;
    auto waiter = create_task([](Lock* l, std::vector<int>* o) -> Coro<void> {
        co_await l->acquire();
        o->push_back(1);
        l->release();
    }(&lock, &order));
    co_await tick();
    lock.release();
    EXPECT_FALSE(lock.locked());
    EXPECT_THROW(lock.release(), RuntimeError);  // not acquired: nobody holds it now
    auto barger = create_task([](Lock* l, std::vector<int>* o) -> Coro<void> {
        co_await l->acquire();  // free, but a woken waiter is ahead: it waits
        o->push_back(2);
        l->release();
    }(&lock, &order));
    co_await waiter;
    co_await barger;
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_FALSE(lock.locked());
}

// CPython 3.13 Condition.wait() ends with `except BaseException: self._notify(1); raise`: a
// waiter cancelled before any notify still wakes one other waiter (a spurious wake-up).
ASYNCIO_TEST(Condition, ACancelledWaiterWakesAnotherWaiter) {
    Condition cond;
    int woken = 0;
    auto waits = [](Condition* c, int* w) -> Coro<void> {
        auto g = co_await c->acquire_scoped();
        co_await c->wait();
        ++*w;
    };
    auto a = create_task(waits(&cond, &woken));
    auto b = create_task(waits(&cond, &woken));
    co_await tick();
    a.cancel();
    EXPECT_TRUE(co_await ends_cancelled(a));
    co_await tick(2);
    EXPECT_TRUE(b.done()) << "the cancelled waiter must pass a wake-up to b";
    EXPECT_EQ(woken, 1);
    co_await b;
}

// Python's Semaphore has no upper bound (an int); here the value is a ptrdiff_t, and a
// release that would overflow it is a clear error, not undefined behaviour.
ASYNCIO_TEST(Semaphore, ReleaseBeyondPtrdiffMaxIsAClearError) {
    Semaphore sem(PTRDIFF_MAX);
    try {
        sem.release();
        ADD_FAILURE() << "no error";
    } catch (const std::overflow_error& e) {
        EXPECT_NE(std::string(e.what()).find("Semaphore released too many times"),
                  std::string::npos);
    }
    EXPECT_EQ(sem.value(), PTRDIFF_MAX);
    co_await sem.acquire();
    sem.release();
    EXPECT_EQ(sem.value(), PTRDIFF_MAX);
}

// A waiter's arrival is undone by a destructor: a waiting frame destroyed when its loop is
// closed leaves the count, so a later round still needs all its parties.
TEST(BarrierLifetime, WaitersDestroyedAtLoopCloseLeaveTheCount) {
    Barrier barrier(3);
    {
        auto loop = new_event_loop();
        int reports = 0;
        loop->set_exception_handler([&](EventLoop&, const ExceptionContext&) { ++reports; });
        loop->run_until_complete([](Barrier* b) -> Coro<void> {
            create_task(b->wait());
            create_task(b->wait());
            co_await asyncio::sleep(0);
            co_await asyncio::sleep(0);
        }(&barrier));
        EXPECT_EQ(barrier.n_waiting(), 2u);
        loop->close();
        EXPECT_EQ(reports, 2);
    }
    EXPECT_EQ(barrier.n_waiting(), 0u);
    auto loop = new_event_loop();
    int tripped = loop->run_until_complete([](Barrier* b) -> Coro<int> {
        auto t1 = create_task(b->wait());
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        bool early = t1.done();  // one party of three: must still wait
        auto t2 = create_task(b->wait());
        auto t3 = create_task(b->wait());
        co_await t1;
        co_await t2;
        co_await t3;
        co_return early ? -1 : 3;
    }(&barrier));
    EXPECT_EQ(tripped, 3);
    loop->close();
}
