// Seed 003: cancelling a shield's outer future leaves the shielded coroutine running.
#include <chrono>

#include "seed_common.hpp"

const auto START = std::chrono::steady_clock::now();

asyncio::Coro<double> division(int divisor, int dividend) {
    if (divisor == 0) throw ZeroDivisionError("");  // a bare `raise ZeroDivisionError`
    co_await asyncio::sleep(divisor / 10.0);
    double r = static_cast<double>(dividend) / divisor;
    seed::print(seed::elapsed(START) + ":" + std::to_string(dividend) + "/" +
                std::to_string(divisor) + "=" + seed::py(r));
    co_return r;
}

std::string show(const asyncio::Result<double>& r) {
    return r.has_value() ? seed::py(r.value()) : seed::fmt(r.exception());
}

asyncio::Coro<void> amain() {
    // Schedule three calls *concurrently*:
    seed::print("Start time:" + seed::elapsed(START));
    auto task1 = asyncio::shield(division(1, 2));
    auto task2 = asyncio::create_task(division(1, 5));
    auto task3 = asyncio::create_task(division(3, 6));
    auto res = asyncio::gather(asyncio::return_exceptions, task1, task2, task3);
    task1.cancel();
    task2.cancel();
    auto [a, b, c] = co_await res;
    seed::print("[" + show(a) + ", " + show(b) + ", " + show(c) + "]");
}

int main() { asyncio::run(amain()); }
