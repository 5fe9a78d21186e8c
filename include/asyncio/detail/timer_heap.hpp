// The loop's timers: intrusive nodes ordered by (deadline, sequence).
//
// Equal deadlines fire in the order they were scheduled (the sequence number breaks ties).
// A node lives inside its owner (a task's sleep, a TimerHandle), with no allocation of its
// own. Two structures share the work: a FIFO run of nodes whose deadlines never decrease
// (the common case: the same delay from the same iteration clock, timeouts), a list linked
// through the nodes, where push, pop and removal are O(1) and a node costs nothing more;
// and a binary min-heap (one pointer a node) for the rest. The earliest timer is the
// smaller of the two fronts. Removal from the heap is O(log n) (each node knows its index);
// TimerHandle::cancel() only marks the handle and the loop purges cancelled handles when
// they are more than half of the timers (CPython's rule).
//
// Measured (W1g, 1M sleeping tasks gathered, peak RSS): a run of pointers in a deque took 8
// bytes a sleeping task, 161,172 -> 152,976 KiB without it; and W1 (callgrind, marginal
// instructions) 1,397.7 -> 1,328.8 a sleeping task. A sleeping task lends the node's
// links its place in the loop's list of tasks, which it leaves while asleep (TaskCore). A
// handle's node carries the two links as well: every HandleCore is 16 bytes larger, timer
// or not (one idle connection's reader handle included).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "asyncio/detail/ready_queue.hpp"

namespace asyncio::detail {

struct TimerNode {
    static constexpr std::uint32_t npos = 0x3fffffffu;
    enum Kind : std::uint32_t { handle = 0, task_sleep = 1 };

    std::int64_t when = 0;  // loop clock, nanoseconds
    std::uint32_t seq = 0;  // scheduling order (see TimerHeap::renumber())
    // Heap index (0 in the run); npos: not scheduled.
    std::uint32_t index : 30 = npos;
    std::uint32_t in_run : 1 = 0;
    std::uint32_t kind : 1 = handle;
    // In the run: the neighbours (null at its ends). Unused in the heap.
    TimerNode* prev = nullptr;
    TimerNode* next = nullptr;

    bool scheduled() const noexcept { return index != npos; }
};
static_assert(sizeof(TimerNode) == 32);

/// How the loop fires a due timer whose kind is not `handle` (handles are the loop's own):
/// it queues `fire` with the node's owner, found `offset` bytes before the node. Each kind is
/// a constant defined beside its owner (task_sleep_timer: tasks.cpp, for TaskCore), so that
/// the loop knows no timer owner but its handles, and the table is complete before any code
/// runs: it is constant-initialized, and a loop run from a global constructor finds it
/// whole. Cost: three loads per fired timer, where the loop used to name the task's thunk
/// directly and call out of line for the node's offset; measured (callgrind, release,
/// marginal instructions): W1 1,385.7 -> 1,378.7 a sleeping task, W4 1,207.0 -> 1,207.0 a
/// round trip.
struct TimerKind {
    ReadyFn fire = nullptr;
    std::size_t offset = 0;
    /// The object whose timer `n` is (a node of this kind).
    void* owner(TimerNode* n) const noexcept { return reinterpret_cast<char*>(n) - offset; }
};
extern const TimerKind task_sleep_timer;  // tasks.cpp
/// By TimerNode::Kind (the `handle` entry is unused).
inline constexpr const TimerKind* timer_kinds[2] = {nullptr, &task_sleep_timer};

class TimerHeap {
  public:
    bool empty() const noexcept { return heap_.empty() && run_live_ == 0; }
    std::size_t size() const noexcept { return heap_.size() + run_live_; }
    /// The earliest timer (not empty()).
    TimerNode* top() const noexcept {
        TimerNode* r = run_head_;
        if (heap_.empty()) return r;
        if (!r) return heap_.front();
        return less(heap_.front(), r) ? heap_.front() : r;
    }

    void push(TimerNode* n, std::int64_t when) {
        n->when = when;
        n->seq = next_seq_++;
        reinsert(n);
    }

    /// The sequence number the next push() gets.
    std::uint32_t next_seq() const noexcept { return next_seq_; }
    /// Scheduling order: a was scheduled before b.
    static bool seq_before(std::uint32_t a, std::uint32_t b) noexcept { return a < b; }

    /// Sequence numbers are plain 32-bit counters compared as such, which keeps a node at 16
    /// bytes (a task carries one). Before the counter could wrap, the loop calls renumber()
    /// between iterations: the live nodes get 0, 1, 2... in their order, so the order holds
    /// for the life of the process. It costs O(n log n) once every 2^31 timers.
    static constexpr std::uint32_t renumber_at = std::uint32_t{1} << 31;
    bool needs_renumber() const noexcept { return next_seq_ >= renumber_at; }
    void renumber() {
        std::vector<TimerNode*> all(heap_.begin(), heap_.end());
        for (TimerNode* n = run_head_; n; n = n->next) all.push_back(n);
        std::sort(all.begin(), all.end(),
                  [](const TimerNode* a, const TimerNode* b) { return a->seq < b->seq; });
        for (std::size_t i = 0; i < all.size(); ++i) all[i]->seq = static_cast<std::uint32_t>(i);
        next_seq_ = static_cast<std::uint32_t>(all.size());
    }
    /// Calls `f(node)` for every node, the heap's first, then the run's in order.
    template <class F>
    void for_each(F&& f) const {
        for (TimerNode* n : heap_) f(n);
        for (TimerNode* n = run_head_; n; n = n->next) f(n);
    }
    /// Tests: makes the next push() get `seq` (renumber() is due past renumber_at).
    void set_next_seq_for_testing(std::uint32_t seq) noexcept { next_seq_ = seq; }

    /// Puts in a node with its deadline and sequence number already set (push(), or a node
    /// taken out with pop() going back).
    void reinsert(TimerNode* n) {
        if (run_live_ == 0 || !less(n, run_tail_)) {
            run_push(n);
            return;
        }
        n->in_run = 0;
        n->index = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(n);
        sift_up(n->index);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = top();
        remove(n);
        return n;
    }

    void remove(TimerNode* n) noexcept {
        if (!n->scheduled()) return;
        if (n->in_run)
            run_remove(n);
        else
            remove_at(n->index);
    }

    /// Removes every node for which `drop(node)` is true, then rebuilds: O(n). drop() may
    /// free the node it drops (a purged handle); it finds the node unscheduled.
    template <class Pred>
    void remove_if(Pred drop) {
        TimerNode* n = run_head_;
        run_head_ = run_tail_ = nullptr;
        run_live_ = 0;
        while (n) {
            TimerNode* next = n->next;
            n->index = TimerNode::npos;
            n->in_run = 0;
            if (!drop(n)) run_push(n);  // in order: the run stays a run
            n = next;
        }
        std::size_t j = 0;
        for (std::size_t i = 0; i < heap_.size(); ++i) {
            TimerNode* h = heap_[i];
            h->index = TimerNode::npos;  // before drop(), which may free the node
            if (!drop(h)) {
                heap_[j] = h;
                h->index = static_cast<std::uint32_t>(j);
                ++j;
            }
        }
        heap_.resize(j);
        for (std::size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
    }

    /// Takes every node out (closed loop); the caller disposes of them.
    std::vector<TimerNode*> take_all() {
        std::vector<TimerNode*> all = std::move(heap_);
        heap_.clear();
        for (TimerNode* n = run_head_; n; n = n->next) all.push_back(n);
        run_head_ = run_tail_ = nullptr;
        run_live_ = 0;
        for (TimerNode* n : all) {
            n->index = TimerNode::npos;
            n->in_run = 0;
        }
        return all;
    }

  private:
    void run_push(TimerNode* n) noexcept {
        n->in_run = 1;
        n->index = 0;
        n->prev = run_tail_;
        n->next = nullptr;
        if (run_tail_)
            run_tail_->next = n;
        else
            run_head_ = n;
        run_tail_ = n;
        ++run_live_;
    }
    void run_remove(TimerNode* n) noexcept {
        (n->prev ? n->prev->next : run_head_) = n->next;
        (n->next ? n->next->prev : run_tail_) = n->prev;
        n->index = TimerNode::npos;
        n->in_run = 0;
        --run_live_;
    }

    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }
    void place(std::size_t i, TimerNode* n) noexcept {
        heap_[i] = n;
        n->index = static_cast<std::uint32_t>(i);
    }
    void sift_up(std::size_t i) noexcept {
        TimerNode* n = heap_[i];
        while (i > 0) {
            std::size_t p = (i - 1) / 2;
            if (!less(n, heap_[p])) break;
            place(i, heap_[p]);
            i = p;
        }
        place(i, n);
    }
    void sift_down(std::size_t i) noexcept {
        TimerNode* n = heap_[i];
        std::size_t sz = heap_.size();
        for (;;) {
            std::size_t c = 2 * i + 1;
            if (c >= sz) break;
            if (c + 1 < sz && less(heap_[c + 1], heap_[c])) ++c;
            if (!less(heap_[c], n)) break;
            place(i, heap_[c]);
            i = c;
        }
        place(i, n);
    }
    void remove_at(std::size_t i) noexcept {
        TimerNode* n = heap_[i];
        n->index = TimerNode::npos;
        TimerNode* last = heap_.back();
        heap_.pop_back();
        if (i < heap_.size()) {
            place(i, last);
            if (i > 0 && less(last, heap_[(i - 1) / 2]))
                sift_up(i);
            else
                sift_down(i);
        }
    }

    std::vector<TimerNode*> heap_;
    // The FIFO run: a list through the nodes, oldest first.
    TimerNode* run_head_ = nullptr;
    TimerNode* run_tail_ = nullptr;
    std::size_t run_live_ = 0;
    std::uint32_t next_seq_ = 0;
};

}  // namespace asyncio::detail
