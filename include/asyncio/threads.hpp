// Crossing threads: ConcurrentFuture<T>, run_coroutine_threadsafe() and wrap_future().
//
// A loop belongs to one thread. Other threads reach it only through call_soon_threadsafe()
// (EventLoop) and the functions here, which are built on it: run_coroutine_threadsafe()
// hands a coroutine to a loop running in another thread and gives back a ConcurrentFuture,
// a blocking, thread-safe future (Python's concurrent.futures.Future); wrap_future() goes the
// other way and turns a ConcurrentFuture (from an executor, say) into a Future<T> that a task
// on the running loop can await.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/concurrent_state.hpp"
#include "asyncio/detail/threadsafe.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// A thread-safe, blocking future. Python: concurrent.futures.Future.
///
/// A copyable handle; copies share the state. Made by run_coroutine_threadsafe() and by
/// Executor::submit(). result() and exception() block the calling thread (never call them on
/// a loop's thread while that loop must make progress for the future to complete).
/// Cancellation: cancel() succeeds while the work is pending (queued in an executor, or a
/// coroutine handed to a loop: its task is then cancelled on its loop) and fails once it runs
/// in an executor or is done.
/// Errors: result() rethrows the work's exception, throws CancelledError when cancelled and
/// TimeoutError when `timeout` expires first.
/// Thread safety: every member may be called from any thread.
template <class T = void>
class ConcurrentFuture {
  public:
    using value_type = T;

    /// A new pending future (for code that completes it with set_result / set_exception, as
    /// an executor does).
    ConcurrentFuture() : s_(std::make_shared<detail::ConcurrentState<T>>()) {}
    explicit ConcurrentFuture(std::shared_ptr<detail::ConcurrentState<T>> s) noexcept
        : s_(std::move(s)) {}

    /// Waits (at most `timeout`) and gives the result. Errors: see the class comment.
    std::add_lvalue_reference_t<T> result(std::optional<Seconds> timeout = std::nullopt) const {
        s_->wait(timeout);
        s_->check_result();
        if constexpr (!std::is_void_v<T>) return *s_->value();
    }
    /// Waits (at most `timeout`) and gives the exception, null for a value.
    /// Errors: TimeoutError; CancelledError when cancelled.
    std::exception_ptr exception(std::optional<Seconds> timeout = std::nullopt) const {
        return s_->exception(timeout);
    }
    bool done() const { return s_->done(); }
    bool cancelled() const { return s_->cancelled(); }
    bool running() const { return s_->running(); }
    /// Cancels the work if it has not started; see the class comment. Returns whether the
    /// future is cancelled now.
    bool cancel() const { return s_->cancel(); }

    /// Calls `fn(future)` (or `fn()`) once the future is done, in the thread that completes
    /// it, or at once in this thread if it is done already.
    template <class F>
    void add_done_callback(F fn) const {
        if constexpr (std::is_invocable_v<F&, ConcurrentFuture&>) {
            s_->add_done_callback([fn = std::move(fn), w = std::weak_ptr(s_)]() mutable {
                if (auto s = w.lock()) {
                    ConcurrentFuture f(std::move(s));
                    fn(f);
                }
            });
        } else {
            static_assert(std::is_invocable_v<F&>,
                          "a done callback takes the ConcurrentFuture by reference, or nothing");
            s_->add_done_callback(std::move(fn));
        }
    }

    /// Completes the future (executor side). Errors: InvalidStateError if already done.
    template <class... U>
    void set_result(U&&... value) const {
        if (!s_->try_set_result(std::forward<U>(value)...))
            throw InvalidStateError("set_result: the ConcurrentFuture is already done");
    }
    void set_exception(std::exception_ptr e) const { s_->set_exception(std::move(e)); }
    /// Marks the work as running; false if it was cancelled (then it must not run).
    bool set_running_or_notify_cancel() const { return s_->set_running_or_notify_cancel(); }

    const std::shared_ptr<detail::ConcurrentState<T>>& state() const noexcept { return s_; }

  private:
    std::shared_ptr<detail::ConcurrentState<T>> s_;
};

/// Submits `coro` to `loop` (running in another thread) and returns a ConcurrentFuture of its
/// result. The coroutine becomes a task on `loop`, created there through
/// call_soon_threadsafe. Python: asyncio.run_coroutine_threadsafe(coro, loop).
/// Cancellation: cancelling the returned future cancels the task on its loop; a task that is
/// cancelled (or destroyed by loop.close()) leaves the future cancelled.
/// Errors: RuntimeError when `loop` is closed.
/// Thread safety: callable from any thread; `loop` must not be destroyed meanwhile.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    auto state = std::make_shared<detail::ConcurrentState<T>>();
    auto link = std::make_shared<detail::ThreadsafeLink>(detail::ThreadsafeLink{&loop});
    detail::link_cancel_to_task(*state, link);
    // If this callback never runs (the loop closes first), destroying it destroys the guard
    // in `body`'s frame, which cancels the future.
    loop.call_soon_threadsafe([body = detail::threadsafe_body<T>(
                                   std::move(coro), detail::ThreadsafeGuard<T>(state, link)),
                               link]() mutable {
        Task<void> task = link->loop->create_task(std::move(body));
        link->task = task.core();
    });
    return ConcurrentFuture<T>(std::move(state));
}

/// A Future<T> on `loop` (default: the running loop) that completes with `future`.
/// Python: asyncio.wrap_future(future, loop=loop).
/// Cancellation: cancelling the returned Future cancels `future` (which fails if its work
/// already runs; the Future stays cancelled all the same).
/// Errors: RuntimeError("no running event loop") without a loop.
template <class T>
Future<T> wrap_future(const ConcurrentFuture<T>& future, EventLoop* loop = nullptr) {
    EventLoop& l = loop ? *loop : get_running_loop();
    Future<T> dest = l.create_future<T>();
    auto src = future.state();
    l.expect_threadsafe_post();  // the completing thread posts the news back, below
    auto link = std::make_shared<detail::FutureLink<T>>(dest, std::weak_ptr(src));
    l.link(link);
    // Cancelling `dest` cancels `future`. (Not a user done callback: that one would own
    // `dest` itself, a cycle that a close() with the work still out could never break.)
    dest.state()->add_callback(&detail::FutureLink<T>::on_dest_done,
                               new std::shared_ptr<detail::FutureLink<T>>(link));
    // Runs in the thread that completes `future`: only moves the news to the loop, unless
    // the loop was closed meanwhile (the link is empty then, and `l` may be gone).
    // (A weak reference: the state must not own itself through its own callback.)
    src->add_done_callback([link, weak = std::weak_ptr(src), &l]() mutable {
        auto src = weak.lock();  // the completing thread holds it
        if (!src) return;
        std::lock_guard<std::mutex> lock(link->m);
        if (!link->dest) return;
        detail::post_or_drop(l, [link, src, &l]() mutable {
            l.threadsafe_post_arrived();
            Future<T> d;
            {
                std::lock_guard<std::mutex> lock(link->m);
                d = std::move(link->dest);
            }
            l.unlink(link.get());
            if (!d || d.done()) return;  // cancelled meanwhile
            if (src->cancelled()) {
                d.cancel();
                return;
            }
            try {
                if (std::exception_ptr e = src->exception(0.0)) {
                    // A CancelledError raised by the function reaches the awaiter as such
                    // (CPython: to_thread(f) where f raises CancelledError).
                    if (is_cancelled_error(e))
                        d.state()->cancel_future(e);
                    else
                        d.set_exception(e);
                } else if constexpr (std::is_void_v<T>) {
                    d.set_result();
                } else if constexpr (std::is_copy_constructible_v<T>) {
                    d.set_result(*src->value());
                } else {
                    d.set_result(std::move(*src->value()));
                }
            } catch (...) {  // T's copy threw: the awaiter gets that instead of hanging
                if (!d.done()) d.set_exception(std::current_exception());
            }
        });
    });
    return dest;
}

}  // namespace asyncio
