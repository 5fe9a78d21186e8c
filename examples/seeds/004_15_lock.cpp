// Seed 004: asyncio.Lock with `async with`: worker2 waits until worker1 leaves its block.
#include "seed_common.hpp"

asyncio::Coro<void> worker1(asyncio::Lock& lock) {
    seed::print("worker1 start");
    co_await asyncio::async_with(lock, []() -> asyncio::Coro<void> {
        seed::print("worker1 got lock");
        co_await asyncio::sleep(0.1);
    });
}

asyncio::Coro<void> worker2(asyncio::Lock& lock) {
    seed::print("worker2 start");
    co_await asyncio::async_with(lock, []() -> asyncio::Coro<void> {
        seed::print("worker2 got lock");
        co_await asyncio::sleep(0.1);
    });
}

asyncio::Coro<void> amain() {
    asyncio::Lock lock;
    auto t1 = asyncio::create_task(worker1(lock));
    auto t2 = asyncio::create_task(worker2(lock));
    co_await asyncio::gather(t1, t2);
}

int main() { asyncio::run(amain()); }
