// The machinery of wait() and as_completed(): done callbacks on many futures, a deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "asyncio/detail/awaitable_traits.hpp"
#include "asyncio/detail/time.hpp"

namespace asyncio {

enum class ReturnWhen : std::uint8_t;  // wait.hpp

namespace detail {

/// A reference-counted block shared by a combinator's frame and the callbacks it registered
/// (a callback may already sit in the ready queue when the frame goes).
class RefCounted {
  public:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;
    virtual ~RefCounted() = default;
    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }

  private:
    std::uint32_t refs_ = 0;
};

/// wait(): counts completions and releases `waiter` per return_when or at the deadline.
class WaitCore final : public RefCounted {
  public:
    /// Watches `n` futures, given by add() before start().
    WaitCore(EventLoop& loop, std::size_t n, ReturnWhen rw);
    ~WaitCore() override;
    /// Registers the callbacks and the deadline (none: nullopt).
    void start(std::optional<Seconds> timeout);
    void add(FutureBase* f) noexcept { links_[nlinks_++] = Link{this, f}; }
    /// The waiter future of the wait() whose done callback `e` is, else null (call graph).
    static FutureBase* awaiter_of(ReadyEntry e) noexcept {
        return e.fn == &on_completion ? static_cast<Link*>(e.self)->core->waiter.state() : nullptr;
    }
    /// Removes what start() registered (the waiting frame leaves).
    void finish() noexcept;
    Future<void> waiter;

  private:
    struct Link {
        WaitCore* core;
        FutureBase* f;
    };
    static void on_completion(void* self, bool run);
    void release_waiter();

    // The watched futures, one link each (the link is the done callback's `self`).
    std::unique_ptr<Link[]> links_;
    std::size_t nlinks_ = 0;
    std::size_t counter_;
    ReturnWhen rw_;
    TimerHandle timeout_;
    bool finished_ = false;
};

/// as_completed(): fills ranked result slots in completion order (the element form), or
/// hands out the inputs in completion order (the iterator form, next()).
///
/// An object is used in one form: the first co_await of an element picks the element form,
/// the first next() the iterator form (the other then raises RuntimeError). Until one is
/// picked, the slots are filled without taking a value out of a task the iterator form may
/// hand out (a copy; a move-only value is moved, and next() then refuses that task).
class AsCompletedCore : public RefCounted {
  public:
    AsCompletedCore(EventLoop& loop, std::vector<Child> children);
    ~AsCompletedCore() override;
    void start(std::optional<Seconds> timeout);
    /// The rank the element at `index` is bound to (claimed at its first await).
    std::size_t claim(std::size_t index);
    std::size_t size() const noexcept { return children_.size(); }

    /// What next_index() returns besides an input index.
    static constexpr std::ptrdiff_t kWait = -1;  ///< nothing new yet: await next_ready()
    static constexpr std::ptrdiff_t kEnd = -2;   ///< every input was handed out
    /// The iterator form's step: the index of the input that completed next, kWait or kEnd.
    /// Errors: TimeoutError for each input not done at the deadline; RuntimeError once the
    /// element form was used, or when the value of that input was moved into a slot.
    std::ptrdiff_t next_index();
    /// A future done at the next completion or at the deadline.
    Future<void> next_ready();

  protected:
    /// Completes slot `rank` with the result of done child `c` (typed layer); `take` says
    /// the value may be moved out of the child rather than copied.
    virtual void fill(std::size_t rank, FutureBase* c, bool take) = 0;
    /// Completes slot `rank` with TimeoutError.
    virtual void fill_timeout(std::size_t rank) = 0;
    /// True when filling from a child with `take` false still moves its value (move-only T).
    virtual bool fill_moves() const noexcept = 0;

  public:
    /// The done callback on input `i` (`self` is its Link). A task's callback holds the core;
    /// a plain future's holds it only once queued (hold()), so that a future nobody completes,
    /// pending when its loop is closed by hand, and the core do not keep each other alive
    /// (the same rule as GatherCore's).
    static void on_completion(void* self, bool run);
    static void hold(void* self) noexcept;

  private:
    enum class Form : std::uint8_t { UNDECIDED, ELEMENTS, ITERATOR };
    struct Link {
        AsCompletedCore* core;
        std::size_t i;
        bool owning;  // a task's callback: holds the core
        bool held;    // a plain future's callback, queued: holds the core
    };
    void on_timeout();
    void wake_iterator();

    EventLoop& loop_;
    std::vector<Child> children_;
    std::unique_ptr<Link[]> links_;
    std::vector<std::int64_t> rank_of_;  // element index → claimed rank, -1 unclaimed
    std::vector<std::size_t> order_;     // input indices in completion order
    std::size_t nlinks_ = 0;
    std::size_t next_fill_ = 0;
    std::size_t next_claim_ = 0;
    std::size_t next_out_ = 0;       // iterator form: completions handed out (or timed out)
    std::size_t filled_before_ = 0;  // slots filled before the iterator form was picked
    TimerHandle timeout_;
    Future<void> next_ready_;
    Form form_ = Form::UNDECIDED;
    bool timed_out_ = false;
};

template <class T>
class AsCompletedState final : public AsCompletedCore {
  public:
    AsCompletedState(EventLoop& loop, std::vector<Child> children)
        : AsCompletedCore(loop, std::move(children)) {
        slots_.reserve(size());
        for (std::size_t i = 0; i < size(); ++i) slots_.push_back(loop.create_future<T>());
    }
    std::vector<Future<T>> slots_;

  private:
    void fill(std::size_t rank, FutureBase* c, bool take) override {
        Future<T>& slot = slots_[rank];
        if (c->cancelled()) {
            slot.cancel();
            return;
        }
        bool unseen = c->exception_unretrieved();
        if (auto e = c->exception()) {
            // The slot takes over the duty to report an exception nobody has seen yet.
            slot.set_exception(e);
            if (!unseen) slot.state()->mark_retrieved();
            return;
        }
        if constexpr (std::is_void_v<T>)
            slot.set_result();
        else
            slot.set_result(take_value<T>(c, take));
    }
    bool fill_moves() const noexcept override {
        if constexpr (std::is_void_v<T>)
            return false;
        else
            return !std::is_copy_constructible_v<T>;
    }
    void fill_timeout(std::size_t rank) override {
        slots_[rank].set_exception(std::make_exception_ptr(TimeoutError()));
        slots_[rank].state()->mark_retrieved();  // an unawaited slot is not an error
    }
};

}  // namespace detail
}  // namespace asyncio
