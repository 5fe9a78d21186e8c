#include "asyncio/locks.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "asyncio/tasks.hpp"

namespace asyncio {

namespace detail {

void report_guard_error(std::exception_ptr e) noexcept {
    if (EventLoop* loop = running_loop()) {
        ExceptionContext ctx;
        try {
            ctx.message = "exception while releasing a lock guard";
        } catch (...) {
        }
        ctx.exception = std::move(e);
        loop->call_exception_handler(ctx);
    }
}

}  // namespace detail

// --- Lock ---

Coro<bool> Lock::acquire() {
    // CPython: taken at once only when free and nobody waits (no barging past a waiter that
    // was woken and has not run yet).
    if (!locked_ && !handed_ && waiters_.empty()) {
        locked_ = true;
        co_return true;
    }
    detail::Waiter w;
    co_await waiters_.wait(w, [this](bool woken) noexcept {
        // CPython's `except CancelledError: if not self._locked: self._wake_up_first()`.
        if (woken) handed_ = false;
        wake_first();
    });
    handed_ = false;
    locked_ = true;
    co_return true;
}

Coro<LockGuard<Lock>> Lock::acquire_scoped() {
    co_await acquire();
    co_return LockGuard<Lock>(*this);
}

void Lock::release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    locked_ = false;
    wake_first();
}

void Lock::wake_first() noexcept {
    // At most one woken waiter at a time (CPython wakes the first future only if not done).
    if (!locked_ && !handed_) handed_ = waiters_.wake_one();
}

// --- Event ---

Coro<bool> Event::wait() {
    if (value_) co_return true;
    detail::Waiter w;
    co_await waiters_.wait(w, [](bool) noexcept {});  // set() wakes all: nothing to pass on
    co_return true;
}

void Event::set() {
    if (value_) return;
    value_ = true;
    waiters_.wake_all();
}

// --- Condition ---

Coro<LockGuard<Condition>> Condition::acquire_scoped() {
    co_await lock_->acquire();
    co_return LockGuard<Condition>(*this);
}

Coro<bool> Condition::wait() {
    if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
    detail::Waiter w;
    lock_->release();
    std::exception_ptr err;
    try {
        // Nothing to pass on yet: the lock must be re-acquired first (below).
        co_await waiters_.wait(w, [](bool) noexcept {});
    } catch (...) {
        err = std::current_exception();
    }
    // The lock is re-acquired whatever happened, even if cancelled again meanwhile; the
    // most recent CancelledError is the one that propagates.
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError&) {
            err = std::current_exception();
        }
    }
    if (err) {
        // CPython's `except BaseException: self._notify(1); raise`: whether or not this
        // waiter was notified, leaving with an error wakes one other waiter (a spurious
        // wake-up the condition-variable protocol allows), so no notification is lost.
        notify(1);
        std::rethrow_exception(err);
    }
    co_return true;
}

void Condition::notify(std::ptrdiff_t n) {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    for (std::ptrdiff_t i = 0; i < n; ++i)
        if (!waiters_.wake_one()) break;
}

void Condition::notify_all() {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    waiters_.wake_all();
}

// --- Semaphore ---

Semaphore::Semaphore(std::ptrdiff_t value) : value_(value) {
    if (value < 0)
        throw std::invalid_argument("Semaphore initial value must be >= 0, got " +
                                    std::to_string(value));
}

Coro<bool> Semaphore::acquire() {
    if (value_ > 0) {
        --value_;
        co_return true;
    }
    detail::Waiter w;
    co_await waiters_.wait(w, [this](bool woken) noexcept {
        if (woken) give_permit_noexcept();  // handed a permit, but cancelled: pass it on
    });
    co_return true;
}

Coro<LockGuard<Semaphore>> Semaphore::acquire_scoped() {
    co_await acquire();
    co_return LockGuard<Semaphore>(*this);
}

void Semaphore::give_permit() {
    if (waiters_.empty() && value_ == PTRDIFF_MAX)
        throw std::overflow_error(
            "Semaphore released too many times: its value would exceed "
            "PTRDIFF_MAX (" +
            std::to_string(PTRDIFF_MAX) + ")");
    give_permit_noexcept();
}

void Semaphore::give_permit_noexcept() noexcept {
    // A permit taken by a waiter cannot overflow: it is given back, not added.
    if (!waiters_.wake_one() && value_ < PTRDIFF_MAX) ++value_;
}

Coro<LockGuard<BoundedSemaphore>> BoundedSemaphore::acquire_scoped() {
    co_await acquire();
    co_return LockGuard<BoundedSemaphore>(*this);
}

void BoundedSemaphore::release() {
    if (value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
    give_permit();
}

// --- Barrier ---

Barrier::Barrier(std::ptrdiff_t parties) : parties_(static_cast<std::size_t>(parties)) {
    if (parties < 1)
        throw std::invalid_argument("Barrier parties must be >= 1, got " + std::to_string(parties));
}

Coro<std::size_t> Barrier::wait() {
    auto guard = co_await cond_.acquire_scoped();
    co_await block();  // while draining or resetting
    // The arrival is undone by a destructor, so that it is undone however the frame ends:
    // returning, throwing, or destroyed while suspended when the loop is closed.
    struct Arrival {
        Barrier* b;
        ~Arrival() { b->leave(); }
    } arrival{this};
    std::size_t index = count_++;
    if (index + 1 == parties_) {
        state_ = State::draining;  // the last one in releases the others
        cond_.notify_all();
    } else {
        co_await wait_released();
    }
    co_return index;
}

Coro<void> Barrier::block() {
    co_await cond_.wait_for(
        [this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
}

Coro<void> Barrier::wait_released() {
    co_await cond_.wait_for([this] { return state_ != State::filling; });
    if (state_ == State::broken || state_ == State::resetting)
        throw BrokenBarrierError("Abort or reset of barrier");
}

void Barrier::leave() noexcept {
    // The last task out of a draining or resetting barrier makes it fill again.
    if (--count_ == 0) {
        if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
        // Not locked only when the frame is destroyed while it waited (loop close): the
        // tasks that could be told are being destroyed too.
        if (cond_.locked()) cond_.notify_all();
    }
}

Coro<void> Barrier::reset() {
    auto guard = co_await cond_.acquire_scoped();
    if (count_ > 0)
        state_ = State::resetting;
    else
        state_ = State::filling;
    cond_.notify_all();
}

Coro<void> Barrier::abort() {
    auto guard = co_await cond_.acquire_scoped();
    state_ = State::broken;
    cond_.notify_all();
}

}  // namespace asyncio
