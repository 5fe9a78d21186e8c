// Seed 001: create_task() needs a running loop; ensure_future() uses the set loop.
#include "seed_common.hpp"

asyncio::Coro<int> hello1(int a, int b) {
    co_await asyncio::sleep(0.1);
    co_return a + b;
}

asyncio::Coro<void> amain() {
    auto task = asyncio::create_task(hello1(10, 5));  // a loop is running now
    co_await task;
    seed::print("create_task inside a coroutine:", task.result());
}

int main() {
    auto loop = asyncio::new_event_loop();
    asyncio::set_event_loop(loop);
    auto coro = hello1(10, 5);
    try {
        auto task = asyncio::create_task(std::move(coro));
    } catch (const asyncio::RuntimeError&) {
        seed::print("create_task before the loop runs:", seed::fmt(std::current_exception()));
        // the coroutine was never scheduled: it is destroyed with its argument
    }
    auto task = asyncio::ensure_future(hello1(10, 5));
    loop->run_until_complete(task);
    seed::print("ensure_future before the loop runs:", task.result());
    loop->run_until_complete(amain());
    loop->close();
}
