#include "asyncio/asyncgen.hpp"

#include <string>
#include <vector>

#include "asyncio/tasks.hpp"

namespace asyncio::detail {

namespace {

// Generators that have started and not ended, in this thread (Python: loop._asyncgens).
thread_local asyncgen_state* g_open = nullptr;

Coro<void> close_all(std::vector<asyncgen_state*> gens, EventLoop* loop) {
    for (asyncgen_state* s : gens) {
        std::exception_ptr err;
        try {
            co_await asyncgen_aclose(s);
        } catch (...) {
            err = std::current_exception();
        }
        if (err) {
            ExceptionContext ctx;
            ctx.message = "an error occurred during closing of asynchronous generator";
            ctx.exception = err;
            loop->call_exception_handler(ctx);
        }
    }
}

}  // namespace

void asyncgen_state::begin_step(const char* what) {
    if (running_)
        throw RuntimeError(std::string(what) + ": asynchronous generator is already running");
    if (!loop_) {
        if (EventLoop* loop = running_loop()) {
            loop_ = loop;
            next_ = g_open;
            if (g_open) g_open->prev_ = this;
            g_open = this;
        }
    }
    running_ = true;
    yielded_ = false;
}

void asyncgen_state::end_step() noexcept {
    running_ = false;
    if (self_.done()) {
        finished_ = true;
        unregister();
    }
}

void asyncgen_state::unregister() noexcept {
    if (!loop_) return;
    if (prev_ || g_open == this) {
        if (prev_)
            prev_->next_ = next_;
        else
            g_open = next_;
        if (next_) next_->prev_ = prev_;
    }
    prev_ = next_ = nullptr;
    loop_ = nullptr;
}

namespace {
struct resume_awaiter {
    asyncgen_state* s;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
        s->begin_step("aclose()");
        s->continuation_ = caller;
        return s->self_;
    }
    void await_resume() const noexcept {}
};

bool is_generator_exit(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const GeneratorExit&) {
        return true;
    } catch (...) {
        return false;
    }
}
}  // namespace

Coro<void> asyncgen_aclose(asyncgen_state* s) {
    if (s->finished_) co_return;
    if (s->running_) throw RuntimeError("aclose(): asynchronous generator is already running");
    if (!s->yielded_) {
        // Never started: it closes without running any of its code.
        s->finished_ = true;
        s->unregister();
        co_return;
    }
    s->closing_ = true;
    co_await resume_awaiter{s};
    s->end_step();
    s->closing_ = false;
    if (!s->finished_) throw RuntimeError("async generator ignored GeneratorExit");
    if (std::exception_ptr e = std::exchange(s->exc_, nullptr))
        if (!is_generator_exit(e)) std::rethrow_exception(e);
}

}  // namespace asyncio::detail

namespace asyncio {

// aclose() every generator of this loop still open. Python: loop.shutdown_asyncgens().
Coro<void> EventLoop::shutdown_asyncgens() {
    std::vector<detail::asyncgen_state*> open;
    for (detail::asyncgen_state* s = detail::g_open; s; s = s->next_)
        if (s->loop_ == this && !s->finished_ && !s->running_) open.push_back(s);
    if (!open.empty()) co_await detail::close_all(std::move(open), this);
}

}  // namespace asyncio
