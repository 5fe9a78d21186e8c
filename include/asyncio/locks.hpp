// Synchronization primitives for tasks of one loop: Lock, Event, Condition, Semaphore,
// BoundedSemaphore and Barrier (Python's asyncio.locks).
//
// All waits are strict FIFO, through the one cancel-safe wait of detail::WaiterList: a
// release wakes the first waiter and nobody can barge in before it resumes. A Semaphore's
// permit goes to the woken waiter directly; a Lock is free (locked() false, as in CPython)
// until the woken waiter resumes and takes it, and acquire() still waits meanwhile. A waiter
// whose task is cancelled leaves the queue; if it had been woken already, it passes the
// wake-up on before CancelledError leaves acquire()/wait(), so no wake-up is ever lost. A
// woken task resumes in the next loop iteration, inside its own co_await.
//
// "async with lock:" is `auto guard = co_await lock.acquire_scoped();` (released by the
// guard's destructor, which never waits) or `co_await asyncio::async_with(lock, body)`
// (async_with.hpp). None of these types may be copied or moved: tasks park on them.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/waiter_list.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

namespace detail {
/// Reports an error thrown by a guard's release() (its destructor cannot throw).
void report_guard_error(std::exception_ptr e) noexcept;

/// Python's truthiness for wait_for predicates: bool conversion, else "not empty".
template <class V>
bool truthy(const V& v) {
    if constexpr (std::is_constructible_v<bool, const V&>)
        return static_cast<bool>(v);
    else
        return !v.empty();
}
}  // namespace detail

/// Holds an acquired Lock, Semaphore or Condition and releases it when destroyed: the scope
/// of Python's `async with`. Move-only; release() lets go early. The destructor never waits.
template <class L>
class [[nodiscard]] LockGuard {
  public:
    LockGuard() noexcept = default;
    explicit LockGuard(L& lock) noexcept : lock_(&lock) {}
    LockGuard(LockGuard&& o) noexcept : lock_(std::exchange(o.lock_, nullptr)) {}
    LockGuard& operator=(LockGuard&& o) noexcept {
        if (this != &o) {
            reset();
            lock_ = std::exchange(o.lock_, nullptr);
        }
        return *this;
    }
    ~LockGuard() { reset(); }

    /// Releases now (Python: leaving the `async with` block). Errors: those of L::release().
    void release() {
        if (lock_) std::exchange(lock_, nullptr)->release();
    }
    /// True while the guard still has to release.
    bool owns_lock() const noexcept { return lock_ != nullptr; }

  private:
    void reset() noexcept {
        if (!lock_) return;
        try {
            std::exchange(lock_, nullptr)->release();
        } catch (...) {
            detail::report_guard_error(std::current_exception());
        }
    }
    L* lock_ = nullptr;
};

/// A mutual-exclusion lock for tasks. Python: asyncio.Lock.
///
/// Not owner-checked (any task may release it, as in Python). Waiters get the lock in the
/// order they asked for it.
/// Cancellation: a cancelled acquire() leaves the queue; if the lock had already been handed
/// to it, it hands it to the next waiter before CancelledError propagates.
/// Errors: release() of an unlocked lock throws RuntimeError("Lock is not acquired.").
class Lock {
  public:
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    /// Acquires the lock, waiting in FIFO order if it is held; gives true. Resumes in the
    /// iteration after release() handed it over.
    Coro<bool> acquire();
    /// acquire(), then a guard that releases on destruction (Python: `async with lock`).
    Coro<LockGuard<Lock>> acquire_scoped();
    /// Releases the lock, handing it to the first waiter if there is one.
    void release();
    /// True while some task holds the lock. Python: False right after release(), even with
    /// waiters queued (the first of them is woken and takes the lock when it runs).
    bool locked() const noexcept { return locked_; }

  private:
    void wake_first() noexcept;
    // Invariant: when !locked_ and waiters are queued, one waiter is woken (handed_) and
    // about to take the lock; handed_ also stops a new acquire() from barging in.
    detail::WaiterList waiters_;
    bool locked_ = false;
    bool handed_ = false;
};

/// A flag that tasks can wait for. Python: asyncio.Event.
///
/// set() wakes every waiter (in the order they started waiting); while set, wait() returns
/// at once; clear() makes later wait() calls block again. A waiter woken by set() returns
/// true even if clear() came before it resumed.
/// Cancellation: a cancelled wait() leaves nothing behind.
class Event {
  public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    /// Waits until the event is set; gives true.
    Coro<bool> wait();
    void set();
    void clear() noexcept { value_ = false; }
    bool is_set() const noexcept { return value_; }
    /// Tasks currently waiting (Python: len(event._waiters)).
    std::size_t waiters() const noexcept { return waiters_.size(); }

  private:
    detail::WaiterList waiters_;
    bool value_ = false;
};

/// A condition variable bound to a Lock (its own, or one shared with other conditions).
/// Python: asyncio.Condition.
///
/// Cancellation: wait() re-acquires the lock before any exception leaves it, even when
/// cancelled (the same CancelledError, with its message, then propagates); a waiter that was
/// notified but cancelled before it resumed passes the notification to the next waiter.
/// Errors: wait(), notify() and notify_all() without holding the lock throw RuntimeError.
class Condition {
  public:
    Condition() noexcept : lock_(&own_lock_) {}
    /// A condition that uses `lock` (which must outlive it).
    explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    Coro<bool> acquire() { return lock_->acquire(); }
    Coro<LockGuard<Condition>> acquire_scoped();
    void release() { lock_->release(); }
    bool locked() const noexcept { return lock_->locked(); }

    /// Releases the lock, waits for a notify, re-acquires the lock; gives true.
    Coro<bool> wait();
    /// Waits until `pred()` is truthy (Python's truth: a bool, or a non-empty container),
    /// checking it first and after each wake-up; gives the predicate's last value. Without
    /// the lock, an already-true predicate is fine.
    template <class Pred>
    Coro<std::decay_t<std::invoke_result_t<Pred&>>> wait_for(Pred pred) {
        auto result = pred();
        while (!detail::truthy(result)) {
            co_await wait();
            result = pred();
        }
        co_return result;
    }
    /// Wakes up to `n` waiters, in FIFO order (they then re-acquire the lock one by one).
    void notify(std::ptrdiff_t n = 1);
    void notify_all();

  private:
    Lock own_lock_;
    Lock* lock_;
    detail::WaiterList waiters_;
};

/// A counter of permits. Python: asyncio.Semaphore.
///
/// acquire() takes a permit, waiting (FIFO, no barging) while there is none; release() gives
/// one back, directly to the first waiter if any.
/// Cancellation: as Lock: a permit handed to a waiter that is then cancelled passes on.
/// Errors: a negative initial value throws std::invalid_argument.
class Semaphore {
  public:
    explicit Semaphore(std::ptrdiff_t value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    Coro<bool> acquire();
    Coro<LockGuard<Semaphore>> acquire_scoped();
    void release() { give_permit(); }
    /// True when acquire() would wait.
    bool locked() const noexcept { return value_ == 0; }
    /// Permits available now (Python: sem._value).
    std::ptrdiff_t value() const noexcept { return value_; }

  protected:
    /// Errors: std::overflow_error when the value would exceed PTRDIFF_MAX.
    void give_permit();
    void give_permit_noexcept() noexcept;
    // Invariant: value_ > 0 implies no waiter is still pending.
    std::ptrdiff_t value_;
    detail::WaiterList waiters_;
};

/// A Semaphore that refuses to be released more often than acquired.
/// Python: asyncio.BoundedSemaphore.
/// Errors: release() beyond the initial value throws std::invalid_argument
/// ("BoundedSemaphore released too many times").
class BoundedSemaphore : public Semaphore {
  public:
    explicit BoundedSemaphore(std::ptrdiff_t value = 1) : Semaphore(value), bound_(value) {}
    Coro<LockGuard<BoundedSemaphore>> acquire_scoped();
    void release();

  private:
    std::ptrdiff_t bound_;
};

/// A rendezvous of `parties` tasks. Python: asyncio.Barrier (3.11).
///
/// wait() blocks until `parties` tasks are waiting, then releases them all; each gets its
/// arrival index (0 .. parties-1). The barrier then drains and can be used again.
/// Cancellation: a cancelled waiter leaves (n_waiting drops); the others keep waiting.
/// Errors: parties < 1 throws std::invalid_argument; waiting on a barrier that is reset or
/// aborted throws BrokenBarrierError.
class Barrier {
  public:
    explicit Barrier(std::ptrdiff_t parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    /// Waits for the others; gives this task's arrival index.
    Coro<std::size_t> wait();
    /// Back to the empty state; tasks waiting now get BrokenBarrierError.
    Coro<void> reset();
    /// Puts the barrier in the broken state: current and later waiters get BrokenBarrierError.
    Coro<void> abort();

    std::size_t parties() const noexcept { return parties_; }
    /// Tasks waiting in the filling phase.
    std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    bool broken() const noexcept { return state_ == State::broken; }

  private:
    enum class State { filling, draining, resetting, broken };
    Coro<void> block();
    Coro<void> wait_released();
    /// One waiter leaves (returning, failing, or destroyed at loop close).
    void leave() noexcept;

    Condition cond_;
    std::size_t parties_;
    std::size_t count_ = 0;
    State state_ = State::filling;
};

}  // namespace asyncio
