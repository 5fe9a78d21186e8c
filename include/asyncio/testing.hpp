// A loop for users' tests: a virtual clock the test drives, and an optional seeded shuffle.
//
// Code that waits (retries with backoff, timeouts, rate limiters, heartbeats) is slow and
// flaky to test on the real clock. A TestLoop runs the same code on a virtual clock: time
// moves only when the test says so (advance()), or, in run_until_complete(), jumps straight
// to the next timer whenever nothing is ready (tokio's time::pause with auto-advance; CPython's
// test_utils.TestLoop). A ten-minute retry schedule runs in milliseconds, and every time the
// code reads (loop.time(), the deadlines of sleep, wait_for, timeout) is exact.
//
//   asyncio::testing::TestLoop t;
//   auto task = t.loop().create_task(fetch_with_retry(...));
//   t.run_until_idle();          // the first attempt ran; the clock has not moved
//   t.advance(1.0);              // one second later: the first retry ran
//   EXPECT_EQ(attempts, 2);
//   t.run_until_complete(task);  // the rest of the schedule, skipping the waits
//
// Shuffle (TestLoopOptions::shuffle_seed): callbacks that are ready in the same iteration run
// in an order drawn from the seed instead of FIFO, which flushes out code that depends on
// the order of things that are only concurrent. The order is the same for the same seed and
// program: a failing seed reproduces. (FIFO is what CPython and this loop guarantee; the
// shuffle is for code that should not care.)
//
// Only the clock is virtual: real I/O (sockets, pipes, subprocesses, executor threads) still
// takes real time, and with auto-advance the clock jumps past a timeout that real I/O might
// have beaten. Test I/O code on the real clock.
//
// Thread safety: as EventLoop: one thread. Python: no public equivalent (CPython's own tests
// use test_utils.TestLoop; Tokio: tokio::time::pause / advance).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio::testing {

/// How a TestLoop is made.
struct TestLoopOptions {
    /// Run the callbacks of each iteration in an order drawn from this seed (see above).
    std::optional<std::uint64_t> shuffle_seed = std::nullopt;
    /// Debug mode (EventLoop::set_debug).
    bool debug = false;
};

/// An event loop on a virtual clock that starts at 0 and that the test moves.
///
/// Errors: run_until_idle() and advance() throw RuntimeError when the loop is still busy
/// after `max_iterations` iterations without the clock moving (a task that yields forever).
class TestLoop {
  public:
    explicit TestLoop(TestLoopOptions options = {});
    TestLoop(const TestLoop&) = delete;
    TestLoop& operator=(const TestLoop&) = delete;
    /// Closes the loop (a task still pending is reported "destroyed but it is pending").
    ~TestLoop();

    EventLoop& loop() noexcept { return *loop_; }
    EventLoop* operator->() noexcept { return loop_.get(); }
    /// The virtual clock (seconds, starting at 0). Python: loop.time().
    double time() const noexcept { return loop_->time(); }

    /// Runs the callbacks that are ready and the timers due now, then whatever those make
    /// ready, until nothing is ready at this instant. The clock does not move.
    void run_until_idle();
    /// Moves the clock `dt` forward, stopping at each timer due on the way to run it (and
    /// what it makes ready) at its own time, as if that much time had passed.
    /// Errors: std::invalid_argument for a negative or NaN `dt`.
    void advance(Seconds dt);
    /// Moves the clock to the next timer and runs it (false: no timer is scheduled).
    bool advance_to_next_timer();

    /// Runs until `coro` (as a task) or `future` is done, jumping the clock to the next timer
    /// whenever nothing is ready (auto-advance). Returns the result or rethrows.
    template <class T>
    T run_until_complete(Coro<T> coro) {
        return loop_->run_until_complete(std::move(coro));
    }
    template <class T>
    T run_until_complete(const Future<T>& future) {
        return loop_->run_until_complete(future);
    }

    /// The bound of run_until_idle() (iterations at one instant) and of advance() (timer
    /// instants on the way); default 100,000.
    std::size_t max_iterations = 100'000;

  private:
    /// One iteration at the current instant.
    void run_one();
    bool idle() const noexcept;

    EventLoopPtr loop_;
};

}  // namespace asyncio::testing
