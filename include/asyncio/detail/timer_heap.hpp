// The loop's timers: intrusive nodes ordered by (deadline, sequence).
//
// Equal deadlines fire in the order they were scheduled (the sequence number breaks ties).
// A node lives inside its owner (a task's sleep, a TimerHandle), so a timer costs one
// pointer and no allocation of its own. Two structures share the work: a FIFO run of nodes
// whose deadlines never decrease (the common case: the same delay from the same iteration
// clock, timeouts), where push and pop are O(1), and a binary min-heap for the rest. The
// earliest timer is the smaller of the two fronts. Each node knows where it is, so removal
// is O(1) from the run (a hole) and O(log n) from the heap; TimerHandle::cancel() only
// marks the handle and the loop purges cancelled handles when they are more than half of
// the timers (CPython's rule).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "asyncio/detail/ready_queue.hpp"

namespace asyncio::detail {

struct TimerNode {
    static constexpr std::uint32_t npos = 0x3fffffffu;
    enum Kind : std::uint32_t { handle = 0, task_sleep = 1 };

    std::int64_t when = 0;  // loop clock, nanoseconds
    std::uint32_t seq = 0;  // scheduling order (see TimerHeap::renumber())
    // Heap index, or (in_run) the position in the FIFO run modulo 2^30; npos: not scheduled.
    std::uint32_t index : 30 = npos;
    std::uint32_t in_run : 1 = 0;
    std::uint32_t kind : 1 = handle;

    bool scheduled() const noexcept { return index != npos; }
};
static_assert(sizeof(TimerNode) == 16);

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
        TimerNode* r = run_live_ ? run_.front() : nullptr;
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
        for (TimerNode* n : run_)
            if (n) all.push_back(n);
        std::sort(all.begin(), all.end(),
                  [](const TimerNode* a, const TimerNode* b) { return a->seq < b->seq; });
        for (std::size_t i = 0; i < all.size(); ++i) all[i]->seq = static_cast<std::uint32_t>(i);
        next_seq_ = static_cast<std::uint32_t>(all.size());
    }
    /// Slots the FIFO run takes, holes included (tests: holes are squeezed out).
    std::size_t run_slots() const noexcept { return run_.size(); }
    /// Tests: makes the next push() get `seq` (renumber() is due past renumber_at).
    void set_next_seq_for_testing(std::uint32_t seq) noexcept { next_seq_ = seq; }

    /// Puts in a node with its deadline and sequence number already set (push(), or a node
    /// taken out with pop() going back).
    void reinsert(TimerNode* n) {
        if (run_live_ == 0 || !less(n, run_back_)) {
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

    /// Removes every node for which `drop(node)` is true, then rebuilds: O(n).
    template <class Pred>
    void remove_if(Pred drop) {
        std::vector<TimerNode*> keep;
        keep.reserve(run_live_);
        for (TimerNode* n : run_) {
            if (!n) continue;
            n->index = TimerNode::npos;
            n->in_run = 0;
            if (!drop(n)) keep.push_back(n);
        }
        run_.clear();
        run_head_ = run_tail_ = 0;
        run_live_ = 0;
        run_back_ = nullptr;
        for (TimerNode* n : keep) run_push(n);
        std::size_t j = 0;
        for (std::size_t i = 0; i < heap_.size(); ++i) {
            TimerNode* n = heap_[i];
            n->index = TimerNode::npos;  // before drop(), which may free the node
            if (!drop(n)) {
                heap_[j] = n;
                n->index = static_cast<std::uint32_t>(j);
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
        for (TimerNode* n : run_)
            if (n) all.push_back(n);
        run_.clear();
        run_head_ = run_tail_ = 0;
        run_live_ = 0;
        run_back_ = nullptr;
        for (TimerNode* n : all) {
            n->index = TimerNode::npos;
            n->in_run = 0;
        }
        return all;
    }

  private:
    // Run positions are stored modulo 2^30 - 1, so that a stored position is never npos.
    static constexpr std::uint64_t pos_mod = TimerNode::npos;

    void run_push(TimerNode* n) {
        n->in_run = 1;
        n->index = static_cast<std::uint32_t>(run_tail_ % pos_mod);
        run_.push_back(n);
        ++run_tail_;
        ++run_live_;
        run_back_ = n;
    }
    void run_remove(TimerNode* n) noexcept {
        // the absolute position: the one in [head, tail) congruent to index
        std::uint64_t a = run_head_ + ((n->index + pos_mod - run_head_ % pos_mod) % pos_mod);
        run_[a - run_head_] = nullptr;
        n->index = TimerNode::npos;
        n->in_run = 0;
        --run_live_;
        while (!run_.empty() && !run_.front()) {
            run_.pop_front();
            ++run_head_;
        }
        if (run_live_ == 0) {
            run_.clear();
            run_head_ = run_tail_ = 0;
            run_back_ = nullptr;
        } else if (n == run_back_) {
            while (!run_.back()) {
                run_.pop_back();
                --run_tail_;
            }
            run_back_ = run_.back();
        }
        // Holes behind a long-lived front node (a 1000 s sleep, then millions of short
        // sleeps cancelled) would stay until that node goes: squeeze them out once they are
        // more than half of the run (amortized O(1) per removal).
        if (run_.size() > 64 && run_.size() > 2 * run_live_) compact_run();
    }
    void compact_run() {
        std::deque<TimerNode*> live;
        for (TimerNode* n : run_)
            if (n) live.push_back(n);
        run_.clear();
        run_head_ = run_tail_ = 0;
        run_live_ = 0;
        for (TimerNode* n : live) run_push(n);
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
    // The FIFO run, in blocks (no doubling copy, and blocks go as they are consumed); holes
    // (nullptr) are removed timers. run_head_ is the absolute position of run_.front().
    std::deque<TimerNode*> run_;
    std::uint64_t run_head_ = 0;  // absolute positions
    std::uint64_t run_tail_ = 0;
    std::size_t run_live_ = 0;
    TimerNode* run_back_ = nullptr;  // the last live node of the run
    std::uint32_t next_seq_ = 0;
};

}  // namespace asyncio::detail
