// The wait queue behind every synchronization primitive and queue: an intrusive FIFO of
// waiters, each a task parked on it (TaskCore::park: no future, no allocation).
//
// A Waiter lives in the frame of the coroutine that waits (acquire(), get(), ...). Invariant:
// a waiter is linked iff it is in its list; waking one unlinks it, marks it woken and
// schedules its task, and a task cancelled while parked unlinks its waiter at once, so the
// list only ever holds tasks still waiting. The iterations are those of CPython's waiter
// futures: the woken (or cancelled) task runs in the next iteration. Either side may die
// first: a waiter's destructor unlinks it, and a list's destructor detaches the waiters
// still linked (a task abandoned at loop close may outlive the lock it waited on).
#pragma once

#include <coroutine>
#include <cstddef>

#include "asyncio/detail/task_core.hpp"

namespace asyncio::detail {

class WaiterList;

struct Waiter : ParkNode {
    Waiter() noexcept { on_cancel = &cancelled_thunk; }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    inline ~Waiter();

    bool linked() const noexcept { return list_ != nullptr; }
    /// True once a wake-up was handed to this waiter (whatever happened to its task since).
    bool woken() const noexcept { return woken_; }

    /// True once this waiter's wait ended with a CancelledError (hand-off already done).
    bool cancelled() const noexcept { return cancelled_; }

    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    WaiterList* list_ = nullptr;
    TaskCore* task_ = nullptr;  // the parked task, while it waits
    bool woken_ = false;
    bool cancelled_ = false;

  private:
    inline static void cancelled_thunk(ParkNode* node) noexcept;
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

    /// Puts `w` at the back; the caller then parks on it with `co_await w.wait()`.
    void push_back(Waiter& w) noexcept {
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

    /// Wakes the first waiter (a cancelled one has already unlinked itself); returns false
    /// if there was none. The woken task resumes in the next iteration.
    bool wake_one() noexcept {
        Waiter* w = head_;
        if (!w) return false;
        erase(w);
        w->woken_ = true;
        if (w->task_) w->task_->unpark();
        return true;
    }

    /// Wakes every pending waiter, in FIFO order; returns how many.
    std::size_t wake_all() {
        std::size_t n = 0;
        while (wake_one()) ++n;
        return n;
    }

    /// The one cancel-safe wait of every lock and queue: `co_await list.wait(w, hand_off)`
    /// puts `w` at the back and parks the current task on it until wake_one()/wake_all()
    /// reaches it.
    ///
    /// Cancellation: the task's CancelledError is thrown here, and before it is, `w` has left
    /// the list (unlinked the moment the cancel came, or here) and `hand_off(woken)` has run,
    /// `woken` telling whether a wake-up had already been handed to `w`. The hand-off rule:
    /// a waiter woken and then cancelled before it resumed must pass its wake-up on (wake
    /// the next waiter, give the lock or permit back), or the invariant "a wake-up is only
    /// withheld when nobody can use it" breaks and a waiter sleeps forever. `hand_off` must
    /// not throw.
    template <class HandOff>
    auto wait(Waiter& w, HandOff hand_off) noexcept {
        push_back(w);
        return WaitAwaiter<HandOff>{w, std::move(hand_off)};
    }

    template <class HandOff>
    struct WaitAwaiter {
        Waiter& w;
        [[no_unique_address]] HandOff hand_off;
        // Woken between push_back() and the co_await (nothing runs there today): no park.
        bool await_ready() const noexcept { return w.woken_; }
        void await_suspend(std::coroutine_handle<> h) {
            w.task_ = &task_for_await("waiting on a lock or queue");
            w.task_->park(&w, h);
        }
        void await_resume() {
            TaskCore* t = w.task_;
            if (!t || !t->cancel_delivered()) return;
            if (w.list_) w.list_->erase(&w);
            w.cancelled_ = true;
            hand_off(w.woken_);
            t->check_resume();  // throws the CancelledError
        }
    };

  private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    std::size_t size_ = 0;
};

inline Waiter::~Waiter() {
    if (list_) list_->erase(this);
}

inline void Waiter::cancelled_thunk(ParkNode* node) noexcept {
    // The task's resume throws the CancelledError; the waiter only leaves the list.
    auto* w = static_cast<Waiter*>(node);
    if (w->list_) w->list_->erase(w);
}

}  // namespace asyncio::detail
