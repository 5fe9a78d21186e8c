// Seed 001: the first exception of gather() propagates out of asyncio::run(); the other
// children are cancelled only when run() shuts down.
#include <algorithm>
#include <optional>

#include "seed_common.hpp"

std::vector<std::string> cancelled;

/// Computes number! (3! = 1*2*3).
asyncio::Coro<int> factorial(std::string name, std::optional<int> number) {
    if (name == "error") {
        seed::print("task " + name + ": exception!");
        throw EOFError();
    }
    int f = 1;
    try {
        for (int i = 2; i <= *number; ++i) {
            seed::print("task " + name + ": computing factorial(" + std::to_string(*number) +
                        "), i=" + std::to_string(i) + "...");
            co_await asyncio::sleep(0.1);  // await hands the loop to the other coroutines
            f *= i;
        }
    } catch (const asyncio::CancelledError&) {
        cancelled.push_back(name);  // added, to show who got cancelled
        throw;
    }
    seed::print("task " + name + ": " + std::to_string(*number) + "! = " + std::to_string(f));
    co_return f;
}

asyncio::Coro<void> amain() {
    seed::print("async start!");
    auto [e, a, b, c] = co_await asyncio::gather(
        factorial("error", std::nullopt), factorial("A", 2), factorial("B", 3), factorial("C", 4));
    seed::print("async result:[" + std::to_string(e) + ", " + std::to_string(a) + ", " +
                std::to_string(b) + ", " + std::to_string(c) + "]");
    seed::print("async end....");
}

int main() {
    try {
        asyncio::run(amain());
    } catch (const EOFError&) {  // the seed let this escape as a traceback
        seed::print("asyncio.run raised", seed::fmt(std::current_exception()));
    }
    std::sort(cancelled.begin(), cancelled.end());
    std::string names;
    for (auto& n : cancelled) names += (names.empty() ? "" : " ") + n;
    seed::print("cancelled when asyncio.run shut down:", names);
}
