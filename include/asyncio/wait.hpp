// wait() and as_completed(): watch many tasks or futures at once.
//
// Neither ever cancels what it watches: a deadline only ends the watching. wait() returns
// the {done, pending} split; as_completed() hands out awaitables that complete in the order
// the inputs complete.
#pragma once

#include <algorithm>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "asyncio/detail/wait.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// When wait() returns. Python: asyncio.FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED.
enum class ReturnWhen : std::uint8_t { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// Keyword arguments of wait(): `{.timeout = 2s, .return_when = asyncio::FIRST_EXCEPTION}`.
struct WaitOptions {
    std::optional<Seconds> timeout = std::nullopt;  ///< none: no deadline
    ReturnWhen return_when = ReturnWhen::ALL_COMPLETED;
};

/// What wait() returns: the handles that are done and those still pending, each in input
/// order (a handle passed twice appears once). `auto [done, pending] = co_await wait(...)`.
template <class H>
struct WaitResult {
    std::vector<H> done;
    std::vector<H> pending;
};

namespace detail {

template <class H>
Coro<WaitResult<H>> wait_impl(std::vector<H> fs, std::optional<Seconds> timeout, ReturnWhen rw) {
    StatePtr<WaitCore> core(new WaitCore(get_running_loop(), fs.size(), rw));
    for (auto& f : fs) core->add(f.state());
    core->start(timeout);
    struct Leave {
        WaitCore* c;
        ~Leave() { c->finish(); }
    } leave{core.get()};
    co_await core->waiter;
    WaitResult<H> r;
    std::size_t ndone = 0;
    for (auto& f : fs) ndone += f.done() ? 1 : 0;
    r.done.reserve(ndone);  // exact sizes: no growth slack (W2w's peak)
    r.pending.reserve(fs.size() - ndone);
    for (auto& f : fs) (f.done() ? r.done : r.pending).push_back(std::move(f));
    co_return r;
}

void check_wait_args(std::size_t n, ReturnWhen rw);

/// Removes the repeats of a handle from `fs`, keeping first occurrences in order (CPython's
/// wait() takes a set). Sorting a copy of the state pointers costs 8 bytes a handle for a
/// moment, where a hash set cost about 40 (measured: W2w, 100,000 tasks: see overview.md).
template <class H>
void drop_repeats(std::vector<H>& fs) {
    std::vector<FutureBase*> sorted;
    sorted.reserve(fs.size());
    for (auto& f : fs) sorted.push_back(f.state());
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) return;
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::vector<bool> kept(sorted.size());
    std::erase_if(fs, [&](const H& f) {
        auto i = static_cast<std::size_t>(
            std::lower_bound(sorted.begin(), sorted.end(), f.state()) - sorted.begin());
        bool repeat = kept[i];
        kept[i] = true;
        return repeat;
    });
}

}  // namespace detail

/// Waits until the handles in `aws` (tasks or futures, of one handle type: use AnyTask or
/// AnyFuture for mixed result types) are done per `.return_when`, or `.timeout` passes.
///
/// FIRST_COMPLETED returns when any is done, FIRST_EXCEPTION when any fails (or all are
/// done), ALL_COMPLETED when all are. Everything done by the time it returns is in `done`.
/// The handles are copied: `aws` may be a temporary, and `pending` can be passed back in.
/// Cancellation: cancelling the waiting task raises CancelledError here; nothing in `aws` is
/// cancelled, not even on timeout (which raises nothing either).
/// Errors: std::invalid_argument for an empty input or a bad return_when (at the call).
/// Python: asyncio.wait(aws, timeout=None, return_when=ALL_COMPLETED). Bare coroutines are
/// rejected at compile time (Python: TypeError).
template <std::ranges::input_range Rng>
auto wait(const Rng& aws, WaitOptions options = {}) {
    using H = std::remove_cvref_t<std::ranges::range_value_t<Rng>>;
    static_assert(!detail::coro_arg<H>,
                  "wait() takes tasks or futures: wrap coroutines with create_task()");
    static_assert(std::is_base_of_v<AnyFuture, H>, "wait() takes a range of tasks or futures");
    std::vector<H> fs;
    if constexpr (std::ranges::sized_range<const Rng>) fs.reserve(std::ranges::size(aws));
    for (const auto& a : aws) fs.push_back(a);
    detail::drop_repeats(fs);
    detail::check_wait_args(fs.size(), options.return_when);
    return detail::wait_impl<H>(std::move(fs), options.timeout, options.return_when);
}

/// Keyword arguments of as_completed().
struct AsCompletedOptions {
    std::optional<Seconds> timeout = std::nullopt;  ///< none: no deadline
};

/// One element of as_completed(): a Future<T> bound to a completion rank.
///
/// Before it is awaited, element k shows the k-th completion (done(), result()). At its first
/// co_await it claims the earliest completion rank no other element has claimed, so awaiting
/// the elements in any order gives the completions in order (CPython's _wait_for_one).
template <class T>
class AsCompletedFuture : public Future<T> {
  public:
    AsCompletedFuture(detail::StatePtr<detail::AsCompletedState<T>> core, std::size_t index)
        : Future<T>(core->slots_[index].state()), core_(std::move(core)), index_(index) {}

    detail::future_awaiter<T> operator co_await() {
        std::size_t rank = core_->claim(index_);
        static_cast<Future<T>&>(*this) = core_->slots_[rank];
        return {this->state()};
    }

  private:
    detail::StatePtr<detail::AsCompletedState<T>> core_;
    std::size_t index_;
};

/// What as_completed() returns. Two forms, as in Python 3.13; use one per object.
///
/// The element form: a range of AsCompletedFuture<T>, one per distinct input,
/// `for (auto f : as_completed(aws)) T v = co_await f;` (Python: `for f in as_completed(aws)`).
///
/// The iterator form: `while (auto t = co_await ac.next()) T v = co_await *t;` (Python:
/// `async for t in as_completed(aws)`). next() gives the inputs themselves as they complete,
/// as handles of type H (the input's handle type; the Task<T> made for a coroutine input), so
/// `*t == task` for an input task; nullopt once every input was handed out.
/// Errors: next() raises TimeoutError for each input not done at the deadline; RuntimeError
/// when the element form was used on the same object.
template <class T, class H = Future<T>>
class AsCompleted {
  public:
    AsCompleted(std::vector<AsCompletedFuture<T>> items, std::vector<H> inputs,
                detail::StatePtr<detail::AsCompletedState<T>> core)
        : items_(std::move(items)), inputs_(std::move(inputs)), core_(std::move(core)) {}
    auto begin() { return items_.begin(); }
    auto end() { return items_.end(); }
    std::size_t size() const noexcept { return items_.size(); }
    AsCompletedFuture<T>& operator[](std::size_t i) { return items_[i]; }

    /// The next input to complete (done when given), nullopt after the last. Python:
    /// `await anext(it)` on the asynchronous iterator (StopAsyncIteration becomes nullopt).
    /// Cancellation: cancelling the waiting task raises CancelledError here; the inputs go on.
    Coro<std::optional<H>> next() {
        detail::StatePtr<detail::AsCompletedState<T>> core = core_;
        for (;;) {
            std::ptrdiff_t i = core->next_index();
            if (i == detail::AsCompletedCore::kEnd) co_return std::nullopt;
            if (i >= 0) co_return inputs_[static_cast<std::size_t>(i)];
            co_await core->next_ready();
        }
    }

  private:
    std::vector<AsCompletedFuture<T>> items_;
    std::vector<H> inputs_;
    detail::StatePtr<detail::AsCompletedState<T>> core_;
};

/// Watches the inputs (coroutines, wrapped in tasks at once, tasks or futures, one result
/// type) and gives them back in the order they complete, in either of AsCompleted's forms:
/// `for (auto f : as_completed(aws)) co_await f;` or
/// `auto it = as_completed(aws); while (auto t = co_await it.next()) co_await *t;`.
///
/// After `.timeout`, every input not yet completed raises TimeoutError (its element, or
/// next()). Cancellation: nothing in `aws` is ever cancelled, not even at the deadline.
/// Python: asyncio.as_completed(aws, timeout=None). An input passed twice is watched once.
template <std::ranges::input_range Rng>
auto as_completed(Rng&& aws, AsCompletedOptions options = {}) {
    using A = std::remove_cvref_t<std::ranges::range_value_t<Rng>>;
    static_assert(detail::awaitable_arg<A>,
                  "as_completed() takes coroutines, tasks or futures of one result type");
    using T = detail::awaitable_value_t<A>;
    using H = std::conditional_t<detail::coro_arg<A>, Task<T>, A>;
    EventLoop& loop = get_running_loop();
    std::vector<detail::Child> children;
    std::vector<H> inputs;
    std::unordered_set<detail::FutureBase*> seen;
    for (auto&& a : aws) {
        if constexpr (detail::coro_arg<A>) {
            Task<T> t = loop.create_task(std::move(a));
            children.push_back(
                detail::Child{detail::StatePtr<detail::FutureBase>(t.state()), true});
            inputs.push_back(std::move(t));
        } else {
            detail::Child c = detail::to_child(a, loop, "as_completed");
            if (seen.insert(c.state.get()).second) {
                children.push_back(std::move(c));
                inputs.push_back(a);
            }
        }
    }
    detail::StatePtr<detail::AsCompletedState<T>> core(
        new detail::AsCompletedState<T>(loop, std::move(children)));
    core->start(options.timeout);
    std::vector<AsCompletedFuture<T>> items;
    items.reserve(core->size());
    for (std::size_t i = 0; i < core->size(); ++i) items.emplace_back(core, i);
    return AsCompleted<T, H>(std::move(items), std::move(inputs), std::move(core));
}

}  // namespace asyncio
