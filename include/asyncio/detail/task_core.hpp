// The untyped core of a Task: it drives one coroutine chain on the loop.
//
// Invariant (CPython's Task): either the task is waiting (waiter_ is set, or it sleeps on its
// own timer node) and no step is scheduled, or waiter_ is none and exactly one step is in the
// ready queue, or the task is running or done. While not done the task holds a reference to
// itself, so dropping every handle never stops it (unlike CPython, gh-117379); the loop
// lists every pending task and, when closed, destroys those left and reports each one.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>

#include "asyncio/detail/context.hpp"
#include "asyncio/detail/future_base.hpp"
#include "asyncio/detail/timer_heap.hpp"

namespace asyncio {

class AnyTask;

namespace detail {

/// Something a task parks on without a future (a lock's or a queue's waiter): the task
/// calls `on_cancel(node)` when it is cancelled while parked, and the node must then let go
/// of the task (unlink itself) without consuming a wake-up.
struct ParkNode {
    void (*on_cancel)(ParkNode* node) noexcept = nullptr;
};

class TaskCore : public FutureBase {
public:
    enum Waiting : std::uint8_t { none, future, timer, parked };

    TaskCore(EventLoop& loop, std::coroutine_handle<> root);
    ~TaskCore() override;

    bool is_task() const noexcept final { return true; }
    std::string repr() const override;

    /// Python's Task.cancel(msg): true unless done; each call adds one to cancelling().
    bool cancel(std::optional<std::string> msg) override;
    std::uint32_t cancelling() const noexcept { return num_cancels_; }
    std::uint32_t uncancel() noexcept;

    std::string get_name() const;
    void set_name(std::string name);

    // --- suspension protocol used by awaiters (see coro.hpp, futures.hpp) ---

    /// The task suspends at `resume` until `fut` is done.
    void wait_on_future(FutureBase* fut, std::coroutine_handle<> resume);
    /// The task suspends at `resume` for `ns` nanoseconds on its own timer (sleep).
    void wait_on_timer(std::int64_t ns, std::coroutine_handle<> resume);
    /// The task suspends at `resume` for one loop iteration (sleep(0), a bare yield).
    void yield_once(std::coroutine_handle<> resume);
    /// The task suspends at `resume` until unpark() (or a cancel, which tells `node`). The
    /// same iterations as waiting on a future that the waker completes: the step runs in
    /// the iteration after unpark().
    void park(ParkNode* node, std::coroutine_handle<> resume);
    /// Wakes a parked task (its step comes next iteration). Only the node's owner calls it.
    void unpark() noexcept;
    /// Called by every awaiter's await_resume: throws the CancelledError a cancel() left for
    /// this resumption, if any.
    void check_resume() {
        if (throw_on_resume_) throw_pending();
    }

    /// The loop fired this task's sleep timer.
    void timer_fired() noexcept;
    /// The loop was closed while this task was pending: report, unhook and destroy the frame.
    void abandon() noexcept;

    /// The task's context slot (the context it runs in; nullptr: empty).
    ContextData*& context_slot();
    ContextData* context() const noexcept;

    static TaskCore* from_timer(TimerNode* n) noexcept {
        return reinterpret_cast<TaskCore*>(reinterpret_cast<char*>(n) -
                                           offsetof_timer());
    }

    // intrusive list of the loop's pending tasks
    TaskCore* prev_ = nullptr;
    TaskCore* next_ = nullptr;

protected:
    void* root_address() const noexcept { return root_.address(); }
    /// Stores the root coroutine's value (typed layer); returns false if it threw, with the
    /// exception in `out`.
    virtual bool take_root_result(std::exception_ptr& out) = 0;

private:
    friend class asyncio::EventLoop;
    static void step_thunk(void* self, bool run);
    static void wakeup_thunk(void* self, bool run);
    static void timer_fired_thunk(void* self, bool run);
    static std::size_t offsetof_timer() noexcept;

    void schedule_step();
    void step();
    void finish_root();
    void finish_with_exception(std::exception_ptr e);
    void leave_waiting() noexcept;
    [[noreturn]] void throw_pending();

    std::coroutine_handle<> root_;
    std::coroutine_handle<> resume_;
public:
    // What few tasks have (a name set by the user, a non-empty context) lives in a side
    // table of the thread, so that the common task stays small (has_extras_ tells).
    struct Extras {
        std::string name;
        bool has_name = false;
        ContextData* context = nullptr;
        ~Extras() {
            if (context) context->release();
        }
    };

private:
    Extras& extras();
    const Extras* find_extras() const noexcept;

    // What the task waits on: a future (waiting_ == future), its own sleep timer
    // (waiting_ == timer) or a park node (waiting_ == parked); one at a time, so they share
    // storage, with the ready queue's link of a scheduled step (waiting_ == none).
    union {
        FutureBase* waiter_ = nullptr;
        TimerNode timer_;
        ParkNode* park_node_;  // waiting_ == parked
        ReadyLink ready_link_;  // waiting_ == none, a step scheduled
    };
};

}  // namespace detail

/// A type-erased handle to a task (any result type). Also the nullable, pointer-like value
/// current_task() returns: `current_task()->get_name()`, `if (!current_task())`.
class AnyTask : public AnyFuture {
public:
    AnyTask() noexcept = default;
    explicit AnyTask(detail::TaskCore* t) noexcept : AnyFuture(t) {}

    std::string get_name() const { return checked_core()->get_name(); }
    void set_name(std::string name) const { checked_core()->set_name(std::move(name)); }
    /// Python: Task.cancel(msg). True unless the task is done.
    bool cancel(std::optional<std::string> msg = std::nullopt) const {
        return checked_core()->cancel(std::move(msg));
    }
    std::uint32_t cancelling() const { return checked_core()->cancelling(); }
    std::uint32_t uncancel() const { return checked_core()->uncancel(); }

    const AnyTask* operator->() const noexcept { return this; }
    detail::TaskCore* core() const noexcept { return static_cast<detail::TaskCore*>(state()); }

private:
    detail::TaskCore* checked_core() const { return static_cast<detail::TaskCore*>(&st()); }
};

}  // namespace asyncio
