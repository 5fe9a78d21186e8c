#include "asyncio/executors.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "asyncio/detail/spin.hpp"

namespace asyncio {

namespace detail {

/// The pool's state, shared with its workers (which outlive a pool destroyed without
/// waiting). Invariant: `idle` workers are blocked on `cv` with `queue` empty or about to be
/// woken; a new thread is started only when the queue holds more items than idle workers.
struct ThreadPoolCore {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::unique_ptr<WorkItem>> queue;
    std::vector<std::thread> threads;
    std::size_t idle = 0;
    std::size_t finishing = 0;  // workers done with an item, about to wait for the next
    std::size_t max_workers = 1;
    std::size_t started = 0;
    bool shutdown = false;
    std::string prefix;
    // A worker that has just finished an item spins a moment for the next before it sleeps
    // (at most one at a time): a loop that hands over short jobs one after another then pays
    // no futex wake-up per job. `queued` mirrors queue.size() for the spinner's lock-free look.
    std::atomic<std::size_t> queued{0};
    std::atomic<bool> spinner{false};
};

namespace {

// How long a worker spins for the next item after finishing one.
constexpr auto worker_spin = std::chrono::microseconds(50);

void spin_for_work(ThreadPoolCore& s) noexcept {
    if (s.spinner.exchange(true, std::memory_order_acq_rel)) return;  // another one spins
    auto deadline = std::chrono::steady_clock::now() + worker_spin;
    for (unsigned i = 0; s.queued.load(std::memory_order_acquire) == 0; ++i) {
        if ((i & 63) == 63 && std::chrono::steady_clock::now() >= deadline) break;
        cpu_relax();
    }
    // Cleared before this worker takes the lock to look at the queue: a submitter that sees
    // it set (under the lock) knows this worker will see its item, and skips the notify.
    s.spinner.store(false, std::memory_order_release);
}

void worker_main(std::shared_ptr<ThreadPoolCore> s) {
    bool finished_one = false;
    for (;;) {
        if (finished_one) spin_for_work(*s);
        std::unique_ptr<WorkItem> item;
        {
            std::unique_lock<std::mutex> lock(s->m);
            if (finished_one) --s->finishing;
            while (s->queue.empty() && !s->shutdown) {
                ++s->idle;
                s->cv.wait(lock);
                --s->idle;
            }
            if (s->queue.empty()) return;  // shut down, and nothing left to run
            item = std::move(s->queue.front());
            s->queue.pop_front();
            s->queued.store(s->queue.size(), std::memory_order_relaxed);
        }
        item->run();
        {
            // Idle before the result wakes anyone: a submit() right after result() reuses
            // this worker instead of starting another (CPython's test_idle_thread_reuse).
            std::lock_guard<std::mutex> lock(s->m);
            ++s->finishing;
        }
        item->finish();
        item.reset();
        finished_one = true;
    }
}

}  // namespace
}  // namespace detail

ThreadPoolExecutor::ThreadPoolExecutor(std::optional<int> max_workers,
                                       std::string thread_name_prefix)
    : s_(std::make_shared<detail::ThreadPoolCore>()) {
    if (max_workers && *max_workers <= 0)
        throw std::invalid_argument("max_workers must be greater than 0");
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    s_->max_workers =
        max_workers ? static_cast<std::size_t>(*max_workers) : std::min<std::size_t>(32, cores + 4);
    s_->prefix = thread_name_prefix.empty() ? "asyncio-pool" : std::move(thread_name_prefix);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    shutdown(false);
    std::lock_guard<std::mutex> lock(s_->m);
    for (auto& t : s_->threads) t.detach();  // they finish the queue and exit
    s_->threads.clear();
}

std::size_t ThreadPoolExecutor::max_workers() const noexcept { return s_->max_workers; }

std::size_t ThreadPoolExecutor::thread_count() const {
    std::lock_guard<std::mutex> lock(s_->m);
    return s_->started;
}

void ThreadPoolExecutor::schedule(std::unique_ptr<detail::WorkItem> item) {
    std::unique_lock<std::mutex> lock(s_->m);
    if (s_->shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
    s_->queue.push_back(std::move(item));
    s_->queued.store(s_->queue.size(), std::memory_order_release);
    if (s_->queue.size() > s_->idle + s_->finishing && s_->started < s_->max_workers) {
        try {
            std::thread t(&detail::worker_main, s_);
            std::string name = s_->prefix + "_" + std::to_string(s_->started);
            if (name.size() > 15) name.erase(0, name.size() - 15);  // the kernel's limit
            ::pthread_setname_np(t.native_handle(), name.c_str());
            s_->threads.push_back(std::move(t));
            ++s_->started;
        } catch (...) {
            if (s_->started == 0) {  // nobody would ever run it
                s_->queue.pop_back();
                throw;
            }
        }
        return;
    }
    // A spinning worker takes a lone item itself: no wake-up needed.
    bool spinner_takes_it = s_->queue.size() == 1 && s_->spinner.load(std::memory_order_acquire);
    lock.unlock();
    if (!spinner_takes_it) s_->cv.notify_one();
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    std::deque<std::unique_ptr<detail::WorkItem>> dropped;
    std::vector<std::thread> to_join;
    {
        std::lock_guard<std::mutex> lock(s_->m);
        s_->shutdown = true;
        if (cancel_futures) {
            dropped.swap(s_->queue);
            s_->queued.store(0, std::memory_order_relaxed);
        }
        if (wait) to_join.swap(s_->threads);
    }
    s_->cv.notify_all();
    for (auto& item : dropped) item->cancel();
    dropped.clear();
    for (auto& t : to_join) {
        if (t.get_id() == std::this_thread::get_id())
            t.detach();  // shutdown(wait) from one of the pool's own workers
        else
            t.join();
    }
}

// --- EventLoop members declared in events.hpp ---

Executor& EventLoop::default_executor() {
    check_closed();
    if (executor_shutdown_called_) throw RuntimeError("Executor shutdown has been called");
    if (!default_executor_) {
        default_executor_ = std::make_shared<ThreadPoolExecutor>(std::nullopt, "asyncio");
    }
    return *default_executor_;
}

// close(): CPython's close() shuts the default executor down without waiting for its threads.
void EventLoop::close_default_executor() noexcept {
    if (default_executor_) {
        std::shared_ptr<Executor> ex = std::move(default_executor_);
        try {
            ex->shutdown(false);
        } catch (...) {
            ExceptionContext ctx;
            ctx.message = "error while shutting down the default executor at close()";
            ctx.exception = std::current_exception();
            call_exception_handler(ctx);
        }
    }
    executor_shutdown_called_ = true;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    check_closed();
    if (!executor) throw std::invalid_argument("set_default_executor: executor is null");
    default_executor_ = std::move(executor);
}

Coro<void> EventLoop::shutdown_default_executor(std::optional<Seconds> timeout) {
    executor_shutdown_called_ = true;
    std::shared_ptr<Executor> ex = default_executor_;
    if (!ex) co_return;
    Future<void> joined = create_future<void>();
    // Joining blocks: a helper thread does it and posts the news back (CPython does the same).
    // The helper is joined once it has posted; if we stop waiting first, it is detached.
    struct Helper {
        std::thread t;
        ~Helper() {
            if (t.joinable()) t.detach();
        }
    } helper{std::thread([ex, bound = detail::LoopBound<Future<void>>(joined), this]() mutable {
        ex->shutdown(true);
        detail::post_or_drop(*this, [bound = std::move(bound)]() mutable {
            if (!bound.get().done()) bound.get().set_result();
        });
    })};
    // On a virtual clock the timeout would expire at once (the threads run on the real
    // clock), so it only applies to real-time loops.
    TimerHandle timer;
    if (timeout && !virtual_time_) {
        timer = call_later(*timeout, [joined] {
            if (!joined.done()) joined.set_exception(TimeoutError());
        });
    }
    bool timed_out = false;
    try {
        co_await joined;
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    timer.cancel();
    if (!timed_out) helper.t.join();  // it has posted: it is about to return
    if (timed_out) {
        ExceptionContext ctx;
        ctx.message = "RuntimeWarning: The executor did not finish joining its threads within " +
                      std::to_string(timeout->count()) + " seconds.";
        call_exception_handler(ctx);
        ex->shutdown(false);
    }
}

}  // namespace asyncio
