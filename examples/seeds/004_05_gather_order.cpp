// Seed 004: gather() gives results in argument order, not completion order.
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t) {
    co_await asyncio::sleep(t / 10.0);
    co_return t;
}

std::string show(const std::vector<int>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 1; i < 4; ++i) tasks.push_back(asyncio::create_task(func1(i)));
    auto results = co_await asyncio::gather(tasks);
    seed::print(show(results));
    // output [1, 2, 3]
    tasks.clear();
    for (int i : {3, 1, 2}) tasks.push_back(asyncio::create_task(func1(i)));  // finish as 1, 2, 3
    results = co_await asyncio::gather(tasks);
    seed::print(show(results));
}

int main() { asyncio::run(amain()); }
