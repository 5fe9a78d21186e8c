// Seed 004: the three return_when modes of wait(), and its timeout (which cancels nothing).
#include "seed_common.hpp"

asyncio::Coro<int> func1(int t, int excpetion) {
    co_await asyncio::sleep(t / 10.0);
    if (excpetion) throw Exception("error");
    co_return t;
}

std::vector<asyncio::Task<int>> make_tasks() {
    // Python 3.11 no longer accepts bare coroutines in wait(): wrap them in tasks
    return {asyncio::create_task(func1(3, 0)), asyncio::create_task(func1(1, 0)),
            asyncio::create_task(func1(2, 1))};
}

asyncio::Coro<void> amain() {
    // ALL_COMPLETED: wait for every task
    auto tasks = make_tasks();
    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::ALL_COMPLETED});
    seed::print("-- ALL_COMPLETED");
    for (auto& task : done)  // in task order
        seed::print(!task.exception() ? std::to_string(task.result())
                                      : asyncio::exception_message(task.exception()));
    // FIRST_COMPLETED: wait for the first task to finish
    tasks = make_tasks();
    auto r2 = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_COMPLETED});
    seed::print("-- FIRST_COMPLETED");
    seed::print("done counts " + std::to_string(r2.done.size()));        // 1 task done
    seed::print("pending counts " + std::to_string(r2.pending.size()));  // 2 not done
    // FIRST_EXCEPTION: wait for the first exception, or for all
    tasks = make_tasks();
    auto r3 = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_EXCEPTION});
    seed::print("-- FIRST_EXCEPTION");
    seed::print("done counts " + std::to_string(r3.done.size()));        // 2 done, one failed
    seed::print("pending counts " + std::to_string(r3.pending.size()));  // 1 not done
    // timeout
    tasks = make_tasks();
    auto r4 =
        co_await asyncio::wait(tasks, {.timeout = 0.25, .return_when = asyncio::ALL_COMPLETED});
    seed::print("-- ALL_COMPLETED, timeout");
    seed::print("done counts " + std::to_string(r4.done.size()));        // 2 done, one failed
    seed::print("pending counts " + std::to_string(r4.pending.size()));  // 1 not done
    bool any_cancelled = false;
    for (auto& t : r4.pending) any_cancelled = any_cancelled || t.cancelled();
    seed::print(std::string("pending task cancelled: ") + (any_cancelled ? "True" : "False"));
}

int main() { asyncio::run(amain()); }
