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

/// A done callback registered by the user: owns a reference to the future and the callable.
template <class H, class F>
struct UserCallback : pooled {
    // Python: Future.add_done_callback copies the current context and runs the callback in it
    // (context.run), so what the callback sets never reaches the next callback.
    UserCallback(FutureBase* s, F f) : state(s), ctx(current_context()), fn(std::move(f)) {
        state->add_ref();
        if (ctx) ctx->add_ref();
    }
    ~UserCallback() {
        if (ctx) ctx->release();
        state->release();
    }
    static void thunk(void* self, bool run) {
        std::unique_ptr<UserCallback> cb(static_cast<UserCallback*>(self));
        if (!run) return;
        ContextScope scope(cb->ctx);
        H h(cb->state);
        if constexpr (std::is_invocable_v<F&, H&>)
            std::invoke(cb->fn, h);
        else
            std::invoke(cb->fn);
    }
    FutureBase* state;
    ContextData* ctx;  // the context current at add_done_callback (nullptr: the empty one)
    F fn;
};

template <class H, class F>
void add_user_callback(FutureBase* s, F&& fn) {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_v<D&, H&> || std::is_invocable_v<D&>,
                  "a done callback takes the future (or task) by reference, or nothing");
    s->add_callback(&UserCallback<H, D>::thunk, new UserCallback<H, D>(s, std::forward<F>(fn)));
}

template <class H, class F>
std::size_t remove_user_callback(FutureBase* s, const F& fn) {
    using D = std::decay_t<F>;
    static_assert(std::equality_comparable<D>,
                  "remove_done_callback needs a callable comparable with == (a function "
                  "pointer, or a type with operator==): lambdas cannot be told apart");
    return s->remove_callbacks_if([&](const ReadyEntry& e) {
        return e.fn == &UserCallback<H, D>::thunk &&
               static_cast<UserCallback<H, D>*>(e.self)->fn == fn;
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
