// Seed 001: two tasks created up front run concurrently (0.2 s, not 0.3 s).
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<void> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    seed::print(what);
}

asyncio::Coro<void> amain() {
    auto task1 = asyncio::create_task(say_after(0.1, "hello"));
    auto task2 = asyncio::create_task(say_after(0.2, "world"));
    auto start = std::chrono::steady_clock::now();
    seed::print("started");
    co_await task1;
    co_await task2;
    seed::print("finished after " + seed::elapsed(start) + "s");
}

int main() { asyncio::run(amain()); }
