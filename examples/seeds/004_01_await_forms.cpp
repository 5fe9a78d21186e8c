// Seed 004: three things can be awaited: a coroutine call, a coroutine object, a task.
#include "seed_common.hpp"

asyncio::Coro<void> func1() {
    seed::print(1);
    co_return;
}
asyncio::Coro<void> func2() {
    seed::print(2);
    co_return;
}
asyncio::Coro<void> func3() {
    seed::print(3);
    co_return;
}

asyncio::Coro<void> amain() {
    auto corortine2 = func2();
    auto task3 = asyncio::create_task(func3());
    // 1st way: await the coroutine call directly
    co_await func1();
    // 2nd way: await a coroutine object
    co_await corortine2;
    // 3rd way: await a task
    co_await task3;
}

int main() { asyncio::run(amain()); }
