// Seed 004: a Semaphore(2) lets at most two workers in at once; the others wait in order.
#include <algorithm>
#include <chrono>
#include <vector>

#include "seed_common.hpp"

const auto START = std::chrono::steady_clock::now();
int inside = 0;
int most_inside = 0;

asyncio::Coro<void> worker(int i, asyncio::Semaphore& sem) {
    seed::print("worker" + std::to_string(i) + " waiting");
    {
        auto guard = co_await sem.acquire_scoped();  // async with sem:
        inside += 1;
        most_inside = std::max(most_inside, inside);
        seed::print(seed::elapsed(START) + "s worker" + std::to_string(i) + " got the semaphore");
        co_await asyncio::sleep(i / 10.0);
        inside -= 1;
    }
    seed::print("worker" + std::to_string(i) + " released it");
}

asyncio::Coro<void> amain() {
    asyncio::Semaphore sem(2);
    std::vector<asyncio::Task<void>> workers;
    for (int i = 1; i < 5; ++i) workers.push_back(asyncio::create_task(worker(i, sem)));
    co_await asyncio::gather(workers);
    seed::print("most workers inside at once:", most_inside);
}

int main() { asyncio::run(amain()); }
