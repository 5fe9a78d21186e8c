// The untyped core of a Task: it drives one coroutine chain on the loop.
//
// The task's life is one explicit state machine: a phase (where the coroutine is) and a
// cancel state (what cancel() has asked for and not yet been answered), changed only through
// set_phase(), which checks in debug builds that the move is one of those drawn below.
//
//   created ──step──> running ──co_await──> awaiting_future ─(future done: wake-up)─> running
//      │                 │                        ╰──(cancel back through a cycle)──> scheduled
//      │                 │  ╰──sleep(d>0)──> sleeping ──(timer fired / cancel)──> scheduled
//      │                 │  ╰──lock, queue─> parked ───(unpark / cancel)─────────> scheduled
//      │                 │  ╰──sleep(0), or a cancel the await answers at once ──> scheduled
//      │                 ╰──coroutine returned or threw──> done       scheduled ──step──> running
//      ╰── cancelled before its first step, or any pending phase at loop close ──> done
//
// Fields in the task (in the style of Tokio's runtime/task/mod.rs), and when each is valid:
//
//   phase_         always.
//   task_root_     every phase but done: the task's own coroutine frame (owned). It is
//                  FutureBase's exc_ word (see there): take_root() makes it exc_ again,
//                  null, as the task becomes done.
//   resume slot    scheduled, awaiting_future, sleeping, parked: the frame the next step
//                  resumes (the innermost awaiting coroutine). It is the root frame's own
//                  continuation_ word (resume_slot()), which a root never needs while it
//                  runs: step() puts std::noop_coroutine() back before resuming, so the root
//                  still ends into nothing. created, running: noop. Measured (W1g, 1M sleeping
//                  tasks gathered): a task 88 -> 80 bytes; cost (callgrind, marginal
//                  instructions) W4 1,207 -> 1,217 a round trip, W3 609.5 -> 607.5 a task.
//   queued_        created, scheduled: .link, the ready queue's link of the one queued step.
//                  done: .link carries the lone done callback, when the task had exactly
//                  one (see complete()), and .done_callback holds it (CallbackList's tagged
//                  word).
//   waiter_        awaiting_future: the future waited on, which holds the task's wake-up.
//   timer_         sleeping: the sleep's node in the loop's timer queue; it spans the list
//                  links below (its run links lie over prev_ and next_).
//   park_node_     parked: the lock's or queue's waiter node that will unpark the task.
//                  The four above share one union: exactly the one the phase names is live;
//                  running leaves none live, and done only queued_ while its entry waits.
//   prev_, next_   every phase but sleeping and done: the loop's list of pending tasks. A
//                  task leaves it as it falls asleep and joins it again as the node leaves
//                  the timers (fired, removed by a cancel, or taken by a closing loop).
//                  done: done_storage() (TaskState's small result).
//   cancel_        while pending, with the request's CancelledError in the side table
//                  (Extras::cancel_error; exc_ is the outcome once done, and its word holds
//                  task_root_ until then):
//                    none       no cancel_error.
//                    requested  CPython's _must_cancel: cancel_error is the CancelledError(msg) the
//                               next step throws, unless the future the task waited on ended
//                               with its own CancelledError, which is thrown instead (the
//                               first message wins). A later cancel() replaces it;
//                               uncancel() down to zero withdraws it.
//                    delivered  the wait ended cancelled (a sleep or park has no future to
//                               hold its CancelledError, so the task holds it): it is
//                               thrown by the next await_resume(). A later cancel() only
//                               counts; uncancel() never withdraws it.
//                  requested becomes delivered in one place, deliver_cancel(): at a step, or
//                  when the task starts a wait that the request cancels at once.
//   num_cancels_   always: cancelling(), saturating at 65535.
//   task_id_       always: the N of the default name "Task-N" (0: the task was named).
//   has_extras_    always: the thread's side table holds a name, a context, a cancel
//                  request's CancelledError or (debug mode) the creation site for the task.
//   forwarding_cancel_  true only while cancel() passes itself on to waiter_: a cancel that
//                  comes back to this task through a cycle of futures (a task awaiting a
//                  gather of a task awaiting it) ends this task's wait instead, breaking the
//                  cycle.
//
// While not done the task holds a reference to itself, so dropping every handle never stops
// it (unlike CPython, gh-117379); the loop lists every pending task and, when closed,
// destroys those left and reports each one.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "asyncio/detail/context.hpp"
#include "asyncio/detail/future_base.hpp"
#include "asyncio/detail/timer_heap.hpp"

namespace asyncio {

class AnyTask;

/// One coroutine frame of a task's chain (Task::get_stack()). Python: a frame object.
struct FrameInfo {
    /// The coroutine function's qualified name, as Python's co_qualname ("app::level3",
    /// "app::Worker::run", "main()::{lambda()#1}::operator()"); "<coroutine 0x...>" when the
    /// binary has no symbol for it (stripped). Overloads are not told apart.
    std::string function;
    /// Where the frame is, when known ("" and 0 otherwise: this build knows no lines).
    std::string file;
    unsigned line = 0;
    /// The frame's address.
    const void* frame = nullptr;
};

namespace detail {

/// Something a task parks on without a future (a lock's or a queue's waiter): the task
/// calls `on_cancel(node)` when it is cancelled while parked, and the node must then let go
/// of the task (unlink itself) without consuming a wake-up.
struct ParkNode {
    void (*on_cancel)(ParkNode* node) noexcept = nullptr;
};

class TaskCore : public FutureBase {
  public:
    /// Where the task is; see the diagram at the top of this file.
    enum class Phase : std::uint8_t {
        created,          // first step queued, body not started
        scheduled,        // a step queued
        running,          // a step executing
        awaiting_future,  // suspended until waiter_ is done
        sleeping,         // suspended on its own timer
        parked,           // suspended on a lock's or queue's waiter node
        done,
    };
    /// What cancel() has asked and the task has not yet answered; see the top of this file.
    enum class CancelState : std::uint8_t { none, requested, delivered };

    static const char* phase_name(Phase p) noexcept;

    /// Registers the task with `loop` and queues its first step, unless `eager`: then the
    /// creator calls eager_start() once the task is set up.
    TaskCore(EventLoop& loop, std::coroutine_handle<> root, bool named, bool eager = false);
    ~TaskCore() override;

    bool is_task() const noexcept final { return true; }
    const char* class_name() const noexcept final { return "Task"; }
    /// "<Task pending name='Task-1' phase=sleeping>", "<Task finished name='x'>".
    std::string repr() const override;
    Phase phase() const noexcept { return phase_; }

    /// Python's Task.cancel(msg): true unless done; each call adds one to cancelling().
    bool cancel(std::optional<std::string> msg) override;
    std::uint32_t cancelling() const noexcept { return num_cancels_; }
    std::uint32_t uncancel() noexcept;

    std::string get_name() const;
    void set_name(std::string name);
    /// Debug mode: where create_task() was called (kept in the side table).
    void set_created_at(std::source_location where);
    std::optional<std::source_location> created_at() const noexcept;

    /// Runs the first step now, inside the creator, when the loop runs in this thread
    /// (CPython's Task.__eager_start); otherwise queues it as a created task does.
    void eager_start();
    /// The task's own coroutine frame (null once done).
    std::coroutine_handle<> root() const noexcept {
        return phase_ == Phase::done ? nullptr : task_root_;
    }
    /// The innermost suspended frame of the chain (null unless the task is suspended or
    /// scheduled after a suspension: awaiting a future, sleeping, parked, scheduled).
    std::coroutine_handle<> innermost() const noexcept;
    /// What the task waits on: the future (awaiting_future), else null.
    FutureBase* waiting_on() const noexcept {
        return phase_ == Phase::awaiting_future ? waiter_ : nullptr;
    }
    /// The loop time (ns) the task sleeps until (sleeping), else -1.
    std::int64_t sleep_deadline_ns() const noexcept;
    /// The chain of frames (see AnyTask::get_stack), oldest first, at most `limit` (the
    /// newest ones).
    std::vector<FrameInfo> get_stack(std::optional<std::size_t> limit) const;
    /// The task whose wake-up `fn` is, given its callback entry (graph.cpp).
    static bool is_wakeup(ReadyFn fn) noexcept { return fn == &wakeup_thunk; }

    // --- suspension protocol used by awaiters (see coro.hpp, futures.hpp) ---

    /// The task suspends at `resume` until `fut` is done.
    /// Errors: RuntimeError when `fut` is this task, a task awaiting this one (a cycle), or
    /// a future of another loop.
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
        if (cancel_ == CancelState::delivered) throw_delivered();
    }
    /// True when the next check_resume() throws (the wait ended cancelled).
    bool cancel_delivered() const noexcept { return cancel_ == CancelState::delivered; }

    /// The loop fired this task's sleep timer.
    void timer_fired() noexcept;
    /// The loop was closed while this task was pending: report, unhook and destroy the frame.
    void abandon() noexcept;

    /// The task's context slot (the context it runs in; nullptr: empty).
    ContextData*& context_slot();
    ContextData* context() const noexcept;
    /// Runs the task in `ctx` instead of the copy taken at creation (create_task's context=).
    void use_context(ContextData* ctx);

    /// The task a ready entry steps, wakes or fires the sleep timer of, else null (the
    /// loop's slow-callback report names it).
    static TaskCore* task_of(ReadyEntry e) noexcept;
    /// How the loop fires a sleeping task's timer (timer_kinds; defined in tasks.cpp).
    static constexpr TimerKind sleep_timer_kind() noexcept;

  protected:
    void* root_address() const noexcept { return task_root_.address(); }
    /// The root frame's continuation_ word, where the frame the next step resumes waits
    /// (see the table at the top of this file; defined in tasks.cpp).
    std::coroutine_handle<>& resume_slot() const noexcept;
    /// Storage free once the task is done and off the loop's list (the list links): the
    /// typed layer keeps a small result there (TaskState). Valid from finish_root()'s
    /// take_root_result() on.
    static constexpr std::size_t done_storage_size = 2 * sizeof(void*);
    void* done_storage() noexcept { return &prev_; }
    /// Stores the root coroutine's value (typed layer); returns false if it threw, with the
    /// exception in `out`.
    virtual bool take_root_result(std::exception_ptr& out) = 0;

  private:
    /// The task a ready entry of its queued_.link belongs to (`link`: that entry's self).
    static TaskCore* of_link(void* link) noexcept;
    static void step_thunk(void* self, bool run);
    static void wakeup_thunk(void* self, bool run);
    static void timer_fired_thunk(void* self, bool run);

    /// The one place the phase changes (debug builds check the move against the diagram).
    void set_phase(Phase to) noexcept {
#ifndef NDEBUG
        check_transition(to);
#endif
        phase_ = to;
    }
    void check_transition(Phase to) const noexcept;
    // The union's members, each checked (debug builds) against the phase that makes it live.
    FutureBase*& waiter() noexcept {
        assert(phase_ == Phase::awaiting_future);
        return waiter_;
    }
    TimerNode& timer() noexcept {
        assert(phase_ == Phase::sleeping);
        return timer_;
    }
    ParkNode*& park_node() noexcept {
        assert(phase_ == Phase::parked);
        return park_node_;
    }

    /// Makes a cancel request (CPython's _must_cancel) or replaces its message.
    void request_cancel(std::optional<std::string> msg);
    /// requested -> delivered: the next await_resume() throws the request's CancelledError.
    void deliver_cancel() noexcept {
        if (cancel_ == CancelState::requested) cancel_ = CancelState::delivered;
    }
    /// The request is answered by a cancelled future instead: nothing is left to throw.
    void drop_cancel() noexcept {
        cancel_ = CancelState::none;
        take_cancel_error();
    }
    /// Moves the cancel request's CancelledError out of the side table (null: none).
    std::exception_ptr take_cancel_error() noexcept;
    /// The frame leaves the task (it is done with it): the word becomes exc_ again, null.
    std::coroutine_handle<> take_root() noexcept {
        std::coroutine_handle<> r = task_root_;
        new (&exc_) std::exception_ptr();
        return r;
    }
    /// Delivered (no future holds the CancelledError): the wait (sleeping, parked, or, to
    /// break a cycle, awaiting_future) ends and the step is queued.
    void cancelled_while_waiting(std::optional<std::string> msg);

    /// Moves to scheduled and queues the step.
    void schedule_step();
    /// Queues the step (phase created or scheduled already).
    void queue_step();
    void step();
    void finish_root();
    void finish_with_exception(std::exception_ptr e);
    /// Completes through `set_outcome` (one of FutureBase's completions, which schedule the
    /// done callbacks), except that a lone tagged done callback (a gather's, a wait's, an
    /// awaiting task's) is queued through the task's own ready link, now free, instead of a
    /// 16-byte slot of the ready queue: tasks finishing together take one slot, as their
    /// steps do. Measured (W1g, 1M sleeping tasks gathered, all ending in one iteration):
    /// 16 MiB of ready-queue ring less at peak.
    template <class F>
    void complete(F&& set_outcome) {
        std::uintptr_t lone = callbacks_.take_lone_tagged();
        set_outcome();
        if (lone) queue_done_callback(lone);
    }
    void queue_done_callback(std::uintptr_t word);
    static void done_callback_thunk(void* self, bool run);
    /// Unhooks from whatever the task waits on (the live union member), leaving no member live.
    void leave_waiting() noexcept;
    [[noreturn]] void throw_delivered();
    /// True when this task, or a task it awaits (transitively), awaits `target`.
    bool awaits(const FutureBase* target) const noexcept;

    // Own fields first: the compiler places phase_ in the last byte of FutureBase's 32 and
    // the rest in the next 8. phase_ and cancel_, read or written at every step, are whole
    // bytes written with plain stores (no read-modify-write of a neighbouring flag); the two
    // flags, written when a task is named or cancelled, share a byte. Measured: with the
    // loop id (detail/loop_ids.hpp) this packing makes a task 80 -> 72 bytes.
    Phase phase_ = Phase::created;
    CancelState cancel_ = CancelState::none;
    bool has_extras_ : 1 = false;         // Extras exist for this task in the side table
    bool forwarding_cancel_ : 1 = false;  // inside cancel(), passing it to waiter_ (cycle guard)
    std::uint16_t num_cancels_ = 0;
    std::uint32_t task_id_ = 0;

  public:
    // What few tasks have (a name set by the user, a non-empty context) lives in a side
    // table of the thread, so that the common task stays small (has_extras_ tells).
    // Measured: Extras was 48 bytes (64 with the debug creation site); inline it would make
    // every task 144 bytes instead of 96,
    // 48 MB more for 1M unnamed tasks in the empty context (W1). A named task pays one hash
    // table node instead.
    struct Extras {
        std::string name;
        bool has_name = false;
        ContextData* context = nullptr;
        std::exception_ptr cancel_error;  // a pending cancel's CancelledError (see cancel_)
        std::optional<std::source_location> created_at;  // debug mode
        ~Extras() {
            if (context) context->release();
        }
    };

  private:
    Extras& extras();
    const Extras* find_extras() const noexcept;

    // One member live at a time, named by phase_ (see the table at the top of this file). A
    // sleeping task's timer node spans the list links too: the task is off the loop's list
    // while it sleeps (the loop finds it among its timers). The struct is anonymous (a GNU
    // extension, in GCC and Clang) so that its members read as the task's own.
    union {
        __extension__ struct {  // every phase but sleeping
            union {
                FutureBase* waiter_;   // awaiting_future
                ParkNode* park_node_;  // parked
                struct {
                    ReadyLink link;                // created, scheduled, done (a queued done
                                                   // callback)
                    std::uintptr_t done_callback;  // done, its entry queued (see complete())
                } queued_;
            };
            // The loop's list of pending tasks not asleep (EventLoop::register_task()); after
            // the task is done, done_storage().
            TaskCore* prev_ = nullptr;
            TaskCore* next_;
        };
        TimerNode timer_;  // sleeping
    };

  public:
    // The links of the loop's list of tasks (EventLoop).
    TaskCore*& list_prev() noexcept { return prev_; }
    TaskCore*& list_next() noexcept { return next_; }
    TaskCore* list_next() const noexcept { return next_; }
};
// Measured: with these fields first (in FutureBase's tail padding) a TaskState<void> is 96
// bytes; with the list links declared first it was 104 (1M sleeping tasks: +8 MB RSS). The
// root frame in FutureBase's exc_ word (task_root_) makes it 88, the resume slot in the root
// frame 80, the loop id with the flags packed 72; the timer node grew by its run links into
// the list links, so 72 still.
static_assert(sizeof(void*) != 8 || sizeof(TaskCore) == 72, "TaskCore grew: see the layout note");

}  // namespace detail

}  // namespace asyncio
