// Seed 004: a ContextVar is like a thread-local for tasks: each task runs in a copy of the
// context, so its value follows the task into the coroutines it awaits but not into other
// tasks, and the task's changes do not leak back to main().
#include "seed_common.hpp"

asyncio::ContextVar<std::string> request_id("request_id", "none");

asyncio::Coro<void> inner(std::string name) {
    seed::print("task " + name + ": inner coroutine sees " + request_id.get());
    co_return;
}

asyncio::Coro<void> handler(std::string name, double delay) {
    seed::print("task " + name + ": starts with " + request_id.get());
    request_id.set(name);
    co_await asyncio::sleep(delay);
    seed::print("task " + name + ": after the sleep sees " + request_id.get());
    co_await inner(name);
}

asyncio::Coro<void> amain() {
    request_id.set("main");
    co_await asyncio::gather(handler("A", 0.2), handler("B", 0.1));
    seed::print("main: still", request_id.get());
}

int main() { asyncio::run(amain()); }
