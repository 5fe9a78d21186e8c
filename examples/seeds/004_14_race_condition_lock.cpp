// Seed 004: reading shared data, awaiting, then writing it back loses updates even on one
// thread (data = 1); holding a Lock around the read-await-write makes it 3.
#include <chrono>

#include "seed_common.hpp"

int data = 0;

asyncio::Coro<void> add_one() {
    int temp_data = data;
    temp_data += 1;
    co_await asyncio::sleep(0.1);
    data = temp_data;
}

asyncio::Coro<void> add_one_locked(asyncio::Lock& lock) {
    auto guard = co_await lock.acquire_scoped();  // async with lock:
    int temp_data = data;
    temp_data += 1;
    co_await asyncio::sleep(0.1);
    data = temp_data;
}

asyncio::Coro<void> amain() {
    data = 0;
    auto start = std::chrono::steady_clock::now();
    co_await asyncio::gather(add_one(), add_one(), add_one());
    seed::print("without a lock: data = " + std::to_string(data) + " after " +
                seed::elapsed(start) + "s");

    data = 0;
    start = std::chrono::steady_clock::now();
    asyncio::Lock lock;
    co_await asyncio::gather(add_one_locked(lock), add_one_locked(lock), add_one_locked(lock));
    seed::print("with a lock: data = " + std::to_string(data) + " after " + seed::elapsed(start) +
                "s");
}

int main() { asyncio::run(amain()); }
