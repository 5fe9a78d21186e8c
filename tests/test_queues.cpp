// Queue, LifoQueue, PriorityQueue: parity #94–#100 (docs/parity.md L), move-only items, and the
// cancellation sweeps of getters and putters.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "asyncio_test.hpp"
#include "cancel_harness.hpp"
#include "counted.hpp"

using namespace asyncio;

namespace {

Coro<void> tick(int n = 1) {
    for (int i = 0; i < n; ++i) co_await asyncio::sleep(0);
}

template <class T>
Coro<bool> ends_cancelled(Task<T> t) {
    try {
        co_await t;
    } catch (const CancelledError&) {
        co_return true;
    }
    co_return false;
}

template <class T>
Coro<bool> raises_shutdown(Coro<T> c) {
    try {
        co_await std::move(c);
    } catch (const QueueShutDown&) {
        co_return true;
    }
    co_return false;
}

Coro<bool> put_three(Queue<int>* q, std::vector<int>* put) {
    for (int i = 0; i < 3; ++i) {
        co_await q->put(i);
        put->push_back(i);
    }
    co_return true;
}

template <class Q>
std::vector<int> order_of(Q& q) {
    for (int i : {1, 3, 2}) q.put_nowait(i);
    std::vector<int> out;
    while (!q.empty()) out.push_back(q.get_nowait());
    return out;
}

}  // namespace

// parity #94: QueueBasicTests::test_maxsize
ASYNCIO_TEST(Queue, PutterBlocksWhenFullAndResumesAfterAGet) {
    Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2);
    std::vector<int> put;
    auto t = create_task(put_three(&q, &put));
    co_await tick(2);
    EXPECT_EQ(put, (std::vector<int>{0, 1}));
    EXPECT_TRUE(q.full());
    EXPECT_EQ(co_await q.get(), 0);
    co_await tick();
    EXPECT_EQ(put, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.result());
}

// parity #94: QueueBasicTests::test_order, LifoQueueTests::test_order,
// PriorityQueueTests::test_order
ASYNCIO_TEST(Queue, FifoLifoAndPriorityOrders) {
    Queue<int> q;
    LifoQueue<int> lq;
    PriorityQueue<int> pq;
    EXPECT_EQ(order_of(q), (std::vector<int>{1, 3, 2}));
    EXPECT_EQ(order_of(lq), (std::vector<int>{2, 3, 1}));
    EXPECT_EQ(order_of(pq), (std::vector<int>{1, 2, 3}));
    PriorityQueue<std::pair<int, std::string>> named;
    named.put_nowait({2, "medium"});
    named.put_nowait({1, "high"});
    named.put_nowait({3, "low"});
    EXPECT_EQ(named.get_nowait().second, "high");
    EXPECT_EQ(named.get_nowait().second, "medium");
    EXPECT_EQ(named.get_nowait().second, "low");
    PriorityQueue<int, std::greater<int>> maxfirst;
    EXPECT_EQ(order_of(maxfirst), (std::vector<int>{3, 2, 1}));
    co_return;
}

// parity #95: QueueGetTests::test_nonblocking_get_exception,
// QueuePutTests::test_nonblocking_put_exception
ASYNCIO_TEST(Queue, NowaitOperationsRaiseQueueEmptyAndQueueFull) {
    Queue<int> q(1);
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
    q.put_nowait(1);
    EXPECT_THROW(q.put_nowait(2), QueueFull);
    EXPECT_EQ(q.qsize(), 1u);
    co_return;
}

// parity #96: QueuePutTests::test_get_cancel_drop_one_pending_reader
ASYNCIO_TEST(Queue, CancelledWokenReaderDropsNoItem) {
    Queue<int> q;
    auto reader = create_task(q.get());
    co_await tick();
    q.put_nowait(1);
    q.put_nowait(2);
    reader.cancel();
    int result = -1;
    bool was_cancelled = co_await ends_cancelled(reader);
    if (was_cancelled) {
        auto again = create_task(q.get());
        result = co_await again;
    } else {
        result = reader.result();
    }
    EXPECT_EQ(result, 1) << "getting 2 would mean 1 was dropped";
    EXPECT_EQ(q.qsize(), 1u);
}

// parity #97: QueuePutTests::test_put_cancel_drop
ASYNCIO_TEST(Queue, CancelledPutterNeverInsertsItsItem) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto writer = create_task(q.put(2));
    co_await tick();
    EXPECT_EQ(q.get_nowait(), 1);
    writer.cancel();
    bool was_cancelled = co_await ends_cancelled(writer);
    if (was_cancelled) {
        auto again = create_task(q.put(2));
        co_await again;
    }
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_EQ(q.qsize(), 0u);
}

// parity #97: QueuePutTests::test_put_cancelled_race
ASYNCIO_TEST(Queue, CancelledPutterAmongBlockedPuttersIsSkipped) {
    Queue<std::string> q(1);
    auto put_a = create_task(q.put("a"));
    auto put_b = create_task(q.put("b"));
    auto put_c = create_task(q.put("X"));
    co_await tick();
    EXPECT_TRUE(put_a.done());
    EXPECT_FALSE(put_b.done());
    put_c.cancel();
    co_await tick();
    EXPECT_TRUE(put_c.done());
    EXPECT_EQ(q.get_nowait(), "a");
    co_await tick();
    EXPECT_EQ(q.get_nowait(), "b");
    co_await put_b;
    EXPECT_TRUE(q.empty());
    EXPECT_TRUE(co_await ends_cancelled(put_c));
}

// parity #98: QueueGetTests::test_get_cancelled_race
ASYNCIO_TEST(Queue, ItemGoesToTheSecondGetterWhenTheFirstWasCancelled) {
    Queue<std::string> q;
    auto t1 = create_task(q.get());
    auto t2 = create_task(q.get());
    co_await tick();
    t1.cancel();
    co_await tick();
    EXPECT_TRUE(t1.done());
    co_await q.put("a");
    co_await tick();
    EXPECT_TRUE(t2.done());
    EXPECT_EQ(t2.result(), "a");
    EXPECT_TRUE(co_await ends_cancelled(t1));
}

// parity #98: QueueGetTests::test_get_with_waiting_putters
ASYNCIO_TEST(Queue, BlockedPuttersAreServedInFifoOrder) {
    Queue<std::string> q(1);
    auto a = create_task(q.put("a"));
    auto b = create_task(q.put("b"));
    co_await tick();
    EXPECT_EQ(co_await q.get(), "a");
    EXPECT_EQ(co_await q.get(), "b");
    co_await a;
    co_await b;
}

// parity #98: QueueGetTests::test_cancelled_getters_not_being_held_in_self_getters
ASYNCIO_TEST(Queue, TimedOutGetLeavesNoGetterRegistered) {
    Queue<int> q(5);
    bool timed_out = false;
    try {
        co_await asyncio::wait_for(q.get(), 0.1);
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(q.waiting_getters(), 0u);
}

// parity #99: _QueueJoinTestMixin::test_task_done_underflow / test_join_empty_queue
ASYNCIO_TEST(Queue, TaskDoneTooOftenRaisesAndJoinOnEmptyReturnsAtOnce) {
    Queue<int> q;
    try {
        q.task_done();
        ADD_FAILURE() << "task_done() on a fresh queue did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "task_done() called too many times");
    }
    double t0 = asyncio::testing::loop().time();
    co_await q.join();
    q.put_nowait(1);
    EXPECT_EQ(q.get_nowait(), 1);
    q.task_done();
    co_await q.join();
    EXPECT_EQ(asyncio::testing::loop().time(), t0);
}

namespace {
Coro<void> sum_worker(Queue<int>* q, long* acc, bool* running) {
    while (*running) {
        int item = co_await q->get();
        *acc += item;
        q->task_done();
    }
}
}  // namespace

// parity #99: _QueueJoinTestMixin::test_task_done
ASYNCIO_TEST(Queue, JoinReturnsOnceEveryItemIsTaskDone) {
    Queue<int> q;
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    long acc = 0;
    bool running = true;
    auto w1 = create_task(sum_worker(&q, &acc, &running));
    auto w2 = create_task(sum_worker(&q, &acc, &running));
    co_await q.join();
    EXPECT_EQ(acc, 4950);
    running = false;
    q.put_nowait(0);
    q.put_nowait(0);
    co_await w1;
    co_await w2;
}

// parity #100: _QueueShutdownTestMixin::test_shutdown_empty
ASYNCIO_TEST(QueueShutdown, WakesPendingGettersAndRefusesEverything) {
    Queue<std::string> q;
    auto get_task = create_task(q.get());
    co_await tick();
    q.shutdown();
    EXPECT_EQ(q.qsize(), 0u);
    co_await q.join();
    co_await tick();
    EXPECT_TRUE(get_task.done());
    bool raised = false;
    try {
        co_await get_task;
    } catch (const QueueShutDown& e) {
        raised = true;
        EXPECT_STREQ(e.what(), "Queue is shut down");
    }
    EXPECT_TRUE(raised);
    EXPECT_TRUE(co_await raises_shutdown(q.put("data")));
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_TRUE(co_await raises_shutdown(q.get()));
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
}

// parity #100: _QueueShutdownTestMixin::test_shutdown_nonempty
ASYNCIO_TEST(QueueShutdown, StillHandsOutItsItemsThenRaises) {
    Queue<std::string> q;
    q.put_nowait("data");
    q.shutdown();
    EXPECT_EQ(q.qsize(), 1u);
    auto join_task = create_task(q.join());
    co_await tick();
    EXPECT_FALSE(join_task.done());
    EXPECT_TRUE(co_await raises_shutdown(q.put("data")));
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_EQ(co_await q.get(), "data");
    co_await tick();
    EXPECT_FALSE(join_task.done());
    EXPECT_TRUE(co_await raises_shutdown(q.put("data")));
    EXPECT_TRUE(co_await raises_shutdown(q.get()));
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
    q.task_done();
    co_await tick();
    EXPECT_TRUE(join_task.done());
    co_await join_task;
    EXPECT_THROW(q.task_done(), std::invalid_argument);
}

// parity #100: _QueueShutdownTestMixin::test_shutdown_immediate
ASYNCIO_TEST(QueueShutdown, ImmediateDropsItemsAndCountsThemDone) {
    Queue<std::string> q;
    q.put_nowait("data");
    q.shutdown(/*immediate=*/true);
    EXPECT_EQ(q.qsize(), 0u);
    co_await q.join();
    EXPECT_TRUE(co_await raises_shutdown(q.put("data")));
    EXPECT_THROW(q.put_nowait("data"), QueueShutDown);
    EXPECT_TRUE(co_await raises_shutdown(q.get()));
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
    EXPECT_THROW(q.task_done(), std::invalid_argument);
}

// parity #100: _QueueShutdownTestMixin::test_shutdown_immediate_with_unfinished
ASYNCIO_TEST(QueueShutdown, ImmediateStillWaitsForItemsAlreadyTaken) {
    Queue<std::string> q;
    q.put_nowait("data");
    q.put_nowait("data");
    EXPECT_EQ(co_await q.get(), "data");
    q.shutdown(true);
    EXPECT_EQ(q.qsize(), 0u);
    auto join_task = create_task(q.join());
    co_await tick();
    EXPECT_FALSE(join_task.done());
    q.task_done();
    co_await tick();
    EXPECT_TRUE(join_task.done());
    co_await join_task;
    EXPECT_THROW(q.task_done(), std::invalid_argument);
}

// parity #100: blocked putters get QueueShutDown (test_shutdown_put / _putters).
ASYNCIO_TEST(QueueShutdown, BlockedPuttersRaise) {
    Queue<int> q(1);
    q.put_nowait(1);
    auto p = create_task(q.put(2));
    co_await tick();
    EXPECT_EQ(q.waiting_putters(), 1u);
    q.shutdown();
    bool raised = false;
    try {
        co_await p;
    } catch (const QueueShutDown&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(q.get_nowait(), 1);
}

// Move-only items go through put/get and the nowait forms; nothing is copied.
ASYNCIO_TEST(Queue, MoveOnlyItemsAreNeverCopied) {
    Queue<std::unique_ptr<int>> q(1);
    co_await q.put(std::make_unique<int>(7));
    auto getter = create_task(q.get());
    auto p = co_await getter;  // a Task of a move-only value hands it out once
    EXPECT_EQ(*p, 7);
    using asyncio::testing::Counted;
    Counted::reset();
    {
        LifoQueue<Counted> lq;
        PriorityQueue<std::pair<int, std::unique_ptr<int>>> pq;
        lq.put_nowait(Counted(1));
        co_await lq.put(Counted(2));
        EXPECT_EQ((co_await lq.get()).id, 2);
        EXPECT_EQ(lq.get_nowait().id, 1);
        pq.put_nowait({2, std::make_unique<int>(2)});
        pq.put_nowait({1, std::make_unique<int>(1)});
        EXPECT_EQ(*pq.get_nowait().second, 1);
        Queue<Counted> left;
        left.put_nowait(Counted(3));  // destroyed with the queue
    }
    EXPECT_EQ(Counted::copied, 0);
    EXPECT_EQ(Counted::alive(), 0);
}

// --- cancellation sweeps ---

namespace {

/// The victim is a getter (of up to 3 items); a producer feeds 5 items through Queue(1) to it
/// and to another consumer. Every item must be received exactly once.
struct GetterSweep {
    Queue<int> q{1};
    std::vector<int> victim_got, other_got;
    bool producer_done = false;
    Coro<void> victim() {
        for (int i = 0; i < 3; ++i) {
            co_await asyncio::sleep(0);
            victim_got.push_back(co_await q.get());
        }
    }
    Coro<void> others() {
        auto consumer = create_task([](GetterSweep* s) -> Coro<void> {
            for (;;) {
                int v = co_await s->q.get();
                if (v < 0) co_return;
                s->other_got.push_back(v);
                co_await asyncio::sleep(0);
            }
        }(this));
        for (int i = 0; i < 5; ++i) co_await q.put(i);
        producer_done = true;
        co_await consumer;
    }
    Coro<void> after_victim(bool) {
        // The victim is done: once the producer is too, stop the other consumer.
        while (!producer_done) co_await asyncio::sleep(0);
        co_await q.put(-1);
    }
    void check(bool) {
        std::vector<int> all = victim_got;
        all.insert(all.end(), other_got.begin(), other_got.end());
        std::sort(all.begin(), all.end());
        EXPECT_EQ(all, (std::vector<int>{0, 1, 2, 3, 4})) << "an item was lost or duplicated";
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.waiting_getters(), 0u);
        EXPECT_EQ(q.waiting_putters(), 0u);
    }
};

/// The victim is a putter competing with a producer on a full Queue(1); each of its items
/// must arrive exactly once if its put() completed, and never otherwise.
struct PutterSweep {
    Queue<int> q{1};
    int victim_puts = 0;
    bool producer_done = false;
    std::vector<int> got;
    Coro<void> victim() {
        for (int i = 0; i < 3; ++i) {
            co_await q.put(100 + i);
            ++victim_puts;
            co_await asyncio::sleep(0);
        }
    }
    Coro<void> others() {
        auto consumer = create_task([](PutterSweep* s) -> Coro<void> {
            for (;;) {
                int v = co_await s->q.get();
                if (v < 0) co_return;
                s->got.push_back(v);
                co_await asyncio::sleep(0);
            }
        }(this));
        for (int i = 0; i < 4; ++i) co_await q.put(i);
        producer_done = true;
        co_await consumer;
    }
    Coro<void> after_victim(bool) {
        while (!producer_done) co_await asyncio::sleep(0);
        co_await q.put(-1);
    }
    void check(bool) {
        for (int i = 0; i < 3; ++i) {
            int n = static_cast<int>(std::count(got.begin(), got.end(), 100 + i));
            EXPECT_EQ(n, i < victim_puts ? 1 : 0) << "the victim's item was lost or duplicated";
        }
        std::vector<int> rest;
        for (int v : got)
            if (v < 100) rest.push_back(v);
        EXPECT_EQ(rest, (std::vector<int>{0, 1, 2, 3}));
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.waiting_putters(), 0u);
    }
};

/// The victim joins the queue while a worker drains it.
struct JoinSweep {
    Queue<int> q;
    int done = 0;
    Coro<void> victim() { co_await q.join(); }
    Coro<void> others() {
        for (int i = 0; i < 3; ++i) q.put_nowait(i);
        for (int i = 0; i < 3; ++i) {
            co_await q.get();
            co_await asyncio::sleep(0);
            q.task_done();
            ++done;
        }
        co_await q.join();
    }
    void check(bool) {
        EXPECT_EQ(done, 3);
        EXPECT_EQ(q.unfinished_tasks(), 0u);
    }
};

}  // namespace

TEST(CancelSweep, QueueGetterNeverLosesOrDuplicatesAnItem) {
    EXPECT_GT(asyncio::testing::cancel_sweep<GetterSweep>(), 3);
}
TEST(CancelSweep, QueuePutterInsertsItsItemExactlyOnceOrNever) {
    EXPECT_GT(asyncio::testing::cancel_sweep<PutterSweep>(), 3);
}
TEST(CancelSweep, QueueJoinLeavesNothingBehind) {
    EXPECT_GT(asyncio::testing::cancel_sweep<JoinSweep>(), 1);
}
