// Seed 003: a cancelled child appears as a CancelledError among gather(return_exceptions)'s
// results.
#include "seed_common.hpp"

asyncio::Coro<double> division(int divisor, int dividend) {
    if (divisor == 0) throw ZeroDivisionError("");  // a bare `raise ZeroDivisionError`
    co_await asyncio::sleep(divisor / 10.0);
    double r = static_cast<double>(dividend) / divisor;
    seed::print(std::to_string(dividend) + "/" + std::to_string(divisor) + "=" + seed::py(r));
    co_return r;
}

std::string show(const asyncio::Result<double>& r) {
    return r.has_value() ? seed::py(r.value()) : seed::fmt(r.exception());
}

asyncio::Coro<void> amain() {
    auto task1 = asyncio::create_task(division(1, 2));
    auto task2 = asyncio::create_task(division(1, 5));
    auto task3 = asyncio::create_task(division(3, 6));
    auto res = asyncio::gather(asyncio::return_exceptions, task1, task2, task3);
    task1.cancel();
    auto [a, b, c] = co_await res;  // seed: [CancelledError(), 5.0, 2.0]
    seed::print("[" + show(a) + ", " + show(b) + ", " + show(c) + "]");
}

int main() { asyncio::run(amain()); }
