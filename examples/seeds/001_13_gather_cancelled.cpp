// Seed 001: a child cancels the gather it belongs to: the children not yet started never
// run, and awaiting the gather raises CancelledError (even with return_exceptions).
#include <optional>

#include "seed_common.hpp"

asyncio::AnyFuture gather_waiting_object;

asyncio::Coro<int> factorial(std::string name, std::optional<int> number) {
    if (name == "error") {
        seed::print("task " + name + ": cancelling the gather!");
        gather_waiting_object.cancel();  // cancel the gather
        co_return 0;
    }
    int f = 1;
    for (int i = 2; i <= *number; ++i) {
        seed::print("task " + name + ": computing factorial(" + std::to_string(*number) +
                    "), i=" + std::to_string(i) + "...");
        co_await asyncio::sleep(0.1);
        f *= i;
    }
    seed::print("task " + name + ": " + std::to_string(*number) + "! = " + std::to_string(f));
    co_return f;
}

asyncio::Coro<void> amain() {
    seed::print("async start!");
    auto gather = asyncio::gather(asyncio::return_exceptions, factorial("error", std::nullopt),
                                  factorial("A", 2), factorial("B", 3), factorial("C", 4));
    gather_waiting_object = gather;
    try {
        auto results = co_await gather;
        seed::print("async result: " + std::to_string(std::tuple_size_v<decltype(results)>) +
                    " results");
    } catch (const asyncio::CancelledError&) {
        seed::print("await gather raised", seed::fmt(std::current_exception()));
    }
    seed::print("async end....");
    gather_waiting_object = {};
}

int main() { asyncio::run(amain()); }
