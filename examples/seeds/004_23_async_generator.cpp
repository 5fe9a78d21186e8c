// Seed 004: an async generator awaits between values; `async for` consumes it.
#include "seed_common.hpp"

asyncio::AsyncGenerator<int> generate() {
    for (int i = 0; i < 10; ++i) {
        co_await asyncio::sleep(0.1);
        co_yield i;
    }
}

asyncio::Coro<void> amain() {
    co_await asyncio::for_each(generate(),
                               [](int i) { seed::print(i); });  // async for i in generate()
}

int main() { asyncio::run(amain()); }
