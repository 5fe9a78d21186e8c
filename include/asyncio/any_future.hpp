// The type-erased handles to a future and to a task: what done callbacks, wait(), the
// exception handler's context and reports use when the result type does not matter.
// Future<T> (futures.hpp) and Task<T> (tasks.hpp) derive from them.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/detail/future_base.hpp"
#include "asyncio/detail/task_core.hpp"

namespace asyncio {

/// A type-erased handle to any future or task: what done callbacks, wait() and reports use
/// when the result type does not matter. Copyable; copies share the state.
class AnyFuture {
  public:
    AnyFuture() noexcept = default;
    explicit AnyFuture(detail::FutureBase* s) noexcept : s_(s) {}

    bool done() const { return st().done(); }
    bool cancelled() const { return st().cancelled(); }
    /// Python: cancel(msg). Returns false when the future is already done.
    bool cancel(std::optional<std::string> msg = std::nullopt) const {
        return st().cancel(std::move(msg));
    }
    /// The exception, null for a result. Errors: InvalidStateError when pending,
    /// CancelledError when cancelled.
    std::exception_ptr exception() const { return st().exception(); }
    EventLoop& get_loop() const { return st().loop(); }

    explicit operator bool() const noexcept { return static_cast<bool>(s_); }
    friend bool operator==(const AnyFuture& a, const AnyFuture& b) noexcept {
        return a.s_.get() == b.s_.get();
    }
    friend bool operator==(const AnyFuture& a, std::nullptr_t) noexcept { return !a.s_; }

    detail::FutureBase* state() const noexcept { return s_.get(); }

  protected:
    /// The state; Errors: RuntimeError for an empty handle (default-constructed, moved-from).
    detail::FutureBase& st() const {
        if (!s_) throw_empty();
        return *s_;
    }
    [[noreturn]] static void throw_empty();

    detail::StatePtr<detail::FutureBase> s_;
};

/// A type-erased handle to a task (any result type). Also the nullable, pointer-like value
/// current_task() returns: `current_task()->get_name()`, `if (!current_task())`.
class AnyTask : public AnyFuture {
  public:
    AnyTask() noexcept = default;
    explicit AnyTask(detail::TaskCore* t) noexcept : AnyFuture(t) {}

    std::string get_name() const { return checked_core()->get_name(); }
    void set_name(std::string name) const { checked_core()->set_name(std::move(name)); }
    /// Python: Task.cancel(msg). True unless the task is done.
    bool cancel(std::optional<std::string> msg = std::nullopt) const {
        return checked_core()->cancel(std::move(msg));
    }
    std::uint32_t cancelling() const { return checked_core()->cancelling(); }
    std::uint32_t uncancel() const { return checked_core()->uncancel(); }

    /// The task's coroutine frame; null once the task is done. Python: Task.get_coro().
    std::coroutine_handle<> get_coro() const { return checked_core()->root(); }
    /// The chain of coroutine frames the task is suspended in, oldest (the task's own
    /// coroutine) first, newest (the one at the innermost co_await) last; at most `limit`
    /// frames, the newest ones. A task not yet started, or running, gives its own coroutine
    /// only (the running chain is not recorded); a done task gives none.
    /// Python: Task.get_stack(limit=) (which gives one frame for a suspended coroutine).
    std::vector<FrameInfo> get_stack(std::optional<std::size_t> limit = std::nullopt) const {
        return checked_core()->get_stack(limit);
    }
    /// Prints get_stack() to `file`: "Stack for <Task ...> (most recent call last):", then
    /// one line per frame. Python: Task.print_stack(limit=, file=).
    void print_stack(std::optional<std::size_t> limit = std::nullopt,
                     std::FILE* file = stderr) const;

    const AnyTask* operator->() const noexcept { return this; }
    detail::TaskCore* core() const noexcept { return static_cast<detail::TaskCore*>(state()); }

  private:
    detail::TaskCore* checked_core() const { return static_cast<detail::TaskCore*>(&st()); }
};

}  // namespace asyncio
