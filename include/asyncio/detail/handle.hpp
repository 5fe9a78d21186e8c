// The object behind a Handle: a scheduled user callback (call_soon, call_later, add_reader...)
// and the typed callables the loop's templates wrap in it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "asyncio/detail/context.hpp"
#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/timer_heap.hpp"

namespace asyncio {

class EventLoop;

namespace detail {

/// A scheduled user callback (call_soon, call_later, add_reader, ...). Reference-counted
/// atomically because call_soon_threadsafe creates it on another thread. It runs in the
/// context current when it was made (a copy, as CPython's Handle), or in the one given.
class HandleCore : public pooled {
  public:
    explicit HandleCore(EventLoop* loop) noexcept : loop_(loop), ctx_(current_context()) {
        timer_.kind = TimerNode::handle;
        if (ctx_) ctx_->add_ref();
    }
    HandleCore(const HandleCore&) = delete;
    HandleCore& operator=(const HandleCore&) = delete;
    virtual ~HandleCore() {
        if (has_site_) forget_created_at();
        if (ctx_) ctx_->release();
    }
    /// Runs the callback in `ctx` instead (context=).
    void set_context(ContextData* ctx) noexcept {
        if (ctx) ctx->add_ref();
        if (ctx_) ctx_->release();
        ctx_ = ctx;
    }
    ContextData* context() const noexcept { return ctx_; }

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    void cancel() noexcept;
    bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }
    double when() const noexcept;
    EventLoop* loop() const noexcept { return loop_; }
    /// Debug mode: where call_soon(), call_later() or call_at() was called (CPython's
    /// Handle._source_traceback), kept in a side table so that a handle outside debug mode
    /// carries nothing for it (has_site_ sits in padding).
    void set_created_at(std::source_location where);
    std::optional<std::source_location> created_at() const;

    /// Runs the callback (exceptions propagate to the loop, which reports them).
    virtual void invoke() = 0;
    virtual std::string repr() const;

    /// Ready-queue entry: the queue owns one reference.
    static void run_thunk(void* self, bool run);

    static HandleCore* from_timer(TimerNode* n) noexcept {
        return reinterpret_cast<HandleCore*>(reinterpret_cast<char*>(n) - offsetof_timer());
    }
    TimerNode timer_;

  private:
    static std::size_t offsetof_timer() noexcept;
    void forget_created_at() noexcept;
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> cancelled_{false};
    bool has_site_ = false;  // the side table holds the creation site (debug mode)
    EventLoop* loop_;
    ContextData* ctx_;  // one reference; nullptr: the empty context

  public:
    HandleCore* ts_next_ = nullptr;  // the loop's call_soon_threadsafe stack
};

/// The name of a callable for reports: a function's symbol (demangled), else its type's.
std::string function_name(const void* fn);
std::string type_name(const std::type_info& type);
/// "<Handle name()>", "<TimerHandle name() cancelled>", and in debug mode
/// "<Handle name() created at file:line>" (CPython's Handle repr, less the callback's own
/// "at file:line", which C++ does not know).
std::string handle_repr(const HandleCore& h, const std::string& name);

template <class F, class... A>
class HandleFn final : public HandleCore {
  public:
    template <class G, class... B>
    HandleFn(EventLoop* loop, G&& g, B&&... b)
        : HandleCore(loop), fn_(std::forward<G>(g)), args_(std::forward<B>(b)...) {}
    void invoke() override {
        std::apply([this](auto&... a) { std::invoke(fn_, a...); }, args_);
    }
    std::string repr() const override {
        if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)
            return handle_repr(*this, function_name(reinterpret_cast<const void*>(fn_)));
        else
#if defined(__GXX_RTTI) || defined(__cpp_rtti)
            return handle_repr(*this, type_name(typeid(F)));
#else
            return handle_repr(*this, "<callable>");
#endif
    }

  private:
    F fn_;
    std::tuple<A...> args_;
};

template <class F>
inline constexpr bool is_context_v = std::is_same_v<std::remove_cvref_t<F>, Context>;

/// A delay (call_later) or an absolute time (call_at) and the caller's source location: the
/// call's first parameter, converted from what the caller wrote, so that the default
/// argument names the caller (a parameter after the callback's pack cannot have one).
template <class V>
struct ValueAt {
    template <class S>
    requires std::is_convertible_v<const S&, V> ValueAt(
        const S& v, std::source_location w = std::source_location::current())
    noexcept(std::is_nothrow_convertible_v<const S&, V>) : value(v), where(w) {}
    V value;
    std::source_location where;
};

template <class F, class... A>
HandleCore* make_handle(EventLoop* loop, F&& f, A&&... a) {
    static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...>,
                  "the callback must be invocable with the given arguments");
    return new HandleFn<std::decay_t<F>, std::decay_t<A>...>(loop, std::forward<F>(f),
                                                             std::forward<A>(a)...);
}

}  // namespace detail
}  // namespace asyncio
