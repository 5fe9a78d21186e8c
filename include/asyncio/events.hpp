// The event loop: ready queue, timers, I/O readiness, and the loop of one thread.
//
// One loop per thread and single-threaded inside: nothing here locks on the hot path. Only
// call_soon_threadsafe() (and run_coroutine_threadsafe, built on it) may be called from
// another thread. An iteration follows CPython's BaseEventLoop._run_once: wait in the poller
// at most until the next timer (not at all if callbacks are ready), read the clock once,
// move the due timers to the ready queue, then run exactly the callbacks that were ready at
// that moment; whatever they schedule runs in the next iteration. The clock is read once per
// iteration (as libuv does), so equal delays scheduled in one iteration come due together and
// fire in the order they were scheduled.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncio/any_future.hpp"
#include "asyncio/contextvars.hpp"
#include "asyncio/detail/frame_allocator.hpp"
#include "asyncio/detail/future_base.hpp"
#include "asyncio/detail/handle.hpp"
#include "asyncio/detail/io_event.hpp"
#include "asyncio/detail/loop_ids.hpp"
#include "asyncio/detail/loop_link.hpp"
#include "asyncio/detail/net_options.hpp"
#include "asyncio/detail/ready_queue.hpp"
#include "asyncio/detail/task_core.hpp"
#include "asyncio/detail/thread_state.hpp"
#include "asyncio/detail/time.hpp"
#include "asyncio/detail/timer_heap.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/sockets.hpp"

namespace asyncio {

class Context;
class EventLoop;
class Executor;
template <class T>
class Coro;
template <class T>
class Future;
template <class T>
class Task;
class Transport;
class ReadTransport;
class WriteTransport;
class DatagramTransport;

struct TaskOptions;  // tasks.hpp

namespace detail {
class Poller;
}  // namespace detail

/// The value call_soon() returns: lets the caller cancel the callback before it runs.
/// Python: asyncio.Handle.
class Handle {
  public:
    Handle() noexcept = default;
    explicit Handle(detail::HandleCore* h) noexcept : h_(h) {}  // adopts one reference
    Handle(const Handle& o) noexcept : h_(o.h_) {
        if (h_) h_->add_ref();
    }
    Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Handle& operator=(Handle o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    ~Handle() {
        if (h_) h_->release();
    }

    /// Cancels the callback; a no-op if it already ran. O(1), timers included.
    void cancel() const noexcept {
        if (h_) h_->cancel();
    }
    bool cancelled() const noexcept { return h_ && h_->cancelled(); }
    explicit operator bool() const noexcept { return h_ != nullptr; }
    detail::HandleCore* impl() const noexcept { return h_; }

  private:
    detail::HandleCore* h_ = nullptr;
};

/// What call_later() / call_at() return. Python: asyncio.TimerHandle.
class TimerHandle : public Handle {
  public:
    using Handle::Handle;
    /// The absolute time (loop.time() scale) at which the callback is due.
    double when() const noexcept { return impl() ? impl()->when() : 0.0; }
};

/// What the exception handler receives. Python: the `context` dict.
struct ExceptionContext {
    std::string message;           ///< always set
    std::exception_ptr exception;  ///< may be null
    AnyFuture future;              ///< the future concerned, if any
    AnyTask task;                  ///< the task concerned, if any
    Handle handle;                 ///< the callback concerned, if any
    std::string details;           ///< more lines for the log ("future: <Task ...>")
    /// Debug mode: where the task or handle concerned was created (CPython's
    /// "source_traceback").
    std::optional<std::source_location> source_traceback;
};

using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

/// Options of the call graph functions (asyncio/graph.hpp) and of loop.format_tasks().
struct CallGraphOptions {
    /// Trims each call stack to abs(limit) frames: positive keeps the newest (nearest the
    /// point of suspension), negative the oldest, 0 prints no stack; nullopt keeps all.
    /// Python: limit=.
    std::optional<int> limit = std::nullopt;
    /// false: the "id=0x..." of each task and future is left out, for text that is the same
    /// from run to run (a test's expected output).
    bool ids = true;
};

/// The coroutine create_task() was given, of any result type, as a task factory sees it:
/// the factory makes the task with make_task() (Python's `Task(coro, loop=loop, **kwargs)`),
/// exactly once, and returns it.
class PendingCoro {
  public:
    /// Makes the task from the coroutine with `options`.
    /// Errors: RuntimeError when called a second time.
    AnyTask make_task(TaskOptions options);
    EventLoop& loop() const noexcept { return *loop_; }

    // --- internals ---
    using MakeFn = AnyTask (*)(EventLoop& loop, void* coro, TaskOptions& options);
    PendingCoro(EventLoop& loop, void* coro, MakeFn make) noexcept
        : loop_(&loop), coro_(coro), make_(make) {}
    const AnyTask& made() const noexcept { return made_; }

  private:
    EventLoop* loop_;
    void* coro_;  // the Coro<T> being created from (create_task's parameter)
    MakeFn make_;
    AnyTask made_;
};

/// What loop.set_task_factory() takes: `factory(loop, coro, options)` returns the task made by
/// `coro.make_task(...)`, with any options it likes. Python: the task factory
/// `factory(loop, coro, **kwargs)`.
using TaskFactory = std::function<AnyTask(EventLoop&, PendingCoro&, TaskOptions)>;

/// The factory that makes every task eager (eager_start = true). Python:
/// asyncio.eager_task_factory.
AnyTask eager_task_factory(EventLoop& loop, PendingCoro& coro, TaskOptions options);
/// A factory that sets eager_start and hands on to `custom` (nullptr: make the task as is).
/// Python: asyncio.create_eager_task_factory(custom_task_constructor).
TaskFactory create_eager_task_factory(TaskFactory custom = nullptr);

/// How a loop is made. `virtual_time` is for tests: when nothing is ready the clock jumps to
/// the next timer instead of sleeping (CPython's test_utils.TestLoop, tokio's time::pause).
/// `debug` turns debug mode on; it is also on when the environment variable ASYNCIO_DEBUG
/// is set to a non-empty value other than "0" when the loop is made (CPython's
/// PYTHONASYNCIODEBUG).
struct LoopOptions {
    bool virtual_time = false;
    bool debug = false;
};

/// The event loop of one thread. Python: asyncio.AbstractEventLoop / BaseEventLoop.
///
/// Made by new_event_loop() (an owning EventLoopPtr) or by run(); never copied or moved.
/// Thread safety: only call_soon_threadsafe() may be called from another thread.
class EventLoop {
  public:
    explicit EventLoop(LoopOptions options = {});
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    // --- callbacks and timers ---

    /// Schedules `fn(args...)` for the next iteration, after everything already scheduled.
    /// Errors: RuntimeError when the loop is closed.
    /// Thread safety: loop thread only (call_soon_threadsafe from others). In debug mode a
    /// call from another thread while the loop runs throws RuntimeError (CPython's
    /// _check_thread); otherwise it is not checked, and is a data race.
    /// In debug mode the handle remembers where call_soon(fn) was called (not with `args`:
    /// C++ has no default argument after them; see docs/footguns.md).
    template <class F>
    requires(!detail::is_context_v<F>) Handle
        call_soon(F&& fn, std::source_location where = std::source_location::current()) {
        return soon(&where, std::forward<F>(fn));
    }
    template <class F, class... A>
    requires(!detail::is_context_v<F> && sizeof...(A) > 0) Handle call_soon(F&& fn, A&&... args) {
        return soon(nullptr, std::forward<F>(fn), std::forward<A>(args)...);
    }

  private:
    // call_soon's body; `where` (debug mode) is null for the form with arguments.
    template <class F, class... A>
    Handle soon(const std::source_location* where, F&& fn, A&&... args) {
        check_closed();
        if (debug_) check_thread();
        auto* h = detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...);
        if (debug_ && where) h->set_created_at(*where);
        h->add_ref();  // the queue's reference
        push_ready(&detail::HandleCore::run_thunk, h);
        return Handle(h);
    }

  public:
    /// Schedules `fn(args...)` to run `delay` from now (a delay ≤ 0 is due at once).
    /// Errors: std::invalid_argument for a NaN delay; RuntimeError on a closed loop.
    /// In debug mode the handle remembers where call_later() was called.
    template <class F, class... A>
    requires(!detail::is_context_v<F>) TimerHandle
        call_later(detail::ValueAt<Seconds> delay, F&& fn, A&&... args) {
        std::int64_t ns = signed_delay_ns(delay.value);
        check_closed();
        if (debug_) check_thread();
        auto* h = detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...);
        if (debug_) h->set_created_at(delay.where);
        schedule_timer(h, sat_add(now_ns(), ns));
        return TimerHandle(h);
    }

    /// Schedules `fn(args...)` at absolute loop time `when` (seconds, the time() scale).
    template <class F, class... A>
    requires(!detail::is_context_v<F>) TimerHandle
        call_at(detail::ValueAt<double> when, F&& fn, A&&... args) {
        std::int64_t at = when_to_ns(when.value);
        check_closed();
        if (debug_) check_thread();
        auto* h = detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...);
        if (debug_) h->set_created_at(when.where);
        schedule_timer(h, at);
        return TimerHandle(h);
    }

    /// call_soon() callable from any thread: same FIFO as call_soon, wakes the loop.
    /// Thread safety: safe from any thread while the loop object exists; the closed check is
    /// part of the push itself (one atomic exchange), so a close() racing with it never loses
    /// the callback silently (it is either queued before the close, or refused with
    /// RuntimeError).
    template <class F, class... A>
    requires(!detail::is_context_v<F>) Handle call_soon_threadsafe(F&& fn, A&&... args) {
        auto* h = detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...);
        h->add_ref();
        push_threadsafe(h);
        return Handle(h);
    }

    // context=: each of the four above also takes a Context first, and runs the callback in
    // it instead of a copy of the current one (`loop.call_soon(ctx, fn)` is CPython's
    // `loop.call_soon(fn, context=ctx)`). What the callback sets stays in that run: `ctx`
    // itself is a snapshot and does not change (CPython's Context object would).
    template <class C, class F, class... A>
    requires detail::is_context_v<C> Handle call_soon(const C& context, F&& fn, A&&... args) {
        Handle h = call_soon(std::forward<F>(fn), std::forward<A>(args)...);
        h.impl()->set_context(context.data());
        return h;
    }
    template <class C, class F, class... A>
    requires detail::is_context_v<C> TimerHandle call_later(const C& context,
                                                            detail::ValueAt<Seconds> delay, F&& fn,
                                                            A&&... args) {
        TimerHandle h = call_later(delay, std::forward<F>(fn), std::forward<A>(args)...);
        h.impl()->set_context(context.data());
        return h;
    }
    template <class C, class F, class... A>
    requires detail::is_context_v<C> TimerHandle call_at(const C& context,
                                                         detail::ValueAt<double> when, F&& fn,
                                                         A&&... args) {
        TimerHandle h = call_at(when, std::forward<F>(fn), std::forward<A>(args)...);
        h.impl()->set_context(context.data());
        return h;
    }
    template <class C, class F, class... A>
    requires detail::is_context_v<C> Handle call_soon_threadsafe(const C& context, F&& fn,
                                                                 A&&... args) {
        auto* h = detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...);
        h->set_context(context.data());
        h->add_ref();
        push_threadsafe(h);
        return Handle(h);
    }

    /// The loop's clock in seconds (monotonic). Read once per iteration: within one iteration
    /// it does not move, so call_later(d) from any callback of the iteration is relative to
    /// the iteration's start.
    double time() const noexcept { return static_cast<double>(now_ns()) * 1e-9; }

    // --- running ---

    /// Runs until stop() is called. Errors: RuntimeError if closed, already running, or
    /// another loop runs in this thread.
    void run_forever();
    /// Runs until `coro` (wrapped in a task) or `future` is done; returns its result.
    /// Errors: the coroutine's exception; RuntimeError("Event loop stopped before Future
    /// completed.") when stop() came first.
    template <class T>
    T run_until_complete(Coro<T> coro);
    template <class T>
    T run_until_complete(const Future<T>& future);
    /// Stops run_forever() after the current iteration (or after one iteration if not running).
    void stop() noexcept { stopping_ = true; }
    /// Closes the loop: pending callbacks are dropped, pending tasks destroyed (each reported
    /// as "Task was destroyed but it is pending!"). Idempotent.
    /// Errors: RuntimeError when called while the loop runs.
    void close();
    bool is_running() const noexcept { return running_; }
    bool is_closed() const noexcept { return closed_; }

    // --- tasks and futures ---

    /// Wraps `coro` in a Task scheduled to start on this loop. Python: loop.create_task.
    /// In debug mode the task remembers `where` (the caller) for its reports.
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options = {},
                        std::source_location where = std::source_location::current());
    /// Makes create_task() (and everything that makes tasks: gather, TaskGroup, ...) go
    /// through `factory`; nullptr restores the default. Python: loop.set_task_factory.
    void set_task_factory(TaskFactory factory) { task_factory_ = std::move(factory); }
    /// The factory set (empty: the default). Python: loop.get_task_factory.
    const TaskFactory& get_task_factory() const noexcept { return task_factory_; }
    /// A pending Future<T> bound to this loop. Python: loop.create_future().
    template <class T = void>
    Future<T> create_future();

    // --- errors ---

    /// Installs `handler` (empty: back to the default). Python: set_exception_handler.
    void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
    const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
    /// Reports through the installed handler, or the default one. Never throws: a handler
    /// that throws is itself reported ("Unhandled error in exception handler").
    void call_exception_handler(const ExceptionContext& context) noexcept;
    /// Prints the context to stderr: the message, then "TypeName: what()".
    void default_exception_handler(const ExceptionContext& context) noexcept;

    // --- debug ---

    /// Debug mode (CPython's loop.set_debug; also LoopOptions::debug, RunOptions::debug and
    /// ASYNCIO_DEBUG=1 in the environment). In debug mode:
    /// - a callback or task step that runs `slow_callback_duration()` or longer is reported
    ///   through the exception handler: "Executing <Handle name()> took 0.123 seconds";
    /// - tasks remember where create_task() was called: "never retrieved" and "destroyed but
    ///   pending" reports carry it (ExceptionContext::source_traceback, "created at f:l");
    /// - a Coro destroyed without ever being awaited is reported ("RuntimeWarning: coroutine
    ///   'name' was never awaited");
    /// - a non-thread-safe method called from another thread than the running loop's throws
    ///   RuntimeError("Non-thread-safe operation invoked on an event loop other than the
    ///   current one");
    /// - a transport or server destroyed without close() is reported ("ResourceWarning:
    ///   unclosed transport <...>").
    /// Outside debug mode each of these costs one predictable branch at most.
    void set_debug(bool enabled) noexcept { debug_ = enabled; }
    bool get_debug() const noexcept { return debug_; }
    /// In debug mode, callbacks and task steps longer than this are reported (seconds;
    /// default 0.1, as CPython).
    double slow_callback_duration() const noexcept { return slow_callback_duration_; }
    void set_slow_callback_duration(double seconds) noexcept { slow_callback_duration_ = seconds; }

    // --- introspection (asyncio/graph.hpp) ---

    /// Every pending task of the loop as a tree ("pstree"): the tasks no task awaits first,
    /// each with what it is suspended on (a sleep and its deadline, a future, a lock's or a
    /// queue's wait, a socket's), its call stack, and below it the tasks it awaits.
    /// In debug mode (get_debug()), SIGUSR1 prints it to stderr at the loop's next iteration
    /// (unless the program handles SIGUSR1 itself). Python: `python -m asyncio pstree PID`.
    std::string format_tasks(CallGraphOptions options = {}) const;
    /// Prints format_tasks() to `file`.
    void print_tasks(std::FILE* file = stderr, CallGraphOptions options = {}) const;

    // --- I/O readiness on raw file descriptors ---

    /// Calls `fn(args...)` every time `fd` is readable (replacing an earlier reader).
    template <class F, class... A>
    void add_reader(int fd, F&& fn, A&&... args) {
        check_closed();
        if (debug_) check_thread();
        set_fd_handler(fd, false,
                       detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...));
    }
    /// Calls `fn(args...)` every time `fd` is writable (replacing an earlier writer).
    template <class F, class... A>
    void add_writer(int fd, F&& fn, A&&... args) {
        check_closed();
        if (debug_) check_thread();
        set_fd_handler(fd, true,
                       detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...));
    }
    /// Stops watching `fd` for reading; returns whether a reader was registered.
    bool remove_reader(int fd) {
        if (debug_) check_thread();
        return clear_fd_handler(fd, false);
    }
    bool remove_writer(int fd) {
        if (debug_) check_thread();
        return clear_fd_handler(fd, true);
    }

    // --- signals ---

    /// Runs `fn(args...)` on this loop whenever signal `sig` arrives (instead of the signal's
    /// default action), from whichever thread the kernel delivers it to; signals that arrive
    /// several times before the loop wakes run the callback once. Several loops may handle
    /// signals, one loop per signal. Python: loop.add_signal_handler.
    /// Errors: std::invalid_argument for an invalid signal number; RuntimeError for SIGKILL
    /// and SIGSTOP ("cannot be caught") and for a signal another loop handles.
    template <class F, class... A>
    void add_signal_handler(int sig, F&& fn, A&&... args) {
        check_closed();
        if (debug_) check_thread();
        set_signal_handler(
            sig, detail::make_handle(this, std::forward<F>(fn), std::forward<A>(args)...));
    }
    /// Restores the action `sig` had before add_signal_handler(); returns whether a handler
    /// was installed. close() removes every handler of the loop.
    /// Errors: std::invalid_argument for an invalid signal number.
    bool remove_signal_handler(int sig);

    /// The I/O backend in use ("epoll").
    const char* backend_name() const noexcept;

    // --- shutdown (CPython's runners.py calls them in this order before close()) ---

    /// Closes (aclose()) every asynchronous generator of this loop still open; errors are
    /// reported through the exception handler. Python: loop.shutdown_asyncgens().
    Coro<void> shutdown_asyncgens();

    // --- executors (executors.hpp) ---
    // Declared here, defined in asyncio/executors.hpp (include it, or asyncio.hpp, to use them).

    /// Runs `fn(args...)` in `executor` (nullptr: the loop's default executor, made on first
    /// use) and gives a Future of its result on this loop. Python: loop.run_in_executor.
    template <class F, class... A>
    Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>> run_in_executor(
        Executor* executor, F&& fn, A&&... args);
    template <class F, class... A>
    Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>> run_in_executor(
        Executor& executor, F&& fn, A&&... args);
    /// Replaces the default executor used by run_in_executor(nullptr, ...) and to_thread().
    void set_default_executor(std::shared_ptr<Executor> executor);
    /// The default executor (a ThreadPoolExecutor made on first use).
    /// Errors: RuntimeError after shutdown_default_executor() or close().
    Executor& default_executor();
    /// Shuts the default executor down and waits (at most `timeout`) for its threads.
    /// Python: loop.shutdown_default_executor(timeout).
    Coro<void> shutdown_default_executor(std::optional<Seconds> timeout = std::nullopt);

    // --- networking (sockets.hpp; defined in src/selector_events.cpp, src/base_events.cpp) ---
    // The sock_* methods need a non-blocking socket (std::invalid_argument otherwise) that
    // outlives the call. Cancellation: cancelling one leaves no registration with the loop
    // and loses no data (a receive reads only once resumed; a send stops where the kernel
    // took its bytes). Errors: std::system_error with the errno.

    /// Up to `nbytes` bytes; "" at EOF. Python: loop.sock_recv(sock, nbytes).
    Coro<std::string> sock_recv(Socket& sock, std::size_t nbytes);
    /// Reads into `buf`; returns the count (0 at EOF). Python: loop.sock_recv_into.
    Coro<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf);
    /// A datagram (up to `bufsize` bytes) and its sender. Python: loop.sock_recvfrom.
    Coro<std::pair<std::string, SockAddr>> sock_recvfrom(Socket& sock, std::size_t bufsize);
    /// Python: loop.sock_recvfrom_into(sock, buf, nbytes=0) (0: the whole buffer).
    Coro<std::pair<std::size_t, SockAddr>> sock_recvfrom_into(Socket& sock, std::span<char> buf,
                                                              std::size_t nbytes = 0);
    /// Sends all of `data`. Python: loop.sock_sendall(sock, data).
    Coro<void> sock_sendall(Socket& sock, std::string data);
    /// Sends one datagram to `address`; returns the bytes sent. Python: loop.sock_sendto.
    Coro<std::size_t> sock_sendto(Socket& sock, std::string data, SockAddr address);
    /// Connects to host:port (a name is resolved first, in the default executor).
    /// Python: loop.sock_connect(sock, (host, port)).
    Coro<void> sock_connect(Socket& sock, std::string host, int port);
    Coro<void> sock_connect(Socket& sock, SockAddr address);
    /// The next connection (non-blocking) and its peer address. Python: loop.sock_accept.
    Coro<std::pair<Socket, SockAddr>> sock_accept(Socket& sock);
    /// Sends `count` bytes (nullopt: to EOF) of the file `file_fd` from `offset` with
    /// sendfile(2); where the kernel cannot, reads and sends (unless `fallback` is false:
    /// SendfileNotAvailableError). Returns the bytes sent. Python: loop.sock_sendfile.
    Coro<std::size_t> sock_sendfile(Socket& sock, int file_fd, std::size_t offset = 0,
                                    std::optional<std::size_t> count = std::nullopt,
                                    bool fallback = true);
    /// Resolves in the default executor. Errors: GaiError (what() = getaddrinfo's text).
    /// Python: loop.getaddrinfo(host, port, family=, type=, proto=, flags=).
    Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string port,
                                            AddrInfoOptions options = {});
    Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port,
                                            AddrInfoOptions options = {});
    /// (host, service) of an address, in the default executor. Python: loop.getnameinfo.
    Coro<std::pair<std::string, std::string>> getnameinfo(SockAddr address, int flags = 0);

    // Connections and servers (asyncio/base_events.hpp defines the templates; include it, or
    // asyncio.hpp). The factory returns a std::shared_ptr to a Protocol subclass; the
    // protocol comes back with that type. Errors: as the sock_* methods; a connection that
    // fails on every address raises the first error, or OSError "Multiple exceptions: ..."
    // when they differ (parity #114).

    /// Python: loop.create_connection(protocol_factory, host, port, **options).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>> create_connection(
        Factory factory, std::string host, int port, ConnectionOptions options = {});
    /// Python: loop.create_connection(protocol_factory, sock=sock).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>> create_connection(
        Factory factory, ConnectionOptions options);
    /// Python: loop.create_unix_connection(protocol_factory, path, sock=).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
    create_unix_connection(Factory factory, std::string path, ConnectionOptions options = {});
    /// Wraps an accepted connection. Python: loop.connect_accepted_socket(factory, sock).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<Transport>, std::invoke_result_t<Factory&>>>
    connect_accepted_socket(Factory factory, Socket sock);
    /// Python: loop.create_datagram_endpoint(factory, local_addr=, remote_addr=, ...).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<DatagramTransport>, std::invoke_result_t<Factory&>>>
    create_datagram_endpoint(Factory factory, DatagramOptions options);
    /// The read end `fd` of a pipe (owned and closed by the transport from now on).
    /// Python: loop.connect_read_pipe(protocol_factory, pipe).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<ReadTransport>, std::invoke_result_t<Factory&>>>
    connect_read_pipe(Factory factory, int fd);
    /// Python: loop.connect_write_pipe(protocol_factory, pipe).
    template <class Factory>
    Coro<std::pair<std::shared_ptr<WriteTransport>, std::invoke_result_t<Factory&>>>
    connect_write_pipe(Factory factory, int fd);
    /// Listens on host:port (an empty host: every interface; several hosts: one socket each).
    /// Python: loop.create_server(protocol_factory, host, port, **options).
    Coro<Server> create_server(ProtocolFactory factory, std::string host, int port,
                               ServerOptions options = {});
    Coro<Server> create_server(ProtocolFactory factory, std::vector<std::string> hosts, int port,
                               ServerOptions options = {});
    /// Python: loop.create_server(protocol_factory, sock=sock).
    Coro<Server> create_server(ProtocolFactory factory, ServerOptions options);
    /// Python: loop.create_unix_server(protocol_factory, path, sock=, backlog=, ...).
    Coro<Server> create_unix_server(ProtocolFactory factory, std::string path,
                                    UnixServerOptions options = {});
    /// Upgrades an established connection to TLS: returns the TLS transport once the
    /// handshake is done; `protocol` (the transport's protocol) then talks through it and
    /// gets no second connection_made. `transport` must stay alive until then.
    /// Python: loop.start_tls(transport, protocol, sslcontext, ...).
    /// Errors: the handshake's (ssl::SSLCertVerificationError, ssl::SSLError, TimeoutError);
    /// the transport is closed. Cancellation: closes the transport.
    Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                               std::shared_ptr<Protocol> protocol,
                                               ssl::SSLContext sslcontext,
                                               StartTlsOptions options = {});
    Coro<std::shared_ptr<Transport>> start_tls(Transport& transport,
                                               std::shared_ptr<Protocol> protocol,
                                               ssl::SSLContext sslcontext,
                                               StartTlsOptions options = {});
    /// Sends a file over a transport: sendfile(2) on the socket when the transport is one,
    /// else read-and-write (unless `fallback` is false). Python: loop.sendfile.
    Coro<std::size_t> sendfile(std::shared_ptr<Transport> transport, int file_fd,
                               std::size_t offset = 0,
                               std::optional<std::size_t> count = std::nullopt,
                               bool fallback = true);

    // --- internals shared with futures and tasks (not part of the API) ---

    void push_ready(detail::ReadyFn fn, void* self) {
        if (ts_pending()) drain_threadsafe();
        ready_.push(fn, self);
    }
    void push_ready_linked(detail::ReadyFn fn, detail::ReadyLink* link) {
        if (ts_pending()) drain_threadsafe();
        ready_.push_linked(fn, link);
    }
    /// The loop's clock for this iteration: read on first use after the poller returns, then
    /// the same until the next iteration (an iteration that uses no time reads no clock).
    std::int64_t now_ns() const noexcept {
        if (clock_stale_) refresh_clock();
        return now_ns_;
    }
    detail::TimerHeap& timers() noexcept { return timers_; }
    void check_closed() const {
        if (closed_) throw_closed();
    }
    /// RuntimeError when called from another thread than the running loop's (CPython's
    /// _check_thread). Debug mode only: callers test get_debug() first.
    void check_thread() const;
    /// Debug mode: both checks of a non-thread-safe method.
    void check_debug_thread() const {
        if (debug_) check_thread();
    }
    std::uint32_t next_task_id() noexcept { return ++task_counter_; }
    /// The id its futures know it by (detail/loop_ids.hpp).
    std::uint16_t loop_id() const noexcept { return id_.value(); }
    void register_task(detail::TaskCore* t) noexcept;
    void unregister_task(detail::TaskCore* t) noexcept;
    std::vector<AnyTask> all_tasks() const;
    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }
    /// Called by the owning EventLoopPtr when it lets go.
    void release_owner() noexcept;
    void timer_handle_cancelled() noexcept { ++cancelled_timers_; }
    /// Lists `link` until unlink() or close() (loop thread).
    void link(std::shared_ptr<detail::LoopLink> link) noexcept;
    void unlink(detail::LoopLink* link) noexcept;
    void run_once();
    /// Another thread will soon post to this loop (an executor job runs for it): until the
    /// matching threadsafe_post_arrived(), an idle loop spins a moment for the post before it
    /// sleeps in the poller, which saves the cross-core wake-up (tens of µs on a VM) on short
    /// jobs. Loop thread only.
    void expect_threadsafe_post() noexcept { ++expected_posts_; }
    void threadsafe_post_arrived() noexcept {
        if (expected_posts_) --expected_posts_;
    }
    // For asyncio::testing::TestLoop (virtual-time loops only).
    /// Callbacks queued for the next iteration.
    std::size_t ready_count() const noexcept { return ready_.size(); }
    /// Moves the virtual clock forward to `ns` (never back).
    void set_virtual_now(std::int64_t ns) noexcept {
        if (virtual_time_ && ns > now_ns_) now_ns_ = ns;
    }
    /// The deadline of the earliest timer, or never_ns.
    std::int64_t next_timer_ns() const noexcept {
        return timers_.empty() ? detail::never_ns : timers_.top()->when;
    }
    /// From now on the callbacks of each iteration run in an order shuffled by a generator
    /// seeded with `seed` (deterministic for a given seed and program).
    void shuffle_ready(std::uint64_t seed) noexcept { shuffle_state_ = seed | 1; }

  private:
    struct FdHandlers {
        detail::HandleCore* reader = nullptr;
        detail::HandleCore* writer = nullptr;
    };

    [[noreturn]] static void throw_closed();
    static std::int64_t sat_add(std::int64_t a, std::int64_t b) noexcept {
        if (b >= 0) return a > detail::never_ns - b ? detail::never_ns : a + b;
        return a + b;  // a is a clock reading and b ≥ -9.2e18: no overflow in practice
    }
    std::int64_t when_to_ns(double when) const;
    static std::int64_t signed_delay_ns(Seconds delay);
    std::int64_t clock_ns() const noexcept;
    void refresh_clock() const noexcept;
    void schedule_timer(detail::HandleCore* h, std::int64_t when);
    void push_threadsafe(detail::HandleCore* h);
    void drain_threadsafe();
    void wake() noexcept;
    bool spin_for_threadsafe_post(std::int64_t timeout_ns) noexcept;
    void set_fd_handler(int fd, bool write, detail::HandleCore* h);
    bool clear_fd_handler(int fd, bool write);
    void update_interest(int fd, const FdHandlers& fh);
    void set_signal_handler(int sig, detail::HandleCore* h);
    /// Debug mode: SIGUSR1 prints format_tasks() while the loop runs (graph.cpp).
    void install_debug_dump() noexcept;
    void remove_debug_dump() noexcept;
    void process_signals();
    // run_once()'s phases
    void tidy_timers();
    /// With nothing ready and no stop pending (run_once() answers 0 itself then): how long
    /// the poll may wait for the next timer, -1 for ever.
    std::int64_t compute_timeout();
    void dispatch_io(std::span<const detail::IoEvent> events);
    void run_due_timers(std::uint32_t seq_mark);
    void fire_timer(detail::TimerNode* n);
    void run_entry(detail::ReadyEntry e);
    void run_ready(detail::ReadyEntry e);
    void run_timed(detail::ReadyEntry e);
    void run_shuffled(std::size_t ntodo);
    void purge_cancelled_timers();

    detail::LoopId id_;  // first: the id is given back last
    detail::ReadyQueue ready_;
    detail::TimerHeap timers_;
    std::vector<detail::TimerNode*> deferred_timers_;  // run_once(): due, but for next time
    mutable std::int64_t now_ns_ = 0;
    mutable bool clock_stale_ = false;  // now_ns_ is to be read again before use
    std::int64_t epoch_ns_ = 0;         // virtual clock base
    std::uint32_t refs_ = 1;            // the owner's, then one per future
    std::uint32_t task_counter_ = 0;
    std::size_t cancelled_timers_ = 0;
    std::size_t expected_posts_ = 0;   // see expect_threadsafe_post()
    std::uint64_t shuffle_state_ = 0;  // 0: FIFO; else see shuffle_ready()
    bool running_ = false;
    bool stopping_ = false;
    std::atomic<std::thread::id> thread_id_{};  // while running: its thread (debug checks)
    bool closed_ = false;
    bool debug_ = false;
    bool virtual_time_ = false;
    double slow_callback_duration_ = 0.1;
    ExceptionHandler handler_;
    TaskFactory task_factory_;
    detail::TaskCore* tasks_ = nullptr;  // pending tasks, intrusive list
    detail::LoopLink* links_ = nullptr;  // see link()
    std::size_t task_count_ = 0;

    std::unique_ptr<detail::Poller> poller_;
    int wake_fd_ = -1;
    std::unordered_map<int, FdHandlers> fds_;
    std::unordered_map<int, detail::HandleCore*> signal_handlers_;
    detail::HandleCore* debug_dump_ = nullptr;  // the SIGUSR1 handler debug mode installed

    // --- executors (executors.hpp) ---
    std::shared_ptr<Executor> default_executor_;
    bool executor_shutdown_called_ = false;
    void close_default_executor() noexcept;  // close(), defined in executors.cpp

    // call_soon_threadsafe(): a lock-free stack of handles (newest first, linked through
    // HandleCore::ts_next_), taken whole and reversed by the loop (FIFO per poster). close()
    // swaps in ts_closed_mark(), after which posts are refused; ts_posting_ counts posters
    // between their push and their wake(), so that close() waits for them before it closes
    // wake_fd_.
    static detail::HandleCore* ts_closed_mark() noexcept {
        return reinterpret_cast<detail::HandleCore*>(std::uintptr_t{1});
    }
    bool ts_pending() const noexcept {
        detail::HandleCore* h = ts_head_.load(std::memory_order_acquire);
        return h != nullptr && h != ts_closed_mark();
    }
    std::atomic<detail::HandleCore*> ts_head_{nullptr};
    std::atomic<int> ts_posting_{0};
    std::atomic<bool> wake_armed_{false};

  public:
    std::atomic<std::uint64_t> pending_signals_{0};  // written by the signal handler
    int wake_fd() const noexcept { return wake_fd_; }
};

/// The owning handle new_event_loop() returns: closes the loop when it goes away (unless
/// it is running). Move-only; `loop->run_until_complete(...)`, `*loop`, `loop.get()`.
class EventLoopPtr {
  public:
    EventLoopPtr() noexcept = default;
    explicit EventLoopPtr(EventLoop* l) noexcept : l_(l) {}
    EventLoopPtr(EventLoopPtr&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    EventLoopPtr& operator=(EventLoopPtr&& o) noexcept {
        if (this != &o) {
            reset();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    ~EventLoopPtr() { reset(); }
    void reset() noexcept {
        if (l_) std::exchange(l_, nullptr)->release_owner();
    }
    EventLoop* get() const noexcept { return l_; }
    EventLoop* operator->() const noexcept { return l_; }
    EventLoop& operator*() const noexcept { return *l_; }
    explicit operator bool() const noexcept { return l_ != nullptr; }

  private:
    EventLoop* l_ = nullptr;
};

/// A new loop owned by the caller. Python: asyncio.new_event_loop().
EventLoopPtr new_event_loop(LoopOptions options = {});
/// The loop running in this thread. Errors: RuntimeError("no running event loop").
EventLoop& get_running_loop();
/// The running loop, else the one set with set_event_loop() in this thread.
/// Errors: RuntimeError when there is neither (no hidden global loop is ever made).
EventLoop& get_event_loop();
/// Sets (or with nullptr clears) this thread's current loop. Does not take ownership.
void set_event_loop(EventLoop* loop) noexcept;
inline void set_event_loop(const EventLoopPtr& loop) noexcept { set_event_loop(loop.get()); }

namespace detail {
/// Loops alive in the process (tests: a closed loop is freed).
std::size_t live_loop_count() noexcept;
/// The running loop or nullptr.
inline EventLoop* running_loop() noexcept { return tls.running_loop; }
}  // namespace detail

}  // namespace asyncio
