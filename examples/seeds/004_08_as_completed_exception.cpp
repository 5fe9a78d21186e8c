// Seed 004: an exception comes out of the as_completed() awaitable of the task that raised.
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t, int excpetion) {
    co_await asyncio::sleep(t / 10.0);
    if (excpetion) throw Exception("error");
    co_return t;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Coro<int>> tasks;
    tasks.push_back(func1(3, 0));
    tasks.push_back(func1(1, 0));
    tasks.push_back(func1(2, 1));
    for (auto task : asyncio::as_completed(std::move(tasks))) {
        try {
            seed::print(co_await task);
        } catch (const std::exception& e) {
            seed::print(e.what());
        }
    }
}

int main() { asyncio::run(amain()); }
