// Seed 002: wait(FIRST_COMPLETED) returns with the task that failed first; the other one
// is left pending and awaited afterwards.
#include "seed_common.hpp"

asyncio::Coro<std::string> test() {
    seed::print("Hello test");
    co_await asyncio::sleep(0.1);
    throw NameError("name 'x' is not defined");  // the seed's bug, kept: print(..., x)
}

asyncio::Coro<std::string> test2() {
    seed::print("Hello test2");
    co_await asyncio::sleep(0.2);
    seed::print("Hello again test2");
    co_return "test2";
}

asyncio::Coro<void> amain() {
    // Python 3.11 no longer accepts bare coroutines in wait(): wrap them in (named) tasks
    auto t1 = asyncio::create_task(test(), {.name = "test"});
    auto t2 = asyncio::create_task(test2(), {.name = "test2"});
    std::vector<asyncio::Task<std::string>> tasks{t1, t2};
    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_COMPLETED});
    for (auto& t : done)  // sorted by name
        seed::print("done:", t.get_name(), "->",
                    t.exception() ? seed::fmt(t.exception()) : t.result());
    for (auto& t : pending) seed::print("pending:", t.get_name());
    seed::print("awaiting the pending task ->", co_await t2);
}

int main() { asyncio::run(amain()); }
