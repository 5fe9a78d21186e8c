// The machinery of run_coroutine_threadsafe() and wrap_future(): what the caller's thread
// and the loop share while a coroutine or a concurrent future crosses between them.
#pragma once

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/concurrent_state.hpp"
#include "asyncio/detail/loop_link.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"

namespace asyncio::detail {

/// What run_coroutine_threadsafe shares between the caller's thread and the loop: the task,
/// touched only on the loop's thread, and cleared when the coroutine's frame goes.
struct ThreadsafeLink {
    EventLoop* loop;
    TaskCore* task = nullptr;  // no reference: valid while the body's frame lives
};

/// Lives in the body's frame (a parameter, so that a task cancelled before its first step
/// still destroys it): when the frame goes without having completed the future (the loop was
/// closed), the future is cancelled, so that no thread waits forever.
template <class T>
struct ThreadsafeGuard {
    std::shared_ptr<ConcurrentState<T>> state;
    std::shared_ptr<ThreadsafeLink> link;
    ThreadsafeGuard(std::shared_ptr<ConcurrentState<T>> s, std::shared_ptr<ThreadsafeLink> l)
        : state(std::move(s)), link(std::move(l)) {}
    ThreadsafeGuard(ThreadsafeGuard&&) noexcept = default;
    ~ThreadsafeGuard() {
        if (link) link->task = nullptr;
        if (state) state->cancel();  // no-op once finished
    }
};

/// The task body: runs the coroutine and copies its outcome into the concurrent state. The
/// task itself ends without an error (its outcome is retrieved here), except cancellation.
template <class T>
Coro<void> threadsafe_body(Coro<T> coro, ThreadsafeGuard<T> guard) {
    std::exception_ptr err;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(coro);
            guard.state->try_set_result();
        } else {
            guard.state->try_set_result(co_await std::move(coro));
        }
    } catch (const CancelledError&) {
        guard.state->cancel();
        throw;
    } catch (...) {
        err = std::current_exception();
    }
    if (err) guard.state->try_set_exception(err);
}

/// call_soon_threadsafe(fn), except that a closed loop is not an error: `fn` is dropped.
template <class F>
void post_or_drop(EventLoop& loop, F&& fn) {
    try {
        loop.call_soon_threadsafe(std::forward<F>(fn));
    } catch (const RuntimeError&) {
    }
}

/// wrap_future's Future while the work is out (see LoopLink).
template <class T>
struct FutureLink final : LoopLink {
    FutureLink(Future<T> f, std::weak_ptr<ConcurrentState<T>> s) noexcept
        : dest(std::move(f)), src(std::move(s)) {}
    void drop_handle() noexcept override { dest = Future<T>(); }
    /// `dest`'s done callback (it owns a shared_ptr to the link): a cancelled `dest`
    /// cancels `src`. `dest` is read here on the loop's thread, where alone it is written.
    static void on_dest_done(void* self, bool run) {
        std::unique_ptr<std::shared_ptr<FutureLink>> keep(
            static_cast<std::shared_ptr<FutureLink>*>(self));
        if (!run) return;
        FutureLink& k = **keep;
        if (!k.dest || !k.dest.cancelled()) return;
        if (auto s = k.src.lock()) s->cancel();
    }
    Future<T> dest;  // guarded by `m` against the completing thread
    std::weak_ptr<ConcurrentState<T>> src;
};

/// Posts `task.cancel()` to the link's loop when the concurrent future is cancelled.
void link_cancel_to_task(ConcurrentCore& state, std::shared_ptr<ThreadsafeLink> link);

}  // namespace asyncio::detail
