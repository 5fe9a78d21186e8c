// Seed 002: run_until_complete() returns what the coroutine returns: wait()'s {done,
// pending}, or gather()'s results.
#include <algorithm>
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<std::string> do_some_work(int x) {
    seed::print("Hello:", x);
    co_return "work is done for " + std::to_string(x);
}

asyncio::Coro<asyncio::WaitResult<asyncio::Task<std::string>>> main_wait(asyncio::EventLoop* loop) {
    std::vector<asyncio::Task<std::string>> tasks;
    for (int i = 0; i < 5; ++i) {
        auto coroutine = do_some_work(i);
        tasks.push_back(loop->create_task(std::move(coroutine)));
    }
    co_return co_await asyncio::wait(tasks);
}

asyncio::Coro<std::vector<std::string>> main_gather(asyncio::EventLoop* loop) {
    std::vector<asyncio::Task<std::string>> tasks;
    for (int i = 0; i < 5; ++i) {
        auto coroutine = do_some_work(i);
        tasks.push_back(loop->create_task(std::move(coroutine)));
    }
    co_return co_await asyncio::gather(tasks);
}

int main() {
    seed::print("-- await asyncio.wait");
    auto start = std::chrono::steady_clock::now();
    auto loop = asyncio::new_event_loop();
    asyncio::set_event_loop(loop);
    {
        auto [dones, pendings] = loop->run_until_complete(main_wait(loop.get()));
        std::sort(dones.begin(), dones.end(),
                  [](auto& a, auto& b) { return a.result() < b.result(); });  // sorted by result
        for (auto& task : dones) seed::print("task result:", task.result());
        seed::print("pending:", static_cast<int>(pendings.size()));
        seed::print("total run time: " + seed::elapsed(start) + "s");
    }
    loop->close();

    seed::print("-- await asyncio.gather");
    start = std::chrono::steady_clock::now();
    loop = asyncio::new_event_loop();
    asyncio::set_event_loop(loop);
    auto results = loop->run_until_complete(main_gather(loop.get()));
    for (auto& result : results) seed::print("task result:", result);
    seed::print("total run time: " + seed::elapsed(start) + "s");
    loop->close();
    asyncio::set_event_loop(nullptr);
}
