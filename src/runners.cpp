#include "asyncio/runners.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <mutex>
#include <vector>

namespace asyncio {

namespace detail {

namespace {
bool is_main_thread() { return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid)); }

bool sigint_is_default() {
    struct sigaction old {};
    if (::sigaction(SIGINT, nullptr, &old) < 0) return false;
    return !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
}
}  // namespace

/// Cancels every pending task of `loop`, runs the loop until they are all done, and reports
/// those that raised something other than CancelledError. CPython: runners._cancel_all_tasks.
void cancel_all_tasks(EventLoop& loop) {
    std::vector<AnyTask> to_cancel = loop.all_tasks();
    if (to_cancel.empty()) return;
    for (auto& t : to_cancel) t.cancel();

    struct Counter {
        Future<void> all_done;
        std::size_t remaining;
    };
    auto counter = std::make_shared<Counter>(Counter{loop.create_future<void>(), to_cancel.size()});
    for (auto& t : to_cancel)
        add_user_callback<AnyFuture>(t.state(), [counter] {
            if (--counter->remaining == 0) counter->all_done.set_result();
        });
    run_until_done(loop, counter->all_done.state());

    for (auto& t : to_cancel) {
        if (t.cancelled() || !t.done()) continue;
        if (std::exception_ptr e = t.exception()) {
            ExceptionContext ctx;
            ctx.message = "unhandled exception during asyncio.run() shutdown";
            ctx.exception = e;
            ctx.task = t;
            loop.call_exception_handler(ctx);
        }
    }
}

}  // namespace detail

void Runner::lazy_init() {
    if (closed_) throw RuntimeError("Runner is closed");
    if (loop_) return;
    loop_ =
        new_event_loop(LoopOptions{.virtual_time = options_.virtual_time, .debug = options_.debug});
    set_event_loop(loop_.get());
    context_ = detail::current_context_ref();
}

void Runner::adopt_context(detail::TaskCore* main) noexcept {
    detail::ContextData* c = main ? main->context() : nullptr;
    if (c) c->add_ref();
    context_ = detail::ContextRef(c);
}

EventLoop& Runner::get_loop() {
    lazy_init();
    return *loop_;
}

void Runner::prepare_run() {
    if (detail::running_loop())
        throw RuntimeError("Runner.run() cannot be called from a running event loop");
    lazy_init();
}

void Runner::run_main(AnyTask main) {
    interrupt_count_ = 0;
    bool sigint = detail::is_main_thread() && detail::sigint_is_default();
    if (sigint) {
        loop_->add_signal_handler(SIGINT, [this, main] {
            ++interrupt_count_;
            if (interrupt_count_ == 1 && !main.done()) {
                main.cancel();
                return;
            }
            throw KeyboardInterrupt();
        });
    }
    struct Restore {
        EventLoop* loop;
        bool on;
        ~Restore() {
            if (on && !loop->is_closed()) loop->remove_signal_handler(SIGINT);
        }
    } restore{loop_.get(), sigint};
    detail::run_until_done(*loop_, main.state());
    if (main.cancelled() && interrupt_count_ > 0 && main.uncancel() == 0) throw KeyboardInterrupt();
}

void Runner::close() noexcept {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    try {
        // CPython's Runner.close(): cancel the tasks, close the async generators, then
        // shut the default executor down (THREAD_JOIN_TIMEOUT: 300 s).
        detail::cancel_all_tasks(*loop_);
        loop_->run_until_complete(loop_->shutdown_asyncgens());
        loop_->run_until_complete(loop_->shutdown_default_executor(300.0));
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while shutting down the Runner";
        ctx.exception = std::current_exception();
        loop_->call_exception_handler(ctx);
    }
    try {
        loop_->close();
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while closing the Runner's loop";
        ctx.exception = std::current_exception();
        loop_->call_exception_handler(ctx);
    }
    context_ = detail::ContextRef();
    // loop_ stays (closed) until the Runner goes: see the class comment.
}

}  // namespace asyncio
