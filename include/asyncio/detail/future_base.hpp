// The untyped state shared by every Future and Task, and AnyFuture, its type-erased handle.
//
// Invariants: state_ is pending, cancelled or finished and never leaves cancelled/finished.
// While pending, callbacks_ holds the done callbacks in registration order; on completion
// they are moved to the loop's ready queue (call_soon order) and the list is emptied. exc_
// holds the exception of a failed future, the CancelledError of a cancelled one, and, for a
// pending task, the CancelledError of its cancel request (see TaskCore's cancel_).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/loop_ids.hpp"
#include "asyncio/detail/ready_queue.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

class EventLoop;

namespace detail {

/// The functions a lone callback may use without an allocation (the library's own: a task's
/// wake-up, gather's, wait's, a TaskGroup's), each named by a 3-bit tag; at most 7,
/// registered on first use by add_tagged_callback(). Thread-safe.
int callback_tag(ReadyFn fn) noexcept;  // 0: not registered
ReadyFn callback_fn(int tag) noexcept;
bool register_callback_fn(ReadyFn fn) noexcept;  // false when all tags are taken

/// Done callbacks, in one word: empty (0); one entry whose function has a tag, stored as
/// `self | tag` (objects are 8-aligned); or a heap vector of every entry (tag 0).
/// Measured: a task 104 -> 96 bytes against a two-word {fn, self} slot, and no allocation for
/// the one callback most futures get (W1, 1M sleeping tasks: 187 -> 179 MiB with the pool's
/// packing of even-sized blocks, which landed with it).
class CallbackList {
  public:
    CallbackList() = default;
    CallbackList(const CallbackList&) = delete;
    CallbackList& operator=(const CallbackList&) = delete;
    ~CallbackList() { delete many(); }

    bool empty() const noexcept { return word_ == 0; }
    void push(ReadyEntry e) {
        if (word_ == 0) {
            auto self = reinterpret_cast<std::uintptr_t>(e.self);
            if (int tag = callback_tag(e.fn); tag && (self & 7) == 0) {
                word_ = self | static_cast<std::uintptr_t>(tag);  // the common case
                return;
            }
        }
        push_more(e);
    }
    /// Moves every entry out, in order, into `sink(entry)`; leaves the list empty.
    template <class Sink>
    void drain(Sink&& sink) {
        if (word_ & 7) {
            ReadyEntry e = one();
            word_ = 0;
            sink(e);
        } else if (auto* v = many()) {
            word_ = 0;
            for (auto& e : *v) sink(e);
            delete v;
        }
    }
    /// Takes the list's one entry when it is a lone tagged one (the word, 0 otherwise; then
    /// the list is left as it was). decode() gives the entry back.
    std::uintptr_t take_lone_tagged() noexcept {
        if (!(word_ & 7)) return 0;
        return std::exchange(word_, 0);
    }
    static ReadyEntry decode(std::uintptr_t word) noexcept {
        return {callback_fn(static_cast<int>(word & 7)),
                reinterpret_cast<void*>(word & ~std::uintptr_t{7})};
    }
    /// Calls `f(entry)` for every entry, in order (introspection; the list is not changed).
    template <class F>
    void for_each(F&& f) const {
        if (word_ & 7) {
            f(one());
        } else if (auto* v = many()) {
            for (const ReadyEntry& e : *v) f(e);
        }
    }
    /// The entry registered last ({nullptr, nullptr} when empty).
    ReadyEntry last() const noexcept {
        if (word_ & 7) return one();
        if (auto* v = many(); v && !v->empty()) return v->back();
        return {nullptr, nullptr};
    }
    /// Removes every entry for which `pred(entry)` is true, disposing of it; returns the count.
    template <class Pred>
    std::size_t remove_if(Pred&& pred);

  private:
    void push_more(ReadyEntry e);
    ReadyEntry one() const noexcept { return decode(word_); }
    std::vector<ReadyEntry>* many() const noexcept {
        return (word_ & 7) == 0 ? reinterpret_cast<std::vector<ReadyEntry>*>(word_) : nullptr;
    }
    std::uintptr_t word_ = 0;
};

class FutureBase : public pooled {
  public:
    enum class State : std::uint8_t { pending, cancelled, finished };

    explicit FutureBase(EventLoop& loop) noexcept;
    FutureBase(const FutureBase&) = delete;
    FutureBase& operator=(const FutureBase&) = delete;
    virtual ~FutureBase();

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) last_release();
    }

    EventLoop& loop() const noexcept { return loop_of_id(loop_id_); }
    bool done() const noexcept { return state_ != State::pending; }
    bool cancelled() const noexcept { return state_ == State::cancelled; }
    State state() const noexcept { return state_; }

    /// Python's Future.cancel(msg): false when already done.
    /// Overridden by tasks (Task.cancel has other rules).
    virtual bool cancel(std::optional<std::string> msg);
    /// Future.cancel without the task override (Task's own completion as cancelled).
    bool cancel_future(std::exception_ptr cancelled_error);

    /// Throws what result() throws for a pending, cancelled or failed future; else returns.
    void check_result() {
        if (state_ == State::finished && !exc_) return;  // the common case, inline
        check_result_slow();
    }
    /// Done, and awaiting it throws a CancelledError (cancelled, or failed with one).
    bool ended_cancelled() const noexcept;
    /// Python's exception(): null for a result; throws for pending and cancelled.
    std::exception_ptr exception();

    void set_exception(std::exception_ptr e);
    /// Completes with the value already stored by the typed layer.
    void finish_with_value();

    /// Registers a done callback entry; schedules it at once if the future is done.
    void add_callback(ReadyFn fn, void* self);
    template <class Pred>
    std::size_t remove_callbacks_if(Pred&& pred) {
        return callbacks_.remove_if(pred);
    }
    /// Calls `f(entry)` for each pending done callback (the call graph).
    template <class F>
    void for_each_callback(F&& f) const {
        callbacks_.for_each(f);
    }
    /// The done callback registered last ({nullptr, nullptr}: none pending).
    ReadyEntry last_callback() const noexcept { return callbacks_.last(); }
    /// Removes the wake-up entry of a waiting task (the task is being torn down).
    void remove_callback_entry(ReadyFn fn, void* self) noexcept;
    /// Disposes of every done callback without running it (`fn(self, false)`), for a pending
    /// future that can never complete: what it depended on was abandoned when its loop
    /// closed. A combinator's callback holds a reference to the combinator that owns this
    /// future; disposing of it breaks that cycle, or the closed loop leaks.
    void dispose_callbacks() noexcept;

    /// The address of the stored value (typed layer).
    virtual void* value_ptr() noexcept { return nullptr; }
    virtual bool is_task() const noexcept { return false; }
    /// The Python class name reports use ("Future", "Task", "_GatheringFuture").
    virtual const char* class_name() const noexcept { return "Future"; }
    /// A short description for reports: "<Future pending>", "<Task finished name='x'>".
    virtual std::string repr() const;

    /// The future's exception was retrieved or the future cancelled: no "never retrieved" report.
    void mark_retrieved() noexcept { log_traceback_ = false; }
    /// Whatever exception the future ends with will count as retrieved (a child of a failed
    /// gather dropped before the child finished: CPython's gather would retrieve it). A done
    /// callback that does its work when it is queued: see hold_queued_callback().
    void mark_retrieved_when_done() { add_callback(&retrieve_thunk, this); }
    static void retrieve_thunk(void*, bool) noexcept {}
    /// True while the future holds an exception nobody has looked at (it would be reported).
    bool exception_unretrieved() const noexcept { return log_traceback_ && exc_; }

  protected:
    /// The last handle went: reports an exception nobody retrieved (the handler gets a
    /// handle to this future, which it may keep), then deletes unless the handler kept one.
    void last_release() noexcept;
    void assert_pending(const char* op) const;
    void check_result_slow();
    void schedule_callbacks();
    /// Queues one done callback (taking the reference a user callback holds while queued).
    void push_scheduled(ReadyEntry e);

    // exc_: the outcome once done (a failed future's exception, a cancelled one's
    // CancelledError; null for a value). Live for the whole life of a plain future (null while
    // pending). A task keeps its own coroutine frame in this word while it is not done
    // (task_root_, see TaskCore) and switches it back to exc_ as it finishes: a pending
    // task's exception slot would be empty anyway (its cancel request waits in the side
    // table). Measured: a task 96 -> 88 bytes (W1g, 1M sleeping tasks gathered: see
    // docs/design/overview.md, "What each size trick saves").
    union {
        std::exception_ptr exc_;
        std::coroutine_handle<> task_root_;
    };
    CallbackList callbacks_;
    std::uint32_t refs_ = 0;
    std::uint16_t loop_id_;  // the loop (loop()), by its id: see detail/loop_ids.hpp
    // The two share a byte, leaving the last byte of the 32 for TaskCore's phase_. Both are
    // written once or twice in a future's life (completion, retrieval), never per step.
    State state_ : 2 = State::pending;
    bool log_traceback_ : 1 = false;  // an exception is held that nobody looked at
};

/// Called for every done callback a future queues: a combinator's callback that holds no
/// reference while it is stored on a future (a gather's, a shield's, a user callback) takes
/// the one it needs until it runs. See GatherCore for why they hold none while stored.
void hold_queued_callback(ReadyEntry e) noexcept;

/// Intrusive owning pointer to a FutureBase (or derived) state.
template <class S>
class StatePtr {
  public:
    StatePtr() noexcept = default;
    explicit StatePtr(S* p) noexcept : p_(p) {
        if (p_) p_->add_ref();
    }
    StatePtr(const StatePtr& o) noexcept : StatePtr(o.p_) {}
    StatePtr(StatePtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    StatePtr& operator=(StatePtr o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~StatePtr() {
        if (p_) p_->release();
    }
    S* get() const noexcept { return p_; }
    S* operator->() const noexcept { return p_; }
    S& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

  private:
    S* p_ = nullptr;
};

/// `f->add_callback(Fn, self)` for a library callback function that deserves a tag (one
/// registration per function, on its first use).
template <ReadyFn Fn>
void add_tagged_callback(FutureBase* f, void* self) {
    [[maybe_unused]] static const bool tagged = register_callback_fn(Fn);
    f->add_callback(Fn, self);
}

template <class Pred>
std::size_t CallbackList::remove_if(Pred&& pred) {
    std::size_t removed = 0;
    if (word_ & 7) {
        ReadyEntry e = one();
        if (pred(e)) {
            word_ = 0;
            e.fn(e.self, false);
            removed = 1;
        }
    } else if (auto* v = many()) {
        std::vector<ReadyEntry> keep;
        for (auto& e : *v) {
            if (pred(e)) {
                e.fn(e.self, false);
                ++removed;
            } else {
                keep.push_back(e);
            }
        }
        *v = std::move(keep);
        if (v->empty()) {
            delete v;
            word_ = 0;
        }
    }
    return removed;
}

}  // namespace detail

}  // namespace asyncio
