// Seed 003: cancelling a gather cancels the children still running; awaiting it raises
// CancelledError, return_exceptions or not.
#include "seed_common.hpp"

asyncio::Coro<double> division(int divisor, int dividend) {
    if (divisor == 0) throw ZeroDivisionError("");  // a bare `raise ZeroDivisionError`
    co_await asyncio::sleep(divisor / 10.0);
    double r = static_cast<double>(dividend) / divisor;
    seed::print(std::to_string(dividend) + "/" + std::to_string(divisor) + "=" + seed::py(r));
    co_return r;
}

asyncio::Coro<void> amain() {
    // Schedule three calls *concurrently*:
    auto t =
        asyncio::gather(asyncio::return_exceptions, division(0, 2), division(1, 5), division(3, 6));
    co_await asyncio::sleep(0.2);
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {  // the seed let this escape as a traceback
        seed::print("await gather raised", seed::fmt(std::current_exception()));
    }
    co_await asyncio::sleep(0.2);  // added: past the 0.3 s mark, 6/3 never prints
    seed::print("end");
}

int main() { asyncio::run(amain()); }
