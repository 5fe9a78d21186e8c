// AsyncGenerator<T>: a coroutine that can both co_await and co_yield (Python's async
// generators, `async def f(): ... yield x`).
//
//   asyncio::AsyncGenerator<int> generate() {
//       for (int i = 0; i < 10; ++i) { co_await asyncio::sleep(0.1); co_yield i; }
//   }
//   auto gen = generate();
//   while (auto v = co_await gen.next()) use(*v);              // async for v in gen
//   co_await asyncio::for_each(generate(), [](int v) { ... });  // the same, as one call
//
// The generator runs inline in the task that calls next(), from where it last stopped to
// its next co_yield (or its end). Exceptions it raises come out of next(); once it has
// ended or raised, next() gives nullopt. aclose() throws GeneratorExit at the co_yield where
// it is paused, so its cleanup (which may co_await) runs; destroying the generator object
// instead destroys the frame at once (destructors run, nothing is awaited). Generators still
// open when run() (or a Runner) shuts down are aclose()d then (Python: shutdown_asyncgens).
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

/// Thrown into a generator at its paused co_yield by aclose(). Not a std::exception (Python:
/// a BaseException): let it propagate; catching it and yielding again is an error.
class GeneratorExit {
  public:
    const char* what() const noexcept { return "GeneratorExit"; }
};

template <class T>
class AsyncGenerator;

namespace detail {

/// The untyped state of a generator frame (the base of its promise).
struct asyncgen_state : promise_base {
    // promise_base::continuation_ is whoever awaits next()/aclose(); exc_ what it raised
    // (kept in the frame: a generator's exception is taken later, by the next()/aclose()).
    void unhandled_exception() noexcept { exc_ = std::current_exception(); }
    std::exception_ptr exc_;
    std::exception_ptr thrown_;  // athrow(): raised at the paused co_yield when it resumes
    std::coroutine_handle<> self_;
    EventLoop* loop_ = nullptr;  // set on first iteration (registered for shutdown)
    asyncgen_state* prev_ = nullptr;
    asyncgen_state* next_ = nullptr;
    bool running_ = false;   // inside next()/aclose()
    bool closing_ = false;   // aclose() in progress: the paused co_yield throws GeneratorExit
    bool yielded_ = false;   // the last resumption stopped at a co_yield
    bool finished_ = false;  // ended, raised, or closed

    /// Called before each resumption: checks and registers (Python's firstiter hook).
    void begin_step(const char* what);
    /// Called after each resumption.
    void end_step() noexcept;
    void unregister() noexcept;
};

/// Python's agen.aclose() on the untyped state.
Coro<void> asyncgen_aclose(asyncgen_state* s);

struct asyncgen_yield_awaiter {
    asyncgen_state* s;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
        s->yielded_ = true;
        return s->continuation_;
    }
    void await_resume() const {
        if (s->closing_) throw GeneratorExit();
        if (s->thrown_) std::rethrow_exception(std::exchange(s->thrown_, nullptr));
    }
};

template <class T>
struct asyncgen_promise : asyncgen_state {
    AsyncGenerator<T> get_return_object() noexcept;
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(
            std::coroutine_handle<asyncgen_promise> h) const noexcept {
            h.promise().yielded_ = false;
            return h.promise().continuation_;
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    template <class U = T>
    requires std::is_constructible_v<T, U&&> asyncgen_yield_awaiter yield_value(U&& v) {
        value_.emplace(std::forward<U>(v));
        return {this};
    }
    void return_void() const noexcept {}
    std::optional<T> value_;
};

}  // namespace detail

/// The object a generator coroutine returns. Move-only; owns the generator's frame.
/// Python: an async generator object.
///
/// Cancellation: cancelling the task while the generator awaits inside next() throws
/// CancelledError there, in the generator; unless it catches it, it ends and next() rethrows.
/// Errors: next() while another next()/aclose() of the same generator is in progress throws
/// RuntimeError("asynchronous generator is already running"); aclose() on a generator that
/// yields again instead of ending throws RuntimeError("async generator ignored GeneratorExit").
template <class T>
class [[nodiscard]] AsyncGenerator {
  public:
    using promise_type = detail::asyncgen_promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    AsyncGenerator() noexcept = default;
    explicit AsyncGenerator(handle_type h) noexcept : h_(h) {}
    AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    ~AsyncGenerator() { destroy(); }

    struct next_awaiter {
        promise_type* p;
        bool await_ready() const noexcept { return !p || p->finished_; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
            p->begin_step("anext()");
            p->continuation_ = caller;
            p->value_.reset();
            return handle_type::from_promise(*p);
        }
        std::optional<T> await_resume() {
            if (!p || p->finished_) {
                if (p && p->exc_) std::rethrow_exception(std::exchange(p->exc_, nullptr));
                return std::nullopt;
            }
            p->end_step();
            if (p->exc_) std::rethrow_exception(std::exchange(p->exc_, nullptr));
            if (!p->yielded_) return std::nullopt;
            return std::move(p->value_);
        }
    };

    /// The next value, or nullopt once the generator has ended. Python: `await anext(gen)`
    /// (StopAsyncIteration becomes nullopt).
    next_awaiter next() noexcept { return {h_ ? &h_.promise() : nullptr}; }

    struct athrow_awaiter {
        promise_type* p;
        std::exception_ptr error;
        bool unstarted = false;
        bool await_ready() {
            if (!p || p->finished_) return true;
            if (!p->yielded_ && !p->running_) {
                // Never started: it ends at once with `error`, running none of its code.
                unstarted = true;
                p->finished_ = true;
                p->unregister();
                return true;
            }
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
            p->begin_step("athrow()");
            p->thrown_ = error;
            p->continuation_ = caller;
            p->value_.reset();
            return handle_type::from_promise(*p);
        }
        std::optional<T> await_resume() {
            if (unstarted) std::rethrow_exception(error);
            return next_awaiter{p}.await_resume();
        }
    };

    /// Raises `error` inside the generator at its paused co_yield and runs it to its next
    /// co_yield: gives that value, or nullopt if the generator ends instead; what the
    /// generator raises (`error` itself when it does not catch it) comes out here. A
    /// generator not started ends at once and `error` is raised here; one that has ended
    /// gives nullopt. Python: `await agen.athrow(error)`.
    athrow_awaiter athrow(std::exception_ptr error) noexcept {
        return {h_ ? &h_.promise() : nullptr, std::move(error)};
    }
    /// athrow() with an exception object: `co_await gen.athrow(ValueError("x"))`.
    template <class E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>) athrow_awaiter
        athrow(E&& error) {
        return athrow(std::make_exception_ptr(std::forward<E>(error)));
    }

    /// Closes the generator: throws GeneratorExit at its paused co_yield and runs it to its
    /// end (its cleanup may co_await). A generator not started, or ended, is just marked
    /// closed. Python: agen.aclose().
    Coro<void> aclose() {
        if (!h_) return noop();
        return detail::asyncgen_aclose(&h_.promise());
    }

    /// True once the generator has ended, raised, or been closed.
    bool done() const noexcept { return !h_ || h_.promise().finished_; }

  private:
    static Coro<void> noop() { co_return; }
    void destroy() noexcept {
        if (!h_) return;
        h_.promise().unregister();
        std::exchange(h_, nullptr).destroy();
    }
    handle_type h_;
};

namespace detail {
template <class T>
AsyncGenerator<T> asyncgen_promise<T>::get_return_object() noexcept {
    auto h = std::coroutine_handle<asyncgen_promise>::from_promise(*this);
    self_ = h;
    return AsyncGenerator<T>(h);
}

template <class T, class F>
Coro<void> for_each_owned(AsyncGenerator<T> gen, F fn) {
    while (auto v = co_await gen.next()) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, T&&>>)
            std::invoke(fn, std::move(*v));
        else
            co_await std::invoke(fn, std::move(*v));
    }
}
}  // namespace detail

/// Python's `async for v in gen: body`: calls `fn(value)` (a plain function, or one that
/// returns a Coro, which is awaited) for each value until the generator ends.
/// Errors: what the generator or fn raise propagates (the generator is left as it is).
template <class T, class F>
Coro<void> for_each(AsyncGenerator<T>& gen, F fn) {
    while (auto v = co_await gen.next()) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, T&&>>)
            std::invoke(fn, std::move(*v));
        else
            co_await std::invoke(fn, std::move(*v));
    }
}
/// The same over a temporary generator, which the returned coroutine owns.
template <class T, class F>
Coro<void> for_each(AsyncGenerator<T>&& gen, F fn) {
    return detail::for_each_owned(std::move(gen), std::move(fn));
}

}  // namespace asyncio
