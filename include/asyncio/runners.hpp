// run() and Runner: the entry points that own a loop for the duration of a main coroutine.
//
// At the end (CPython's order): the tasks still pending are cancelled and awaited, errors
// they raise while being cancelled are reported ("unhandled exception during asyncio.run()
// shutdown"), open async generators are finalized, the default executor is shut down, and the
// loop is closed. While the main task runs, SIGINT (in the main thread, if its handler is the
// default one) cancels the main task, and run() then throws KeyboardInterrupt.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/contextvars.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

/// Keyword arguments of run() and Runner.
struct RunOptions {
    /// Debug mode (EventLoop::set_debug); also on when ASYNCIO_DEBUG=1 is in the environment.
    bool debug = false;
    /// Run on a virtual clock (tests): see LoopOptions::virtual_time.
    bool virtual_time = false;
};

/// A scope that runs several coroutines on one loop. Python: asyncio.Runner.
///
/// The loop is made lazily by the first run(), with a copy of the current context that every
/// run() uses (CPython's _lazy_init): a ContextVar set by one run is seen by the next and by
/// its tasks. close() (or the destructor) shuts the loop down; the closed loop object stays
/// until the Runner goes, so that a reference get_loop() gave stays valid (and refuses work).
/// Errors: RuntimeError("Runner is closed") from run() and get_loop() after close();
/// RuntimeError when run() is called from a running loop.
class Runner {
  public:
    explicit Runner(RunOptions options = {}) : options_(options) {}
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;
    ~Runner() {
        close();
        loop_.reset();
    }

    /// Runs `coro` to completion on the runner's loop and returns its result. Its task runs
    /// in `context` if given, else in the runner's context, which then keeps what the task
    /// set. Python: Runner.run(coro, context=None).
    template <class T>
    T run(Coro<T> coro, std::optional<Context> context = std::nullopt) {
        prepare_run();
        Task<T> task;
        {
            detail::ContextScope scope(context ? context->data() : context_.get());
            task = loop_->create_task(std::move(coro));  // the task copies the scope's context
        }
        run_main(task);
        if (!context) adopt_context(task.core());
        if constexpr (std::is_void_v<T> || std::is_copy_constructible_v<T>)
            return task.result();
        else
            return std::move(task.result());
    }

    /// Shuts the loop down (see the header comment). Idempotent.
    void close() noexcept;
    /// The runner's loop (made on first use).
    EventLoop& get_loop();

  private:
    void prepare_run();
    void lazy_init();
    void run_main(AnyTask main);
    void adopt_context(detail::TaskCore* main) noexcept;

    RunOptions options_;
    EventLoopPtr loop_;
    detail::ContextRef context_;  // every run()'s context, copied at the first
    bool closed_ = false;
    int interrupt_count_ = 0;
};

/// Runs `main` on a new loop, then shuts everything down and closes the loop; returns the
/// coroutine's result or rethrows its exception. Python: asyncio.run(main, debug=...).
/// Errors: RuntimeError("asyncio.run() cannot be called from a running event loop").
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    if (detail::running_loop())
        throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(options);
    return runner.run(std::move(main));
}

}  // namespace asyncio
