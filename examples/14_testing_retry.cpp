// Testing code that waits: a retry-with-backoff coroutine driven by asyncio::testing::TestLoop.
//
// The code under test waits 1, 2, 4, ... seconds (at most 60) between attempts and gives up
// after ten minutes. On the real clock a test of it takes ten minutes; on the TestLoop's
// virtual clock it takes milliseconds, and every attempt's time is exact:
//
//   asyncio::testing::TestLoop t;
//   auto task = t->create_task(fetch_with_retry(service, 60, 600));
//   t.run_until_idle();          // attempt 1 ran at t=0
//   t.advance(1);                // attempt 2 ran at t=1
//   t.run_until_complete(task);  // the rest, the clock jumping from timer to timer
//
// (Python has no public equivalent; CPython's own tests use test_utils.TestLoop, Tokio has
// time::pause() and time::advance().)
#include <asyncio/asyncio.hpp>
#include <asyncio/testing.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

// --- the user's code -------------------------------------------------------------------

/// A service that fails its first `failures` calls.
struct FlakyService {
    int failures;
    int calls = 0;
    std::string call() {
        if (++calls <= failures) throw std::runtime_error("503 Service Unavailable");
        return "200 OK";
    }
};

/// Calls the service until it answers, waiting 1 s, 2 s, 4 s ... (at most `max_delay`)
/// between failures; TimeoutError once the next wait would end past `deadline` seconds.
asyncio::Coro<std::string> fetch_with_retry(FlakyService* service, double max_delay,
                                            double deadline) {
    auto& loop = asyncio::get_running_loop();
    double start = loop.time();
    double delay = 1;
    for (int attempt = 1;; ++attempt) {
        try {
            std::string answer = service->call();
            std::printf("  t=%7.3f s  attempt %2d: %s\n", loop.time() - start, attempt,
                        answer.c_str());
            co_return answer;
        } catch (const std::runtime_error& e) {
            std::printf("  t=%7.3f s  attempt %2d: %s\n", loop.time() - start, attempt, e.what());
        }
        if (loop.time() - start + delay > deadline)
            throw asyncio::TimeoutError("gave up after " + std::to_string(attempt) + " attempts");
        co_await asyncio::sleep(delay);
        delay = std::min(delay * 2, max_delay);
    }
}

// --- its test --------------------------------------------------------------------------

int main() {
    auto real_start = std::chrono::steady_clock::now();

    std::printf("a service that recovers after 9 failures:\n");
    {
        asyncio::testing::TestLoop t;
        FlakyService service{9};
        auto task = t->create_task(fetch_with_retry(&service, 60, 600));
        t.run_until_idle();  // the first attempt runs at once; the clock stays at 0
        std::printf("  after run_until_idle: %d call(s), clock %.0f s\n", service.calls, t.time());
        t.advance(1);  // one second later the first retry has run
        std::printf("  after advance(1): %d call(s), clock %.0f s\n", service.calls, t.time());
        std::string answer = t.run_until_complete(task);
        std::printf("  answer %s at t=%.0f s\n", answer.c_str(), t.time());
    }

    std::printf("a service that never recovers (10-minute budget):\n");
    {
        asyncio::testing::TestLoop t;
        FlakyService service{1000};
        auto task = t->create_task(fetch_with_retry(&service, 60, 600));
        try {
            t.run_until_complete(task);
        } catch (const asyncio::TimeoutError& e) {
            std::printf("  TimeoutError: %s, at t=%.0f s\n", e.what(), t.time());
        }
    }

    auto real = std::chrono::steady_clock::now() - real_start;
    std::printf("13 minutes of virtual time in under 10 s of real time: %s\n",
                real < std::chrono::seconds(10) ? "yes" : "no");
}
