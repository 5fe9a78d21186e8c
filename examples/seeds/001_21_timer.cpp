// Seed 001: a sleep wrapped in a task is a timer with a done callback.
#include <chrono>
#include <functional>

#include "seed_common.hpp"

asyncio::Coro<void> timer(double x, std::function<void(asyncio::Task<void>&)> cb) {
    auto futu = asyncio::ensure_future(asyncio::sleep(x));
    futu.add_done_callback(cb);
    co_await futu;
    seed::print("timer coroutine resumes");
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    auto start = std::chrono::steady_clock::now();
    auto t = timer(0.3, [](asyncio::Task<void>&) { seed::print("Done"); });
    loop->run_until_complete(std::move(t));
    seed::print("after " + seed::elapsed(start) + "s");
    loop->close();
}
