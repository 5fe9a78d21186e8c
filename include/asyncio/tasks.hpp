// Task<T>: a coroutine scheduled on the loop, and the functions around tasks.
//
// create_task() schedules the coroutine's first step with call_soon; the task then runs until
// its first suspension, and so on. A task is a Future of the coroutine's result: awaitable,
// with done callbacks. Dropping every handle never stops it: the loop keeps it until it
// finishes. Cancellation follows CPython: cancel() cancels the one future (or sleep) the task
// waits on, or, when it waits on nothing, arranges for its next step to throw; either way
// CancelledError is thrown at the `co_await` where the task is suspended.
#pragma once

#include <new>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/task_core.hpp"
#include "asyncio/detail/task_state.hpp"
#include "asyncio/detail/time.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"

namespace asyncio {

/// Keyword arguments of create_task().
struct TaskOptions {
    std::optional<std::string> name = std::nullopt;
    /// context=: the Context the task starts in. Default: a copy of the current context.
    /// What the task sets stays in the task: `context` itself is a snapshot and does not
    /// change (CPython's Context object would), as for call_soon(context, ...).
    std::optional<Context> context = std::nullopt;
    /// eager_start=: run the coroutine at once, inside create_task(), up to its first
    /// suspension (when this loop is running; otherwise the task is scheduled as usual). A
    /// coroutine that finishes there never goes through the ready queue, but the task's done
    /// callbacks are still scheduled with call_soon. Python 3.12: eager tasks; 3.14: the
    /// eager_start= argument of create_task.
    bool eager_start = false;
};

/// A scheduled coroutine. Python: asyncio.Task.
///
/// Usable wherever a Future<T> is (it is one), plus names and cancellation counts.
/// Cancellation: cancel(msg) returns true unless the task is done; CancelledError (with the
/// message) is thrown at the co_await where the task is suspended; a task cancelled before
/// its first step never runs its body; a pending cancel beats a normal return.
/// Errors: a task whose exception nobody retrieved is reported ("Task exception was never
/// retrieved") when its last handle goes.
template <class T = void>
class Task : public Future<T> {
  public:
    Task() noexcept = default;
    explicit Task(detail::TaskCore* t) noexcept : Future<T>(t) {}
    /// (internal) A handle to a state known to be a TaskState<T>.
    explicit Task(detail::FutureBase* t) noexcept : Future<T>(t) {}

    std::string get_name() const { return checked_core()->get_name(); }
    void set_name(std::string name) const { checked_core()->set_name(std::move(name)); }
    /// Requests cancellation; see the class comment. Python: Task.cancel(msg).
    bool cancel(std::optional<std::string> msg = std::nullopt) const {
        return checked_core()->cancel(std::move(msg));
    }
    /// Pending cancel requests (Python: Task.cancelling()).
    std::uint32_t cancelling() const { return checked_core()->cancelling(); }
    /// Withdraws one cancel request; returns the remaining count (Python: Task.uncancel()).
    std::uint32_t uncancel() const { return checked_core()->uncancel(); }

    /// The task's coroutine frame (null once done). Python: Task.get_coro().
    std::coroutine_handle<> get_coro() const { return checked_core()->root(); }
    /// The chain of suspended coroutine frames; see AnyTask::get_stack. Python: get_stack().
    std::vector<FrameInfo> get_stack(std::optional<std::size_t> limit = std::nullopt) const {
        return checked_core()->get_stack(limit);
    }
    /// Python: Task.print_stack(limit=, file=); see AnyTask::print_stack.
    void print_stack(std::optional<std::size_t> limit = std::nullopt,
                     std::FILE* file = stderr) const {
        AnyTask(core()).print_stack(limit, file);
    }

    /// Adds `fn(task)` (or `fn()`), scheduled with call_soon once the task is done.
    template <class F>
    void add_done_callback(F&& fn) const {
        detail::add_user_callback<Task>(checked_core(), std::forward<F>(fn));
    }
    /// The same, run in `context` (Python's `context=`) instead of a copy of the current one.
    template <class F>
    void add_done_callback(const Context& context, F&& fn) const {
        detail::add_user_callback<Task>(checked_core(), std::forward<F>(fn), context.data());
    }
    template <class F>
    std::size_t remove_done_callback(const F& fn) const {
        return detail::remove_user_callback<Task>(checked_core(), fn);
    }

    operator AnyTask() const noexcept { return AnyTask(core()); }  // NOLINT
    detail::TaskCore* core() const noexcept {
        return static_cast<detail::TaskCore*>(this->state());
    }

  private:
    detail::TaskCore* checked_core() const { return static_cast<detail::TaskCore*>(&this->st()); }
};

namespace detail {
/// The task of `coro` with `options` (the default task factory).
template <class T>
Task<T> make_task(EventLoop& loop, Coro<T>& coro, TaskOptions& options) {
    auto* t = new TaskState<T>(loop, coro.release(), options.name.has_value(), options.eager_start);
    Task<T> task(t);
    if (options.name) t->set_name(std::move(*options.name));
    if (options.context) t->use_context(options.context->data());
    if (options.eager_start) t->eager_start();
    return task;
}
template <class T>
AnyTask make_task_erased(EventLoop& loop, void* coro, TaskOptions& options) {
    return make_task(loop, *static_cast<Coro<T>*>(coro), options);
}
/// Runs the loop's task factory; checks it returned the task made from `pending`.
AnyTask run_task_factory(EventLoop& loop, PendingCoro& pending, TaskOptions options);
}  // namespace detail

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, TaskOptions options, std::source_location where) {
    check_closed();
    auto make = [&] {
        if (task_factory_) [[unlikely]] {
            PendingCoro pending(*this, &coro, &detail::make_task_erased<T>);
            return Task<T>(detail::run_task_factory(*this, pending, std::move(options)).core());
        }
        return detail::make_task(*this, coro, options);
    };
    // One test of the debug flag on the common path (it was tested twice: before and after).
    if (debug_) [[unlikely]] {
        check_thread();
        Task<T> t = make();
        t.core()->set_created_at(where);
        return t;
    }
    return make();
}

/// Wraps `coro` in a task on the running loop. Python: asyncio.create_task(coro, name=...).
/// Errors: RuntimeError("no running event loop").
template <class T>
Task<T> create_task(Coro<T> coro, TaskOptions options = {},
                    std::source_location where = std::source_location::current()) {
    return get_running_loop().create_task(std::move(coro), std::move(options), where);
}

/// A coroutine becomes a task on the current loop (running, or set with set_event_loop);
/// a future or task is returned as is. Python: asyncio.ensure_future.
template <class T>
Task<T> ensure_future(Coro<T> coro, std::source_location where = std::source_location::current()) {
    return get_event_loop().create_task(std::move(coro), {}, where);
}
template <class T>
Future<T> ensure_future(Future<T> f) {
    return f;
}
template <class T>
Task<T> ensure_future(Task<T> t) {
    return t;
}

/// The task running now, or an empty handle (in a plain callback, or outside a loop).
/// Python: asyncio.current_task().
inline AnyTask current_task() noexcept {
    if (detail::TaskCore* t = detail::tls.current_task) {
        t->add_ref();
        AnyTask h(t);
        t->release();
        return h;
    }
    return {};
}

/// The unfinished tasks of the running loop (or of `loop`). Python: asyncio.all_tasks().
std::vector<AnyTask> all_tasks();
std::vector<AnyTask> all_tasks(EventLoop& loop);

/// Suspends the current task for `delay` (seconds or a chrono duration). sleep(0), and any
/// delay ≤ 0, yields for exactly one loop iteration. Python: asyncio.sleep.
/// Cancellation: CancelledError at this co_await; the timer is removed at once.
/// Errors: std::invalid_argument for a NaN delay.
inline Coro<void> sleep(Seconds delay) {
    return Coro<void>::leaf(detail::delay_to_ns(delay, "sleep"));
}
/// The same for a delay in seconds as a number (`sleep(1)`, `sleep(0.5)`), the common case:
/// a plain number leaves no temporary in the awaiting frame, where GCC 12 keeps every
/// temporary of a `co_await` expression until it resumes (a Seconds argument took 8 bytes of
/// it). Measured (W1, 1M tasks each awaiting sleep(d)): a frame 72 -> 64 bytes.
inline Coro<void> sleep(double delay) {
    return Coro<void>::leaf(detail::delay_to_ns(delay, "sleep"));
}

/// Like sleep(delay), then gives `result`. Python: asyncio.sleep(delay, result).
template <class T>
Coro<std::decay_t<T>> sleep(Seconds delay, T result) {
    Coro<void> s = sleep(delay);  // validates eagerly
    co_await std::move(s);
    co_return std::move(result);
}

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
    check_closed();
    return run_until_complete(static_cast<const Future<T>&>(create_task(std::move(coro))));
}

namespace detail {
/// Runs the loop until `f` is done (the body of run_until_complete).
void run_until_done(EventLoop& loop, FutureBase* f);
}  // namespace detail

template <class T>
T EventLoop::run_until_complete(const Future<T>& future) {
    check_closed();
    detail::run_until_done(*this, future.state());
    if constexpr (std::is_void_v<T> || std::is_copy_constructible_v<T>)
        return future.result();
    else
        return std::move(future.result());
}

}  // namespace asyncio
