// Seed 004: gather(return_exceptions) versus the first exception propagating (the other
// tasks keep running).
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t, int exception = 0) {
    if (exception) throw Exception("func1");
    co_await asyncio::sleep(t / 10.0);
    co_return t;
}

std::string show(const std::vector<asyncio::Result<int>>& results) {
    std::string s = "[";
    for (std::size_t i = 0; i < results.size(); ++i)
        s += (i ? ", " : "") + (results[i].has_value() ? std::to_string(results[i].value())
                                                       : seed::fmt(results[i].exception()));
    return s + "]";
}

asyncio::Coro<void> amain() {
    // return_exceptions: an exception in one task does not affect the others
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 1; i < 4; ++i) tasks.push_back(asyncio::create_task(func1(i, i % 2)));
    auto results = co_await asyncio::gather(asyncio::return_exceptions, tasks);
    seed::print(show(results));  // seed: [Exception('func1'), 2, Exception('func1')]
    // without: the first exception is raised by the await
    tasks.clear();
    for (int i = 1; i < 4; ++i) tasks.push_back(asyncio::create_task(func1(i, i % 2)));
    try {
        auto values = co_await asyncio::gather(tasks);
        seed::print(static_cast<int>(values.size()));
    } catch (const std::exception& e) {
        seed::print(e.what());  // only one exception comes out
    }
    seed::print(std::string("task 2 done: ") + (tasks[1].done() ? "True" : "False"));
    seed::print("task 2 result:", co_await tasks[1]);
}

int main() { asyncio::run(amain()); }
