#include "asyncio/futures.hpp"

#include <atomic>

#include "asyncio/events.hpp"
#include "asyncio/gather.hpp"
#include "asyncio/shield.hpp"
#include "asyncio/tasks.hpp"
#include "asyncio/wait.hpp"

namespace asyncio {
void AnyFuture::throw_empty() {
    throw RuntimeError(
        "empty Future/Task handle: it refers to no future (default-constructed or "
        "moved-from)");
}
}  // namespace asyncio

namespace asyncio::detail {

namespace {
std::atomic<ReadyFn> callback_fns[8] = {};  // [0] unused: tag 0 means "none"
}  // namespace

int callback_tag(ReadyFn fn) noexcept {
    for (int t = 1; t < 8; ++t) {
        ReadyFn f = callback_fns[t].load(std::memory_order_acquire);
        if (f == fn) return t;
        if (f == nullptr) return 0;
    }
    return 0;
}

bool register_callback_fn(ReadyFn fn) noexcept {
    for (int t = 1; t < 8; ++t) {
        ReadyFn expected = nullptr;
        if (callback_fns[t].compare_exchange_strong(expected, fn, std::memory_order_acq_rel) ||
            expected == fn)
            return true;
    }
    return false;
}

ReadyFn callback_fn(int tag) noexcept { return callback_fns[tag].load(std::memory_order_relaxed); }

void CallbackList::push_more(ReadyEntry e) {
    auto* v = many();
    if (!v) {
        v = new std::vector<ReadyEntry>();
        v->reserve(4);
        if (word_) v->push_back(one());
        word_ = reinterpret_cast<std::uintptr_t>(v);
    }
    v->push_back(e);
}

FutureBase::FutureBase(EventLoop& loop) noexcept : exc_(), loop_id_(loop.loop_id()) {
    loop.add_ref();
}

FutureBase::~FutureBase() {
    // Callbacks still registered belong to nobody now (a pending future dropped).
    dispose_callbacks();
    exc_.~exception_ptr();  // a task has made exc_ live again (~TaskCore)
    loop().release();
}

void FutureBase::last_release() noexcept {
    if (exception_unretrieved()) {
        // CPython's __del__ report: the context carries the future (and, for a task, the
        // task), so the future lives on through the report, and longer if the handler keeps
        // a handle to it.
        log_traceback_ = false;
        refs_ = 1;
        {
            ExceptionContext ctx;
            try {
                ctx.message = std::string(class_name()) + " exception was never retrieved";
                ctx.details = "future: " + repr();
            } catch (...) {
            }
            ctx.exception = exc_;
            ctx.future = AnyFuture(this);
            if (is_task()) {
                ctx.task = AnyTask(static_cast<TaskCore*>(this));
                ctx.source_traceback = static_cast<TaskCore*>(this)->created_at();
            }
            loop().call_exception_handler(ctx);
        }
        if (--refs_ != 0) return;  // the handler kept a handle: the next release deletes
    }
    delete this;
}

std::string FutureBase::repr() const {
    const char* st = state_ == State::pending     ? "pending"
                     : state_ == State::cancelled ? "cancelled"
                                                  : "finished";
    std::string s = std::string("<Future ") + st;
    if (state_ == State::finished && exc_) s += " exception=" + describe_exception(exc_);
    return s + ">";
}

void FutureBase::assert_pending(const char* op) const {
    if (state_ != State::pending)
        throw InvalidStateError(std::string(op) + ": " + repr() + " is already done");
}

bool FutureBase::cancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (state_ != State::pending) return false;
    return cancel_future(std::make_exception_ptr(CancelledError(std::move(msg))));
}

bool FutureBase::cancel_future(std::exception_ptr cancelled_error) {
    log_traceback_ = false;
    if (state_ != State::pending) return false;
    state_ = State::cancelled;
    exc_ = std::move(cancelled_error);
    schedule_callbacks();
    return true;
}

void FutureBase::check_result_slow() {
    switch (state_) {
        case State::pending: throw InvalidStateError("Result is not set.");
        case State::cancelled: std::rethrow_exception(exc_);
        case State::finished:
            if (exc_) {
                log_traceback_ = false;
                std::rethrow_exception(exc_);
            }
            return;
    }
}

bool FutureBase::ended_cancelled() const noexcept {
    return state_ == State::cancelled ||
           (state_ == State::finished && exc_ && is_cancelled_error(exc_));
}

std::exception_ptr FutureBase::exception() {
    if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
    if (state_ == State::cancelled) std::rethrow_exception(exc_);
    log_traceback_ = false;
    return exc_;
}

void FutureBase::set_exception(std::exception_ptr e) {
    if (is_task()) throw RuntimeError("Task does not support set_exception() operation");
    assert_pending("set_exception");
    if (!e) throw std::invalid_argument("set_exception: the exception is null");
    // A CancelledError is accepted as any exception (Python 3.13): the future is finished,
    // not cancelled, and result() raises it.
    exc_ = std::move(e);
    state_ = State::finished;
    log_traceback_ = true;
    schedule_callbacks();
}

void FutureBase::finish_with_value() {
    state_ = State::finished;
    schedule_callbacks();
}

void FutureBase::add_callback(ReadyFn fn, void* self) {
    if (state_ != State::pending) {
        push_scheduled({fn, self});
        return;
    }
    callbacks_.push(ReadyEntry{fn, self});
}

void FutureBase::remove_callback_entry(ReadyFn fn, void* self) noexcept {
    callbacks_.remove_if([&](const ReadyEntry& e) { return e.fn == fn && e.self == self; });
}

void FutureBase::dispose_callbacks() noexcept {
    callbacks_.drain([](ReadyEntry e) { e.fn(e.self, false); });
}

void hold_queued_callback(ReadyEntry e) noexcept {
    // An explicit list: the callbacks that own nothing while stored on a future (a task's
    // wake-up needs no hold: a pending task holds itself).
    if (e.fn == &UserCallbackBase::thunk)
        static_cast<UserCallbackBase*>(e.self)->hold();
    else if (e.fn == &GatherCore::child_done)
        GatherCore::hold(e.self);
    else if (e.fn == &ShieldLink::inner_done)
        ShieldLink::hold_inner(e.self);
    else if (e.fn == &AsCompletedCore::on_completion)
        AsCompletedCore::hold(e.self);
    else if (e.fn == &FutureBase::retrieve_thunk)
        // Its whole work, done here while the future is surely alive (its exception was just
        // set); the queued entry is a no-op that never touches the future, which may be gone
        // by the time it runs.
        static_cast<FutureBase*>(e.self)->mark_retrieved();
}

void FutureBase::push_scheduled(ReadyEntry e) {
    hold_queued_callback(e);
    loop().push_ready(e.fn, e.self);
}

void UserCallbackBase::thunk(void* self, bool run) {
    std::unique_ptr<UserCallbackBase> cb(static_cast<UserCallbackBase*>(self));
    struct GiveBack {  // runs before cb is deleted, whether call() returns or throws
        UserCallbackBase* c;
        ~GiveBack() {
            if (c->held) c->state->release();
        }
    } give_back{cb.get()};
    if (!run) return;
    ContextScope scope(cb->ctx);
    cb->call();
}

void FutureBase::schedule_callbacks() {
    callbacks_.drain([this](ReadyEntry e) { push_scheduled(e); });
}

}  // namespace asyncio::detail
