// Seed 001: a done callback receives the task itself and reads its result.
#include "seed_common.hpp"

asyncio::Coro<int> hello1(int a, int b) {
    seed::print("Hello world 01 begin");
    co_await asyncio::sleep(0.3);  // simulated 3 s job
    seed::print("Hello again 01 end");
    co_return a + b;
}

asyncio::Task<int> task;

void callback(asyncio::Task<int>& future) {
    seed::print(future.result());
    seed::print(std::string("the callback's future is the task: ") +
                (future == task ? "True" : "False"));
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    task = asyncio::ensure_future(hello1(10, 5));
    task.add_done_callback(callback);
    loop->run_until_complete(task);
    task = {};
    loop->close();
}
