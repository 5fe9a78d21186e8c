// The machinery of gather(): the outer future that collects its children.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
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

/// A child of a gather, in argument order: its state (a counted reference) | the flags
/// below. The `self` of the child's done callback.
struct GatherLink {
    std::uintptr_t bits;
    static constexpr std::uintptr_t kOwned = 1;   // made here: its value may be moved out
    static constexpr std::uintptr_t kHeld = 2;    // a plain future's callback, queued: it
                                                  // holds the gather
    static constexpr std::uintptr_t kOwning = 4;  // a task's callback: holds the gather
    FutureBase* child() const noexcept {
        return reinterpret_cast<FutureBase*>(bits & ~(kOwned | kHeld | kOwning));
    }
    bool owned() const noexcept { return (bits & kOwned) != 0; }
    bool owning() const noexcept { return (bits & kOwning) != 0; }
};

class GatherCore;

/// A gather's links, one word a child, in groups of 32 words aligned to 256 bytes whose
/// first word is the gather's address: a child's done callback, whose `self` is its link,
/// finds its gather by rounding the link's address down (owner()). 32/31 of a word a child
/// (8.3 bytes) where a {gather, child} pair took 16. Measured (W1g, 1M sleeping tasks
/// gathered, peak RSS): 175,656 -> 169,104 KiB with groups of 8 words (9.1 bytes a child),
/// then 152,976 -> 152,176 KiB with groups of 32 (W1, the loop form: 144,008). Links move only
/// while the gather is being filled, before any callback points at one.
class GatherLinks {
  public:
    GatherLinks() noexcept = default;
    GatherLinks(const GatherLinks&) = delete;
    GatherLinks& operator=(const GatherLinks&) = delete;
    ~GatherLinks() { free_storage(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    GatherLink& operator[](std::size_t i) noexcept { return words_[slot(i)]; }
    const GatherLink& operator[](std::size_t i) const noexcept { return words_[slot(i)]; }

    /// Room for `n` links in all (the gather `owner` is written into every group).
    void reserve(std::size_t n, GatherCore* owner);
    void push_back(GatherLink l, GatherCore* owner) {
        if (size_ == cap_) reserve(cap_ ? 2 * cap_ : 4, owner);
        words_[slot(size_++)] = l;
    }
    /// Empties and frees the storage.
    void clear() noexcept {
        free_storage();
        words_ = nullptr;
        size_ = cap_ = 0;
    }
    /// The gather a link belongs to.
    static GatherCore* owner(const GatherLink* l) noexcept {
        auto group = reinterpret_cast<std::uintptr_t>(l) & ~std::uintptr_t{group_bytes - 1};
        return reinterpret_cast<GatherCore*>(reinterpret_cast<const GatherLink*>(group)->bits);
    }

  private:
    static constexpr std::size_t group_words = 32;
    static constexpr std::size_t group_bytes = group_words * sizeof(GatherLink);
    static constexpr std::size_t per_group = group_words - 1;
    static_assert(sizeof(GatherLink) == sizeof(void*));
    /// The word of link `i` (the first word of each group is the owner).
    static std::size_t slot(std::size_t i) noexcept {
        return i / per_group * group_words + 1 + i % per_group;
    }
    void free_storage() noexcept;

    GatherLink* words_ = nullptr;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;  // links
};

/// The outer future of a gather (CPython's _GatheringFuture).
///
/// One GatherLink per argument, in argument order, is all a gather keeps per child: it
/// holds a reference to the child and is the `self` of the child's done callback (see
/// GatherLinks for how the callback finds the gather). Measured (W1g, 1M sleeping tasks
/// gathered, peak RSS): 248 MiB with a Child entry, a separate link and a hash set of the
/// children per child, 211 MiB with a 16-byte {gather, child} link, 195 MiB once the tasks'
/// lone done callbacks also stopped taking ready-queue slots (TaskCore::complete); the
/// one-word links of GatherLinks: see there.
///
/// Ownership: the gather owns its children (it cancels them and reads their values). A
/// task child's done callback owns the gather, as CPython's closure does: a pending task
/// always ends (or is abandoned at loop close, see abandon()), so the gather lives to see it
/// and to report an outcome nobody retrieved. A plain Future child's callback owns nothing
/// while it is stored: such a future nobody completes, pending when its loop is closed by
/// hand, would otherwise keep the gather alive and be kept alive by it, with the loop
/// (CPython's collector frees that cycle). When it finishes, queueing its callback takes a
/// reference to the gather (hold(), from hold_queued_callback(); GatherLink::kHeld records it),
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

    void reserve(std::size_t n) { links_.reserve(n, this); }
    void add_child(Child c);
    /// Registers the done callbacks (or completes at once when there are no children).
    void start();

    /// The gather whose child's done callback `e` is, else null (the call graph).
    static FutureBase* awaiter_of(ReadyEntry e) noexcept {
        return e.fn == &child_done ? GatherLinks::owner(static_cast<GatherLink*>(e.self)) : nullptr;
    }

    /// True when the handle awaiting this is the only one left (its value may be moved).
    bool sole_owner() const noexcept { return refs_ == 1; }

  protected:
    /// Builds the value from the finished children (typed layer).
    virtual void build() = 0;

    using Link = GatherLink;

    bool return_exceptions_;
    GatherLinks links_;

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
