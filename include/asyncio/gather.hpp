// gather(): run awaitables concurrently and collect their results in argument order.
//
// Coroutines are wrapped in tasks at once (they start at the next loop iteration, whether or
// not the gather is awaited); tasks and futures are watched as they are. The result is a
// Future, awaitable and cancellable, of a std::tuple (variadic form; void → std::monostate)
// or a std::vector (one range argument). With `asyncio::return_exceptions` first, each
// element is a Result<T> instead, holding the value or the exception.
#pragma once

#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/gather.hpp"
#include "asyncio/result.hpp"

namespace asyncio {

/// The tag that makes gather() return every outcome instead of the first exception.
/// Python: `gather(..., return_exceptions=True)`.
struct return_exceptions_t {
    explicit constexpr return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

/// The Future gather() returns. A Future<R> in every way; awaiting the temporary
/// (`co_await gather(...)`) moves the results out instead of copying them.
template <class R>
class GatherFuture : public Future<R> {
  public:
    GatherFuture() noexcept = default;
    explicit GatherFuture(detail::GatherState<R>* s) noexcept : Future<R>(s) {}

    detail::future_awaiter<R> operator co_await() const& noexcept { return {this->state()}; }
    detail::gather_move_awaiter<R> operator co_await() && noexcept {
        return {static_cast<detail::GatherCore*>(this->state())};
    }
};

/// Runs `aws...` (coroutines, tasks, futures) concurrently; the Future of a std::tuple of
/// their results, in argument order (void → std::monostate). `gather()` gives `std::tuple<>`.
///
/// The first exception (or a child's cancellation, as CancelledError) completes the gather
/// at once; the other children keep running. The same task passed twice is watched once.
/// Cancellation: cancelling the returned future cancels every child still running, and the
/// gather then ends with CancelledError; cancelling the task that awaits it does the same.
/// Errors: std::invalid_argument when the futures belong to different loops.
/// Python: asyncio.gather(*aws).
template <class... A>
requires(detail::awaitable_arg<A>&&...)
    GatherFuture<std::tuple<detail::slot_t<detail::awaitable_value_t<A>>...>> gather(A&&... aws) {
    return detail::gather_variadic<false>(std::forward<A>(aws)...);
}

/// gather() whose elements are Result<T>: every child's value or exception (a cancelled
/// child gives a CancelledError); completes once every child is done.
/// Cancellation: as gather(); the outer's own cancellation is never turned into a Result.
/// Python: asyncio.gather(*aws, return_exceptions=True).
template <class... A>
requires(detail::awaitable_arg<A>&&...)
    GatherFuture<std::tuple<Result<detail::slot_t<detail::awaitable_value_t<A>>>...>> gather(
        return_exceptions_t, A&&... aws) {
    return detail::gather_variadic<true>(std::forward<A>(aws)...);
}

/// gather() over a range (a vector of tasks, futures, or coroutines, which are moved
/// from): the Future of a std::vector of the results, in range order.
/// Python: asyncio.gather(*aws).
template <detail::gather_range Rng>
GatherFuture<
    std::vector<detail::slot_t<detail::awaitable_value_t<std::ranges::range_value_t<Rng>>>>>
gather(Rng&& aws) {
    return detail::gather_range_impl<false>(std::forward<Rng>(aws));
}

/// gather(return_exceptions, range): a std::vector of Result<T>.
template <detail::gather_range Rng>
GatherFuture<
    std::vector<Result<detail::slot_t<detail::awaitable_value_t<std::ranges::range_value_t<Rng>>>>>>
gather(return_exceptions_t, Rng&& aws) {
    return detail::gather_range_impl<true>(std::forward<Rng>(aws));
}

}  // namespace asyncio
