// The machinery of gather(): the outer future that collects its children.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/awaitable_traits.hpp"
#include "asyncio/result.hpp"

namespace asyncio {

template <class R>
class GatherFuture;  // gather.hpp

}  // namespace asyncio

namespace asyncio::detail {

/// The outer future of a gather (CPython's _GatheringFuture).
///
/// One 16-byte Link per argument, in argument order, is all a gather keeps per child: it
/// holds a reference to the child and is the `self` of the child's done callback. Measured
/// (W1g, 1M sleeping tasks gathered, peak RSS): 248 MiB with a Child entry, a separate link
/// and a hash set of the children per child, 211 MiB with the one link, 195 MiB once the
/// tasks' lone done callbacks also stopped taking ready-queue slots (TaskCore::complete):
/// 15.9 bytes a child over the loop form's 180 MiB, the result vector included.
///
/// Ownership: the gather owns its children (it cancels them and reads their values). A
/// task child's done callback owns the gather, as CPython's closure does: a pending task
/// always ends (or is abandoned at loop close, see abandon()), so the gather lives to see it
/// and to report an outcome nobody retrieved. A plain Future child's callback owns nothing
/// while it is stored: such a future nobody completes, pending when its loop is closed by
/// hand, would otherwise keep the gather alive and be kept alive by it, with the loop
/// (CPython's collector frees that cycle). When it finishes, queueing its callback takes a
/// reference to the gather (hold(), from hold_queued_callback(); Link::kHeld records it),
/// released after the callback. A gather dropped while such children are pending withdraws
/// its callbacks from them; if it had already failed, what they raise later counts as
/// retrieved, as CPython's callback retrieves it; if not, a failure is reported by the
/// child instead of by the gather.
///
/// Invariants: a child passed twice has two links but one done callback, on its first link
/// (CPython's arg_to_fut dedup); nfuts_ counts the callbacks. A repeat is found without a
/// set: start() registers callbacks in argument order and nothing else runs meanwhile, so a
/// pending child already watched by this gather has this gather's link as its last
/// callback. Each callback runs (or is disposed of) exactly once. links_ is emptied once
/// every callback has run (not before: a callback queued for a finished child must find it
/// alive), or when the gather is destroyed.
class GatherCore : public FutureBase {
  public:
    GatherCore(EventLoop& loop, bool return_exceptions) noexcept
        : FutureBase(loop), return_exceptions_(return_exceptions) {}
    ~GatherCore() override;

    /// Cancels every child still running; true if any was. The outer completes once they
    /// are all done, with CancelledError whatever return_exceptions says.
    bool cancel(std::optional<std::string> msg) override;
    std::string repr() const override;
    const char* class_name() const noexcept override { return "_GatheringFuture"; }

    void reserve(std::size_t n) { links_.reserve(n); }
    void add_child(Child c);
    /// Registers the done callbacks (or completes at once when there are no children).
    void start();

    /// The gather whose child's done callback `e` is, else null (the call graph).
    static FutureBase* awaiter_of(ReadyEntry e) noexcept {
        return e.fn == &child_done ? static_cast<Link*>(e.self)->g : nullptr;
    }

    /// True when the handle awaiting this is the only one left (its value may be moved).
    bool sole_owner() const noexcept { return refs_ == 1; }

  protected:
    /// Builds the value from the finished children (typed layer).
    virtual void build() = 0;

    /// A child, in argument order: the link its done callback points at.
    struct Link {
        GatherCore* g;
        std::uintptr_t bits;  // the child's state (a counted reference) | flags below
        static constexpr std::uintptr_t kOwned = 1;   // made here: its value may be moved out
        static constexpr std::uintptr_t kHeld = 2;    // a plain future's callback, queued:
                                                      // it holds the gather
        static constexpr std::uintptr_t kOwning = 4;  // a task's callback: holds the gather
        FutureBase* child() const noexcept {
            return reinterpret_cast<FutureBase*>(bits & ~(kOwned | kHeld | kOwning));
        }
        bool owned() const noexcept { return (bits & kOwned) != 0; }
        bool owning() const noexcept { return (bits & kOwning) != 0; }
    };
    static_assert(sizeof(Link) == 16);

    bool return_exceptions_;
    std::vector<Link> links_;

  public:
    /// The done callback on a child (`self` is its Link).
    static void child_done(void* self, bool run);
    /// A child finished and queued child_done(self): the queued entry holds the gather.
    static void hold(void* self) noexcept;

  private:
    void on_child_done(FutureBase* child);
    void finish_exception(std::exception_ptr e);
    void abandon();
    /// Lets go of every child (once every callback has run, or at destruction).
    void drop_links() noexcept;

    std::size_t nfuts_ = 0;
    std::size_t nfinished_ = 0;
    bool cancel_requested_ = false;
    bool abandoned_ = false;  // a task child was abandoned: this can never complete
};

template <class R>
class GatherState final : public GatherCore {
  public:
    using Builder = void (*)(GatherState&);
    GatherState(EventLoop& loop, bool return_exceptions, Builder b) noexcept
        : GatherCore(loop, return_exceptions), builder_(b) {}
    void* value_ptr() noexcept override { return value_ ? &*value_ : nullptr; }

    template <class T>
    auto element(std::size_t i) {
        const Link& l = links_[i];
        if (return_exceptions_) {
            if (auto e = child_exception(l.child())) return Result<slot_t<T>>(e);
        }
        return Result<slot_t<T>>(take_value<T>(l.child(), l.owned()));
    }
    std::size_t size() const noexcept { return links_.size(); }
    std::optional<R> value_;

  private:
    void build() override { builder_(*this); }
    Builder builder_;
};

/// The element type of a gather: the child's value, or a Result of it.
template <bool RetExc, class T>
using gather_elem_t = std::conditional_t<RetExc, Result<slot_t<T>>, slot_t<T>>;

template <bool RetExc, class T>
gather_elem_t<RetExc, T> gather_element(auto& st, std::size_t i) {
    if constexpr (RetExc) {
        return st.template element<T>(i);
    } else {
        return std::move(st.template element<T>(i)).value();
    }
}

template <class R>
struct gather_move_awaiter {
    GatherCore* s;
    bool await_ready() const noexcept { return s->done(); }
    void await_suspend(std::coroutine_handle<> h) {
        task_for_await("await on gather()").wait_on_future(s, h);
    }
    R await_resume() {
        if (TaskCore* t = tls.current_task) t->check_resume();
        s->check_result();
        R* p = static_cast<R*>(s->value_ptr());
        if constexpr (std::is_copy_constructible_v<R>) {
            if (!s->sole_owner()) return *p;
        }
        return std::move(*p);
    }
};

template <class A>
concept gather_range = std::ranges::input_range<A> && awaitable_arg<std::ranges::range_value_t<A>>;

template <bool RetExc, class... A>
auto gather_variadic(A&&... aws) {
    using R = std::tuple<gather_elem_t<RetExc, awaitable_value_t<A>>...>;
    EventLoop& loop = loop_of(aws...);
    auto builder = [](GatherState<R>& st) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            st.value_.emplace(R{gather_element<RetExc, awaitable_value_t<A>>(st, I)...});
        }
        (std::index_sequence_for<A...>{});
    };
    auto* st = new GatherState<R>(loop, RetExc, +builder);
    GatherFuture<R> outer(st);
    st->reserve(sizeof...(A));
    (st->add_child(to_child(std::forward<A>(aws), loop, "gather")), ...);
    st->start();
    return outer;
}

template <bool RetExc, class Rng>
auto gather_range_impl(Rng&& aws) {
    using A = std::ranges::range_value_t<Rng>;
    using T = awaitable_value_t<A>;
    using R = std::vector<gather_elem_t<RetExc, T>>;
    EventLoop* loop = nullptr;
    if constexpr (future_arg<A>) {
        for (auto& a : aws) {
            loop = &a.get_loop();
            break;
        }
    }
    if (!loop) loop = &get_event_loop();
    auto builder = [](GatherState<R>& st) {
        st.value_.emplace();
        st.value_->reserve(st.size());
        for (std::size_t i = 0; i < st.size(); ++i)
            st.value_->push_back(gather_element<RetExc, T>(st, i));
    };
    auto* st = new GatherState<R>(*loop, RetExc, +builder);
    GatherFuture<R> outer(st);
    if constexpr (std::ranges::sized_range<Rng>) st->reserve(std::ranges::size(aws));
    for (auto&& a : aws) {
        if constexpr (coro_arg<A>)
            st->add_child(to_child(std::move(a), *loop, "gather"));
        else
            st->add_child(to_child(a, *loop, "gather"));
    }
    st->start();
    return outer;
}

}  // namespace asyncio::detail
