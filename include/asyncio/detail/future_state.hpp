// The typed state behind Future<T> and the machinery of its handles: the value slot, user
// done callbacks, the awaiter of a future. Implementation of futures.hpp.
#pragma once

#include <concepts>
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/future_base.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

namespace detail {

/// Python's `None` result of a void future, when a value is needed (gather's tuple slot).
template <class T>
struct value_slot {
    std::optional<T> v;
    void* ptr() noexcept { return &*v; }
};
template <>
struct value_slot<void> {
    void* ptr() noexcept { return nullptr; }
};

template <class T>
class FutureState final : public FutureBase {
  public:
    explicit FutureState(EventLoop& loop) noexcept : FutureBase(loop) {}
    ASYNCIO_POOLED_AT(FutureState)
    void* value_ptr() noexcept override { return slot_.ptr(); }
    template <class... U>
    void emplace(U&&... u) {
        if constexpr (!std::is_void_v<T>) slot_.v.emplace(std::forward<U>(u)...);
    }

  private:
    [[no_unique_address]] value_slot<T> slot_;
};

/// Resumes a task: the awaiting side of every Future/Task.
TaskCore& task_for_await(const char* what);

/// A done callback registered by the user (Future/Task::add_done_callback).
///
/// While stored in the future's list it holds no reference to the future (the future owns it:
/// a reference would be a cycle, and a future dropped without completing would leak with its
/// loop). The future takes one for it when it schedules it (hold(), from
/// FutureBase::schedule_callbacks), so the future is alive when the callback runs; thunk()
/// gives it back.
struct UserCallbackBase : pooled {
    UserCallbackBase(FutureBase* s, ContextData* c, const void* t) noexcept
        : state(s), ctx(c), type(t) {
        if (ctx) ctx->add_ref();
    }
    UserCallbackBase(const UserCallbackBase&) = delete;
    UserCallbackBase& operator=(const UserCallbackBase&) = delete;
    virtual ~UserCallbackBase() {
        if (ctx) ctx->release();
    }
    /// Calls the callable with the future's handle (or with nothing).
    virtual void call() = 0;
    void hold() noexcept {
        held = true;
        state->add_ref();
    }
    /// The callback's ready-queue function: runs it in its context, or only disposes of it.
    static void thunk(void* self, bool run);

    FutureBase* state;
    // Python: Future.add_done_callback copies the current context and runs the callback in it
    // (context.run), so what the callback sets never reaches the next callback.
    ContextData* ctx;   // the context current at add_done_callback, or context= (nullptr: empty)
    const void* type;   // identifies UserCallback<H, F> for remove_done_callback
    bool held = false;  // scheduled: holds a reference to `state`
};

template <class H, class F>
struct UserCallback final : UserCallbackBase {
    static constexpr char type_tag = 0;
    UserCallback(FutureBase* s, ContextData* c, F f)
        : UserCallbackBase(s, c, &type_tag), fn(std::move(f)) {}
    void call() override {
        H h(state);
        if constexpr (std::is_invocable_v<F&, H&>)
            std::invoke(fn, h);
        else
            std::invoke(fn);
    }
    F fn;
};

template <class H, class F>
void add_user_callback(FutureBase* s, F&& fn, ContextData* ctx = current_context()) {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_v<D&, H&> || std::is_invocable_v<D&>,
                  "a done callback takes the future (or task) by reference, or nothing");
    s->add_callback(&UserCallbackBase::thunk, new UserCallback<H, D>(s, ctx, std::forward<F>(fn)));
}

template <class H, class F>
std::size_t remove_user_callback(FutureBase* s, const F& fn) {
    using D = std::decay_t<F>;
    static_assert(std::equality_comparable<D>,
                  "remove_done_callback needs a callable comparable with == (a function "
                  "pointer, or a type with operator==): lambdas cannot be told apart");
    return s->remove_callbacks_if([&](const ReadyEntry& e) {
        if (e.fn != &UserCallbackBase::thunk) return false;
        auto* cb = static_cast<UserCallbackBase*>(e.self);
        return cb->type == &UserCallback<H, D>::type_tag &&
               static_cast<UserCallback<H, D>*>(cb)->fn == fn;
    });
}

template <class T>
struct future_awaiter {
    FutureBase* s;
    bool await_ready() const noexcept { return s->done(); }
    void await_suspend(std::coroutine_handle<> h) {
        task_for_await("await on a Future").wait_on_future(s, h);
    }
    T await_resume() {
        if (TaskCore* t = tls.current_task) t->check_resume();
        s->check_result();
        if constexpr (!std::is_void_v<T>) {
            T* p = static_cast<T*>(s->value_ptr());
            if constexpr (std::is_copy_constructible_v<T>)
                return *p;
            else
                return std::move(*p);
        }
    }
};

}  // namespace detail

}  // namespace asyncio
