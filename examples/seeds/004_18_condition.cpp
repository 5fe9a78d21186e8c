// Seed 004: Condition: notify(1) wakes the first waiter only, notify_all() the rest in
// order; wait_for(predicate) sleeps until the predicate holds after a notify.
#include <vector>

#include "seed_common.hpp"

asyncio::Coro<void> consumer(asyncio::Condition& cond, std::string name) {
    auto guard = co_await cond.acquire_scoped();  // async with cond:
    seed::print(name + " waiting");
    co_await cond.wait();
    seed::print(name + " woke up");
}

std::string show(const std::vector<int>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

asyncio::Coro<void> wait_for_two(asyncio::Condition& cond, std::vector<int>& items) {
    auto guard = co_await cond.acquire_scoped();
    co_await cond.wait_for([&] { return items.size() >= 2; });
    seed::print("wait_for: predicate true, items =", show(items));
}

asyncio::Coro<void> amain() {
    asyncio::Condition cond;
    std::vector<asyncio::Task<void>> consumers;
    for (int i = 1; i < 4; ++i)
        consumers.push_back(asyncio::create_task(consumer(cond, "c" + std::to_string(i))));
    co_await asyncio::sleep(0.1);
    {
        auto guard = co_await cond.acquire_scoped();
        seed::print("notify(1)");
        cond.notify(1);
    }
    co_await asyncio::sleep(0.1);
    {
        auto guard = co_await cond.acquire_scoped();
        seed::print("notify_all()");
        cond.notify_all();
    }
    co_await asyncio::gather(consumers);

    std::vector<int> items;
    auto waiter = asyncio::create_task(wait_for_two(cond, items));
    for (int i = 0; i < 3; ++i) {
        co_await asyncio::sleep(0.05);
        auto guard = co_await cond.acquire_scoped();
        items.push_back(i);
        seed::print("appended", i);
        cond.notify_all();
    }
    co_await waiter;
}

int main() { asyncio::run(amain()); }
