#include "asyncio/tasks.hpp"

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <unordered_map>

namespace asyncio {

namespace detail {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
constexpr TimerKind TaskCore::sleep_timer_kind() noexcept {
    static_assert(offsetof(TaskCore, next_) == offsetof(TaskCore, prev_) + sizeof(void*),
                  "done_storage() spans both list links");
    // The list links and the timer node's run links share their place, and nothing else of
    // the node overlaps them: listing a task whose node left the timers keeps the node's
    // index (npos).
    static_assert(offsetof(TaskCore, prev_) ==
                  offsetof(TaskCore, timer_) + offsetof(TimerNode, prev));
    static_assert(offsetof(TaskCore, next_) ==
                  offsetof(TaskCore, timer_) + offsetof(TimerNode, next));
    return TimerKind{&timer_fired_thunk, offsetof(TaskCore, timer_)};
}
#pragma GCC diagnostic pop

// The loop's entry for a sleeping task's timer (timer_heap.hpp: timer_kinds).
constinit const TimerKind task_sleep_timer = TaskCore::sleep_timer_kind();

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
TaskCore* TaskCore::of_link(void* link) noexcept {
    return reinterpret_cast<TaskCore*>(static_cast<char*>(link) - offsetof(TaskCore, queued_));
}
#pragma GCC diagnostic pop

TaskCore* TaskCore::task_of(ReadyEntry e) noexcept {
    if (e.fn == &step_thunk) return of_link(e.self);
    if (e.fn == &wakeup_thunk || e.fn == &timer_fired_thunk) return static_cast<TaskCore*>(e.self);
    return nullptr;
}

// The root frame's promise begins with promise_base (coro_promise.hpp), placed where a
// promise of at most 16-byte alignment goes (TaskState checks its T), so any task's root is
// read as a promise_base's.
std::coroutine_handle<>& TaskCore::resume_slot() const noexcept {
    return std::coroutine_handle<promise_base>::from_address(task_root_.address())
        .promise()
        .continuation_;
}

std::coroutine_handle<> TaskCore::innermost() const noexcept {
    switch (phase_) {
        case Phase::scheduled:
        case Phase::awaiting_future:
        case Phase::sleeping:
        case Phase::parked: return resume_slot();
        default: return root();  // created: the root, not started; running, done: see root()
    }
}

namespace {
// Tasks live and die on their loop's thread: one table per thread.
std::unordered_map<const TaskCore*, TaskCore::Extras>& extras_table() {
    thread_local std::unordered_map<const TaskCore*, TaskCore::Extras> table;
    return table;
}
}  // namespace

namespace {
// Python numbers unnamed tasks with one counter per interpreter: one per process here.
std::atomic<std::uint32_t> task_name_counter{0};
}  // namespace

TaskCore::TaskCore(EventLoop& loop, std::coroutine_handle<> root, bool named, bool eager)
    : FutureBase(loop) {
    if (!named) task_id_ = task_name_counter.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ContextData* ctx = current_context()) {
        ctx->add_ref();
        extras().context = ctx;
    }
    add_ref();  // the task keeps itself alive until it is done
    loop.register_task(this);
    if (!eager) queue_step();  // phase_ starts as created
    // Last: once exc_'s word holds the frame, ~FutureBase must not run before ~TaskCore.
    exc_.~exception_ptr();
    new (&task_root_) std::coroutine_handle<>(root);
}

void TaskCore::eager_start() {
    // CPython 3.12 (gh-97696): only while the loop runs; otherwise a plain first step.
    if (tls.running_loop != &loop()) {
        queue_step();
        return;
    }
    // step() swaps current_task to this task and back, runs in the task's context (the
    // context follows current_task) and, if the coroutine ends here, completes the task,
    // scheduling its done callbacks with call_soon.
    StatePtr<TaskCore> keep(this);
    step();
}

std::int64_t TaskCore::sleep_deadline_ns() const noexcept {
    return phase_ == Phase::sleeping ? timer_.when : -1;
}

TaskCore::~TaskCore() {
    if (phase_ != Phase::done) {
        if (std::coroutine_handle<> r = take_root()) r.destroy();
    }
    if (has_extras_) extras_table().erase(this);
}

std::exception_ptr TaskCore::take_cancel_error() noexcept {
    if (!has_extras_) return nullptr;
    auto it = extras_table().find(this);
    return it == extras_table().end() ? nullptr : std::move(it->second.cancel_error);
}

TaskCore::Extras& TaskCore::extras() {
    has_extras_ = true;
    return extras_table()[this];
}

const TaskCore::Extras* TaskCore::find_extras() const noexcept {
    if (!has_extras_) return nullptr;
    auto it = extras_table().find(this);
    return it == extras_table().end() ? nullptr : &it->second;
}

ContextData*& TaskCore::context_slot() { return extras().context; }

ContextData* TaskCore::context() const noexcept {
    const Extras* e = find_extras();
    return e ? e->context : nullptr;
}

void TaskCore::use_context(ContextData* ctx) {
    if (!ctx && !has_extras_) return;  // the empty context already
    ContextData*& slot = context_slot();
    if (ctx) ctx->add_ref();
    if (slot) slot->release();
    slot = ctx;
}

std::string TaskCore::get_name() const {
    const Extras* e = find_extras();
    return e && e->has_name ? e->name : "Task-" + std::to_string(task_id_);
}

void TaskCore::set_name(std::string name) {
    Extras& e = extras();
    e.name = std::move(name);
    e.has_name = true;
}

void TaskCore::set_created_at(std::source_location where) { extras().created_at = where; }

std::optional<std::source_location> TaskCore::created_at() const noexcept {
    const Extras* e = find_extras();
    return e ? e->created_at : std::nullopt;
}

const char* TaskCore::phase_name(Phase p) noexcept {
    switch (p) {
        case Phase::created: return "created";
        case Phase::scheduled: return "scheduled";
        case Phase::running: return "running";
        case Phase::awaiting_future: return "awaiting_future";
        case Phase::sleeping: return "sleeping";
        case Phase::parked: return "parked";
        case Phase::done: return "done";
    }
    return "?";
}

void TaskCore::check_transition(Phase to) const noexcept {
    // The moves of the diagram at the top of task_core.hpp.
    bool ok = false;
    switch (phase_) {
        case Phase::created:
        case Phase::scheduled: ok = to == Phase::running || to == Phase::done; break;
        case Phase::awaiting_future:
            ok = to == Phase::running || to == Phase::done || to == Phase::scheduled;
            break;
        case Phase::running: ok = to != Phase::created && to != Phase::running; break;
        case Phase::sleeping:
        case Phase::parked: ok = to == Phase::scheduled || to == Phase::done; break;
        case Phase::done: break;
    }
    if (ok) return;
    std::fprintf(stderr, "asyncio: internal error: task %u moved from phase %s to %s\n", task_id_,
                 phase_name(phase_), phase_name(to));
    std::abort();
}

std::string TaskCore::repr() const {
    const char* st = state_ == State::pending     ? "pending"
                     : state_ == State::cancelled ? "cancelled"
                                                  : "finished";
    std::string s = std::string("<Task ") + st + " name='" + get_name() + "'";
    if (state_ == State::pending) {
        s += " phase=";
        s += phase_name(phase_);
        if (cancel_ == CancelState::requested) s += " cancel=requested";
        if (cancel_ == CancelState::delivered) s += " cancel=delivered";
    }
    if (state_ == State::finished && exc_) s += " exception=" + describe_exception(exc_);
    if (auto where = created_at()) {
        s += " created at ";
        s += where->file_name();
        s += ':';
        s += std::to_string(where->line());
    }
    return s + ">";
}

void TaskCore::schedule_step() {
    set_phase(Phase::scheduled);
    queue_step();
}

void TaskCore::queue_step() {
    // No wait member is live now: the union is free for the ready queue's link (step()
    // overwrites it only once the queue has let go of it). The queued step holds a
    // reference, so that the link outlives its place in the queue even if the task is
    // abandoned meanwhile.
    add_ref();
    loop().push_ready_linked(&step_thunk, &queued_.link);
}

void TaskCore::step_thunk(void* self, bool run) {
    // Drops the queued step's reference afterwards, even if the step throws (SystemExit).
    struct Release {
        TaskCore* t;
        ~Release() { t->release(); }
    } ref{of_link(self)};
    if (run) ref.t->step();
}

void TaskCore::queue_done_callback(std::uintptr_t word) {
    // The queued entry holds a reference (as a queued step does): the link lives in the task.
    add_ref();
    hold_queued_callback(CallbackList::decode(word));
    queued_.done_callback = word;
    loop().push_ready_linked(&done_callback_thunk, &queued_.link);
}

void TaskCore::done_callback_thunk(void* self, bool run) {
    struct Release {
        TaskCore* t;
        ~Release() { t->release(); }
    } ref{of_link(self)};
    ReadyEntry e = CallbackList::decode(ref.t->queued_.done_callback);
    e.fn(e.self, run);
}

void TaskCore::wakeup_thunk(void* self, bool run) {
    if (run) static_cast<TaskCore*>(self)->step();
}

void TaskCore::timer_fired_thunk(void* self, bool run) {
    if (run) static_cast<TaskCore*>(self)->timer_fired();
}

void TaskCore::timer_fired() noexcept {
    // The sleep "future" got its result: the task's step runs in the next iteration, as in
    // CPython (timer callback sets the future; the future schedules the task's wakeup).
    if (phase_ != Phase::sleeping) return;  // cancelled meanwhile: the cancel scheduled the step
    loop().register_task(this);             // the loop popped the node: the links are free
    schedule_step();
}

void TaskCore::request_cancel(std::optional<std::string> msg) {
    // A delivered CancelledError is the answer already (CPython: the cancelled waiter's
    // error beats _must_cancel's): a later request only counts.
    if (cancel_ == CancelState::delivered) return;
    extras().cancel_error = std::make_exception_ptr(CancelledError(std::move(msg)));
    cancel_ = CancelState::requested;
}

void TaskCore::cancelled_while_waiting(std::optional<std::string> msg) {
    // The sleep's (or the waiter's) future is cancelled: the timer goes (the waiter lets go
    // of the task, or the future forgets its wake-up), and the step comes next iteration.
    leave_waiting();
    request_cancel(std::move(msg));
    deliver_cancel();
    schedule_step();
}

bool TaskCore::cancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (done()) return false;
    if (num_cancels_ < 0xffff) ++num_cancels_;
    switch (phase_) {
        case Phase::awaiting_future:
            // CPython: `if self._fut_waiter.cancel(msg): return True`. waiter_ stays set: it
            // may be a task that swallows the cancellation, and a later cancel() must be
            // able to reach it again.
            if (forwarding_cancel_) {
                // Back here through a cycle of futures (CPython recurses until
                // RecursionError): the cycle is broken at this task, which stops waiting and
                // takes the CancelledError itself, as if its waiter had been cancelled.
                cancelled_while_waiting(std::move(msg));
                return true;
            }
            {
                struct Forwarding {  // the flag is a bit-field: no reference to it
                    TaskCore* t;
                    explicit Forwarding(TaskCore* task) : t(task) { t->forwarding_cancel_ = true; }
                    ~Forwarding() { t->forwarding_cancel_ = false; }
                } forwarding(this);
                if (waiter()->cancel(msg)) return true;
            }
            break;
        case Phase::sleeping:
        case Phase::parked: cancelled_while_waiting(std::move(msg)); return true;
        default: break;
    }
    // The step is already scheduled (or this is the running task): it will throw.
    request_cancel(std::move(msg));
    return true;
}

std::uint32_t TaskCore::uncancel() noexcept {
    if (num_cancels_ > 0) {
        --num_cancels_;
        // CPython: down to zero, _must_cancel is withdrawn; a delivered error stays.
        if (num_cancels_ == 0 && cancel_ == CancelState::requested) drop_cancel();
    }
    return num_cancels_;
}

namespace {
std::optional<std::string> cancel_message(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message();
    } catch (...) {
        return std::nullopt;
    }
}
}  // namespace

bool TaskCore::awaits(const FutureBase* target) const noexcept {
    // Follows task -> awaited task links only. Every such link is checked when it is made,
    // so no cycle can exist on this path; the bound is a safety net.
    const TaskCore* t = this;
    for (int hops = 0; hops < 1'000'000; ++hops) {
        if (t->phase_ != Phase::awaiting_future) return false;
        const FutureBase* w = t->waiter_;
        if (w == target) return true;
        if (!w->is_task()) return false;
        t = static_cast<const TaskCore*>(w);
    }
    return false;
}

void TaskCore::wait_on_future(FutureBase* fut, std::coroutine_handle<> resume) {
    if (fut == this) throw RuntimeError("Task cannot await on itself: " + repr());
    if (&fut->loop() != &loop())
        throw RuntimeError("Task " + repr() + " got Future " + fut->repr() +
                           " attached to a different loop");
    if (fut->is_task() && static_cast<TaskCore*>(fut)->awaits(this))
        throw RuntimeError("Task " + repr() + " cannot await " + fut->repr() +
                           ": that task is (transitively) awaiting this one, a deadlock");
    add_tagged_callback<&wakeup_thunk>(fut, this);
    resume_slot() = resume;
    set_phase(Phase::awaiting_future);
    waiter_ = fut;
    if (cancel_ == CancelState::requested) {
        // CPython: the future a task with _must_cancel yields is cancelled at once.
        const Extras* e = find_extras();
        if (fut->cancel(cancel_message(e ? e->cancel_error : nullptr))) drop_cancel();
    }
}

void TaskCore::wait_on_timer(std::int64_t ns, std::coroutine_handle<> resume) {
    resume_slot() = resume;
    if (cancel_ == CancelState::requested) {
        // CPython: the sleep's future is cancelled as soon as the task yields it.
        deliver_cancel();
        schedule_step();
        return;
    }
    std::int64_t now = loop().now_ns();
    // Off the list while asleep: the timer node takes the list links (see the union).
    loop().unregister_task(this);
    set_phase(Phase::sleeping);
    new (&timer_) TimerNode();
    timer().kind = TimerNode::task_sleep;
    loop().timers().push(&timer_, ns > never_ns - now ? never_ns : now + ns);
}

void TaskCore::park(ParkNode* node, std::coroutine_handle<> resume) {
    resume_slot() = resume;
    if (cancel_ == CancelState::requested) {
        // Cancelled while running: as a waiter future cancelled as soon as it is awaited.
        deliver_cancel();
        node->on_cancel(node);
        schedule_step();
        return;
    }
    set_phase(Phase::parked);
    park_node_ = node;
}

void TaskCore::unpark() noexcept {
    if (phase_ != Phase::parked) return;
    park_node() = nullptr;
    schedule_step();
}

void TaskCore::yield_once(std::coroutine_handle<> resume) {
    resume_slot() = resume;
    schedule_step();
}

void TaskCore::throw_delivered() {
    cancel_ = CancelState::none;
    std::rethrow_exception(take_cancel_error());
}

void TaskCore::step() {
    if (done()) return;
    const Phase from = phase_;
    if (cancel_ == CancelState::requested) {
        // CPython's __step: `if self._must_cancel: if not isinstance(exc, CancelledError):
        // exc = self._make_cancelled_error()`: the CancelledError of the future waited on
        // (thrown by its awaiter) wins over the request's.
        FutureBase* w = from == Phase::awaiting_future ? waiter() : nullptr;
        if (w && w->ended_cancelled())
            drop_cancel();
        else
            deliver_cancel();
    }
    set_phase(Phase::running);

    TaskCore* prev = tls.current_task;
    tls.current_task = this;
    if (from == Phase::created) {
        if (cancel_ == CancelState::delivered) {
            // Cancelled before its first step: the body never runs.
            cancel_ = CancelState::none;
            tls.current_task = prev;
            std::exception_ptr e = take_cancel_error();
            take_root().destroy();
            set_phase(Phase::done);
            complete([&] { cancel_future(std::move(e)); });
            loop().unregister_task(this);
            release();
            return;
        }
        task_root_.resume();
    } else {
        // The root must end into nothing: its continuation_ word is noop again while it runs.
        std::coroutine_handle<>& slot = resume_slot();
        std::coroutine_handle<> resume = slot;
        slot = std::noop_coroutine();
        resume.resume();
    }
    tls.current_task = prev;
    if (task_root_.done()) finish_root();
}

void TaskCore::finish_root() {
    std::exception_ptr e;
    loop().unregister_task(this);  // first: done_storage() is the list's links
    bool ok = take_root_result(e);
    take_root().destroy();  // exc_ is live (null) from here
    set_phase(Phase::done);
    StatePtr<TaskCore> self_ref(this);  // keep alive through callbacks and rethrow
    release();                          // the pending self-reference
    const CancelState pending = cancel_;
    cancel_ = CancelState::none;
    if (ok) {
        if (pending != CancelState::none) {
            // Cancelled right before the coroutine returned: the cancel wins.
            std::exception_ptr c = take_cancel_error();
            complete([&] { cancel_future(c ? c : std::make_exception_ptr(CancelledError())); });
        } else {
            complete([&] { finish_with_value(); });
        }
        return;
    }
    if (pending != CancelState::none) take_cancel_error();  // the coroutine's own error wins
    if (is_cancelled_error(e)) {
        complete([&] { cancel_future(std::move(e)); });
        return;
    }
    complete([&] { finish_with_exception(e); });
    // BaseExceptions that are not errors stop the loop (CPython re-raises them from __step).
    try {
        std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (const SystemExit&) {
        throw;
    } catch (...) {
    }
}

void TaskCore::finish_with_exception(std::exception_ptr e) {
    exc_ = std::move(e);
    state_ = State::finished;
    log_traceback_ = true;
    schedule_callbacks();
}

void TaskCore::leave_waiting() noexcept {
    // Only the live member is touched: in created and scheduled the storage is a queued
    // step's link.
    switch (phase_) {
        case Phase::awaiting_future:
            if (FutureBase* w = waiter()) w->remove_callback_entry(&wakeup_thunk, this);
            waiter_ = nullptr;
            break;
        case Phase::sleeping:
            // Back on the loop's list, unless the node already left the timers (a closing
            // loop took it and listed the task).
            if (timer().scheduled()) {
                loop().timers().remove(&timer());
                loop().register_task(this);
            }
            break;
        case Phase::parked:
            if (ParkNode* n = park_node()) n->on_cancel(n);
            park_node_ = nullptr;
            break;
        default: break;
    }
}

void TaskCore::abandon() noexcept {
    StatePtr<TaskCore> self_ref(this);
    {
        ExceptionContext ctx;
        try {
            ctx.message = "Task was destroyed but it is pending!";
        } catch (...) {
        }
        ctx.task = AnyTask(this);
        ctx.source_traceback = created_at();
        loop().call_exception_handler(ctx);
    }
    leave_waiting();
    if (task_root_) resume_slot() = std::noop_coroutine();  // the root ends into nothing
    std::coroutine_handle<> root = take_root();
    set_phase(Phase::done);
    loop().unregister_task(this);
    if (root) {
        TaskCore* prev = tls.current_task;
        tls.current_task = nullptr;
        destroy_suspended_frame(root, &loop());
        tls.current_task = prev;
    }
    // Its done callbacks can never run now: dispose of them, releasing what they hold (a
    // user callback's reference to this task, a combinator's state), or the cycle leaks.
    dispose_callbacks();
    cancel_ = CancelState::none;
    take_cancel_error();
    release();  // the pending self-reference
}

TaskCore& task_for_await(const char* what) {
    if (TaskCore* t = tls.current_task) return *t;
    throw RuntimeError(std::string(what) +
                       " outside of a task: run it with asyncio::run(), "
                       "create_task() or run_until_complete()");
}

}  // namespace detail

namespace detail {
AnyTask run_task_factory(EventLoop& loop, PendingCoro& pending, TaskOptions options) {
    // A copy: the factory may replace itself (set_task_factory) while it runs.
    TaskFactory factory = loop.get_task_factory();
    AnyTask t = factory(loop, pending, std::move(options));
    if (!pending.made() || t.core() != pending.made().core())
        throw RuntimeError(
            "task factory must return the task made by coro.make_task(...) (it returned " +
            std::string(t ? "another task" : "no task") + ")");
    return t;
}
}  // namespace detail

AnyTask PendingCoro::make_task(TaskOptions options) {
    if (made_)
        throw RuntimeError("PendingCoro::make_task() called twice: a coroutine makes one task");
    made_ = make_(*loop_, coro_, options);
    return made_;
}

AnyTask eager_task_factory(EventLoop&, PendingCoro& coro, TaskOptions options) {
    options.eager_start = true;
    return coro.make_task(std::move(options));
}

TaskFactory create_eager_task_factory(TaskFactory custom) {
    if (!custom) return &eager_task_factory;
    return [custom = std::move(custom)](EventLoop& loop, PendingCoro& coro, TaskOptions options) {
        options.eager_start = true;
        return custom(loop, coro, std::move(options));
    };
}

std::vector<AnyTask> all_tasks() { return get_running_loop().all_tasks(); }
std::vector<AnyTask> all_tasks(EventLoop& loop) { return loop.all_tasks(); }

}  // namespace asyncio
