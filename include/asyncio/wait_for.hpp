// wait_for(): await one awaitable with a timeout, cancelling it when the time is up.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/awaitable_traits.hpp"
#include "asyncio/timeouts.hpp"

namespace asyncio {

namespace detail {

template <class T>
Coro<T> await_future(Future<T> f) {
    co_return co_await f;
}

/// CPython's _cancel_and_wait: cancel `f` and wait until it is done, without cancelling it
/// again if this task is cancelled meanwhile.
Coro<void> cancel_and_wait(AnyFuture f);

template <class T>
Coro<T> wait_for_expired(Future<T> f) {
    if (f.done()) co_return co_await f;
    co_await cancel_and_wait(f);
    if (f.cancelled()) throw TimeoutError();
    co_return co_await f;
}

}  // namespace detail

/// Awaits `aw` (a coroutine, task or future) for at most `timeout` seconds (nullopt: no
/// limit) and gives its result.
///
/// On timeout, `aw` is cancelled and wait_for returns only once it has finished: if it
/// swallowed the cancellation and returned a value, that value is returned; if it raised
/// another exception while being cancelled, that exception wins. A timeout ≤ 0 returns the
/// result of an already-done future, and cancels a coroutine before it starts.
/// Cancellation: cancelling the waiting task cancels `aw` too. A coroutine runs inline in the
/// waiting task (as in Python 3.12+), a task or future is awaited.
/// Errors: TimeoutError; whatever `aw` raises.
/// Python: asyncio.wait_for(aw, timeout).
template <detail::awaitable_arg A>
Coro<detail::awaitable_value_t<A>> wait_for(A&& aw, std::optional<Seconds> timeout_s) {
    using T = detail::awaitable_value_t<A>;
    if constexpr (detail::coro_arg<A>) {
        if (timeout_s && timeout_s->count() <= 0) {
            // Wrap it so that it can be cancelled before it starts (its body never runs).
            Task<T> t = get_running_loop().create_task(std::move(aw));
            return detail::wait_for_expired<T>(std::move(t));
        }
        return timeout(timeout_s, std::move(aw));
    } else {
        Future<T> f = aw;
        if (timeout_s && timeout_s->count() <= 0) return detail::wait_for_expired<T>(std::move(f));
        return timeout(timeout_s, detail::await_future<T>(std::move(f)));
    }
}

/// wait_for() on a type-erased handle (AnyTask, AnyFuture): waits the same way and gives
/// nothing; the result stays in the task.
template <class A>
requires(std::derived_from<std::remove_cvref_t<A>, AnyFuture> &&
         !detail::future_arg<A>) Coro<void> wait_for(A&& aw, std::optional<Seconds> timeout_s) {
    // A void view of the state: awaiting it reads only done/exception, never the value.
    return wait_for(Future<void>(aw.state()), timeout_s);
}

}  // namespace asyncio
