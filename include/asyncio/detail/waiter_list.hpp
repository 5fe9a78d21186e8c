// The wait queue behind every synchronization primitive and queue: an intrusive FIFO of
// waiters, each a pending Future<void> that the parked task awaits.
//
// A Waiter lives in the frame of the coroutine that waits (acquire(), get(), ...), so parking
// costs one future and no list allocation. Invariant: a waiter is linked iff it is in its
// list; waking one (wake/wake_front) completes its future and unlinks it, so the list only
// ever holds waiters nobody has woken yet (a waiter whose future was cancelled may still be
// linked until its task runs: wake() skips those). Either side may die first: a waiter's
// destructor unlinks it, and a list's destructor detaches the waiters still linked (a task
// abandoned at loop close may outlive the lock it waited on).
#pragma once

#include <cstddef>
#include <new>

#include "asyncio/futures.hpp"

namespace asyncio::detail {

class WaiterList;

struct Waiter {
    Waiter() = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    inline ~Waiter();

    bool linked() const noexcept { return list_ != nullptr; }
    /// True when the future was completed with a result (woken), not cancelled.
    bool woken() const noexcept { return fut_.state()->done() && !fut_.state()->cancelled(); }

    /// Makes the waiter's future, on `loop`. Its state lives here, in the waiting frame (no
    /// allocation): the waiter holds a reference of its own so that handles never free it,
    /// and ~Waiter destroys it once the handles (the task's await) are gone.
    void make_future(EventLoop& loop) {
        drop_future();
        auto* st = ::new (static_cast<void*>(storage_)) FutureState<void>(loop);
        st->add_ref();
        has_state_ = true;
        fut_ = Future<void>(st);
    }

    Future<void> fut_;
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    WaiterList* list_ = nullptr;

private:
    void drop_future() noexcept {
        fut_ = Future<void>();
        if (!has_state_) return;
        has_state_ = false;
        // Only the waiter's own reference is left: nothing outside the waiting frame ever
        // holds this future (it is private to the primitive and awaited in this frame).
        std::launder(reinterpret_cast<FutureState<void>*>(storage_))->~FutureState();
    }

    alignas(FutureState<void>) unsigned char storage_[sizeof(FutureState<void>)];
    bool has_state_ = false;
};

class WaiterList {
public:
    WaiterList() = default;
    WaiterList(const WaiterList&) = delete;
    WaiterList& operator=(const WaiterList&) = delete;
    ~WaiterList() {
        while (head_) erase(head_);
    }

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    Waiter* front() const noexcept { return head_; }

    /// Parks `w` at the back with a fresh future on the running loop.
    void push_back(Waiter& w) {
        w.make_future(get_running_loop());
        w.list_ = this;
        w.prev_ = tail_;
        w.next_ = nullptr;
        if (tail_)
            tail_->next_ = &w;
        else
            head_ = &w;
        tail_ = &w;
        ++size_;
    }

    void erase(Waiter* w) noexcept {
        if (w->prev_)
            w->prev_->next_ = w->next_;
        else
            head_ = w->next_;
        if (w->next_)
            w->next_->prev_ = w->prev_;
        else
            tail_ = w->prev_;
        w->prev_ = w->next_ = nullptr;
        w->list_ = nullptr;
        --size_;
    }

    /// Wakes the first waiter whose future is still pending (dropping cancelled ones on the
    /// way); returns false if there was none. The woken task resumes in the next iteration.
    bool wake_one() {
        while (Waiter* w = head_) {
            erase(w);
            if (!w->fut_.done()) {
                w->fut_.set_result();
                return true;
            }
        }
        return false;
    }

    /// Wakes every pending waiter, in FIFO order; returns how many.
    std::size_t wake_all() {
        std::size_t n = 0;
        while (wake_one()) ++n;
        return n;
    }

    /// True if some linked waiter has not been cancelled.
    bool has_live() const noexcept {
        for (Waiter* w = head_; w; w = w->next_)
            if (!w->fut_.done()) return true;
        return false;
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    std::size_t size_ = 0;
};

inline Waiter::~Waiter() {
    if (list_) list_->erase(this);
    drop_future();
}

}  // namespace asyncio::detail
