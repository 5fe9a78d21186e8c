// The cancellation-safety harness: runs a scenario again and again, and on run k cancels
// its "victim" task after k loop iterations, so that the cancel lands in turn on every
// suspension point of the victim, including the window where it has been woken but has not
// resumed yet (the race that loses wake-ups in weaker implementations). After each run it
// checks the scenario's invariants (no lock left held, no permit or item lost or
// duplicated), that the other tasks all finished (a lost wake-up would leave one waiting
// forever: a watchdog cancels it and the run fails), and that the loop closes clean.
//
//   struct LockScenario {
//       asyncio::Lock lock; int counter = 0;
//       asyncio::Coro<void> victim();          // the task that gets cancelled
//       asyncio::Coro<void> others();          // everything else; must end on its own
//       asyncio::Coro<void> after_victim(bool cancelled);   // optional
//       void check(bool victim_cancelled);     // gtest EXPECTs on the final state
//   };
//   int runs = asyncio::testing::cancel_sweep<LockScenario>();
//
// The sweep stops at the first run where the victim finished before the cancel came (every
// later k would repeat it). Scenarios pass time with sleep(0): the virtual clock does not
// move while the sweep counts iterations.
#pragma once

#include <gtest/gtest.h>

#include "asyncio_test.hpp"

namespace asyncio::testing {

namespace detail_sweep {

template <class S>
Coro<void> drive(S& s, int k, bool& finished_first) {
    auto victim = create_task(s.victim(), {.name = "victim"});
    auto others = create_task(s.others(), {.name = "others"});
    for (int i = 0; i < k && !victim.done(); ++i) co_await sleep(0);
    finished_first = victim.done();
    victim.cancel();
    bool cancelled = false;
    try {
        co_await victim;
    } catch (const CancelledError&) {
        cancelled = true;
    }
    if constexpr (requires { s.after_victim(cancelled); }) co_await s.after_victim(cancelled);
    auto watchdog = get_running_loop().call_later(3600.0, [others] { others.cancel("watchdog"); });
    bool stuck = false;
    try {
        co_await others;
    } catch (const CancelledError&) {
        stuck = true;
    }
    watchdog.cancel();
    EXPECT_FALSE(stuck) << "run " << k
                        << ": the other tasks never finished (a lost wake-up, or a lock left held)";
    s.check(cancelled);
}

}  // namespace detail_sweep

/// Runs scenario S once per k = 0, 1, 2, ... (see the header comment); returns the number of
/// runs. Fails the current test (naming the run) at the first run that breaks an invariant.
template <class S>
int cancel_sweep(int max_runs = 1000) {
    int k = 0;
    for (; k < max_runs; ++k) {
        int fds = open_fd_count();
        auto l = make_test_loop();
        set_event_loop(l.get());
        bool finished_first = false;
        {
            S s;
            try {
                l->run_until_complete(detail_sweep::drive(s, k, finished_first));
            } catch (const std::exception&) {
                ADD_FAILURE() << "run " << k << " threw "
                              << describe_exception(std::current_exception());
            } catch (const CancelledError&) {
                ADD_FAILURE() << "run " << k << " was cancelled";
            }
        }
        set_event_loop(nullptr);
        close_and_check(l, fds);
        if (::testing::Test::HasFailure()) {
            ADD_FAILURE() << "cancel_sweep: first failure on run k=" << k;
            return k + 1;
        }
        if (finished_first) break;
    }
    EXPECT_LT(k, max_runs) << "the victim never finished on its own within max_runs iterations";
    return k + 1;
}

}  // namespace asyncio::testing
