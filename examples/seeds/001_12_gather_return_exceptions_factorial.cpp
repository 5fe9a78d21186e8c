// Seed 001: gather(return_exceptions): the exception is kept as one of the results.
#include <optional>

#include "seed_common.hpp"

/// Computes number! (3! = 1*2*3).
asyncio::Coro<int> factorial(std::string name, std::optional<int> number) {
    if (name == "error") {
        seed::print("task " + name + ": exception!");
        throw EOFError();
    }
    int f = 1;
    for (int i = 2; i <= *number; ++i) {
        seed::print("task " + name + ": computing factorial(" + std::to_string(*number) +
                    "), i=" + std::to_string(i) + "...");
        co_await asyncio::sleep(0.1);  // await hands the loop to the other coroutines
        f *= i;
    }
    seed::print("task " + name + ": " + std::to_string(*number) + "! = " + std::to_string(f));
    co_return f;
}

std::string show(const asyncio::Result<int>& r) {
    return r.has_value() ? std::to_string(r.value()) : seed::fmt(r.exception());
}

asyncio::Coro<void> amain() {
    seed::print("async start!");
    auto [e, a, b, c] =
        co_await asyncio::gather(asyncio::return_exceptions, factorial("error", std::nullopt),
                                 factorial("A", 2), factorial("B", 3), factorial("C", 4));
    // exceptions are kept as elements (printed as their type name here)
    seed::print("async result:[" + show(e) + ", " + show(a) + ", " + show(b) + ", " + show(c) +
                "]");
    seed::print("async end....");
}

int main() { asyncio::run(amain()); }
