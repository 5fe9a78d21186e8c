// Seed 001: tasks run without being awaited; one that outlives main() is cancelled by run().
#include "seed_common.hpp"

asyncio::Coro<void> wait(double times) {
    seed::print("waiting " + seed::py(times) + "s");
    try {
        co_await asyncio::sleep(times);
    } catch (const asyncio::CancelledError&) {
        seed::print("wait " + seed::py(times) + "s cancelled");
        throw;
    }
    seed::print("wait " + seed::py(times) + "s over!");
}

asyncio::Coro<void> amain() {
    asyncio::create_task(wait(0.1));           // never awaited: runs anyway
    asyncio::create_task(wait(0.5));           // never awaited, outlives main()
    co_await asyncio::create_task(wait(0.2));  // awaited: main blocks on it
    seed::print("main returns");
}

int main() {
    asyncio::run(amain());
    seed::print("asyncio.run returned");
}
