#include "asyncio/events.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <span>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "asyncio/detail/spin.hpp"
#include "backend/poller.hpp"

namespace asyncio {

// ---------------------------------------------------------------------------------------
// Handles

namespace detail {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
// HandleCore is polymorphic, so offsetof is only conditionally supported; GCC and Clang
// support it for single, non-virtual inheritance, which is all this needs.
std::size_t HandleCore::offsetof_timer() noexcept { return offsetof(HandleCore, timer_); }
#pragma GCC diagnostic pop

void HandleCore::cancel() noexcept {
    if (!cancelled_.exchange(true, std::memory_order_relaxed)) {
        if (timer_.scheduled() && loop_) loop_->timer_handle_cancelled();
    }
}

double HandleCore::when() const noexcept {
    if (timer_.when == never_ns) return std::numeric_limits<double>::infinity();
    return static_cast<double>(timer_.when) * 1e-9;
}

namespace {
// Debug mode's creation sites of handles (set_created_at). Handles may be released on any
// thread (a Handle passed to another one): one table for the process, under a mutex, which
// only debug mode ever takes.
std::mutex handle_sites_mutex;
std::unordered_map<const HandleCore*, std::source_location>& handle_sites() {
    static auto* table = new std::unordered_map<const HandleCore*, std::source_location>;
    return *table;  // never destroyed: handles may outlive static destruction
}

// " created at file:line" (CPython's Handle._repr_info), or nothing.
void append_created_at(std::string& s, const HandleCore& h) {
    if (auto where = h.created_at()) {
        s += " created at ";
        s += where->file_name();
        s += ':';
        s += std::to_string(where->line());
    }
}
}  // namespace

void HandleCore::set_created_at(std::source_location where) {
    std::lock_guard<std::mutex> lock(handle_sites_mutex);
    handle_sites()[this] = where;
    has_site_ = true;
}

std::optional<std::source_location> HandleCore::created_at() const {
    if (!has_site_) return std::nullopt;
    std::lock_guard<std::mutex> lock(handle_sites_mutex);
    auto it = handle_sites().find(this);
    if (it == handle_sites().end()) return std::nullopt;
    return it->second;
}

void HandleCore::forget_created_at() noexcept {
    std::lock_guard<std::mutex> lock(handle_sites_mutex);
    handle_sites().erase(this);
}

std::string HandleCore::repr() const {
    std::string s = std::string("<") + (timer_.when ? "TimerHandle" : "Handle") +
                    (cancelled() ? " cancelled" : "");
    append_created_at(s, *this);
    return s + ">";
}

std::string handle_repr(const HandleCore& h, const std::string& name) {
    std::string s = h.timer_.when ? "<TimerHandle " : "<Handle ";
    s += name;
    s += "()";
    if (h.cancelled()) s += " cancelled";
    append_created_at(s, h);
    return s + ">";
}

void HandleCore::run_thunk(void* self, bool run) {
    auto* h = static_cast<HandleCore*>(self);
    if (run && !h->cancelled()) {
        try {
            // CPython's Handle._run: context.run(callback): what the callback sets stays in
            // this run, never reaching the next callback or the thread.
            ContextScope scope(h->context());
            h->invoke();
        } catch (const KeyboardInterrupt&) {
            h->release();
            throw;
        } catch (const SystemExit&) {
            h->release();
            throw;
        } catch (...) {
            ExceptionContext ctx;
            ctx.message = "Exception in callback " + h->repr();
            ctx.exception = std::current_exception();
            ctx.source_traceback = h->created_at();
            h->add_ref();
            ctx.handle = Handle(h);
            h->loop()->call_exception_handler(ctx);
        }
    }
    h->release();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Signals: one process-wide table signal → loop; the handler only sets a bit and wakes it.

namespace {

constexpr int max_signal = 64;
// Which loop handles each signal. Several loops (in several threads) may handle signals,
// each signal going to one loop. Changed under signal_table_mutex; read by the handler.
std::atomic<EventLoop*> signal_loops[max_signal + 1];
// Handlers running right now, in any thread: remove_signal_handler() waits for this to drop
// to zero after unhooking a loop, so that no handler still uses a loop being closed.
std::atomic<int> signal_handlers_running{0};
std::mutex signal_table_mutex;
struct sigaction saved_actions[max_signal + 1];  // the disposition before the loop took it

extern "C" void asyncio_on_signal(int sig) {
    int saved = errno;
    signal_handlers_running.fetch_add(1, std::memory_order_seq_cst);
    if (sig > 0 && sig <= max_signal) {
        if (EventLoop* l = signal_loops[sig].load(std::memory_order_seq_cst)) {
            std::uint64_t bit = std::uint64_t{1} << (sig - 1);
            std::uint64_t before = l->pending_signals_.fetch_or(bit, std::memory_order_acq_rel);
            if (sig == SIGINT && (before & bit)) {
                // A second Ctrl-C while the loop has not even taken the first (it is stuck in
                // a callback): interrupt the program, as CPython's KeyboardInterrupt would,
                // by the default action (restoring it and re-raising: both signal-safe).
                ::signal(SIGINT, SIG_DFL);
                ::raise(SIGINT);  // delivered when this handler returns
            }
            std::uint64_t one = 1;
            ssize_t r = ::write(l->wake_fd(), &one, sizeof one);
            (void)r;
        }
    }
    signal_handlers_running.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved;
}

std::atomic<std::size_t> live_loops{0};

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// EventLoop

namespace {
// CPython's coroutines._is_debug_mode() reads PYTHONASYNCIODEBUG (any non-empty value); here
// "0" also means off.
bool debug_from_environment() noexcept {
    const char* v = std::getenv("ASYNCIO_DEBUG");
    return v && *v && std::strcmp(v, "0") != 0;
}
}  // namespace

namespace detail {
namespace {
std::mutex loop_ids_mutex;
std::vector<std::uint16_t> free_loop_ids;  // given back, reused first
std::uint32_t next_loop_id = 1;
}  // namespace

std::uint16_t acquire_loop_id(EventLoop* loop) {
    std::lock_guard<std::mutex> lock(loop_ids_mutex);
    std::uint16_t id;
    if (!free_loop_ids.empty()) {
        id = free_loop_ids.back();
        free_loop_ids.pop_back();
    } else if (next_loop_id <= max_live_loops) {
        id = static_cast<std::uint16_t>(next_loop_id++);
    } else {
        throw RuntimeError("cannot create an event loop: 65535 event loops are alive already");
    }
    loop_slots[id] = loop;
    return id;
}

void release_loop_id(std::uint16_t id) noexcept {
    std::lock_guard<std::mutex> lock(loop_ids_mutex);
    loop_slots[id] = nullptr;
    try {
        free_loop_ids.push_back(id);
    } catch (...) {  // out of memory: the id is lost, not reused
    }
}
}  // namespace detail

EventLoop::EventLoop(LoopOptions options)
    : id_(this),
      debug_(options.debug || debug_from_environment()),
      virtual_time_(options.virtual_time),
      poller_(detail::make_poller()) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
    poller_->set_interest(wake_fd_, true, false);
    now_ns_ = virtual_time_ ? 0 : steady_ns();
    live_loops.fetch_add(1, std::memory_order_relaxed);
}

namespace {
void close_reporting_errors(EventLoop& loop) noexcept {
    try {
        loop.close();
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "error while closing the event loop";
        ctx.exception = std::current_exception();
        loop.call_exception_handler(ctx);
    }
}
}  // namespace

EventLoop::~EventLoop() {
    live_loops.fetch_sub(1, std::memory_order_relaxed);
    if (!closed_) {
        running_ = false;
        close_reporting_errors(*this);
    }
}

void EventLoop::release_owner() noexcept {
    if (detail::tls.event_loop == this) detail::tls.event_loop = nullptr;
    if (!running_ && !closed_) close_reporting_errors(*this);
    release();
}

void EventLoop::throw_closed() { throw RuntimeError("Event loop is closed"); }

void EventLoop::check_thread() const {
    std::thread::id owner = thread_id_.load(std::memory_order_relaxed);
    if (owner != std::thread::id() && owner != std::this_thread::get_id())
        throw RuntimeError(
            "Non-thread-safe operation invoked on an event loop other than the current one");
}

std::int64_t EventLoop::clock_ns() const noexcept { return virtual_time_ ? now_ns_ : steady_ns(); }

void EventLoop::refresh_clock() const noexcept {
    now_ns_ = steady_ns();
    clock_stale_ = false;
}

std::int64_t EventLoop::when_to_ns(double when) const {
    if (std::isnan(when)) throw std::invalid_argument("call_at: when is NaN");
    if (when >= 9.2e9) return detail::never_ns;
    // However far in the past (-inf included), a deadline is due at once; clamped so that no
    // arithmetic on it can overflow.
    if (when <= -4.6e9) return -detail::never_ns / 2;
    return static_cast<std::int64_t>(std::llround(when * 1e9));
}

std::int64_t EventLoop::signed_delay_ns(Seconds delay) {
    double v = delay.count();
    if (std::isnan(v)) throw std::invalid_argument("call_later: delay is NaN");
    if (v >= 9.2e9) return detail::never_ns;
    if (v <= -9.2e9) return -detail::never_ns / 2;
    return static_cast<std::int64_t>(std::llround(v * 1e9));
}

void EventLoop::schedule_timer(detail::HandleCore* h, std::int64_t when) {
    // the heap owns the reference the caller created; the TimerHandle gets another
    h->add_ref();
    timers_.push(&h->timer_, when);
}

void EventLoop::push_threadsafe(detail::HandleCore* h) {
    ts_posting_.fetch_add(1, std::memory_order_seq_cst);
    detail::HandleCore* head = ts_head_.load(std::memory_order_seq_cst);
    do {
        if (head == ts_closed_mark()) {
            ts_posting_.fetch_sub(1, std::memory_order_seq_cst);
            // Refused: the callback's destructor may post again (and be refused too).
            h->release();
            h->release();
            throw_closed();
        }
        h->ts_next_ = head;
    } while (!ts_head_.compare_exchange_weak(head, h, std::memory_order_seq_cst,
                                             std::memory_order_seq_cst));
    wake();  // close() waits for ts_posting_ to drop before it closes wake_fd_
    ts_posting_.fetch_sub(1, std::memory_order_seq_cst);
}

void EventLoop::drain_threadsafe() {
    detail::HandleCore* list = ts_head_.exchange(nullptr, std::memory_order_acquire);
    if (list == ts_closed_mark()) {
        ts_head_.store(list);
        return;
    }
    // The stack is newest first: reverse it into posting order.
    detail::HandleCore* fifo = nullptr;
    while (list) {
        detail::HandleCore* next = list->ts_next_;
        list->ts_next_ = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        detail::HandleCore* next = fifo->ts_next_;
        fifo->ts_next_ = nullptr;
        ready_.push(&detail::HandleCore::run_thunk, fifo);
        fifo = next;
    }
}

void EventLoop::wake() noexcept {
    if (wake_armed_.exchange(true, std::memory_order_acq_rel)) return;
    std::uint64_t one = 1;
    ssize_t r = ::write(wake_fd_, &one, sizeof one);
    (void)r;
}

// How long an idle loop spins for an expected post from another thread before it sleeps.
// A post within it costs no wake-up at all (the poster skips the eventfd write, the loop no
// epoll_wait); past it the loop sleeps as usual, having spent at most this much CPU.
static constexpr std::int64_t threadsafe_spin_ns = 50'000;

bool EventLoop::spin_for_threadsafe_post(std::int64_t timeout_ns) noexcept {
    // While we spin, posters see the wake-up armed and skip the eventfd write. If it was armed
    // already, a write is on its way or pending and the poll drains it as usual.
    bool was_armed = wake_armed_.exchange(true, std::memory_order_seq_cst);
    std::int64_t budget =
        timeout_ns < 0 || timeout_ns > threadsafe_spin_ns ? threadsafe_spin_ns : timeout_ns;
    std::int64_t deadline = steady_ns() + budget;
    bool posted = false;
    for (unsigned i = 0;; ++i) {
        if (ts_pending()) {
            posted = true;
            break;
        }
        if ((i & 63) == 63 && steady_ns() >= deadline) break;
        detail::cpu_relax();
    }
    if (!was_armed) {
        // Disarm, then look again (both seq_cst): a poster that pushed before this store and
        // skipped the write is seen by the load; one after it sees the wake-up disarmed.
        wake_armed_.store(false, std::memory_order_seq_cst);
        posted = posted || ts_pending();
    }
    // A whole spin for nothing: the expected answers are slow (or will never come: a future
    // nobody completes). Stop expecting them, so that an idle loop spins once, not on every
    // iteration; the next expect_threadsafe_post() turns spinning on again.
    if (!posted && budget == threadsafe_spin_ns) expected_posts_ = 0;
    return posted;
}

void EventLoop::run_forever() {
    check_closed();
    if (running_) throw RuntimeError("This event loop is already running");
    if (detail::tls.running_loop)
        throw RuntimeError("Cannot run the event loop while another loop is running");
    struct Guard {
        EventLoop* l;
        ~Guard() {
            if (l->debug_dump_) l->remove_debug_dump();
            l->stopping_ = false;
            l->running_ = false;
            l->thread_id_.store(std::thread::id(), std::memory_order_relaxed);
            detail::tls.running_loop = nullptr;
        }
    } guard{this};
    running_ = true;
    thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    detail::tls.running_loop = this;
    if (debug_) install_debug_dump();
    for (;;) {
        run_once();
        if (stopping_) break;
    }
}

namespace {
void stop_thunk(void* self, bool run) {
    if (run) static_cast<EventLoop*>(self)->stop();
}
}  // namespace

// The body of run_until_complete() (declared in tasks.hpp beside it, which this file does not
// include): run until `f` is done, then stop, as CPython's _run_until_complete_cb does.
namespace detail {
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

void EventLoop::purge_cancelled_timers() {
    timers_.remove_if([this](detail::TimerNode* n) {
        if (n->kind != detail::TimerNode::handle) return false;
        auto* h = detail::HandleCore::from_timer(n);
        if (!h->cancelled()) return false;
        h->release();
        return true;
    });
    cancelled_timers_ = 0;
}

// One iteration, in CPython's _run_once order (libuv's uv_run reads the same way): settle the
// timers, take the posts from other threads, wait for I/O at most until the next timer, turn
// ready fds, signals and posts into callbacks, then run what was ready when the wait ended
// and the timers due by then. Whatever this schedules runs in the next iteration.
void EventLoop::run_once() {
    // Every cancelled handle in the timer queue is counted in cancelled_timers_, so with none
    // counted (and sequence numbers far from wrapping) there is nothing to tidy: an inline
    // test instead of the call. Measured (callgrind, W4, 100,000 round trips): 1,261 -> 1,211
    // instructions per round trip.
    if (cancelled_timers_ != 0 || timers_.needs_renumber()) tidy_timers();
    if (ts_pending()) drain_threadsafe();
    // With callbacks ready the poll does not wait: tested inline, not by a call (the call
    // cost W4 8 instructions a round trip, callgrind, once GCC stopped inlining it).
    std::int64_t timeout = (!ready_.empty() || stopping_) ? 0 : compute_timeout();
    if (timeout != 0 && expected_posts_ != 0 && spin_for_threadsafe_post(timeout)) timeout = 0;
    // With callbacks ready and no fd watched, a zero-timeout poll can only find the wake-up
    // fd, whose news (threadsafe callbacks, signals) the atomics checked around it already
    // carry: skip the syscall (a third of a queue ping-pong's cost). The wake-up fd stays
    // armed and is drained by the next poll that may block.
    if (timeout != 0 || !fds_.empty()) dispatch_io(poller_->poll(timeout));
    if (!virtual_time_) clock_stale_ = true;  // read when first needed (timers, time())
    if (pending_signals_.load(std::memory_order_acquire)) process_signals();
    if (ts_pending()) drain_threadsafe();

    // Run what is ready now, then the timers due now, in (deadline, scheduling order): the
    // order CPython gets by appending due timers to the ready queue, without queueing them.
    std::size_t ntodo = ready_.size();
    bool timers_due = !timers_.empty() && timers_.top()->when <= now_ns();
    std::uint32_t seq_mark = timers_.next_seq();
    if (shuffle_state_ == 0) [[likely]] {
        for (std::size_t i = 0; i < ntodo; ++i) run_ready(ready_.pop());
    } else {
        run_shuffled(ntodo);
    }
    if (timers_due) run_due_timers(seq_mark);
}

// testing::TestLoop's shuffle: this iteration's callbacks in a seeded random order
// (xorshift64, Fisher-Yates). An exception that leaves the loop (KeyboardInterrupt) puts
// those not run yet back in the queue.
void EventLoop::run_shuffled(std::size_t ntodo) {
    std::vector<detail::ReadyEntry> batch;
    batch.reserve(ntodo);
    for (std::size_t i = 0; i < ntodo; ++i) batch.push_back(ready_.pop());
    for (std::size_t i = batch.size(); i > 1; --i) {
        shuffle_state_ ^= shuffle_state_ << 13;
        shuffle_state_ ^= shuffle_state_ >> 7;
        shuffle_state_ ^= shuffle_state_ << 17;
        std::swap(batch[i - 1], batch[shuffle_state_ % i]);
    }
    std::size_t next = 0;
    try {
        while (next < batch.size()) run_ready(batch[next++]);
    } catch (...) {
        for (; next < batch.size(); ++next) ready_.push(batch[next].fn, batch[next].self);
        throw;
    }
}

void EventLoop::tidy_timers() {
    // Cancelled timer handles: purge when they are most of the heap (CPython's rule), else
    // drop those on top.
    if (cancelled_timers_ > 100 && cancelled_timers_ * 2 > timers_.size()) {
        purge_cancelled_timers();
    } else {
        while (!timers_.empty() && timers_.top()->kind == detail::TimerNode::handle) {
            auto* h = detail::HandleCore::from_timer(timers_.top());
            if (!h->cancelled()) break;
            timers_.pop();
            if (cancelled_timers_) --cancelled_timers_;
            h->release();
        }
    }
    if (timers_.needs_renumber()) timers_.renumber();  // between iterations: no seq_mark held
}

std::int64_t EventLoop::compute_timeout() {
    if (timers_.empty()) return -1;
    std::int64_t when = timers_.top()->when;
    if (virtual_time_) {
        if (when > now_ns_) now_ns_ = when;  // jump to the next timer
        return 0;
    }
    std::int64_t now = clock_ns();
    return when <= now ? 0 : when - now;  // when may be far in the past: no subtraction then
}

void EventLoop::dispatch_io(std::span<const detail::IoEvent> events) {
    for (const auto& ev : events) {
        if (ev.fd == wake_fd_) {
            std::uint64_t v;
            while (::read(wake_fd_, &v, sizeof v) > 0) {
            }
            wake_armed_.store(false, std::memory_order_release);
            continue;
        }
        auto it = fds_.find(ev.fd);
        if (it == fds_.end()) continue;
        if (ev.readable && it->second.reader && !it->second.reader->cancelled()) {
            it->second.reader->add_ref();
            ready_.push(&detail::HandleCore::run_thunk, it->second.reader);
        }
        if (ev.writable && it->second.writer && !it->second.writer->cancelled()) {
            it->second.writer->add_ref();
            ready_.push(&detail::HandleCore::run_thunk, it->second.writer);
        }
    }
}

// The timers due at this iteration's clock reading. Those scheduled during this iteration
// (sequence from `seq_mark` on) with a deadline already past run next iteration, and must not
// hold back the older timers behind them.
void EventLoop::run_due_timers(std::uint32_t seq_mark) {
    std::int64_t due_until = now_ns();
    struct PutBack {  // also when a callback's KeyboardInterrupt leaves the loop
        EventLoop* l;
        ~PutBack() {
            for (detail::TimerNode* n : l->deferred_timers_) l->timers_.reinsert(n);
            l->deferred_timers_.clear();
        }
    } put_back{this};
    while (!timers_.empty()) {
        detail::TimerNode* n = timers_.top();
        if (n->when > due_until) break;
        timers_.pop();
        if (!detail::TimerHeap::seq_before(n->seq, seq_mark))
            deferred_timers_.push_back(n);
        else
            fire_timer(n);
    }
}

void EventLoop::fire_timer(detail::TimerNode* n) {
    if (n->kind != detail::TimerNode::handle) {
        const detail::TimerKind& k = *detail::timer_kinds[n->kind];
        run_ready({k.fire, k.owner(n)});
        return;
    }
    auto* h = detail::HandleCore::from_timer(n);
    if (h->cancelled()) {
        if (cancelled_timers_) --cancelled_timers_;
        h->release();
    } else {
        run_ready({&detail::HandleCore::run_thunk, h});  // the heap's reference moves
    }
}

void EventLoop::run_ready(detail::ReadyEntry e) {
    if (!debug_) {
        run_entry(e);
        return;
    }
    run_timed(e);
}

// Debug mode: CPython's _run_once times each handle and logs "Executing <handle or task>
// took 0.123 seconds" (format_helpers: a task step is named by the task's repr, taken after
// the step). The entry's object is held across the run so that it can still be named.
void EventLoop::run_timed(detail::ReadyEntry e) {
    detail::TaskCore* task = detail::TaskCore::task_of(e);
    detail::HandleCore* handle = nullptr;
    if (task) {
        task->add_ref();
    } else if (e.fn == &detail::HandleCore::run_thunk) {
        handle = static_cast<detail::HandleCore*>(e.self);
        handle->add_ref();
    }
    struct Hold {
        detail::TaskCore* t;
        detail::HandleCore* h;
        ~Hold() {
            if (t) t->release();
            if (h) h->release();
        }
    } hold{task, handle};
    std::int64_t t0 = steady_ns();
    run_entry(e);
    double took = static_cast<double>(steady_ns() - t0) * 1e-9;
    if (took < slow_callback_duration_) return;
    ExceptionContext ctx;
    try {
        std::string what = task     ? task->repr()
                           : handle ? handle->repr()
                                    : std::string("<Handle done callback>");
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.3f", took);
        ctx.message = "Executing " + what + " took " + secs + " seconds";
    } catch (...) {
        return;
    }
    call_exception_handler(ctx);
}

void EventLoop::run_entry(detail::ReadyEntry e) {
    try {
        e.fn(e.self, true);
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (const SystemExit&) {
        throw;
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "Exception in callback <done callback>";
        ctx.exception = std::current_exception();
        call_exception_handler(ctx);
    }
}

void EventLoop::process_signals() {
    std::uint64_t bits = pending_signals_.exchange(0, std::memory_order_acq_rel);
    for (int sig = 1; sig <= max_signal && bits; ++sig) {
        std::uint64_t bit = std::uint64_t{1} << (sig - 1);
        if (!(bits & bit)) continue;
        bits &= ~bit;
        auto it = signal_handlers_.find(sig);
        if (it == signal_handlers_.end()) continue;
        it->second->add_ref();
        ready_.push(&detail::HandleCore::run_thunk, it->second);
    }
}

namespace {
// The task whose sleep `n` is, else null (a handle's timer).
detail::TaskCore* sleeping_task(detail::TimerNode* n) noexcept {
    if (n->kind != detail::TimerNode::task_sleep) return nullptr;
    return static_cast<detail::TaskCore*>(detail::timer_kinds[n->kind]->owner(n));
}
}  // namespace

void EventLoop::close() {
    if (running_) throw RuntimeError("Cannot close a running event loop");
    if (closed_) return;
    // Tasks still pending are destroyed (their frames unwound) and reported, before the loop
    // refuses new work, so that destructors in those frames may still schedule callbacks.
    // Those asleep join the list first (their timer nodes leave the timers).
    timers_.remove_if([this](detail::TimerNode* n) {
        detail::TaskCore* t = sleeping_task(n);
        if (t) register_task(t);
        return t != nullptr;
    });
    while (tasks_) tasks_->abandon();
    closed_ = true;
    // From now on call_soon_threadsafe() refuses (RuntimeError) instead of queueing.
    detail::HandleCore* posted = ts_head_.exchange(ts_closed_mark(), std::memory_order_seq_cst);
    close_default_executor();
    for (int round = 0; round < 4 && !ready_.empty(); ++round) {
        while (!ready_.empty()) {
            detail::ReadyEntry e = ready_.pop();
            e.fn(e.self, false);
        }
    }
    for (detail::TimerNode* n : timers_.take_all()) {
        if (n->kind == detail::TimerNode::handle) detail::HandleCore::from_timer(n)->release();
    }
    cancelled_timers_ = 0;
    for (auto& [fd, fh] : fds_) {
        if (fh.reader) fh.reader->release();
        if (fh.writer) fh.writer->release();
        try {
            poller_->set_interest(fd, false, false);
        } catch (...) {
            // the fd was closed before the loop: nothing left to unwatch (EBADF)
        }
    }
    fds_.clear();
    while (!signal_handlers_.empty()) remove_signal_handler(signal_handlers_.begin()->first);
    // Work still out in other threads: take their loop-side handles now (see LoopLink).
    while (links_) {
        detail::LoopLink* k = links_;
        {
            std::lock_guard<std::mutex> lock(k->m);
            k->drop_handle();
        }
        unlink(k);
    }
    // Posters that pushed before the close finish their wake() before wake_fd_ closes.
    while (ts_posting_.load(std::memory_order_seq_cst) != 0) ::sched_yield();
    while (posted) {  // never run; a destructor may post again and is refused
        detail::HandleCore* next = posted->ts_next_;
        posted->release();
        posted = next;
    }
    poller_.reset();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    wake_fd_ = -1;
    if (detail::tls.event_loop == this) detail::tls.event_loop = nullptr;
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (!handler_) {
        default_exception_handler(context);
        return;
    }
    try {
        handler_(*this, context);
    } catch (...) {
        // A broken handler is reported through the default one, and the loop carries on.
        ExceptionContext ctx;
        try {
            ctx.message = "Unhandled error in exception handler";
            ctx.details = "context: " + context.message;
        } catch (...) {
        }
        ctx.exception = std::current_exception();
        default_exception_handler(ctx);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
    try {
        std::string out =
            context.message.empty() ? "Unhandled exception in event loop" : context.message;
        // Appended piece by piece ("literal" + std::string&& trips GCC 12's -Wrestrict).
        auto line = [&out](const char* label, const std::string& text) {
            out += label;
            out += text;
        };
        if (context.task)
            line("\ntask: ", context.task.core()->repr());
        else if (context.future)
            line("\nfuture: ", context.future.state()->repr());
        if (context.handle) line("\nhandle: ", context.handle.impl()->repr());
        if (!context.details.empty()) line("\n", context.details);
        if (const auto& where = context.source_traceback) {
            // CPython: "source_traceback: Object created at (most recent call last):" and
            // the stack; C++ knows the one frame that called create_task().
            out += "\nsource_traceback: Object created at (most recent call last):\n  File \"";
            out += where->file_name();
            out += "\", line ";
            out += std::to_string(where->line());
            out += ", in ";
            out += where->function_name();
        }
        if (context.exception) line("\n", describe_exception(context.exception));
        out += "\n";
        std::fwrite(out.data(), 1, out.size(), stderr);
    } catch (...) {
    }
}

void EventLoop::link(std::shared_ptr<detail::LoopLink> link) noexcept {
    detail::LoopLink* k = link.get();
    k->self_ = std::move(link);
    k->prev_ = nullptr;
    k->next_ = links_;
    if (links_) links_->prev_ = k;
    links_ = k;
}

void EventLoop::unlink(detail::LoopLink* k) noexcept {
    if (!k->self_) return;
    if (k->prev_)
        k->prev_->next_ = k->next_;
    else
        links_ = k->next_;
    if (k->next_) k->next_->prev_ = k->prev_;
    k->prev_ = k->next_ = nullptr;
    std::shared_ptr<detail::LoopLink> last = std::move(k->self_);  // may destroy *k: last
}

// The list holds every pending task but those asleep, which are found among the timers
// (a sleeping task's timer node takes its list links: TaskCore).
void EventLoop::register_task(detail::TaskCore* t) noexcept {
    t->list_prev() = nullptr;
    t->list_next() = tasks_;
    if (tasks_) tasks_->list_prev() = t;
    tasks_ = t;
    ++task_count_;
}

void EventLoop::unregister_task(detail::TaskCore* t) noexcept {
    if (t->list_prev())
        t->list_prev()->list_next() = t->list_next();
    else if (tasks_ == t)
        tasks_ = t->list_next();
    if (t->list_next()) t->list_next()->list_prev() = t->list_prev();
    t->list_prev() = t->list_next() = nullptr;
    --task_count_;
}

std::vector<AnyTask> EventLoop::all_tasks() const {
    std::vector<AnyTask> out;
    out.reserve(task_count_);
    auto add = [&](detail::TaskCore* t) {
        if (t->done()) return;
        t->add_ref();
        out.emplace_back(t);
        t->release();
    };
    for (detail::TaskCore* t = tasks_; t; t = t->list_next()) add(t);
    // the list is newest first; creation order reads better
    std::reverse(out.begin(), out.end());
    // Tasks asleep, by deadline. A sleep's node is never deferred (run_due_timers): a task's
    // deadline is after the iteration's clock reading that made it.
    timers_.for_each([&](detail::TimerNode* n) {
        if (detail::TaskCore* t = sleeping_task(n)) add(t);
    });
    return out;
}

void EventLoop::set_fd_handler(int fd, bool write, detail::HandleCore* h) {
    if (fd < 0) {
        h->release();
        throw std::invalid_argument("invalid file descriptor: " + std::to_string(fd));
    }
    FdHandlers& fh = fds_[fd];
    detail::HandleCore*& slot = write ? fh.writer : fh.reader;
    detail::HandleCore* old = slot;
    slot = h;
    try {
        update_interest(fd, fh);
    } catch (...) {
        slot = old;
        h->release();
        if (!fh.reader && !fh.writer) fds_.erase(fd);
        throw;
    }
    if (old) {
        old->cancel();
        old->release();
    }
}

bool EventLoop::clear_fd_handler(int fd, bool write) {
    if (closed_) return false;
    auto it = fds_.find(fd);
    if (it == fds_.end()) return false;
    detail::HandleCore*& slot = write ? it->second.writer : it->second.reader;
    if (!slot) return false;
    slot->cancel();
    slot->release();
    slot = nullptr;
    FdHandlers fh = it->second;
    if (!fh.reader && !fh.writer) fds_.erase(it);
    update_interest(fd, fh);
    return true;
}

void EventLoop::update_interest(int fd, const FdHandlers& fh) {
    poller_->set_interest(fd, fh.reader != nullptr, fh.writer != nullptr);
}

void EventLoop::set_signal_handler(int sig, detail::HandleCore* h) {
    if (sig < 1 || sig > max_signal) {
        h->release();
        throw std::invalid_argument("invalid signal number " + std::to_string(sig));
    }
    if (sig == SIGKILL || sig == SIGSTOP) {
        h->release();
        throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
    }
    {
        std::lock_guard<std::mutex> lock(signal_table_mutex);
        EventLoop* owner = signal_loops[sig].load(std::memory_order_seq_cst);
        if (owner && owner != this) {
            h->release();
            throw RuntimeError("signal " + std::to_string(sig) +
                               " is already handled by another event loop");
        }
        if (!owner) {
            signal_loops[sig].store(this, std::memory_order_seq_cst);
            struct sigaction sa {};
            sa.sa_handler = &asyncio_on_signal;
            sigemptyset(&sa.sa_mask);
            // System calls interrupted by the signal are restarted, and the loop's own wait
            // (epoll_wait, never restarted) treats EINTR as "no event": EINTR never reaches
            // users.
            sa.sa_flags = SA_RESTART;
            if (::sigaction(sig, &sa, &saved_actions[sig]) < 0) {
                int err = errno;
                signal_loops[sig].store(nullptr, std::memory_order_seq_cst);
                h->release();
                throw std::system_error(err, std::system_category(), "sigaction");
            }
        }
    }
    auto [it, inserted] = signal_handlers_.emplace(sig, h);
    if (!inserted) {
        it->second->cancel();
        it->second->release();
        it->second = h;
    }
}

bool EventLoop::remove_signal_handler(int sig) {
    if (sig < 1 || sig > max_signal)
        throw std::invalid_argument("invalid signal number " + std::to_string(sig));
    auto it = signal_handlers_.find(sig);
    if (it == signal_handlers_.end()) return false;
    {
        std::lock_guard<std::mutex> lock(signal_table_mutex);
        ::sigaction(sig, &saved_actions[sig], nullptr);  // what it was before the loop took it
        signal_loops[sig].store(nullptr, std::memory_order_seq_cst);
        // A handler that already read this loop (in another thread) finishes first.
        while (signal_handlers_running.load(std::memory_order_seq_cst) != 0) ::sched_yield();
    }
    pending_signals_.fetch_and(~(std::uint64_t{1} << (sig - 1)), std::memory_order_acq_rel);
    it->second->cancel();
    it->second->release();
    signal_handlers_.erase(it);
    return true;
}

const char* EventLoop::backend_name() const noexcept {
    return poller_ ? poller_->name() : "closed";
}

// ---------------------------------------------------------------------------------------
// Free functions

EventLoopPtr new_event_loop(LoopOptions options) { return EventLoopPtr(new EventLoop(options)); }

EventLoop& get_running_loop() {
    if (EventLoop* l = detail::tls.running_loop) return *l;
    throw RuntimeError("no running event loop");
}

EventLoop& get_event_loop() {
    if (EventLoop* l = detail::tls.running_loop) return *l;
    if (EventLoop* l = detail::tls.event_loop) return *l;
    throw RuntimeError(
        "There is no current event loop in this thread: use asyncio::run(), or "
        "new_event_loop() and set_event_loop()");
}

void set_event_loop(EventLoop* loop) noexcept { detail::tls.event_loop = loop; }

std::size_t detail::live_loop_count() noexcept {
    return live_loops.load(std::memory_order_relaxed);
}

}  // namespace asyncio
