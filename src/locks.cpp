#include "asyncio/locks.hpp"

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
    if (!locked_) {
        locked_ = true;
        co_return true;
    }
    detail::Waiter w;
    waiters_.push_back(w);
    std::exception_ptr err;
    try {
        co_await w.wait();
    } catch (...) {
        err = std::current_exception();
    }
    if (err) {
        if (w.linked()) waiters_.erase(&w);
        if (w.woken()) release();  // handed the lock, but cancelled: pass it on
        std::rethrow_exception(err);
    }
    co_return true;  // release() handed the lock over (locked_ stayed true)
}

Coro<LockGuard<Lock>> Lock::acquire_scoped() {
    co_await acquire();
    co_return LockGuard<Lock>(*this);
}

void Lock::release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    if (!waiters_.wake_one()) locked_ = false;
}

// --- Event ---

Coro<bool> Event::wait() {
    if (value_) co_return true;
    detail::Waiter w;
    waiters_.push_back(w);
    co_await w.wait();  // cancelled: ~Waiter unlinks
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
    waiters_.push_back(w);
    lock_->release();
    std::exception_ptr err;
    try {
        co_await w.wait();
    } catch (...) {
        err = std::current_exception();
    }
    if (w.linked()) waiters_.erase(&w);
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
        // Notified, but leaving with an error: the notification goes to someone else.
        if (w.woken()) notify(1);
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
    waiters_.push_back(w);
    std::exception_ptr err;
    try {
        co_await w.wait();
    } catch (...) {
        err = std::current_exception();
    }
    if (err) {
        if (w.linked()) waiters_.erase(&w);
        if (w.woken()) give_permit();  // handed a permit, but cancelled: pass it on
        std::rethrow_exception(err);
    }
    co_return true;
}

Coro<LockGuard<Semaphore>> Semaphore::acquire_scoped() {
    co_await acquire();
    co_return LockGuard<Semaphore>(*this);
}

void Semaphore::give_permit() {
    if (!waiters_.wake_one()) ++value_;
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
    std::size_t index = count_++;
    std::exception_ptr err;
    try {
        if (index + 1 == parties_) {
            state_ = State::draining;  // the last one in releases the others
            cond_.notify_all();
        } else {
            co_await wait_released();
        }
    } catch (...) {
        err = std::current_exception();
    }
    --count_;
    exit();
    if (err) std::rethrow_exception(err);
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

void Barrier::exit() {
    // The last task out of a draining or resetting barrier makes it fill again.
    if (count_ == 0) {
        if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
        cond_.notify_all();
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
