// The promise types behind Coro<T> (coro.hpp) and what they share with AsyncGenerator
// (asyncgen.hpp): where a frame comes from, who resumes when it ends, where its exception
// waits. Implementation detail: users name Coro<T> only.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/task_core.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

template <class T>
class Coro;

namespace detail {

/// Reports a coroutine that was created and destroyed without ever running (debug mode).
void report_never_awaited(void* frame) noexcept;
[[noreturn]] void throw_awaited_twice();
[[noreturn]] void throw_empty_coro();
TaskCore& task_for_await(const char* what);

/// Destroys a frame suspended before its end (a task dropped by close(), a child awaited by
/// it): frees it and reports an exception a destructor in it throws ("Exception ignored ..."
/// through `loop`'s exception handler, else the running loop's, else stderr), leaving the
/// thread's exception slot as it was. The frame's continuation must not be resumed: callers
/// point it at std::noop_coroutine() first.
void destroy_suspended_frame(std::coroutine_handle<> h, EventLoop* loop = nullptr) noexcept;

/// A coroutine's exception goes to tls.coro_exc (rarely taken: allocated then). On memory
/// exhaustion a shared bad_alloc stands in.
std::exception_ptr& coro_exc_out_of_memory() noexcept;
inline void stash_coro_exception() noexcept {
    try {
        tls.coro_exc = new std::exception_ptr(std::current_exception());
    } catch (...) {
        tls.coro_exc = &coro_exc_out_of_memory();
    }
}
/// The exception the Coro that just ended left (null: it returned normally).
inline std::exception_ptr take_coro_exception() noexcept {
    std::exception_ptr* p = tls.coro_exc;
    if (!p) return nullptr;
    tls.coro_exc = nullptr;
    if (p == &coro_exc_out_of_memory()) return *p;
    std::exception_ptr e = std::move(*p);
    delete p;
    return e;
}

struct promise_base {
    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
            return h.promise().continuation_;  // the awaiter, or noop for a task's root
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    // The frame ends right after this and its awaiter (or task) takes the exception next,
    // with nothing in between on this thread: it waits in the thread's slot, not the frame.
    // Saves an exception_ptr (8 bytes) in every frame: 8 MB at 1M live frames (W1: 1M tasks,
    // 1M frames; part of the 226 -> 187 MiB step recorded in the history).
    void unhandled_exception() noexcept { stash_coro_exception(); }

    // Who resumes when this frame finishes: the awaiting frame, or std::noop_coroutine() for
    // the root of a task. Null until started, which is how a never-awaited frame is told.
    std::coroutine_handle<> continuation_;
};

template <class T>
struct coro_promise : promise_base {
    Coro<T> get_return_object() noexcept;
    template <class U>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) { value_.emplace(std::forward<U>(v)); }
    T take() {
        if (!value_) std::rethrow_exception(take_coro_exception());
        return std::move(*value_);
    }
    std::optional<T> value_;
};

template <>
struct coro_promise<void> : promise_base {
    Coro<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() {
        if (std::exception_ptr e = take_coro_exception()) std::rethrow_exception(e);
    }
};

}  // namespace detail

}  // namespace asyncio
