#include "asyncio/timeouts.hpp"

#include <cmath>

namespace asyncio {

const char* Timeout::state_name(State s) noexcept {
    switch (s) {
        case State::CREATED: return "created";
        case State::ENTERED: return "active";
        case State::EXPIRING: return "expiring";
        case State::EXPIRED: return "expired";
        case State::EXITED: return "finished";
    }
    return "?";
}

void Timeout::reschedule(std::optional<double> when) {
    if (state_ != State::ENTERED) {
        if (state_ == State::CREATED) throw RuntimeError("Timeout has not been entered");
        throw RuntimeError(std::string("Cannot change state of ") + state_name(state_) +
                           " Timeout");
    }
    // Checked before anything changes: a rejected deadline leaves the old one armed.
    if (when && std::isnan(*when)) detail::throw_nan_delay("Timeout.reschedule");
    when_ = when;
    handler_.cancel();
    handler_ = Handle();
    if (!when) return;
    EventLoop& loop = get_running_loop();
    if (*when <= loop.time())
        handler_ = loop.call_soon([this] { on_timeout(); });
    else
        handler_ = loop.call_at(*when, [this] { on_timeout(); });
}

Timeout& Timeout::aenter() {
    if (state_ != State::CREATED) throw RuntimeError("Timeout has already been entered");
    AnyTask task = current_task();
    if (!task) throw RuntimeError("Timeout should be used inside a task");
    state_ = State::ENTERED;
    task_ = task;
    cancelling_ = task_.cancelling();
    reschedule(when_);
    return *this;
}

void Timeout::on_timeout() {
    task_.cancel();
    state_ = State::EXPIRING;
    handler_ = Handle();
}

void Timeout::aexit(std::exception_ptr error) {
    handler_.cancel();
    handler_ = Handle();
    if (state_ == State::EXPIRING) {
        state_ = State::EXPIRED;
        if (task_.uncancel() <= cancelling_ && error && is_cancelled_error(error))
            throw TimeoutError();
    } else if (state_ == State::ENTERED) {
        state_ = State::EXITED;
    }
}

}  // namespace asyncio
