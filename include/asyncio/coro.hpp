// Coro<T>: the return type of an `async def`.
//
// Lazy: calling a coroutine function runs nothing. `co_await coro` starts it inline in the
// awaiting task (symmetric transfer: an await chain a million deep uses constant stack) and
// gives its result or rethrows its exception; create_task(coro) runs it as a Task. A Coro is
// move-only and can be awaited once. Frames come from the recycling pool allocator.
//
// Footguns of C++ coroutines that Python users do not expect (docs/footguns.md):
// - a coroutine's reference parameters are not copied: pass by value what must outlive
//   the call (`Coro<void> f(std::string s)`, not `const std::string&`);
// - a capturing lambda that is itself a coroutine, invoked in place, dangles once the
//   lambda object dies: capture nothing, and pass what it needs as parameters;
// - `co_await` cannot appear in a `catch` block: catch into a std::exception_ptr (or a
//   flag), leave the handler, then `co_await` cleanup and rethrow.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/task_core.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

template <class T = void>
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

/// Suspends the current task for `ns` nanoseconds (0: one iteration) at `caller`.
inline void leaf_sleep(std::int64_t ns, std::coroutine_handle<> caller) {
    TaskCore& t = task_for_await("sleep()");
    if (ns == 0)
        t.yield_once(caller);
    else
        t.wait_on_timer(ns, caller);
}

}  // namespace detail

/// The result of calling a coroutine function (`Coro<int> f()`): lazy, move-only, awaitable
/// once. Python: a coroutine object.
///
/// Errors: awaiting twice throws RuntimeError("cannot reuse already awaited coroutine").
template <class T>
class [[nodiscard]] Coro {
  public:
    using promise_type = detail::coro_promise<T>;
    using value_type = T;
    using handle_type = std::coroutine_handle<promise_type>;

    Coro() noexcept = default;
    explicit Coro(handle_type h) noexcept : bits_(reinterpret_cast<std::uintptr_t>(h.address())) {}
    Coro(Coro&& o) noexcept : bits_(std::exchange(o.bits_, 0)) {}
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            destroy();
            bits_ = std::exchange(o.bits_, 0);
        }
        return *this;
    }
    ~Coro() { destroy(); }

    /// True if this holds a coroutine that has not been handed to an awaiter or a task.
    bool valid() const noexcept { return bits_ != 0; }

    // A Coro is its own awaiter (no separate awaiter object in the awaiting frame).

    bool await_ready() const noexcept { return false; }
    /// Starts the coroutine inline (symmetric transfer) in the awaiting task.
    /// Errors: RuntimeError when the coroutine was already awaited.
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        if (is_leaf(bits_)) {
            detail::leaf_sleep(static_cast<std::int64_t>(bits_ >> 1), caller);
            return std::noop_coroutine();
        }
        if (!bits_ || (bits_ & 2u)) throw_awaited_twice_or_empty();
        auto h = handle_type::from_address(reinterpret_cast<void*>(bits_));
        bits_ |= 2u;  // awaited (frames are at least 8-aligned)
        h.promise().continuation_ = caller;
        return h;
    }
    T await_resume() {
        if (is_leaf(bits_)) {
            if constexpr (std::is_void_v<T>) {
                detail::tls.current_task->check_resume();
                return;
            }
        }
        return handle().promise().take();
    }

    // --- internals ---

    /// Hands the frame to a task (or a helper); a leaf (sleep) is first made a real frame.
    handle_type release() {
        if (!bits_ || (!is_leaf(bits_) && (bits_ & 2u))) throw_awaited_twice_or_empty();
        if (is_leaf(bits_)) {
            if constexpr (std::is_void_v<T>) {
                std::int64_t ns = static_cast<std::int64_t>(bits_ >> 1);
                bits_ = 0;
                return materialize_leaf(ns).release();
            }
        }
        auto h = handle_type::from_address(reinterpret_cast<void*>(std::exchange(bits_, 0)));
        h.promise().continuation_ = std::noop_coroutine();
        return h;
    }
    static Coro leaf(std::int64_t ns) noexcept requires std::is_void_v<T> {
        Coro c;
        c.bits_ = (static_cast<std::uintptr_t>(ns) << 1) | 1u;
        return c;
    }

  private:
    static bool is_leaf(std::uintptr_t b) noexcept { return (b & 1u) != 0; }
    static Coro materialize_leaf(std::int64_t ns);
    [[noreturn]] void throw_awaited_twice_or_empty() const {
        if (bits_ == 0) detail::throw_empty_coro();
        detail::throw_awaited_twice();
    }

    handle_type handle() const noexcept {
        return handle_type::from_address(reinterpret_cast<void*>(bits_ & ~std::uintptr_t{3}));
    }

    void destroy() noexcept {
        if (!bits_ || is_leaf(bits_)) {
            bits_ = 0;
            return;
        }
        auto h = handle();
        if (h.done()) {
            h.destroy();
        } else {
            if (!h.promise().continuation_ && detail::tls.running_loop)
                detail::report_never_awaited(h.address());
            h.promise().continuation_ = std::noop_coroutine();  // whatever happens, stay here
            detail::destroy_suspended_frame(h);
        }
        bits_ = 0;
    }

    // Either a frame address (bit 0 clear; bit 1 set once awaited) or, for Coro<void> made by
    // sleep(), a leaf: (nanoseconds << 1) | 1, suspended on the task's own timer with no frame.
    // Measured (1M tasks each awaiting sleep(1), -O2, this repository's W1 shape): 191 MB
    // peak RSS with the leaf, 261 MB when each sleep is a frame of its own: 70 bytes a task.
    std::uintptr_t bits_ = 0;
};

namespace detail {
template <class T>
Coro<T> coro_promise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<coro_promise<T>>::from_promise(*this));
}
inline Coro<void> coro_promise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<coro_promise<void>>::from_promise(*this));
}
inline Coro<void> sleep_frame(std::int64_t ns) { co_await Coro<void>::leaf(ns); }
}  // namespace detail

template <class T>
Coro<T> Coro<T>::materialize_leaf(std::int64_t ns) {
    if constexpr (std::is_void_v<T>)
        return detail::sleep_frame(ns);
    else
        return {};
}

}  // namespace asyncio
