// asyncio::testing::TestLoop: a virtual-time loop driven by the test.
#include "asyncio/testing.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace asyncio::testing {

TestLoop::TestLoop(TestLoopOptions options)
    : loop_(new_event_loop(LoopOptions{.virtual_time = true, .debug = options.debug})) {
    if (options.shuffle_seed) loop_->shuffle_ready(*options.shuffle_seed);
}

TestLoop::~TestLoop() = default;

bool TestLoop::idle() const noexcept {
    return loop_->ready_count() == 0 && loop_->next_timer_ns() > loop_->now_ns();
}

void TestLoop::run_one() {
    // CPython's test_utils.run_briefly: a stop() queued last ends run_forever() after exactly
    // the iteration that runs what is ready now; with something ready the virtual clock
    // does not jump.
    loop_->call_soon([l = loop_.get()] { l->stop(); });
    loop_->run_forever();
}

void TestLoop::run_until_idle() {
    for (std::size_t i = 0; !idle(); ++i) {
        if (i == max_iterations)
            throw RuntimeError("TestLoop: still busy after " + std::to_string(max_iterations) +
                               " iterations at time " + std::to_string(time()) +
                               " (a task that never waits?)");
        run_one();
    }
}

void TestLoop::advance(Seconds dt) {
    double d = dt.count();
    if (std::isnan(d) || d < 0)
        throw std::invalid_argument("TestLoop::advance: dt must be >= 0, got " + std::to_string(d));
    std::int64_t now = loop_->now_ns();
    std::int64_t target =
        d >= 9.2e9 ? detail::never_ns - 1 : now + static_cast<std::int64_t>(std::llround(d * 1e9));
    if (target < now) target = detail::never_ns - 1;  // overflow
    run_until_idle();
    std::size_t stops = 0;
    for (std::int64_t t; (t = loop_->next_timer_ns()) <= target;) {
        if (++stops > max_iterations)
            throw RuntimeError("TestLoop::advance: more than " + std::to_string(max_iterations) +
                               " timer instants on the way (a periodic timer and a huge dt?)");
        loop_->set_virtual_now(t);
        run_until_idle();
    }
    loop_->set_virtual_now(target);
    run_until_idle();
}

bool TestLoop::advance_to_next_timer() {
    run_until_idle();
    std::int64_t t = loop_->next_timer_ns();
    if (t == detail::never_ns) return false;
    loop_->set_virtual_now(t);
    run_until_idle();
    return true;
}

}  // namespace asyncio::testing
