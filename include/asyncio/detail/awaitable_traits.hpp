// What the combinators accept: a Coro<T> (wrapped in a task at once), or any Future<T> /
// Task<T> handle; and how each becomes a child future of a combinator.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>
#include <variant>

#include "asyncio/futures.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio::detail {

template <class A>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};

/// A coroutine object (Coro<T>).
template <class A>
concept coro_arg = is_coro<std::remove_cvref_t<A>>::value;

/// A typed future or task handle (Future<T>, Task<T>, or a class derived from them).
template <class A>
concept future_arg = std::derived_from<std::remove_cvref_t<A>, AnyFuture> && requires {
    typename std::remove_cvref_t<A>::value_type;
};

/// Anything a combinator accepts.
template <class A>
concept awaitable_arg = coro_arg<A> || future_arg<A>;

template <class A>
using awaitable_value_t = typename std::remove_cvref_t<A>::value_type;

/// Python's None where a value is needed: void results become std::monostate.
template <class T>
using slot_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// A child of a combinator: its state, and whether the combinator made it (a coroutine
/// wrapped in a task), in which case its value may be moved out.
struct Child {
    StatePtr<FutureBase> state;
    bool owned = false;
};

/// The loop of the first future among `args`, else the current event loop.
template <class... A>
EventLoop& loop_of(A&... args) {
    EventLoop* loop = nullptr;
    (
        [&] {
            if constexpr (future_arg<A>)
                if (!loop) loop = &args.get_loop();
        }(),
        ...);
    return loop ? *loop : get_event_loop();
}

[[noreturn]] void throw_different_loop(const char* who);

/// Makes `a` a child of a combinator running on `loop`.
template <class A>
Child to_child(A&& a, EventLoop& loop, const char* who) {
    if constexpr (coro_arg<A>) {
        auto t = loop.create_task(std::move(a));
        return Child{StatePtr<FutureBase>(t.state()), true};
    } else {
        if (&a.get_loop() != &loop) throw_different_loop(who);
        return Child{StatePtr<FutureBase>(a.state()), false};
    }
}

/// The value of a finished child, moved out when the combinator owns the child.
template <class T>
slot_t<T> take_value(FutureBase* c, bool owned) {
    if constexpr (std::is_void_v<T>) {
        return {};
    } else {
        T* p = static_cast<T*>(c->value_ptr());
        if constexpr (std::is_copy_constructible_v<T>) {
            if (!owned) return *p;
        }
        return std::move(*p);
    }
}

/// The exception a done child holds (its CancelledError when cancelled); null for a value.
/// Marks the exception retrieved.
std::exception_ptr child_exception(FutureBase* c);

}  // namespace asyncio::detail
