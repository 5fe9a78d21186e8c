// Seed 002: the same five tasks collected three ways: wait(), gather(), as_completed().
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<std::string> do_some_work(int x) {
    seed::print("Hello:", x);
    co_return "work is done for " + std::to_string(x);
}

asyncio::Coro<void> hang_coroutine_wait(std::vector<asyncio::Task<std::string>> tasks) {
    auto [dones, pendings] = co_await asyncio::wait(tasks);
    for (auto& task : dones) seed::print("task result:", task.result());  // in task order
}

asyncio::Coro<void> hang_coroutine_gather(std::vector<asyncio::Task<std::string>> tasks) {
    auto results = co_await asyncio::gather(tasks);
    for (auto& result : results) seed::print("Task result:", result);
}

asyncio::Coro<void> hang_coroutine_as_completed(std::vector<asyncio::Task<std::string>> tasks) {
    for (auto task : asyncio::as_completed(tasks)) {
        auto result = co_await task;
        seed::print("Task result:" + result);
    }
}

asyncio::Coro<void> amain(asyncio::EventLoop* loop) {
    // the seed switches between the three by commenting lines in and out
    struct Hang {
        const char* name;
        asyncio::Coro<void> (*fn)(std::vector<asyncio::Task<std::string>>);
    };
    for (Hang hang : {Hang{"hang_coroutine_wait", hang_coroutine_wait},
                      Hang{"hang_coroutine_gather", hang_coroutine_gather},
                      Hang{"hang_coroutine_as_completed", hang_coroutine_as_completed}}) {
        seed::print("--", hang.name);
        std::vector<asyncio::Task<std::string>> tasks;
        for (int i = 0; i < 5; ++i) {
            auto coroutine = do_some_work(i);
            auto task = loop->create_task(std::move(coroutine));
            tasks.push_back(task);
        }
        co_await hang.fn(tasks);
    }
}

int main() {
    auto start = std::chrono::steady_clock::now();
    auto loop = asyncio::new_event_loop();
    asyncio::set_event_loop(loop);
    loop->run_until_complete(
        amain(loop.get()));  // registers the coroutine with the loop and runs it
    loop->close();
    seed::print("total run time: " + seed::elapsed(start) + "s");
}
