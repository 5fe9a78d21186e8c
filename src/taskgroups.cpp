#include "asyncio/taskgroups.hpp"

namespace asyncio {

namespace detail {

TaskGroupCore::TaskGroupCore(AnyTask parent) : parent_(std::move(parent)) {
    if (parent_) {
        entered_ = true;
        loop_ = &parent_.get_loop();
    }
}

TaskGroupCore::~TaskGroupCore() = default;

void TaskGroupCore::check_create() const {
    if (!entered_) throw RuntimeError("TaskGroup has not been entered");
    if (joined_ || (exiting_ && ntasks_ == 0)) throw RuntimeError("TaskGroup is finished");
    if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroupCore::track(TaskCore* t) {
    if (t->done()) {
        // An eager task that ended inside create_task(): handled now, with no callback
        // (CPython 3.12 TaskGroup.create_task: "Immediately call the done callback if the
        // task is already done").
        StatePtr<TaskCore> keep(t);
        on_task_done(t);
        return;
    }
    auto* n = new Node();
    n->core = this;
    n->task = StatePtr<TaskCore>(t);
    n->next = head_;
    if (head_) head_->prev = n;
    head_ = n;
    ++ntasks_;
    add_ref();
    add_tagged_callback<&on_task_done_thunk>(t, n);
}

void TaskGroupCore::unlink(Node* n) noexcept {
    if (n->prev)
        n->prev->next = n->next;
    else
        head_ = n->next;
    if (n->next) n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    --ntasks_;
}

void TaskGroupCore::on_task_done_thunk(void* self, bool run) {
    auto* n = static_cast<Node*>(self);
    TaskGroupCore* core = n->core;
    StatePtr<TaskGroupCore> keep(core);
    core->release();
    StatePtr<TaskCore> task = std::move(n->task);
    core->unlink(n);
    delete n;
    if (run) core->on_task_done(task.get());
}

bool TaskGroupCore::is_base_error(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
        return true;
    } catch (const SystemExit&) {
        return true;
    } catch (...) {
        return false;
    }
}

void TaskGroupCore::abort() {
    aborting_ = true;
    for (Node* n = head_; n; n = n->next)
        if (!n->task->done()) n->task->cancel(std::nullopt);
}

void TaskGroupCore::on_task_done(TaskCore* t) {
    if (on_completed_ && ntasks_ == 0 && !on_completed_.done()) on_completed_.set_result();
    if (abandoned_ || t->cancelled()) return;
    std::exception_ptr exc = t->exception();
    if (!exc) return;
    errors_.push_back(exc);
    if (is_base_error(exc) && !base_error_) base_error_ = exc;
    if (parent_.done()) {
        ExceptionContext ctx;
        ctx.message = "Task has errored out but its parent task is already completed";
        ctx.exception = exc;
        ctx.task = AnyTask(t);
        loop_->call_exception_handler(ctx);
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        // Cancel the parent so that whatever the body awaits now is interrupted; join()
        // withdraws this request again (uncancel) so that it does not leak out of the group.
        abort();
        parent_cancel_requested_ = true;
        parent_.cancel();
    }
}

void TaskGroupCore::abandon() {
    if (joined_ || ntasks_ == 0) return;
    abandoned_ = true;
    std::size_t n = ntasks_;
    for (Node* p = head_; p; p = p->next)
        if (!p->task->done()) p->task->cancel(std::nullopt);
    ExceptionContext ctx;
    ctx.message = "TaskGroup destroyed without join(): cancelled its " + std::to_string(n) +
                  " unfinished task" + (n == 1 ? "" : "s");
    ctx.task = parent_;
    loop_->call_exception_handler(ctx);
}

Coro<void> TaskGroupCore::exit(std::exception_ptr et) {
    if (!entered_) throw RuntimeError("TaskGroup has not been entered");
    if (joined_ || exiting_) throw RuntimeError("TaskGroup is finished: join() was already called");
    if (!(current_task() == parent_))
        throw RuntimeError("TaskGroup.join() must be awaited in the task that made the group");
    StatePtr<TaskGroupCore> keep(this);
    exiting_ = true;
    if (et && is_base_error(et) && !base_error_) base_error_ = et;
    std::exception_ptr propagate_cancellation;
    if (et && is_cancelled_error(et)) propagate_cancellation = et;
    if (et && !aborting_) abort();  // the parent is being cancelled, or the body failed
    // A loop: on_completed_ can be cancelled many times if the parent is cancelled again.
    while (ntasks_ > 0) {
        if (!on_completed_) on_completed_ = loop_->create_future<void>();
        Future<void> waiter = on_completed_;
        std::exception_ptr cancelled;
        try {
            co_await waiter;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
        if (cancelled && !aborting_) {
            // The parent is cancelled from outside while the children still run.
            propagate_cancellation = cancelled;
            abort();
        }
        on_completed_ = Future<void>();
    }
    joined_ = true;
    if (base_error_) std::rethrow_exception(base_error_);
    if (parent_cancel_requested_) {
        // The group cancelled its parent itself: withdraw that request.
        if (parent_.uncancel() == 0) propagate_cancellation = nullptr;
    }
    if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);
    if (et && !is_cancelled_error(et)) errors_.push_back(et);
    if (!errors_.empty()) {
        // A cancel from outside is still pending: uncancel and re-cancel keeps the count
        // stable and makes the parent's next await raise CancelledError.
        if (parent_.cancelling()) {
            parent_.uncancel();
            parent_.cancel();
        }
        std::vector<std::exception_ptr> errors = std::move(errors_);
        errors_.clear();
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
    }
}

}  // namespace detail

TaskGroup::TaskGroup() : core_(new detail::TaskGroupCore(current_task())) {}

TaskGroup::~TaskGroup() { core_->abandon(); }

TaskGroup& TaskGroup::aenter() {
    if (!core_->entered_) throw RuntimeError("TaskGroup cannot determine the parent task");
    if (core_->with_entered_) throw RuntimeError("TaskGroup has already been entered");
    core_->with_entered_ = true;
    return *this;
}

}  // namespace asyncio
