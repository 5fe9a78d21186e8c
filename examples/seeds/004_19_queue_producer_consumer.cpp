// Seed 004: a Queue(2) between a fast producer and a slow consumer: put() blocks while two
// items wait; join() returns once every item is task_done(); then the consumer is cancelled.
#include "seed_common.hpp"

asyncio::Coro<void> consumer(asyncio::Queue<int>& queue) {
    while (true) {
        int item = co_await queue.get();
        co_await asyncio::sleep(0.1);
        seed::print("Consumer get " + std::to_string(item));
        queue.task_done();
    }
}

asyncio::Coro<void> producer(asyncio::Queue<int>& queue) {
    for (int i = 0; i < 10; ++i) {
        co_await queue.put(i);
        seed::print("Producer put " + std::to_string(i) + " (queue size " +
                    std::to_string(queue.qsize()) + ")");
        co_await asyncio::sleep(0.02);
    }
}

asyncio::Coro<void> amain() {
    asyncio::Queue<int> queue(2);
    auto consumer_task = asyncio::create_task(consumer(queue));
    auto producer_task = asyncio::create_task(producer(queue));
    co_await asyncio::gather(producer_task, queue.join());
    seed::print("all items produced and processed");
    consumer_task.cancel();
    try {
        co_await consumer_task;
    } catch (const asyncio::CancelledError&) {
        seed::print("consumer cancelled");
    }
}

int main() { asyncio::run(amain()); }
