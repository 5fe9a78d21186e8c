// Seed 004: Event.set() wakes every waiter; set twice is set once; clear() blocks again.
#include <vector>

#include "seed_common.hpp"

asyncio::Coro<void> waiter(std::string name, asyncio::Event& event) {
    seed::print(name + " waiting");
    co_await event.wait();
    seed::print(name + " woke up");
}

std::string py_bool(bool b) { return b ? "True" : "False"; }

asyncio::Coro<void> amain() {
    asyncio::Event event;
    std::vector<asyncio::Task<void>> waiters;
    for (int i = 1; i < 4; ++i)
        waiters.push_back(asyncio::create_task(waiter("waiter" + std::to_string(i), event)));
    co_await asyncio::sleep(0.1);
    seed::print("set()");
    event.set();
    co_await asyncio::gather(waiters);

    event.set();  // a second set() while set: no effect
    seed::print("set() again, is_set():", py_bool(event.is_set()));
    co_await waiter("waiter4", event);  // returns at once: the event is still set

    event.clear();
    seed::print("clear(), is_set():", py_bool(event.is_set()));
    auto late = asyncio::create_task(waiter("waiter5", event));
    co_await asyncio::sleep(0.1);
    seed::print("set()");
    event.set();
    co_await late;
}

int main() { asyncio::run(amain()); }
