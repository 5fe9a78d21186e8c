// TaskGroup: structured concurrency. Tasks created in a group are all finished when the
// group's join() returns; the first failure cancels the rest, and the failures come out
// together as one ExceptionGroup.
#pragma once

#include <exception>
#include <utility>

#include "asyncio/async_with.hpp"
#include "asyncio/detail/taskgroup.hpp"

namespace asyncio {

/// A group of tasks that end together. Python: asyncio.TaskGroup.
///
/// Two shapes of `async with TaskGroup() as tg:`. The object: `TaskGroup tg;` (entered at
/// construction, in the current task), `tg.create_task(c)`, then `co_await tg.join()` as the
/// exit. Or the body form, `co_await asyncio::task_group(body)` with `body(TaskGroup&)`
/// (the same as `co_await asyncio::async_with(tg, body)`), which also routes the body's own
/// exception into the group, as `async with` does.
///
/// A child that fails (anything but CancelledError) cancels the other children and the
/// parent task (the body's pending await raises CancelledError); join() then waits for every
/// child and raises ExceptionGroup("unhandled errors in a TaskGroup", errors): it never holds
/// CancelledError; a failing nested group appears as a nested ExceptionGroup. KeyboardInterrupt
/// and SystemExit are re-raised bare. The parent's cancelling() count is restored.
/// Cancellation: cancelling the parent from outside cancels every child; join() raises
/// CancelledError once they are done (unless a child failed: errors win).
/// Errors: create_task raises RuntimeError "TaskGroup has not been entered" (made outside a
/// task), "TaskGroup is shutting down" (after a failure), "TaskGroup is finished" (after
/// join); join() outside its parent task raises RuntimeError.
/// A TaskGroup destroyed without join() cancels the tasks it still holds and reports it
/// through the loop's exception handler (a destructor cannot wait).
class TaskGroup {
  public:
    TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    /// Creates a task in the group (the coroutine is closed, never run, on error).
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options = {}) {
        try {
            core_->check_create();
        } catch (...) {
            if (coro.valid()) coro.release().destroy();  // closed, not "never awaited"
            throw;
        }
        Task<T> t = core_->parent_.get_loop().create_task(std::move(coro), std::move(options));
        core_->track(t.core());
        return t;
    }

    /// The exit of the block: waits for every task. `body_error` is the exception the body
    /// raised, if any (it cancels the children and joins the group's errors). If join()
    /// returns normally while `body_error` is set, rethrow `body_error` yourself (Python
    /// re-raises it after __aexit__); task_group() does so.
    Coro<void> join(std::exception_ptr body_error = nullptr) {
        return core_->exit(std::move(body_error));
    }

    /// The async-with protocol, for async_with(tg, body) and task_group(): aenter() checks the
    /// group was made in a task and not entered before (the group itself is entered at
    /// construction); aexit(e) is join(e). Python: __aenter__ / __aexit__.
    /// Errors: RuntimeError "TaskGroup cannot determine the parent task" (made outside a
    /// task), "TaskGroup has already been entered".
    TaskGroup& aenter();
    Coro<void> aexit(std::exception_ptr body_error) { return join(std::move(body_error)); }

  private:
    detail::StatePtr<detail::TaskGroupCore> core_;
};

/// Runs `body(tg)` inside a new TaskGroup and gives the body's result once every task of the
/// group is done. Python: `async with asyncio.TaskGroup() as tg: body`.
template <class Body>
Coro<detail::with_result_t<TaskGroup, Body>> task_group(Body body) {
    TaskGroup tg;
    co_return co_await async_with(tg, std::move(body));
}

}  // namespace asyncio
