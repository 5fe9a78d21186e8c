// Seed 004, signals and shutdown: add_signal_handler plus the clean() that gives every task
// wait_for(t, timeout) to finish. The program sends itself SIGINT; the handler starts
// shutdown(), which waits 0.2 s per task: the fast task finishes, the slow one times out
// and wait_for cancels it (tasks sorted by name).
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "seed_common.hpp"

asyncio::Coro<void> worker(std::string name, double seconds) {
    bool cancelled = false;
    try {
        co_await asyncio::sleep(seconds);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        seed::print(name + ": cancelled");
        throw asyncio::CancelledError();
    }
    seed::print(name + ": finished");
}

/// Waits for every other task, giving each at most 0.2 s.
asyncio::Coro<void> clean(asyncio::EventLoop& loop, std::vector<asyncio::AnyTask> keep) {
    std::vector<asyncio::AnyTask> others;
    for (auto& t : asyncio::all_tasks(loop))
        if (std::find(keep.begin(), keep.end(), t) == keep.end()) others.push_back(t);
    std::sort(others.begin(), others.end(),
              [](const auto& a, const auto& b) { return a.get_name() < b.get_name(); });
    for (auto& t : others) {
        bool timed_out = false;
        try {
            co_await asyncio::wait_for(t, 0.2);
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        seed::print("clean: " + t.get_name() + (timed_out ? " timed out" : " done"));
    }
}

asyncio::Coro<void> shutdown(asyncio::EventLoop& loop, asyncio::AnyTask main_task,
                             asyncio::Event& stopped) {
    seed::print("shutdown: got SIGINT");
    std::vector<asyncio::AnyTask> keep{main_task, asyncio::current_task()};
    co_await clean(loop, keep);
    stopped.set();
}

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    auto main_task = asyncio::current_task();
    asyncio::Event stopped;
    // the handler is a plain callback, so an async shutdown is started as a task
    loop.add_signal_handler(SIGINT, [&loop, main_task, &stopped] {
        asyncio::create_task(shutdown(loop, main_task, stopped));
    });
    asyncio::create_task(worker("fast", 0.1), {.name = "fast"});
    asyncio::create_task(worker("slow", 1.0), {.name = "slow"});
    co_await asyncio::sleep(0.05);
    seed::print("main: sending SIGINT to itself");
    ::kill(::getpid(), SIGINT);
    co_await stopped.wait();
    seed::print("main: shutdown complete");
}

int main() { asyncio::run(amain()); }
