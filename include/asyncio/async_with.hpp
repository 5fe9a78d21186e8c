// async_with(): Python's `async with` statement, with the body as a coroutine.
//
//   co_await asyncio::async_with(lock, [&]() -> asyncio::Coro<void> { ... });
//   int n = co_await asyncio::async_with(sem, [&]() -> asyncio::Coro<int> { co_return 1; });
//   co_await asyncio::async_with(resource, [&](Resource& r) -> asyncio::Coro<void> { ... });
//
// It works with anything lock-like (acquire_scoped(): Lock, Semaphore, Condition, ...) and
// with any async context manager: a type with `aenter()` and `aexit(std::exception_ptr)`.
// aenter() is a Coro<V> or a plain call; its value, if any, is passed to the body. aexit() is
// a Coro<void> / Coro<bool> or a plain call returning void / bool: true swallows the body's
// exception, as __aexit__ does; an exception thrown by aexit replaces the body's. Timeout and
// TaskGroup are such managers: timeout(), timeout_at() and task_group() are async_with().
//
// The body is a Coro<T>, or a callable returning one, taking aenter's value or nothing. A
// callable is taken by value and kept in async_with's own frame while the coroutine it
// returns runs, so a capturing coroutine lambda is safe here (invoking such a lambda in
// place, `co_await [&]() -> Coro<void> {...}()`, is not: the lambda object dies at the end of
// the full expression while its coroutine still refers to its captures).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/awaitable_traits.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

namespace detail {

template <class L>
concept lock_like = requires(L& l) {
    l.acquire_scoped();
};

template <class M>
concept async_context_manager = requires(M& m, std::exception_ptr e) {
    m.aenter();
    m.aexit(e);
};

/// What a body receives when aenter() gives nothing.
struct no_context {};

/// Holds what aenter() gave, for the body: E is aenter's return type.
template <class E>
struct entered {  // a plain call returning a value
    std::optional<E> value;
    E& get() { return *value; }
};
template <class T>
struct entered<T&> {  // a plain call returning a reference (Timeout, TaskGroup: *this)
    T* ref = nullptr;
    T& get() { return *ref; }
};
template <>
struct entered<void> {
    no_context none;
    no_context& get() { return none; }
};
template <class T>
struct entered<Coro<T>> : entered<T> {};
template <>
struct entered<Coro<void>> : entered<void> {};

template <class E>
using entered_context_t = decltype(std::declval<entered<E>&>().get());

/// The body as a coroutine: a Coro<T> itself, or a callable given the context or nothing.
template <class Body, class Ctx>
auto body_coro(Body& body, Ctx& ctx) {
    if constexpr (is_coro<std::remove_cvref_t<Body>>::value)
        return std::move(body);
    else if constexpr (!std::is_same_v<Ctx, no_context> && std::is_invocable_v<Body&, Ctx&>)
        return std::invoke(body, ctx);
    else
        return std::invoke(body);
}

template <class Body, class Ctx>
using body_result_t = typename std::remove_cvref_t<decltype(body_coro(
    std::declval<Body&>(), std::declval<Ctx&>()))>::value_type;

/// The value async_with(m, body) gives.
template <class M, class Body>
using with_result_t = body_result_t<
    Body, std::remove_reference_t<entered_context_t<decltype(std::declval<M&>().aenter())>>>;

/// A plain value, or the value of awaiting a Coro: the one step that may or may not suspend.
template <class R>
struct call_result {
    using type = R;
};
template <class T>
struct call_result<Coro<T>> {
    using type = T;
};

}  // namespace detail

/// Runs `body()` while holding `lock` (released on every exit, errors and cancellation
/// included); gives the body's result. Python: `async with lock: ...`.
/// Cancellation: while waiting for the lock, as lock.acquire(); in the body, the lock is
/// released and CancelledError propagates.
template <detail::lock_like L, class F>
auto async_with(L& lock, F body) -> Coro<detail::body_result_t<F, detail::no_context>> {
    using R = detail::body_result_t<F, detail::no_context>;
    detail::no_context none;
    auto guard = co_await lock.acquire_scoped();
    if constexpr (std::is_void_v<R>)
        co_await detail::body_coro(body, none);
    else
        co_return co_await detail::body_coro(body, none);
}

/// Runs `body` inside an async context manager: enter, then the body (given aenter's value
/// when it has one), then exit with the body's exception whatever happened (null on
/// success). Python: `async with m as v: ...`.
/// Errors: the body's exception propagates after aexit, unless aexit returns true (only for
/// a void body, as a swallowed error leaves no value to return) or raises its own.
///
/// This is the one place the shape "run the body, capture its outcome, exit, rethrow" is
/// written: the exit runs outside the catch block, because a coroutine cannot co_await
/// inside a handler.
template <detail::async_context_manager M, class F>
requires(!detail::lock_like<M>) auto async_with(M& manager, F body)
    -> Coro<detail::with_result_t<M, F>> {
    using E = decltype(manager.aenter());
    using R = detail::with_result_t<M, F>;
    using X = typename detail::call_result<decltype(manager.aexit(std::exception_ptr{}))>::type;
    detail::entered<E> ctx;
    if constexpr (detail::is_coro<E>::value) {
        if constexpr (std::is_void_v<typename E::value_type>)
            co_await manager.aenter();
        else
            ctx.value.emplace(co_await manager.aenter());
    } else if constexpr (std::is_reference_v<E>) {
        ctx.ref = &manager.aenter();
    } else if constexpr (std::is_void_v<E>) {
        manager.aenter();
    } else {
        ctx.value.emplace(manager.aenter());
    }
    std::exception_ptr error;
    std::optional<detail::slot_t<R>> result;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await detail::body_coro(body, ctx.get());
            result.emplace();
        } else {
            result.emplace(co_await detail::body_coro(body, ctx.get()));
        }
    } catch (...) {
        error = std::current_exception();
    }
    bool swallow = false;
    if constexpr (detail::is_coro<decltype(manager.aexit(error))>::value) {
        if constexpr (std::is_void_v<X>)
            co_await manager.aexit(error);
        else
            swallow = static_cast<bool>(co_await manager.aexit(error));
    } else {
        if constexpr (std::is_void_v<X>)
            manager.aexit(error);
        else
            swallow = static_cast<bool>(manager.aexit(error));
    }
    if (error && !(swallow && std::is_void_v<R>)) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace asyncio
