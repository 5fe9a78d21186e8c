// The thread-safe state behind ConcurrentFuture<T> (Python's concurrent.futures.Future), and
// the small tools that carry work and loop-bound handles between threads.
//
// Invariants: state_ goes pending → (running →) finished, or pending → cancelled, and never
// back; every field is guarded by m_. Done callbacks are kept in registration order while
// the state is not done, then run exactly once, outside the lock, in the thread that
// completed the state (or at once, in the registering thread, when it is already done).
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/time.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/futures.hpp"

namespace asyncio::detail {

/// A move-only `void()` callable (std::function needs copyable targets; these hold futures
/// and coroutines, which must not be copied across threads).
class UniqueFunction {
  public:
    UniqueFunction() noexcept = default;
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, UniqueFunction>)
        UniqueFunction(F&& f)  // NOLINT: implicit, like std::function
        : p_(new Impl<std::decay_t<F>>(std::forward<F>(f))) {}
    UniqueFunction(UniqueFunction&&) noexcept = default;
    UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

    void operator()() { p_->call(); }
    explicit operator bool() const noexcept { return static_cast<bool>(p_); }

  private:
    struct Base {
        virtual ~Base() = default;
        virtual void call() = 0;
    };
    template <class F>
    struct Impl final : Base {
        explicit Impl(F&& f) : f(std::move(f)) {}
        explicit Impl(const F& f) : f(f) {}
        void call() override { f(); }
        F f;
    };
    std::unique_ptr<Base> p_;
};

/// Keeps a handle whose reference count is not atomic (a Future, a Task) while it travels
/// through other threads: it is only moved there, and released only in the thread that made
/// this holder (the loop's). Destroyed anywhere else (the loop was closed before the value
/// could be delivered), the handle is parked for good instead of being released off-thread.
template <class H>
class LoopBound {
  public:
    explicit LoopBound(H h) noexcept : h_(std::move(h)), owner_(std::this_thread::get_id()) {}
    LoopBound(LoopBound&& o) noexcept : h_(std::move(o.h_)), owner_(o.owner_) {}
    LoopBound& operator=(LoopBound&&) = delete;
    ~LoopBound() {
        if (h_ && std::this_thread::get_id() != owner_) park(std::move(h_));
    }
    H& get() noexcept { return h_; }

  private:
    static void park(H&& h) noexcept {
        static std::mutex m;
        static auto* graveyard = new std::vector<H>();  // reachable, never released
        std::lock_guard<std::mutex> lock(m);
        try {
            graveyard->push_back(std::move(h));
        } catch (...) {
            new H(std::move(h));  // out of memory: leak it rather than race on it
        }
    }
    H h_;
    std::thread::id owner_;
};

class ConcurrentCore {
  public:
    enum class State { pending, running, cancelled, finished };

    ConcurrentCore() = default;
    ConcurrentCore(const ConcurrentCore&) = delete;
    ConcurrentCore& operator=(const ConcurrentCore&) = delete;
    virtual ~ConcurrentCore() = default;

    /// Python's Future.cancel(): false once running or finished; true when cancelled (now
    /// or before). Runs the done callbacks when it cancels.
    bool cancel();
    /// Python's set_running_or_notify_cancel(): false if cancelled (the work must not run).
    /// Errors: InvalidStateError unless pending.
    bool set_running_or_notify_cancel();
    /// Completes with an exception; false (nothing done) if already cancelled or finished.
    bool try_set_exception(std::exception_ptr e);
    /// Errors: InvalidStateError when already done.
    void set_exception(std::exception_ptr e);

    bool done() const;
    bool cancelled() const;
    bool running() const;

    /// Blocks until done or until `timeout`. Errors: TimeoutError when it expires.
    void wait(std::optional<Seconds> timeout) const;
    /// What result() throws (CancelledError, the stored exception); returns when it holds a
    /// value. The caller has waited.
    void check_result() const;
    /// Python's exception(timeout): null for a value. Errors: TimeoutError, CancelledError.
    std::exception_ptr exception(std::optional<Seconds> timeout) const;

    /// Runs `fn` once done: at once in this thread if already done, else in the completing
    /// thread. A callback that throws is reported to stderr and ignored (as
    /// concurrent.futures logs "exception calling callback").
    void add_done_callback(UniqueFunction fn);

  protected:
    /// Completes with the value the typed layer stores through `store` (called under the
    /// lock); false if already cancelled or finished.
    template <class Store>
    bool try_finish(Store&& store) {
        std::vector<UniqueFunction> cbs;
        {
            std::lock_guard<std::mutex> lock(m_);
            if (state_ == State::cancelled || state_ == State::finished) return false;
            store();
            state_ = State::finished;
            cbs.swap(callbacks_);
        }
        cv_.notify_all();
        run_callbacks(cbs);
        return true;
    }
    static void run_callbacks(std::vector<UniqueFunction>& cbs) noexcept;

    mutable std::mutex m_;
    mutable std::condition_variable cv_;
    State state_ = State::pending;
    std::exception_ptr exc_;
    std::vector<UniqueFunction> callbacks_;
};

template <class T>
class ConcurrentState final : public ConcurrentCore {
  public:
    template <class... U>
    bool try_set_result(U&&... u) {
        return try_finish([&] {
            if constexpr (!std::is_void_v<T>) value_.emplace(std::forward<U>(u)...);
        });
    }
    /// The stored value (the state is finished with a value).
    T* value() noexcept {
        if constexpr (std::is_void_v<T>)
            return nullptr;
        else
            return &*value_;
    }

  private:
    std::conditional_t<std::is_void_v<T>, char, std::optional<T>> value_{};
};

}  // namespace asyncio::detail
