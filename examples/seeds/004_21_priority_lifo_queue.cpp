// Seed 004: the same puts (3, 1, 2) come out FIFO from Queue, newest first from LifoQueue,
// smallest first from PriorityQueue; the priority lives in the item: (priority, data) pairs.
#include <utility>
#include <vector>

#include "seed_common.hpp"

template <class Q>
asyncio::Coro<std::vector<typename Q::value_type>> drain(Q& queue) {
    std::vector<typename Q::value_type> items;
    while (!queue.empty()) items.push_back(co_await queue.get());
    co_return items;
}

template <class Q>
asyncio::Coro<void> show(const char* name) {
    Q queue;
    for (int item : {3, 1, 2}) co_await queue.put(item);
    std::string line = std::string(name) + ":";
    for (int v : co_await drain(queue)) line += " " + std::to_string(v);
    seed::print(line);
}

asyncio::Coro<void> amain() {
    co_await show<asyncio::Queue<int>>("Queue");
    co_await show<asyncio::LifoQueue<int>>("LifoQueue");
    co_await show<asyncio::PriorityQueue<int>>("PriorityQueue");

    asyncio::PriorityQueue<std::pair<int, std::string>> queue;
    for (auto item : {std::pair<int, std::string>{2, "medium"}, {1, "high"}, {3, "low"}})
        queue.put_nowait(item);
    std::string line = "PriorityQueue of (priority, data):";
    for (auto& [priority, data] : co_await drain(queue)) line += " " + data;
    seed::print(line);
}

int main() { asyncio::run(amain()); }
