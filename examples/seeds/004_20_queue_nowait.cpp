// Seed 004: get_nowait() / put_nowait() never block: QueueFull / QueueEmpty instead.
#include "seed_common.hpp"

std::string py_bool(bool b) { return b ? "True" : "False"; }

asyncio::Coro<void> amain() {
    asyncio::Queue<int> queue(2);
    queue.put_nowait(1);
    queue.put_nowait(2);
    seed::print("qsize:", static_cast<int>(queue.qsize()), "full:", py_bool(queue.full()));
    try {
        queue.put_nowait(3);
    } catch (const asyncio::QueueFull&) {
        seed::print("put_nowait on a full queue:", seed::fmt(std::current_exception()));
    }
    seed::print("get_nowait:", queue.get_nowait());
    seed::print("get_nowait:", queue.get_nowait());
    seed::print("qsize:", static_cast<int>(queue.qsize()), "empty:", py_bool(queue.empty()));
    try {
        queue.get_nowait();
    } catch (const asyncio::QueueEmpty&) {
        seed::print("get_nowait on an empty queue:", seed::fmt(std::current_exception()));
    }
    co_return;
}

int main() { asyncio::run(amain()); }
