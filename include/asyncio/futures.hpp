// Future<T>: a result that will exist later, bound to one event loop.
//
// A Future is a copyable shared handle; copies refer to the same state. Done callbacks are
// never run inline: on completion each is scheduled with call_soon semantics, in the order
// they were added (a callback added to a done future is scheduled at once). Awaiting a
// pending future suspends the current task until the future is done; cancelling the task
// cancels the future it waits on (Cancellation: CancelledError is thrown at that co_await).
#pragma once

#include <concepts>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/future_base.hpp"
#include "asyncio/detail/future_state.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

/// A pending-then-done result on one loop. Python: asyncio.Future.
///
/// Copyable handle. Made by loop.create_future<T>(); completed by set_result / set_exception
/// / cancel. `co_await fut` suspends the current task until done and gives the result (a
/// copy; move-only values are moved out to the awaiter).
/// Errors: result() throws InvalidStateError while pending, CancelledError when cancelled,
/// and rethrows a stored exception. A failed future whose exception nobody retrieved is
/// reported ("Future exception was never retrieved") when its last handle goes.
/// Thread safety: none; use it on its loop's thread.
template <class T = void>
class Future : public AnyFuture {
  public:
    using value_type = T;

    Future() noexcept = default;
    explicit Future(detail::FutureBase* s) noexcept : AnyFuture(s) {}

    /// The result; see the class comment for what it throws.
    std::add_lvalue_reference_t<T> result() const {
        st().check_result();
        if constexpr (!std::is_void_v<T>) return *static_cast<T*>(s_->value_ptr());
    }

    /// Completes the future with `value`. Errors: InvalidStateError if already done.
    template <class U = T>
    requires(!std::is_void_v<T> &&
             std::is_constructible_v<T, U&&>) void set_result(U&& value) const {
        check_settable("set_result");
        static_cast<detail::FutureState<T>*>(s_.get())->emplace(std::forward<U>(value));
        s_->finish_with_value();
    }
    void set_result() const requires std::is_void_v<T> {
        check_settable("set_result");
        s_->finish_with_value();
    }
    /// Completes the future with an exception. Errors: InvalidStateError if already done.
    void set_exception(std::exception_ptr e) const { st().set_exception(std::move(e)); }
    template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>) void set_exception(E&& e) const {
        set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }

    /// Adds `fn(future)` (or `fn()`), scheduled with call_soon once the future is done.
    template <class F>
    void add_done_callback(F&& fn) const {
        detail::add_user_callback<Future>(&st(), std::forward<F>(fn));
    }
    /// The same, run in `context` (Python's `context=`) instead of a copy of the current one.
    template <class F>
    void add_done_callback(const Context& context, F&& fn) const {
        detail::add_user_callback<Future>(&st(), std::forward<F>(fn), context.data());
    }
    /// Removes every registered callback equal to `fn`; returns how many were removed.
    template <class F>
    std::size_t remove_done_callback(const F& fn) const {
        return detail::remove_user_callback<Future>(&st(), fn);
    }

    detail::future_awaiter<T> operator co_await() const { return {&st()}; }

  private:
    void check_settable(const char* op) const {
        // Python: a Task's result is its coroutine's ("Task does not support set_result()
        // operation"); set_exception() checks the same in FutureBase.
        if (st().is_task())
            throw RuntimeError("Task does not support " + std::string(op) + "() operation");
        if (st().done())
            throw InvalidStateError(std::string(op) + ": " + s_->repr() + " is already done");
    }
};

template <class T>
Future<T> EventLoop::create_future() {
    check_closed();
    if (debug_) check_thread();
    return Future<T>(new detail::FutureState<T>(*this));
}

}  // namespace asyncio
