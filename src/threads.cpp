#include "asyncio/threads.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace asyncio::detail {

bool ConcurrentCore::cancel() {
    std::vector<UniqueFunction> cbs;
    {
        std::lock_guard<std::mutex> lock(m_);
        if (state_ == State::running || state_ == State::finished) return false;
        if (state_ == State::cancelled) return true;
        state_ = State::cancelled;
        cbs.swap(callbacks_);
    }
    cv_.notify_all();
    run_callbacks(cbs);
    return true;
}

bool ConcurrentCore::set_running_or_notify_cancel() {
    std::lock_guard<std::mutex> lock(m_);
    if (state_ == State::cancelled) return false;
    if (state_ != State::pending)
        throw InvalidStateError("set_running_or_notify_cancel: the future is already " +
                                std::string(state_ == State::running ? "running" : "finished"));
    state_ = State::running;
    return true;
}

bool ConcurrentCore::try_set_exception(std::exception_ptr e) {
    return try_finish([&] { exc_ = std::move(e); });
}

void ConcurrentCore::set_exception(std::exception_ptr e) {
    if (!try_set_exception(std::move(e)))
        throw InvalidStateError("set_exception: the ConcurrentFuture is already done");
}

bool ConcurrentCore::done() const {
    std::lock_guard<std::mutex> lock(m_);
    return state_ == State::cancelled || state_ == State::finished;
}

bool ConcurrentCore::cancelled() const {
    std::lock_guard<std::mutex> lock(m_);
    return state_ == State::cancelled;
}

bool ConcurrentCore::running() const {
    std::lock_guard<std::mutex> lock(m_);
    return state_ == State::running;
}

void ConcurrentCore::wait(std::optional<Seconds> timeout) const {
    std::unique_lock<std::mutex> lock(m_);
    auto is_done = [this] { return state_ == State::cancelled || state_ == State::finished; };
    if (!timeout) {
        cv_.wait(lock, is_done);
        return;
    }
    double s = timeout->count();
    if (std::isnan(s)) throw std::invalid_argument("timeout is NaN");
    if (s >= 1e9) {
        cv_.wait(lock, is_done);
        return;
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::nanoseconds(static_cast<long long>(std::max(0.0, s) * 1e9));
    if (!cv_.wait_until(lock, deadline, is_done)) throw TimeoutError();
}

void ConcurrentCore::check_result() const {
    std::lock_guard<std::mutex> lock(m_);
    if (state_ == State::cancelled) throw CancelledError();
    if (state_ != State::finished)
        throw InvalidStateError("result: the ConcurrentFuture is not done");
    if (exc_) std::rethrow_exception(exc_);
}

std::exception_ptr ConcurrentCore::exception(std::optional<Seconds> timeout) const {
    wait(timeout);
    std::lock_guard<std::mutex> lock(m_);
    if (state_ == State::cancelled) throw CancelledError();
    return exc_;
}

void ConcurrentCore::add_done_callback(UniqueFunction fn) {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (state_ != State::cancelled && state_ != State::finished) {
            callbacks_.push_back(std::move(fn));
            return;
        }
    }
    std::vector<UniqueFunction> one;
    one.push_back(std::move(fn));
    run_callbacks(one);
}

void ConcurrentCore::run_callbacks(std::vector<UniqueFunction>& cbs) noexcept {
    for (auto& cb : cbs) {
        try {
            cb();
        } catch (...) {
            std::string msg = "exception calling callback for ConcurrentFuture: " +
                              describe_exception(std::current_exception()) + "\n";
            std::fwrite(msg.data(), 1, msg.size(), stderr);
        }
    }
    cbs.clear();
}

void link_cancel_to_task(ConcurrentCore& state, std::shared_ptr<ThreadsafeLink> link) {
    state.add_done_callback([&state, link = std::move(link)] {
        if (!state.cancelled()) return;
        post_or_drop(*link->loop, [link] {
            if (link->task) link->task->cancel(std::nullopt);
        });
    });
}

}  // namespace asyncio::detail
