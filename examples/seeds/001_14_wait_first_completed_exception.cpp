// Seed 001: wait(FIRST_COMPLETED) where the first task to finish raised; its exception is
// never retrieved, so the loop reports it when the last reference goes.
#include <algorithm>

#include "seed_common.hpp"

std::string names(const std::vector<asyncio::Task<double>>& tasks) {  // sets: sorted by name
    std::vector<std::string> v;
    for (auto& t : tasks) v.push_back(t.get_name());
    std::sort(v.begin(), v.end());
    std::string s;
    for (auto& n : v) s += (s.empty() ? "" : " ") + n;
    return s;
}

asyncio::Coro<double> wait(std::string name, double times) {
    if (name == "A") throw EOFError();
    seed::print(name + " waiting " + seed::py(times) + "s");
    co_await asyncio::sleep(times);
    seed::print(name + " wait over!");
    co_return times;
}

asyncio::Coro<void> amain() {
    asyncio::get_running_loop().set_exception_handler(seed::handler);
    {
        // Python 3.11 no longer accepts bare coroutines in wait(): wrap them in (named) tasks
        auto waiting = asyncio::wait(
            std::vector{
                asyncio::create_task(wait("A", 0.3), {.name = "A"}),
                asyncio::create_task(wait("B", 0.2), {.name = "B"}),
                asyncio::create_task(wait("C", 0.1), {.name = "C"}),
            },
            {.return_when = asyncio::FIRST_COMPLETED});
        auto [task, pending] = co_await std::move(waiting);
        seed::print("done:", names(task));
        seed::print("pending:", names(pending));
        co_await asyncio::sleep(0.5);
        seed::print("raising the exception");
    }  // the last references: task A is destroyed here and its error reported
}

int main() { asyncio::run(amain()); }
