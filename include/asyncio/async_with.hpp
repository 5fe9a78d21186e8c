// async_with(): Python's `async with` statement, with the body as a coroutine.
//
//   co_await asyncio::async_with(lock, [&]() -> asyncio::Coro<void> { ... });
//   int n = co_await asyncio::async_with(sem, [&]() -> asyncio::Coro<int> { co_return 1; });
//   co_await asyncio::async_with(resource, [&](Resource& r) -> asyncio::Coro<void> { ... });
//
// It works with anything lock-like (acquire_scoped(): Lock, Semaphore, Condition, ...) and
// with any async context manager: a type with `aenter()` (a Coro whose value, if any, is
// passed to the body) and `aexit(std::exception_ptr)` (a Coro<void>, or Coro<bool> that
// returns true to swallow the body's exception, as __aexit__ does).
//
// The body callable is taken by value and kept in async_with's own frame while the
// coroutine it returns runs, so a capturing coroutine lambda is safe here (invoking such a
// lambda in place, `co_await [&]() -> Coro<void> {...}()`, is not: the lambda object dies
// at the end of the full expression while its coroutine still refers to its captures).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

namespace detail {

template <class C>
struct coro_value;
template <class T>
struct coro_value<Coro<T>> {
    using type = T;
};

template <class L>
concept lock_like = requires(L& l) { l.acquire_scoped(); };

template <class M>
concept async_context_manager = requires(M& m, std::exception_ptr e) {
    m.aenter();
    m.aexit(e);
};

template <class F, class V>
struct body_result {
    using type = std::invoke_result_t<F&, V&>;
};
template <class F>
struct body_result<F, void> {
    using type = std::invoke_result_t<F&>;
};

}  // namespace detail

/// Runs `body()` while holding `lock` (released on every exit, errors and cancellation
/// included); gives the body's result. Python: `async with lock: ...`.
/// Cancellation: while waiting for the lock, as lock.acquire(); in the body, the lock is
/// released and CancelledError propagates.
template <detail::lock_like L, class F>
auto async_with(L& lock, F body)
    -> Coro<typename detail::coro_value<std::invoke_result_t<F&>>::type> {
    using R = typename detail::coro_value<std::invoke_result_t<F&>>::type;
    auto guard = co_await lock.acquire_scoped();
    if constexpr (std::is_void_v<R>)
        co_await std::invoke(body);
    else
        co_return co_await std::invoke(body);
}

/// Runs `body` inside an async context manager: `co_await m.aenter()`, then the body (given
/// aenter's value when it has one), then `co_await m.aexit(error)` whatever happened
/// (error is null on success). Python: `async with m as v: ...`.
/// Errors: the body's exception propagates after aexit, unless aexit returns true (only for
/// a void body, as a swallowed error leaves no value to return).
template <detail::async_context_manager M, class F>
    requires(!detail::lock_like<M>)
auto async_with(M& manager, F body) -> Coro<typename detail::coro_value<
    typename detail::body_result<F, typename decltype(manager.aenter())::value_type>::type>::type> {
    using V = typename decltype(manager.aenter())::value_type;
    using R = typename detail::coro_value<typename detail::body_result<F, V>::type>::type;
    using X = typename decltype(manager.aexit(std::exception_ptr{}))::value_type;
    std::exception_ptr err;
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
    if constexpr (std::is_void_v<V>) {
        co_await manager.aenter();
        try {
            if constexpr (std::is_void_v<R>)
                co_await std::invoke(body);
            else
                result.emplace(co_await std::invoke(body));
        } catch (...) {
            err = std::current_exception();
        }
    } else {
        V value = co_await manager.aenter();
        try {
            if constexpr (std::is_void_v<R>)
                co_await std::invoke(body, value);
            else
                result.emplace(co_await std::invoke(body, value));
        } catch (...) {
            err = std::current_exception();
        }
    }
    bool swallow = false;
    if constexpr (std::is_void_v<X>)
        co_await manager.aexit(err);
    else
        swallow = static_cast<bool>(co_await manager.aexit(err));
    if (err && !(swallow && std::is_void_v<R>)) std::rethrow_exception(err);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace asyncio
