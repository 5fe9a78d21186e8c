// Seed 003: the first exception of gather() propagates to the awaiting coroutine.
#include "seed_common.hpp"

asyncio::Coro<double> division(int divisor, int dividend) {
    if (divisor == 0) throw ZeroDivisionError("");  // a bare `raise ZeroDivisionError`
    double r = static_cast<double>(dividend) / divisor;
    seed::print(std::to_string(dividend) + "/" + std::to_string(divisor) + "=" + seed::py(r));
    co_return r;
}

asyncio::Coro<void> amain() {
    // Schedule three calls *concurrently*:
    auto [a, b, c] = co_await asyncio::gather(division(0, 2), division(1, 2), division(2, 2));
    seed::print("[" + seed::py(a) + ", " + seed::py(b) + ", " + seed::py(c) + "]");
}

int main() {
    try {
        asyncio::run(amain());
    } catch (const ZeroDivisionError&) {  // the seed let this escape as a traceback
        seed::print("asyncio.run raised", seed::fmt(std::current_exception()));
    }
}
