// Executors: running blocking functions in other threads, and awaiting them from the loop.
//
// An Executor runs callables somewhere else and hands back ConcurrentFutures
// (concurrent.futures.Executor); ThreadPoolExecutor is a pool of worker threads. The loop
// side is loop.run_in_executor(executor, fn, args...), which gives a Future<R> on the loop,
// and asyncio::to_thread(fn, args...), which runs `fn` in the loop's default executor with
// the caller's context variables. The default executor is made on first use, shut down
// (waiting for its threads) by run() / Runner, and without waiting by loop.close().
//
// Python's ProcessPoolExecutor exists to get around the GIL; C++ has no GIL, so a
// ThreadPoolExecutor already runs CPU-bound work in parallel on every core. There is no
// ProcessPoolExecutor; for isolation in another process, use create_subprocess_exec().
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/context.hpp"
#include "asyncio/detail/work_item.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/threads.hpp"

namespace asyncio {

namespace detail {

struct ThreadPoolCore;

}  // namespace detail

/// Runs callables asynchronously and gives ConcurrentFutures. Python:
/// concurrent.futures.Executor.
///
/// Thread safety: submit(), map() and shutdown() may be called from any thread.
class Executor {
  public:
    Executor() = default;
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;
    virtual ~Executor() = default;

    /// Schedules `fn(args...)` (the arguments are copied, as Python binds them) and gives a
    /// future of its result. Errors: RuntimeError("cannot schedule new futures after
    /// shutdown").
    template <class F, class... A>
    ConcurrentFuture<detail::call_result_t<F, A...>> submit(F&& fn, A&&... args) {
        using R = detail::call_result_t<F, A...>;
        auto state = std::make_shared<detail::ConcurrentState<R>>();
        schedule(std::make_unique<detail::CallItem<R, std::decay_t<F>, std::decay_t<A>...>>(
            state, std::forward<F>(fn), std::forward<A>(args)...));
        return ConcurrentFuture<R>(std::move(state));
    }

    /// Calls `fn(item)` for every element of `items`, all submitted at once, and gives the
    /// results in order, waiting for each (the whole call at most `timeout`). The first
    /// exception is rethrown and the calls not yet started are cancelled. Python:
    /// Executor.map (which yields lazily; here the results come as one vector).
    /// Errors: TimeoutError when `timeout` expires.
    template <class F, class Range>
    auto map(F fn, const Range& items, std::optional<Seconds> timeout = std::nullopt)
        -> std::vector<std::invoke_result_t<F&, decltype(*std::begin(items))>> {
        using R = std::invoke_result_t<F&, decltype(*std::begin(items))>;
        static_assert(!std::is_void_v<R>, "map needs a function that returns a value");
        auto deadline = timeout ? std::optional(std::chrono::steady_clock::now() +
                                                std::chrono::duration<double>(timeout->count()))
                                : std::nullopt;
        std::vector<ConcurrentFuture<R>> futures;
        for (const auto& item : items) futures.push_back(submit(fn, item));
        std::vector<R> out;
        out.reserve(futures.size());
        try {
            for (auto& f : futures) {
                std::optional<Seconds> left;
                if (deadline)
                    left =
                        std::chrono::duration<double>(*deadline - std::chrono::steady_clock::now());
                out.push_back(f.result(left));
            }
        } catch (...) {
            for (auto& f : futures) f.cancel();
            throw;
        }
        return out;
    }

    /// Stops accepting work. With `cancel_futures`, work not yet started is cancelled; with
    /// `wait`, blocks until the work still queued or running is finished.
    /// Python: Executor.shutdown(wait=True, cancel_futures=False).
    virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

  protected:
    /// Queues one unit of work. Errors: RuntimeError after shutdown().
    virtual void schedule(std::unique_ptr<detail::WorkItem> item) = 0;
};

/// A pool of worker threads. Python: concurrent.futures.ThreadPoolExecutor.
///
/// Threads are started on demand, up to `max_workers` (default min(32, cores + 4)), only
/// when no idle worker is left; idle workers wait for work. `with ThreadPoolExecutor() as
/// pool:` is `ThreadPoolExecutor pool; ...; pool.shutdown();`.
/// Errors: std::invalid_argument("max_workers must be greater than 0").
/// Destruction never waits: it shuts the pool down without waiting; the workers finish the
/// queued work, then exit on their own (call shutdown() first to wait for them).
class ThreadPoolExecutor : public Executor {
  public:
    explicit ThreadPoolExecutor(std::optional<int> max_workers = std::nullopt,
                                std::string thread_name_prefix = "");
    ~ThreadPoolExecutor() override;

    void shutdown(bool wait = true, bool cancel_futures = false) override;
    /// The pool's size limit.
    std::size_t max_workers() const noexcept;
    /// Worker threads started so far (for tests and diagnostics).
    std::size_t thread_count() const;

  protected:
    void schedule(std::unique_ptr<detail::WorkItem> item) override;

  private:
    std::shared_ptr<detail::ThreadPoolCore> s_;
};

// --- EventLoop members declared in events.hpp ---

template <class F, class... A>
Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>> EventLoop::run_in_executor(
    Executor* executor, F&& fn, A&&... args) {
    check_closed();
    check_debug_thread();
    Executor& ex = executor ? *executor : default_executor();
    return wrap_future(ex.submit(std::forward<F>(fn), std::forward<A>(args)...), this);
}

template <class F, class... A>
Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>> EventLoop::run_in_executor(
    Executor& executor, F&& fn, A&&... args) {
    return run_in_executor(&executor, std::forward<F>(fn), std::forward<A>(args)...);
}

/// Runs `fn(args...)` in the running loop's default executor, in a copy of the caller's
/// context (context variables set by the caller are visible to `fn`), and gives its result.
/// Python: asyncio.to_thread(func, *args).
/// Cancellation: cancelling the await does not stop `fn` once it runs (threads cannot be
/// interrupted); it only abandons the result. Not yet started, it never runs.
/// Errors: what `fn` throws; RuntimeError outside a running loop.
template <class F, class... A>
Coro<detail::call_result_t<F, A...>> to_thread(F fn, A... args) {
    EventLoop& loop = get_running_loop();
    detail::ContextData* ctx = detail::current_context();
    if (ctx) ctx->add_ref();
    co_return co_await loop.run_in_executor(
        nullptr,
        detail::ContextCall<F, A...>(ctx, std::move(fn), std::tuple<A...>(std::move(args)...)));
}

}  // namespace asyncio
