// The loop's timer queue (detail): order by (deadline, scheduling order) whatever the mix of
// the FIFO run and the heap, O(1) removal from the run, purge; the table of timer kinds is
// whole before any code runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio/asyncio.hpp>
#include <asyncio/detail/timer_heap.hpp>
#include <random>
#include <vector>

using asyncio::detail::TimerHeap;
using asyncio::detail::TimerNode;

TEST(TimerHeap, PopsInDeadlineThenSchedulingOrderForAnyMix) {
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
        TimerHeap h;
        std::vector<TimerNode> nodes(500);
        std::vector<std::pair<std::int64_t, int>> expected;
        for (int i = 0; i < 500; ++i) {
            // mostly increasing deadlines (the run), some earlier ones (the heap), many ties
            std::int64_t when = (rng() % 4 == 0) ? rng() % 100 : 100 + i / 3;
            h.push(&nodes[i], when);
            expected.push_back({when, i});
        }
        // remove a random quarter
        std::vector<bool> removed(500, false);
        for (int k = 0; k < 125; ++k) {
            int i = rng() % 500;
            if (!removed[i]) {
                h.remove(&nodes[i]);
                removed[i] = true;
                EXPECT_FALSE(nodes[i].scheduled());
            }
        }
        std::stable_sort(expected.begin(), expected.end(),
                         [](auto& a, auto& b) { return a.first < b.first; });
        std::vector<int> got, want;
        for (auto& [w, i] : expected)
            if (!removed[i]) want.push_back(i);
        EXPECT_EQ(h.size(), want.size());
        while (!h.empty()) got.push_back(static_cast<int>(h.pop() - nodes.data()));
        EXPECT_EQ(got, want);
    }
}

TEST(TimerHeap, RemoveIfKeepsOrderAndTakeAllEmpties) {
    TimerHeap h;
    std::vector<TimerNode> nodes(100);
    for (int i = 0; i < 100; ++i) h.push(&nodes[i], i % 2 ? 1000 - i : i);
    h.remove_if([&](TimerNode* n) { return (n - nodes.data()) % 3 == 0; });
    std::int64_t last = -1;
    std::size_t count = 0;
    while (!h.empty()) {
        TimerNode* n = h.pop();
        EXPECT_NE((n - nodes.data()) % 3, 0);
        EXPECT_GE(n->when, last);
        last = n->when;
        ++count;
    }
    EXPECT_EQ(count, 66u);
    for (int i = 0; i < 10; ++i) h.push(&nodes[i], 5);
    auto all = h.take_all();
    EXPECT_EQ(all.size(), 10u);
    EXPECT_TRUE(h.empty());
    for (auto* n : all) EXPECT_FALSE(n->scheduled());
}

// The loop's purge frees a cancelled handle inside the predicate: remove_if must not touch
// a node once the predicate said to drop it (ASan caught a write after the free).
TEST(TimerHeap, RemoveIfLetsThePredicateFreeTheNodesItDrops) {
    TimerHeap h;
    std::vector<TimerNode*> nodes;
    for (int i = 0; i < 200; ++i) {
        nodes.push_back(new TimerNode());
        h.push(nodes.back(), i % 2 ? 1000 - i : i);  // both the run and the heap
    }
    h.remove_if([](TimerNode* n) {
        if (n->when % 2 == 0) return false;
        delete n;
        return true;
    });
    EXPECT_EQ(h.size(), 100u);
    while (!h.empty()) {
        TimerNode* n = h.pop();
        EXPECT_EQ(n->when % 2, 0);
        delete n;
    }
}

// The sequence number is 32 bits: before it could wrap, renumber() gives the live nodes
// 0, 1, 2... in their order. Ties on the deadline still pop in scheduling order across it.
TEST(TimerHeap, SchedulingOrderHoldsAcrossASequenceRenumbering) {
    TimerHeap h;
    TimerNode a, b, c, d;
    h.push(&a, 10);
    h.push(&b, 5);  // the heap
    h.set_next_seq_for_testing(TimerHeap::renumber_at + 7);
    h.push(&c, 10);  // seq 2^31 + 7: a plain compare still puts it after a
    EXPECT_TRUE(h.needs_renumber());
    h.renumber();
    EXPECT_FALSE(h.needs_renumber());
    EXPECT_EQ(h.next_seq(), 3u);
    h.push(&d, 10);
    EXPECT_EQ(h.pop(), &b);
    EXPECT_EQ(h.pop(), &a);
    EXPECT_EQ(h.pop(), &c);
    EXPECT_EQ(h.pop(), &d);
    EXPECT_TRUE(h.empty());
}

// 5M cancelled sleeps behind one long sleep once took +41 MB of holes in the FIFO run; the
// run is now linked through its nodes, and a removal unlinks at once.
TEST(TimerHeap, TimersRemovedBehindALongLivedOneLeaveTheRestInOrder) {
    TimerHeap h;
    TimerNode longest;
    h.push(&longest, 1'000'000);
    std::vector<TimerNode> nodes(100'000);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        h.push(&nodes[i], 2'000'000 + static_cast<std::int64_t>(i));
        h.remove(&nodes[i]);
        ASSERT_EQ(h.size(), 1u);
    }
    EXPECT_EQ(h.size(), 1u);
    // the survivors keep their order
    TimerNode x, y;
    h.push(&x, 3'000'000);
    for (auto& n : nodes) h.push(&n, 3'000'001);
    h.push(&y, 4'000'000);
    for (auto& n : nodes) h.remove(&n);
    EXPECT_EQ(h.pop(), &longest);
    EXPECT_EQ(h.pop(), &x);
    EXPECT_EQ(h.pop(), &y);
}

// A loop run by a global constructor. This file's constructors run before the library's own
// (they come first in the link), so a timer table filled in at static initialization was
// still empty here, and the sleeping task's timer fired through a null function.
namespace {
asyncio::Coro<int> sleep_then(int v) {
    co_await asyncio::sleep(0.001);
    auto t = asyncio::create_task(asyncio::sleep(0.001));
    co_await t;
    co_return v;
}
const int result_of_a_loop_run_before_main = asyncio::run(sleep_then(42));
}  // namespace

TEST(TimerKinds, ASleepingTaskInALoopRunFromAGlobalConstructorWakesUp) {
    EXPECT_EQ(result_of_a_loop_run_before_main, 42);
    ASSERT_NE(asyncio::detail::timer_kinds[TimerNode::task_sleep], nullptr);
    EXPECT_NE(asyncio::detail::timer_kinds[TimerNode::task_sleep]->fire, nullptr);
}
