// BasicQueue: the machinery of Queue, LifoQueue and PriorityQueue (queues.hpp), over an
// item store (queue_store.hpp) and the one cancel-safe wait (waiter_list.hpp).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/queue_store.hpp"
#include "asyncio/detail/waiter_list.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/locks.hpp"

namespace asyncio {

namespace detail {

/// The queue machinery, parameterized by the item store (FIFO, LIFO, heap).
template <class T, class Store>
class BasicQueue {
  public:
    using value_type = T;

    /// `maxsize` ≤ 0 means unbounded (Python: Queue(maxsize=0)).
    explicit BasicQueue(std::ptrdiff_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
    BasicQueue(const BasicQueue&) = delete;
    BasicQueue& operator=(const BasicQueue&) = delete;

    /// Puts `item`, waiting while the queue is full.
    /// Cancellation: a cancelled put() never inserts its item; if it had just been woken,
    /// the wake-up passes to the next putter.
    /// Errors: QueueShutDown once shutdown() was called.
    Coro<void> put(T item) {
        while (full()) {
            if (shutdown_) throw QueueShutDown();
            Waiter w;
            co_await putters_.wait(w, [this](bool woken) noexcept {
                if (woken && !full()) putters_.wake_one();  // pass the wake-up on
            });
        }
        put_nowait(std::move(item));
    }

    /// Removes and gives the next item, waiting while the queue is empty.
    /// Cancellation: a cancelled get() takes no item; if it had just been woken, the
    /// wake-up passes to the next getter, so no item is left behind unnoticed.
    /// Errors: QueueShutDown once the queue is shut down and empty.
    Coro<T> get() {
        while (store_.empty()) {
            if (shutdown_) throw QueueShutDown();
            Waiter w;
            co_await getters_.wait(w, [this](bool woken) noexcept {
                if (woken && !store_.empty()) getters_.wake_one();  // pass the wake-up on
            });
        }
        co_return get_nowait();
    }

    /// Puts without waiting. Errors: QueueFull, QueueShutDown.
    void put_nowait(T item) {
        if (shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        store_.push(std::move(item));
        ++unfinished_;
        finished_.clear();
        getters_.wake_one();
    }

    /// Gets without waiting. Errors: QueueEmpty; QueueShutDown when shut down and empty.
    T get_nowait() {
        if (store_.empty()) {
            if (shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        T item = store_.pop();
        putters_.wake_one();
        return item;
    }

    /// Marks one item taken by get() as processed; join() returns when none is left.
    /// Errors: std::invalid_argument("task_done() called too many times").
    void task_done() {
        if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
        if (--unfinished_ == 0) finished_.set();
    }

    /// Waits until every item put has been marked task_done() (at once if none is pending).
    Coro<void> join() {
        if (unfinished_ > 0) co_await finished_.wait();
    }

    /// Shuts the queue down: later puts raise QueueShutDown, blocked putters and getters are
    /// woken (and raise it; getters only once the queue is empty). With `immediate`, the
    /// items left are dropped and counted as done (join() then returns).
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            while (!store_.empty()) {
                (void)store_.pop();
                if (unfinished_ > 0) --unfinished_;
            }
            if (unfinished_ == 0) finished_.set();
        }
        getters_.wake_all();
        putters_.wake_all();
    }

    std::size_t qsize() const noexcept { return store_.size(); }
    bool empty() const noexcept { return store_.empty(); }
    bool full() const noexcept {
        return maxsize_ > 0 && store_.size() >= static_cast<std::size_t>(maxsize_);
    }
    std::ptrdiff_t maxsize() const noexcept { return maxsize_; }
    /// True once shutdown() was called.
    bool is_shutdown() const noexcept { return shutdown_; }
    /// Items put and not yet marked task_done() (Python: q._unfinished_tasks).
    std::size_t unfinished_tasks() const noexcept { return unfinished_; }
    /// Tasks parked in get() / put() that nobody has woken yet (Python: len(q._getters)).
    std::size_t waiting_getters() const noexcept { return getters_.size(); }
    std::size_t waiting_putters() const noexcept { return putters_.size(); }

  private:
    Store store_;
    WaiterList getters_;
    WaiterList putters_;
    Event finished_;
    std::ptrdiff_t maxsize_;
    std::size_t unfinished_ = 0;
    bool shutdown_ = false;
};

}  // namespace detail

}  // namespace asyncio
