// Seed 004: as_completed(timeout): TimeoutError once the deadline passes; the slow task is
// not cancelled.
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t, int excpetion) {
    co_await asyncio::sleep(t / 10.0);
    if (excpetion) throw Exception("error");
    co_return t;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<int>> tasks{asyncio::create_task(func1(3, 0)),
                                          asyncio::create_task(func1(1, 0)),
                                          asyncio::create_task(func1(2, 1))};
    for (auto task : asyncio::as_completed(tasks, {.timeout = 0.25})) {
        try {
            seed::print(co_await task);
        } catch (const asyncio::TimeoutError&) {
            seed::print("as_completed timed out:", seed::fmt(std::current_exception()));
        } catch (const std::exception& e) {
            seed::print(e.what());
        }
    }
    seed::print(std::string("the 3 s task: cancelled: ") +
                (tasks[0].cancelled() ? "True" : "False") +
                " done: " + (tasks[0].done() ? "True" : "False"));
    seed::print("awaiting it ->", co_await tasks[0]);
}

int main() { asyncio::run(amain()); }
