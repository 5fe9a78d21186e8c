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

#include "asyncio/detail/coro_promise.hpp"
#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/task_core.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

template <class T = void>
class Coro;

namespace detail {

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
