// Seed 001: gather() over coroutines, a list of coroutines, or futures: all concurrent.
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<void> do_some_work(double x) {
    seed::print("Waiting " + seed::py(x));
    co_await asyncio::sleep(x);
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);

    auto start = std::chrono::steady_clock::now();
    loop->run_until_complete(asyncio::gather(do_some_work(0.1), do_some_work(0.3)));
    seed::print("coroutines: " + seed::elapsed(start) + "s");

    start = std::chrono::steady_clock::now();
    std::vector<asyncio::Coro<void>> coros;
    coros.push_back(do_some_work(0.1));
    coros.push_back(do_some_work(0.3));
    loop->run_until_complete(asyncio::gather(std::move(coros)));
    seed::print("list of coroutines: " + seed::elapsed(start) + "s");

    start = std::chrono::steady_clock::now();
    std::vector<asyncio::Task<void>> futus{
        asyncio::ensure_future(do_some_work(0.1)),
        asyncio::ensure_future(do_some_work(0.3)),
    };
    loop->run_until_complete(asyncio::gather(futus));
    seed::print("futures: " + seed::elapsed(start) + "s");
    loop->close();
}
