// The loop's timers: a binary min-heap of intrusive nodes keyed by (deadline, sequence).
//
// Equal deadlines fire in the order they were scheduled (the sequence number breaks ties).
// A node lives inside its owner (a task's sleep, a TimerHandle), so a timer costs one
// pointer in the heap and no allocation of its own. Each node knows its index, so removal
// is O(log n); TimerHandle::cancel() instead only marks the handle (O(1)) and the loop
// purges cancelled handles when they are more than half of the heap (CPython's rule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace asyncio::detail {

struct TimerNode {
    static constexpr std::uint32_t npos = 0x7fffffffu;
    enum Kind : std::uint32_t { handle = 0, task_sleep = 1 };

    std::int64_t when = 0;       // loop clock, nanoseconds
    std::uint32_t seq = 0;       // scheduling order; compared modulo 2^32
    std::uint32_t index : 31 = npos;  // position in the heap, npos when not scheduled
    std::uint32_t kind : 1 = handle;

    bool scheduled() const noexcept { return index != npos; }
};
static_assert(sizeof(TimerNode) == 16);

class TimerHeap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    TimerNode* top() const noexcept { return heap_.front(); }

    void push(TimerNode* n, std::int64_t when) {
        n->when = when;
        n->seq = next_seq_++;
        n->index = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(n);
        sift_up(n->index);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = heap_.front();
        remove_at(0);
        return n;
    }

    void remove(TimerNode* n) noexcept {
        if (n->scheduled()) remove_at(n->index);
    }

    /// Removes every node for which `drop(node)` is true, then rebuilds the heap: O(n).
    template <class Pred>
    void remove_if(Pred drop) {
        std::size_t j = 0;
        for (std::size_t i = 0; i < heap_.size(); ++i) {
            TimerNode* n = heap_[i];
            if (drop(n)) {
                n->index = TimerNode::npos;
            } else {
                heap_[j] = n;
                n->index = static_cast<std::uint32_t>(j);
                ++j;
            }
        }
        heap_.resize(j);
        for (std::size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
    }

    /// Takes every node out (closed loop); the caller disposes of them.
    std::vector<TimerNode*> take_all() noexcept {
        for (TimerNode* n : heap_) n->index = TimerNode::npos;
        return std::move(heap_);
    }

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when ||
               (a->when == b->when && static_cast<std::int32_t>(a->seq - b->seq) < 0);
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
    std::uint32_t next_seq_ = 0;
};

}  // namespace asyncio::detail
