// timeout() / timeout_at(): run a body under a deadline that it can move.
//
// When the deadline passes, the task running the body is cancelled; the CancelledError that
// comes out of the body is turned into TimeoutError, but only when no other cancel request
// arrived meanwhile (the task's cancelling() count is back to its level at entry). So nested
// timeouts convert only at the level that fired, and a foreign cancel() stays a cancel.
#pragma once

#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "asyncio/async_with.hpp"
#include "asyncio/events.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// A deadline around a body. Python: asyncio.Timeout (the object `async with timeout()`
/// binds). Not copyable or movable: the scheduled callback refers to it.
///
/// States (also in error messages): created → active → expiring → expired, or → finished.
class Timeout {
  public:
    enum class State : std::uint8_t { CREATED, ENTERED, EXPIRING, EXPIRED, EXITED };

    /// A timeout due at loop time `when` (nullopt: never) that is not entered yet.
    explicit Timeout(std::optional<double> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout() { handler_.cancel(); }

    /// The deadline (loop time), or nullopt when disabled.
    std::optional<double> when() const noexcept { return when_; }
    /// Moves the deadline (nullopt disables it); a deadline in the past fires at the next
    /// iteration. Errors: RuntimeError unless the block is active ("Timeout has not been
    /// entered", "Cannot change state of expiring Timeout", ...); std::invalid_argument for
    /// a NaN deadline. On error the old deadline stays armed.
    void reschedule(std::optional<double> when);
    /// True once the deadline fired (expiring or expired).
    bool expired() const noexcept { return state_ == State::EXPIRING || state_ == State::EXPIRED; }
    State state() const noexcept { return state_; }

    /// Runs `body` (a Coro<T>, or a callable taking `Timeout&` or nothing and returning one)
    /// inside this timeout and gives its result. Python: `async with cm: body`.
    /// Errors: TimeoutError when this deadline cancelled the body; RuntimeError when already
    /// entered or outside a task; whatever the body raises otherwise.
    template <class Body>
    Coro<detail::body_result_t<Body, Timeout>> run(Body body) {
        return async_with(*this, std::move(body));
    }

    /// Enters the block in the current task and arms the deadline. Python: __aenter__.
    /// Errors: RuntimeError when already entered or outside a task.
    Timeout& aenter();
    /// Leaves the block that ended with `error` (null: normally); disarms the deadline.
    /// Python: __aexit__. Errors: TimeoutError when this deadline cancelled the body (the
    /// caller rethrows `error` otherwise).
    void aexit(std::exception_ptr error);

    /// The state's name as Python prints it ("created", "active", "expiring", ...).
    static const char* state_name(State s) noexcept;

  private:
    void on_timeout();

    State state_ = State::CREATED;
    std::optional<double> when_;
    AnyTask task_;
    std::uint32_t cancelling_ = 0;
    Handle handler_;
};

/// Runs `body` with a deadline `delay` from now (nullopt: none) and gives its result.
///
/// `body` is a Coro<T> or a callable `(Timeout&) -> Coro<T>` (the Timeout lets the body
/// reschedule()). Python: `async with asyncio.timeout(delay) as cm: body`.
/// Cancellation: the deadline cancels the task; only that cancellation becomes TimeoutError.
/// Errors: TimeoutError; std::invalid_argument for a NaN delay.
template <class Body>
Coro<detail::with_result_t<Timeout, Body>> timeout(std::optional<Seconds> delay, Body body) {
    std::optional<double> when;
    if (delay) {
        if (std::isnan(delay->count())) detail::throw_nan_delay("timeout");
        when = get_running_loop().time() + delay->count();
    }
    Timeout cm(when);
    co_return co_await async_with(cm, std::move(body));
}

/// Runs `body` with a deadline at loop time `when` (nullopt: none).
/// Python: `async with asyncio.timeout_at(when) as cm: body`.
template <class Body>
Coro<detail::with_result_t<Timeout, Body>> timeout_at(std::optional<double> when, Body body) {
    Timeout cm(when);
    co_return co_await async_with(cm, std::move(body));
}

}  // namespace asyncio
