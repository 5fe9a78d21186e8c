// The body of an `async with` shape: a Coro<T>, or a callable returning one (taking the
// context object by reference, or nothing).
#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/awaitable_traits.hpp"

namespace asyncio::detail {

template <class Body, class Ctx>
auto body_coro(Body& body, Ctx& ctx) {
    if constexpr (is_coro<std::remove_cvref_t<Body>>::value)
        return std::move(body);
    else if constexpr (std::is_invocable_v<Body&, Ctx&>)
        return std::invoke(body, ctx);
    else
        return std::invoke(body);
}

template <class Body, class Ctx>
using body_result_t =
    typename std::remove_cvref_t<decltype(body_coro(std::declval<Body&>(), std::declval<Ctx&>()))>::value_type;

}  // namespace asyncio::detail
