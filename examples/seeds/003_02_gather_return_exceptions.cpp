// Seed 003: gather(return_exceptions) keeps the exception among the results.
#include "seed_common.hpp"

asyncio::Coro<double> division(int divisor, int dividend) {
    if (divisor == 0) throw ZeroDivisionError("");  // a bare `raise ZeroDivisionError`
    double r = static_cast<double>(dividend) / divisor;
    seed::print(std::to_string(dividend) + "/" + std::to_string(divisor) + "=" + seed::py(r));
    co_return r;
}

std::string show(const asyncio::Result<double>& r) {
    return r.has_value() ? seed::py(r.value()) : seed::fmt(r.exception());
}

asyncio::Coro<void> amain() {
    // Schedule three calls *concurrently*:
    auto [a, b, c] = co_await asyncio::gather(asyncio::return_exceptions, division(0, 2),
                                              division(1, 2), division(2, 2));
    seed::print("[" + show(a) + ", " + show(b) + ", " + show(c) + "]");
}

int main() { asyncio::run(amain()); }
