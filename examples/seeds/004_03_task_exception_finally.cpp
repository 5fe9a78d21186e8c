// Seed 004: a task's exception comes out of the await that awaits it.
#include "seed_common.hpp"

asyncio::Coro<void> func1() {
    throw Exception("func1");
    co_return;
}

asyncio::Coro<void> amain() {
    auto task1 = asyncio::create_task(func1());
    try {
        co_await task1;
    } catch (const std::exception& e) {
        seed::print(e.what());
    }
    seed::print("finally");  // the `finally:` block
}

int main() { asyncio::run(amain()); }
