// Seed 004: without an await that suspends, a coroutine runs to the end before the next one
// starts; sleep(0) yields to the loop once.
#include "seed_common.hpp"

asyncio::Coro<void> worker(std::string name, bool yield_each_step) {
    for (int i = 0; i < 3; ++i) {
        seed::print(name + std::to_string(i));
        if (yield_each_step) co_await asyncio::sleep(0);
    }
}

asyncio::Coro<void> amain() {
    seed::print("without sleep(0):");
    co_await asyncio::gather(worker("A", false), worker("B", false));
    seed::print("with sleep(0):");
    co_await asyncio::gather(worker("A", true), worker("B", true));
}

int main() { asyncio::run(amain()); }
