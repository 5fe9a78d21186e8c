// Seed 001: gather() over three tasks runs them concurrently; results in the order given.
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<int> hello1(int a, int b) {
    seed::print("Hello world 01 begin");
    co_await asyncio::sleep(0.3);
    seed::print("Hello again 01 end");
    co_return a + b;
}
asyncio::Coro<int> hello2(int a, int b) {
    seed::print("Hello world 02 begin");
    co_await asyncio::sleep(0.2);
    seed::print("Hello again 02 end");
    co_return a - b;
}
asyncio::Coro<int> hello3(int a, int b) {
    seed::print("Hello world 03 begin");
    co_await asyncio::sleep(0.4);
    seed::print("Hello again 03 end");
    co_return a* b;
}

asyncio::Coro<void> amain() {
    auto start = std::chrono::steady_clock::now();
    std::vector<asyncio::Task<int>> tasks;
    tasks.push_back(asyncio::ensure_future(hello1(10, 5)));
    tasks.push_back(asyncio::ensure_future(hello2(10, 5)));
    tasks.push_back(asyncio::ensure_future(hello3(10, 5)));
    auto results = co_await asyncio::gather(tasks);
    for (int result : results) seed::print(result);  // one per task, in the order given
    seed::print("finished after " + seed::elapsed(start) + "s");
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    loop->run_until_complete(amain());
    loop->close();
}
