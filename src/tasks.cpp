#include "asyncio/tasks.hpp"

#include <cxxabi.h>
#include <dlfcn.h>

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
std::size_t TaskCore::offsetof_timer() noexcept { return offsetof(TaskCore, timer_); }
#pragma GCC diagnostic pop

namespace {
// Tasks live and die on their loop's thread: one table per thread.
std::unordered_map<const TaskCore*, TaskCore::Extras>& extras_table() {
    thread_local std::unordered_map<const TaskCore*, TaskCore::Extras> table;
    return table;
}
}  // namespace

TaskCore::TaskCore(EventLoop& loop, std::coroutine_handle<> root)
    : FutureBase(loop), root_(root) {
    task_id_ = loop.next_task_id();
    if (ContextData* ctx = current_context()) {
        ctx->add_ref();
        extras().context = ctx;
    }
    add_ref();  // the task keeps itself alive until it is done
    loop.register_task(this);
    schedule_step();
}

TaskCore::~TaskCore() {
    if (log_traceback_ && exc_) report_unretrieved("Task exception was never retrieved", repr());
    if (root_) root_.destroy();
    if (has_extras_) extras_table().erase(this);
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

std::string TaskCore::get_name() const {
    const Extras* e = find_extras();
    return e && e->has_name ? e->name : "Task-" + std::to_string(task_id_);
}

void TaskCore::set_name(std::string name) {
    Extras& e = extras();
    e.name = std::move(name);
    e.has_name = true;
}

std::string TaskCore::repr() const {
    const char* st = state_ == State::pending     ? "pending"
                     : state_ == State::cancelled ? "cancelled"
                                                  : "finished";
    std::string s = std::string("<Task ") + st + " name='" + get_name() + "'";
    if (state_ == State::finished && exc_) s += " exception=" + describe_exception(exc_);
    return s + ">";
}

void TaskCore::schedule_step() {
    // Not waiting: the union is free for the ready queue's link (step() overwrites it only
    // once the queue has let go of it). The queued step holds a reference, so that the link
    // outlives its place in the queue even if the task is abandoned meanwhile.
    add_ref();
    ready_link_.owner = this;
    loop_->push_ready_linked(&step_thunk, &ready_link_);
}

void TaskCore::step_thunk(void* self, bool run) {
    // Drops the queued step's reference afterwards, even if the step throws (SystemExit).
    struct Release {
        TaskCore* t;
        ~Release() { t->release(); }
    } ref{static_cast<TaskCore*>(self)};
    if (run) ref.t->step();
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
    if (waiting_ != timer) return;  // cancelled meanwhile: the cancel scheduled the step
    waiting_ = none;
    schedule_step();
}

bool TaskCore::cancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (done()) return false;
    if (num_cancels_ < 0xffff) ++num_cancels_;
    if (waiting_ == future && waiter_) {
        // Leave waiter_ set: it may be a task that swallows the cancellation, and a later
        // cancel() must be able to reach it again.
        if (waiter_->cancel(msg)) return true;
    } else if (waiting_ == timer || waiting_ == parked) {
        // The sleep's (or the waiter's) future is cancelled: the timer goes (the waiter lets
        // go of the task), and the step comes next iteration.
        leave_waiting();
        exc_ = std::make_exception_ptr(CancelledError(std::move(msg)));
        throw_on_resume_ = true;
        schedule_step();
        return true;
    }
    // The step is already scheduled (or this is the running task): it will throw.
    must_cancel_ = true;
    exc_ = std::make_exception_ptr(CancelledError(std::move(msg)));
    return true;
}

std::uint32_t TaskCore::uncancel() noexcept {
    if (num_cancels_ > 0) {
        --num_cancels_;
        if (num_cancels_ == 0 && must_cancel_) {
            must_cancel_ = false;
            exc_ = nullptr;
        }
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

void TaskCore::wait_on_future(FutureBase* fut, std::coroutine_handle<> resume) {
    if (fut == this) throw RuntimeError("Task cannot await on itself: " + repr());
    if (&fut->loop() != loop_)
        throw RuntimeError("Task " + repr() + " got Future " + fut->repr() +
                           " attached to a different loop");
    add_tagged_callback<&wakeup_thunk>(fut, this);
    waiter_ = fut;
    waiting_ = future;
    resume_ = resume;
    if (must_cancel_) {
        if (fut->cancel(cancel_message(exc_))) {
            must_cancel_ = false;
            exc_ = nullptr;
        }
    }
}

void TaskCore::wait_on_timer(std::int64_t ns, std::coroutine_handle<> resume) {
    resume_ = resume;
    if (must_cancel_) {
        // CPython: the sleep's future is cancelled as soon as the task yields it.
        must_cancel_ = false;
        throw_on_resume_ = true;
        waiting_ = none;
        schedule_step();
        return;
    }
    std::int64_t now = loop_->now_ns();
    new (&timer_) TimerNode();
    timer_.kind = TimerNode::task_sleep;
    loop_->timers().push(&timer_, ns > never_ns - now ? never_ns : now + ns);
    waiting_ = timer;
}

void TaskCore::park(ParkNode* node, std::coroutine_handle<> resume) {
    resume_ = resume;
    if (must_cancel_) {
        // Cancelled while running: as a waiter future cancelled as soon as it is awaited.
        must_cancel_ = false;
        throw_on_resume_ = true;
        waiting_ = none;
        node->on_cancel(node);
        schedule_step();
        return;
    }
    park_node_ = node;
    waiting_ = parked;
}

void TaskCore::unpark() noexcept {
    if (waiting_ != parked) return;
    park_node_ = nullptr;
    waiting_ = none;
    schedule_step();
}

void TaskCore::yield_once(std::coroutine_handle<> resume) {
    resume_ = resume;
    waiting_ = none;
    schedule_step();
}

void TaskCore::throw_pending() {
    throw_on_resume_ = false;
    std::exception_ptr e = std::move(exc_);
    exc_ = nullptr;
    std::rethrow_exception(e);
}

void TaskCore::step() {
    if (done()) return;
    if (must_cancel_) {
        must_cancel_ = false;
        throw_on_resume_ = true;  // exc_ holds the CancelledError
    }
    waiter_ = nullptr;
    waiting_ = none;

    TaskCore* prev = tls.current_task;
    tls.current_task = this;
    if (!started_) {
        started_ = true;
        if (throw_on_resume_) {
            // Cancelled before its first step: the body never runs.
            throw_on_resume_ = false;
            tls.current_task = prev;
            std::exception_ptr e = std::move(exc_);
            exc_ = nullptr;
            root_.destroy();
            root_ = nullptr;
            cancel_future(std::move(e));
            loop_->unregister_task(this);
            release();
            return;
        }
        resume_ = root_;
    }
    resume_.resume();
    tls.current_task = prev;
    if (root_.done()) finish_root();
}

void TaskCore::finish_root() {
    std::exception_ptr e;
    bool ok = take_root_result(e);
    root_.destroy();
    root_ = nullptr;
    loop_->unregister_task(this);
    StatePtr<TaskCore> self_ref(this);  // keep alive through callbacks and rethrow
    release();                          // the pending self-reference
    if (ok) {
        if (must_cancel_) {
            // Cancelled right before the coroutine returned: the cancel wins.
            must_cancel_ = false;
            std::exception_ptr c = std::move(exc_);
            exc_ = nullptr;
            cancel_future(c ? c : std::make_exception_ptr(CancelledError()));
        } else {
            exc_ = nullptr;
            finish_with_value();
        }
        return;
    }
    must_cancel_ = false;
    throw_on_resume_ = false;
    exc_ = nullptr;
    if (is_cancelled_error(e)) {
        cancel_future(std::move(e));
        return;
    }
    finish_with_exception(e);
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
    // Only the member in use is touched: with none, the storage may be a queued step's link.
    if (waiting_ == future && waiter_) {
        waiter_->remove_callback_entry(&wakeup_thunk, this);
        waiter_ = nullptr;
    }
    if (waiting_ == timer) loop_->timers().remove(&timer_);
    if (waiting_ == parked && park_node_) {
        park_node_->on_cancel(park_node_);
        park_node_ = nullptr;
    }
    waiting_ = none;
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
        loop_->call_exception_handler(ctx);
    }
    leave_waiting();
    loop_->unregister_task(this);
    if (root_) {
        TaskCore* prev = tls.current_task;
        tls.current_task = nullptr;
        destroy_suspended_frame(root_, loop_);  // a root's continuation is noop already
        tls.current_task = prev;
        root_ = nullptr;
    }
    // Its done callbacks can never run now: dispose of them, releasing what they hold (a
    // user callback's reference to this task, a combinator's state), or the cycle leaks.
    callbacks_.drain([](ReadyEntry e) { e.fn(e.self, false); });
    must_cancel_ = false;
    throw_on_resume_ = false;
    exc_ = nullptr;
    release();  // the pending self-reference
}

TaskCore& task_for_await(const char* what) {
    if (TaskCore* t = tls.current_task) return *t;
    throw RuntimeError(std::string(what) + " outside of a task: run it with asyncio::run(), "
                                           "create_task() or run_until_complete()");
}

std::exception_ptr& coro_exc_out_of_memory() noexcept {
    static std::exception_ptr e = std::make_exception_ptr(std::bad_alloc());
    return e;
}

void throw_awaited_twice() { throw RuntimeError("cannot reuse already awaited coroutine"); }
void throw_empty_coro() {
    throw RuntimeError("empty Coro: it holds no coroutine (default-constructed or moved-from)");
}

void report_never_awaited(void* frame) noexcept {
    EventLoop* loop = tls.running_loop;
    if (!loop || !loop->get_debug()) return;
    std::string name = "<unknown>";
    // A frame starts with its resume function: name the coroutine after it.
    void* resume_fn = *static_cast<void**>(frame);
    Dl_info info{};
    if (::dladdr(resume_fn, &info) && info.dli_sname) {
        int status = 0;
        std::unique_ptr<char, void (*)(void*)> dem(
            abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), std::free);
        name = status == 0 && dem ? dem.get() : info.dli_sname;
        auto pos = name.find(" [clone");
        if (pos != std::string::npos) name.erase(pos);
        if (name.size() > 6 && name.compare(name.size() - 6, 6, ".actor") == 0)
            name.erase(name.size() - 6);
    }
    ExceptionContext ctx;
    try {
        ctx.message = "RuntimeWarning: coroutine '" + name + "' was never awaited";
    } catch (...) {
    }
    loop->call_exception_handler(ctx);
}

namespace {
void stop_thunk(void* self, bool run) {
    if (run) static_cast<EventLoop*>(self)->stop();
}
}  // namespace

void run_until_done(EventLoop& loop, FutureBase* f) {
    StatePtr<FutureBase> keep(f);
    f->add_callback(&stop_thunk, &loop);
    try {
        loop.run_forever();
    } catch (...) {
        f->remove_callback_entry(&stop_thunk, &loop);
        if (f->is_task() && f->done() && !f->cancelled()) f->mark_retrieved();
        throw;
    }
    f->remove_callback_entry(&stop_thunk, &loop);
    if (!f->done()) throw RuntimeError("Event loop stopped before Future completed.");
}

}  // namespace detail

std::vector<AnyTask> all_tasks() { return get_running_loop().all_tasks(); }
std::vector<AnyTask> all_tasks(EventLoop& loop) { return loop.all_tasks(); }

}  // namespace asyncio
