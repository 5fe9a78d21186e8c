// Seed 004: as_completed() hands out awaitables in completion order.
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t) {
    co_await asyncio::sleep(t / 10.0);
    co_return t;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Coro<int>> tasks;
    for (int t : {3, 1, 2}) tasks.push_back(func1(t));
    // as_completed() needs no unpacking
    for (auto task : asyncio::as_completed(std::move(tasks))) {
        int res = co_await task;
        seed::print(res);
    }
}

int main() { asyncio::run(amain()); }
