// Seed 001: gather(return_exceptions) and telling results from exceptions.
#include "seed_common.hpp"

asyncio::Coro<int> work(int x) {
    co_await asyncio::sleep(0.1 * (4 - x));  // finish in reverse order
    if (x == 2) throw ValueError("bad input " + std::to_string(x));
    if (x == 3) throw ZeroDivisionError("division by zero");
    co_return x * 10;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Coro<int>> coros;
    for (int x : {1, 2, 3, 4}) coros.push_back(work(x));
    auto results = co_await asyncio::gather(asyncio::return_exceptions, std::move(coros));
    for (auto& result_or_exc : results) {
        if (!result_or_exc.has_value())
            seed::print("I caught:", seed::fmt(result_or_exc.exception()));
        else
            seed::print("result:", result_or_exc.value());
    }
}

int main() { asyncio::run(amain()); }
