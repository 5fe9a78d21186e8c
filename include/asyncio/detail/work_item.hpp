// The work an executor queues: a callable with its arguments and the concurrent future it
// completes, and the wrapper that runs a callable in a given context (to_thread).
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "asyncio/detail/concurrent_state.hpp"
#include "asyncio/detail/context.hpp"

namespace asyncio::detail {

/// One unit of work queued in an executor: run() calls the function and keeps the outcome,
/// finish() then publishes it to the future (the pool counts the worker as idle in between,
/// so that whoever the result wakes finds an idle worker); cancel() cancels the future when
/// the executor drops the work.
class WorkItem {
  public:
    virtual ~WorkItem() = default;
    virtual void run() noexcept = 0;
    virtual void finish() noexcept = 0;
    virtual void cancel() noexcept = 0;
};

template <class R, class F, class... A>
class CallItem final : public WorkItem {
  public:
    template <class G, class... B>
    CallItem(std::shared_ptr<ConcurrentState<R>> s, G&& g, B&&... b)
        : s_(std::move(s)), fn_(std::forward<G>(g)), args_(std::forward<B>(b)...) {}

    void run() noexcept override {
        try {
            if (!s_->set_running_or_notify_cancel()) return;
        } catch (...) {
            return;
        }
        ran_ = true;
        try {
            if constexpr (std::is_void_v<R>)
                std::apply(fn_, args_);
            else
                value_.emplace(std::apply(fn_, args_));
        } catch (...) {
            exc_ = std::current_exception();
        }
    }
    void finish() noexcept override {
        if (!ran_) return;
        if (exc_) {
            s_->try_set_exception(std::move(exc_));
        } else {
            try {
                if constexpr (std::is_void_v<R>)
                    s_->try_set_result();
                else
                    s_->try_set_result(std::move(*value_));
            } catch (...) {
                s_->try_set_exception(std::current_exception());  // R's move constructor threw
            }
        }
    }
    void cancel() noexcept override { s_->cancel(); }

  private:
    std::shared_ptr<ConcurrentState<R>> s_;
    F fn_;
    std::tuple<A...> args_;
    std::conditional_t<std::is_void_v<R>, char, std::optional<R>> value_{};
    std::exception_ptr exc_;
    bool ran_ = false;
};

template <class F, class... A>
using call_result_t = std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>;

template <class F, class... A>
struct ContextCall {
    ContextData* ctx;
    F fn;
    std::tuple<A...> args;
    ContextCall(ContextData* c, F f, std::tuple<A...> a)
        : ctx(c), fn(std::move(f)), args(std::move(a)) {}
    ContextCall(ContextCall&& o) noexcept
        : ctx(std::exchange(o.ctx, nullptr)), fn(std::move(o.fn)), args(std::move(o.args)) {}
    ContextCall(const ContextCall&) = delete;
    ~ContextCall() {
        if (ctx) ctx->release();  // atomic: safe in the worker thread
    }
    decltype(auto) operator()() {
        ContextScope scope(ctx);
        return std::apply(fn, args);
    }
};

}  // namespace asyncio::detail
