// Seed 004: `while pending: wait(pending, FIRST_COMPLETED)`: wait() takes its own pending
// back, and gives back the very task objects it was given.
#include <algorithm>

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
    auto index = [&](const asyncio::Task<int>& t) {
        return std::find(tasks.begin(), tasks.end(), t) - tasks.begin();
    };
    auto pending = tasks;
    int round_ = 0;
    while (!pending.empty()) {
        auto r = co_await asyncio::wait(pending, {.return_when = asyncio::FIRST_COMPLETED});
        auto done = std::move(r.done);
        pending = std::move(r.pending);
        round_ += 1;
        if (round_ == 1) {
            bool in = std::find(pending.begin(), pending.end(), tasks[0]) != pending.end();
            seed::print(std::string("tasks[0] in pending: ") +
                        (in ? "True" : "False"));  // the same object
        }
        std::string prefix = "round " + std::to_string(round_) + ": ";
        for (auto& task : done) {
            std::string name = "tasks[" + std::to_string(index(task)) + "] ->";
            std::exception_ptr error;
            try {
                seed::print(prefix + name, co_await task);
            } catch (const std::exception&) {
                error = std::current_exception();
            }
            if (error) seed::print(prefix + name, seed::fmt(error));
        }
        std::vector<long> left;
        for (auto& t : pending) left.push_back(index(t));
        std::sort(left.begin(), left.end());
        std::string still;
        for (long i : left)
            still += (still.empty() ? "" : " ") + ("tasks[" + std::to_string(i) + "]");
        seed::print(prefix + "still pending:", still.empty() ? "none" : still);
    }
}

int main() { asyncio::run(amain()); }
