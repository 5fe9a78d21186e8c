// Seed 001: awaiting coroutines one after the other runs them sequentially (0.1 + 0.2 s).
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<void> say_after_time(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    seed::print(what);
}

asyncio::Coro<void> amain() {
    auto start = std::chrono::steady_clock::now();
    seed::print("started");
    co_await say_after_time(0.1, "hello");
    co_await say_after_time(0.2, "world");
    seed::print("finished after " + seed::elapsed(start) + "s");
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    loop->run_until_complete(amain());
    loop->close();
}
