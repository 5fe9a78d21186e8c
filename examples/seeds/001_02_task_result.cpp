// Seed 001: ensure_future() wraps a coroutine in a task; its result() after the loop ran.
#include "seed_common.hpp"

asyncio::Coro<int> hello1(int a, int b) {
    seed::print("Hello world 01 begin");
    co_await asyncio::sleep(0.3);  // simulated 3 s job
    seed::print("Hello again 01 end");
    co_return a + b;
}

int main() {
    auto coroutine = hello1(10, 5);
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    auto task = asyncio::ensure_future(std::move(coroutine));
    loop->run_until_complete(task);
    seed::print("-------------------------------------");
    seed::print(task.result());
    loop->close();
}
