// Seed 004, asyncio.to_thread: the simpler way to run a blocking function in a thread (the
// loop's default executor), with its arguments passed directly. [1, 2, 3, 4] in 0.4 s.
#include <chrono>
#include <thread>

#include "seed_common.hpp"

int func1(int t, bool excpetion) {
    std::this_thread::sleep_for(std::chrono::duration<double>(t / 10.0));
    if (excpetion) throw Exception("error");
    return t;
}

asyncio::Coro<void> amain() {
    auto start = std::chrono::steady_clock::now();
    std::vector<asyncio::Coro<int>> tasks;
    for (int i = 1; i < 5; ++i) tasks.push_back(asyncio::to_thread(func1, i, false));
    auto results = co_await asyncio::gather(std::move(tasks));
    std::string line = "[";
    for (std::size_t i = 0; i < results.size(); ++i) line += (i ? ", " : "") + seed::py(results[i]);
    seed::print(line + "]");
    seed::print("took " + seed::elapsed(start) + "s");
}

int main() { asyncio::run(amain()); }
